"""SSHTransport against a real OpenSSH sshd (and the simulator for keyboard-interactive OTP and legacy kex)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paramiko
import pytest

from collector.credentials import Credentials
from collector.errors import AuthenticationError, ChangedHostKey, ConnectError, ConnectionLost, UnknownHostKey
from collector.secrets import Secret
from collector.target import parse_target
from collector.transports.base import ConnectOptions, Transport
from collector.transports.ssh import SSHTransport
from collector.transports.ssh_exec import SSHExecRunner
from collector.transports.ssh_hostkeys import fingerprint
from tests.servers.ports import free_port
from tests.servers.sshd import SshdServer, keygen

pytestmark = pytest.mark.servers

MakeOpts = Callable[..., ConnectOptions]


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    return tmp_path / "collector" / "known_hosts"


@pytest.fixture
def make_opts(known_hosts: Path) -> MakeOpts:
    def make(password: str | None = None, **kw: object) -> ConnectOptions:
        creds = kw.pop("credentials", None) or Credentials(password=Secret(password) if password else None)
        defaults: dict[str, object] = {
            "credentials": creds,
            "known_hosts": str(known_hosts),
            "system_known_hosts": None,
            "ssh_config": None,
            "connect_timeout": 10.0,
        }
        defaults.update(kw)
        return ConnectOptions(**defaults)  # type: ignore[arg-type]

    return make


def url(server: Any, user: str | None = None, query: str = "") -> str:
    user = user or server.account.name
    port = server.port
    return f"ssh://{user}@127.0.0.1:{port}" + (f"?{query}" if query else "")


def trust(known_hosts: Path, server: SshdServer) -> None:
    known_hosts.parent.mkdir(parents=True, exist_ok=True)
    with open(known_hosts, "a") as fh:
        fh.write(server.known_hosts_line)


def read_until(t: Transport, needle: bytes, timeout: float = 10.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf:
        left = deadline - time.monotonic()
        assert left > 0, f"{needle!r} never arrived; got {buf[-500:]!r}"
        buf += t.read(min(left, 1.0))
    return buf


def test_password_login_shell_echo(sshd: SshdServer, known_hosts: Path, make_opts: MakeOpts) -> None:
    trust(known_hosts, sshd)
    t = SSHTransport(parse_target(url(sshd)), make_opts(sshd.account.password))
    t.open()
    try:
        t.write(b"echo coll''ector-$((6*7))\n")
        assert b"collector-42\r\n" in read_until(t, b"collector-42\r\n")
        assert t.alive()
        info = t.info
        assert info["transport"] == "ssh"
        assert info["host_key_fingerprint"] == sshd.host_key_fingerprint
        assert info["host_key_status"] == "known"
        assert info["remote_version"].startswith("SSH-2.0-OpenSSH")
        assert info["kex"] and "sha1" not in info["kex"]
        assert info["cipher"] and "cbc" not in info["cipher"]
        assert info["auth"] == ["password"]
        assert sshd.account.password not in repr(info)
        t.write(b"exit\n")
        with pytest.raises(ConnectionLost):
            for _ in range(1000):  # end of stream raises; it is never an endless run of b""
                t.read(2.0)
        assert not t.alive()
    finally:
        t.close()
        t.close()


def test_read_timeout_returns_empty_without_data(sshd: SshdServer, known_hosts: Path, make_opts: MakeOpts) -> None:
    trust(known_hosts, sshd)
    with SSHTransport(parse_target(url(sshd)), make_opts(sshd.account.password)) as t:
        assert isinstance(t, SSHTransport)
        read_until(t, b"$ ")
        start = time.monotonic()
        assert t.read(0.2) == b""
        assert 0.15 < time.monotonic() - start < 2.0


def test_unknown_host_key_refused_and_nothing_written(sshd: SshdServer, known_hosts: Path, make_opts: MakeOpts) -> None:
    before = sshd.count(r"Accepted|Failed")
    with pytest.raises(UnknownHostKey) as err:
        SSHTransport(parse_target(url(sshd)), make_opts(sshd.account.password)).open()
    assert err.value.exit_code == 11
    assert sshd.host_key_fingerprint in err.value.message
    assert f"[127.0.0.1]:{sshd.port}" in err.value.message
    assert "--accept-new-host-key" in err.value.hint
    assert "\n" not in err.value.message
    assert not known_hosts.exists()
    assert sshd.count(r"Accepted|Failed") == before  # no credential was sent


def test_accept_new_records_then_remembered(sshd: SshdServer, known_hosts: Path, make_opts: MakeOpts) -> None:
    with SSHTransport(parse_target(url(sshd)), make_opts(sshd.account.password, accept_new_host_key=True)) as t:
        assert t.info["host_key_status"] == "trusted on first use"
    assert known_hosts.read_text() == sshd.known_hosts_line
    assert oct(known_hosts.stat().st_mode & 0o777) == "0o600"
    with SSHTransport(parse_target(url(sshd)), make_opts(sshd.account.password)) as t:
        assert t.info["host_key_status"] == "known"
        assert t.info["host_key_source"] == f"{known_hosts}:1"


def test_changed_host_key_refused_even_with_accept_new(
    sshd_factory: Callable[..., SshdServer], tmp_path: Path, known_hosts: Path, make_opts: MakeOpts
) -> None:
    first = sshd_factory()
    trust(known_hosts, first)
    port = first.port
    first.stop()
    rotated = sshd_factory(port=port)  # same address, a new host key: what a MITM looks like
    assert rotated.host_key_fingerprint != first.host_key_fingerprint
    before = known_hosts.read_bytes()
    with pytest.raises(ChangedHostKey) as err:
        SSHTransport(parse_target(url(rotated)), make_opts("x", accept_new_host_key=True)).open()
    assert err.value.exit_code == 12
    assert rotated.host_key_fingerprint in err.value.message
    assert first.host_key_fingerprint in err.value.message
    assert f"{known_hosts}:1" in err.value.message
    assert known_hosts.read_bytes() == before
    assert rotated.count(r"Failed password|Accepted") == 0


def test_wrong_password_one_attempt_only(
    sshd_factory: Callable[..., SshdServer], known_hosts: Path, make_opts: MakeOpts
) -> None:
    server = sshd_factory()
    trust(known_hosts, server)
    wrong = "not-the-Password-9"
    with pytest.raises(AuthenticationError) as err:
        SSHTransport(parse_target(url(server)), make_opts(wrong)).open()
    assert err.value.exit_code == 13
    assert wrong not in err.value.message and wrong not in err.value.hint
    assert "password" in err.value.message
    user = server.account.name
    server.wait_log(rf"(closed|reset) by authenticating user {user}|Disconnected from authenticating user")
    assert server.count(rf"Failed password for {server.account.name}") == 1
    assert server.count(r"Failed (keyboard-interactive|publickey)") == 0


def test_key_file_login_without_password(sshd: SshdServer, known_hosts: Path, make_opts: MakeOpts) -> None:
    trust(known_hosts, sshd)
    creds = Credentials(key_file=str(sshd.client_key_path))
    with SSHTransport(parse_target(url(sshd)), make_opts(credentials=creds)) as t:
        assert t.info["auth"] == ["publickey(client_ed25519)"]
        t.write(b"echo key-$((40+2))\n")
        read_until(t, b"key-42\r\n")


def test_an_encrypted_key_needs_its_passphrase(sshd: SshdServer, tmp_path: Path, known_hosts: Path,
                                               make_opts: MakeOpts) -> None:
    trust(known_hosts, sshd)
    locked = tmp_path / "locked_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "key-pass-5521", "-f", str(locked)], check=True)
    auth = sshd.directory / "authorized_keys"
    auth.write_text(auth.read_text() + Path(f"{locked}.pub").read_text())
    with pytest.raises(AuthenticationError, match="encrypted") as err:
        SSHTransport(parse_target(url(sshd)), make_opts(credentials=Credentials(key_file=str(locked)))).open()
    assert "--key-passphrase-env" in err.value.hint and "--use-agent" in err.value.hint
    creds = Credentials(key_file=str(locked), key_passphrase=Secret("key-pass-5521"))
    with SSHTransport(parse_target(url(sshd)), make_opts(credentials=creds)) as t:
        assert t.info["auth"] == ["publickey(locked_ed25519)"]


def test_wrong_key_then_no_password_is_an_auth_error(
    sshd: SshdServer, tmp_path: Path, known_hosts: Path, make_opts: MakeOpts
) -> None:
    trust(known_hosts, sshd)
    other = tmp_path / "other_key"
    keygen(other)
    with pytest.raises(AuthenticationError, match=r"publickey\(other_key\)"):
        SSHTransport(parse_target(url(sshd)), make_opts(credentials=Credentials(key_file=str(other)))).open()


def test_connection_refused_is_a_one_line_connect_error(make_opts: MakeOpts) -> None:
    port = free_port()
    with pytest.raises(ConnectError) as err:
        SSHTransport(parse_target(f"ssh://u@127.0.0.1:{port}"), make_opts("x")).open()
    assert err.value.exit_code == 10
    assert "refused" in err.value.message and "\n" not in err.value.message


def test_exec_mode_exact_bytes_and_exit_status(sshd: SshdServer, known_hosts: Path, make_opts: MakeOpts) -> None:
    trust(known_hosts, sshd)
    t = SSHTransport(parse_target(url(sshd)), make_opts(sshd.account.password))
    t.connect()
    try:
        runner = t.exec_runner()
        digest = hashlib.sha256()
        chunks: list[int] = []

        def sink(data: bytes) -> None:
            digest.update(data)
            chunks.append(len(data))

        res = runner.run("seq 1 200000", sink, idle_timeout=10)
        expected = b"".join(b"%d\n" % i for i in range(1, 200001))
        assert digest.hexdigest() == hashlib.sha256(expected).hexdigest()
        assert res.bytes == len(expected) == sum(chunks)
        assert res.exit_status == 0 and not res.timed_out
        # exit status, and stderr merged in order by default
        out = bytearray()
        res = runner.run("echo out; echo err 1>&2; exit 3", out.extend, idle_timeout=10)
        assert res.exit_status == 3
        assert bytes(out) == b"out\nerr\n"
        # separate stderr
        sep = SSHExecRunner(t, combine_stderr=False)
        out.clear()
        res = sep.run("echo out; echo err 1>&2; exit 4", out.extend, idle_timeout=10)
        assert (bytes(out), res.stderr, res.exit_status) == (b"out\n", b"err\n", 4)
    finally:
        t.close()


def test_exec_idle_timeout_and_max_time(sshd: SshdServer, known_hosts: Path, make_opts: MakeOpts) -> None:
    trust(known_hosts, sshd)
    t = SSHTransport(parse_target(url(sshd)), make_opts(sshd.account.password))
    t.open()  # a shell and exec channels share one connection
    try:
        runner = t.exec_runner()
        out = bytearray()
        start = time.monotonic()
        res = runner.run("echo first; sleep 30", out.extend, idle_timeout=0.5)
        assert res.timed_out and res.timeout_reason == "idle" and res.exit_status is None
        assert bytes(out) == b"first\n"
        assert time.monotonic() - start < 5
        res = runner.run("while :; do echo tick; sleep 0.05; done", lambda b: None, idle_timeout=5, max_time=0.5)
        assert res.timed_out and res.timeout_reason == "max_time"
        assert res.duration < 3
        t.write(b"echo shell-still-$((1+1))\n")
        read_until(t, b"shell-still-2\r\n")
    finally:
        t.close()


def test_legacy_only_device_needs_the_opt_in(make_opts: MakeOpts, known_hosts: Path) -> None:
    sim = pytest.importorskip("collector.sim.ssh_server")
    with sim.SimSSHServer(legacy=True) as server:
        known_hosts.parent.mkdir(parents=True, exist_ok=True)
        known_hosts.write_text(
            f"[127.0.0.1]:{server.port} {server.host_key.get_name()} {server.host_key.get_base64()}\n"
        )
        with pytest.raises(ConnectError) as err:
            SSHTransport(parse_target(url(server, "admin")), make_opts("cisco123")).open()
        assert "--legacy-algorithms" in err.value.hint
        assert getattr(err.value, "retryable", True) is False
        with SSHTransport(parse_target(url(server, "admin", "legacy=1")), make_opts("cisco123")) as t:
            assert t.info["legacy_algorithms"] is True
            assert t.info["kex"] in ("diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1")
            t.write(b"show clock\r")
            read_until(t, b"R1>")


@pytest.mark.parametrize("separate_round", [True, False])
def test_keyboard_interactive_password_and_otp(separate_round: bool, make_opts: MakeOpts, known_hosts: Path) -> None:
    sim = pytest.importorskip("collector.sim.ssh_server")
    asked: list[str] = []

    def otp(prompt: str) -> Secret:
        asked.append(prompt)
        return Secret("424242", "otp")

    with sim.SimSSHServer(otp="424242", otp_separate_round=separate_round) as server:
        known_hosts.parent.mkdir(parents=True, exist_ok=True)
        known_hosts.write_text(
            f"[127.0.0.1]:{server.port} {server.host_key.get_name()} {server.host_key.get_base64()}\n"
        )
        creds = Credentials(password=Secret("cisco123"), otp_provider=otp)
        with SSHTransport(parse_target(url(server, "admin")), make_opts(credentials=creds)) as t:
            assert t.info["auth"] == ["keyboard-interactive"]
            read_until(t, b"R1>")
        assert len(asked) == 1 and "OTP" in asked[0]
        # a second login asks again: the OTP is never stored
        with SSHTransport(parse_target(url(server, "admin")), make_opts(credentials=creds)):
            pass
        assert len(asked) == 2
        assert server.events.count("auth-fail") == 0


def test_wrong_otp_fails_once(make_opts: MakeOpts, known_hosts: Path) -> None:
    sim = pytest.importorskip("collector.sim.ssh_server")
    calls = []

    def otp(prompt: str) -> Secret:
        calls.append(prompt)
        return Secret("000000", "otp")

    with sim.SimSSHServer(otp="424242") as server:
        known_hosts.parent.mkdir(parents=True, exist_ok=True)
        known_hosts.write_text(
            f"[127.0.0.1]:{server.port} {server.host_key.get_name()} {server.host_key.get_base64()}\n"
        )
        creds = Credentials(password=Secret("cisco123"), otp_provider=otp)
        with pytest.raises(AuthenticationError) as err:
            SSHTransport(parse_target(url(server, "admin")), make_opts(credentials=creds)).open()
        assert "000000" not in err.value.message and "cisco123" not in err.value.message
        assert len(calls) == 1
        assert server.events.count("auth-fail") == 1


def test_otp_required_without_a_source_is_an_auth_error(make_opts: MakeOpts, known_hosts: Path) -> None:
    sim = pytest.importorskip("collector.sim.ssh_server")
    with sim.SimSSHServer(otp="424242") as server:
        known_hosts.parent.mkdir(parents=True, exist_ok=True)
        known_hosts.write_text(
            f"[127.0.0.1]:{server.port} {server.host_key.get_name()} {server.host_key.get_base64()}\n"
        )
        with pytest.raises(AuthenticationError, match="one-time password"):
            SSHTransport(parse_target(url(server, "admin")), make_opts("cisco123")).open()


def test_ssh_config_alias_user_port_and_identity_file(
    sshd: SshdServer, tmp_path: Path, known_hosts: Path, make_opts: MakeOpts
) -> None:
    trust(known_hosts, sshd)
    cfg = tmp_path / "ssh_config"
    cfg.write_text(
        f"Host lab-router\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {sshd.account.name}\n"
        f"  IdentityFile {sshd.client_key_path}\n"
    )
    with SSHTransport(parse_target("ssh://lab-router"), make_opts(ssh_config=str(cfg))) as t:
        assert t.info["user"] == sshd.account.name
        assert t.info["auth"] == ["publickey(client_ed25519)"]
    # --no-ssh-config: the alias means nothing any more
    with pytest.raises(ConnectError):
        SSHTransport(parse_target("ssh://lab-router"), make_opts(ssh_config=None, connect_timeout=3)).open()


def test_paramiko_transport_is_reused_for_exec(sshd: SshdServer, known_hosts: Path, make_opts: MakeOpts) -> None:
    trust(known_hosts, sshd)
    t = SSHTransport(parse_target(url(sshd)), make_opts(sshd.account.password))
    pt = t.connect()
    try:
        assert isinstance(pt, paramiko.Transport) and t.connect() is pt
        out = bytearray()
        assert SSHExecRunner(pt).run("printf abc", out.extend, idle_timeout=5).exit_status == 0
        assert bytes(out) == b"abc"
        assert fingerprint(pt.get_remote_server_key()) == sshd.host_key_fingerprint
    finally:
        t.close()
    assert not os.path.exists(str(known_hosts) + ".tmp")


def test_server_side_kill_is_connection_lost(sshd: SshdServer, known_hosts: Path, make_opts: MakeOpts) -> None:
    trust(known_hosts, sshd)
    t = SSHTransport(parse_target(url(sshd)), make_opts(sshd.account.password))
    t.open()
    try:
        read_until(t, b"$ ")
        t.write(b"kill -9 $PPID\n")  # the sshd session process dies: no clean exit-status, just gone
        deadline = time.monotonic() + 10
        with pytest.raises(ConnectionLost):
            while time.monotonic() < deadline:
                t.read(0.5)
        assert not t.alive()
        with pytest.raises(ConnectionLost):
            t.write(b"echo too late\n")
    finally:
        t.close()


def test_agent_is_used_only_when_asked(
    sshd: SshdServer, tmp_path: Path, known_hosts: Path, make_opts: MakeOpts, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    import subprocess

    agent, add = shutil.which("ssh-agent"), shutil.which("ssh-add")
    if not agent or not add:
        pytest.skip("ssh-agent/ssh-add missing (install openssh-client)")
    trust(known_hosts, sshd)
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen([agent, "-D", "-a", str(sock)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not sock.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "ssh-agent did not start"
            time.sleep(0.01)
        env = dict(os.environ, SSH_AUTH_SOCK=str(sock))
        subprocess.run([add, "-q", str(sshd.client_key_path)], env=env, check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        with pytest.raises(AuthenticationError, match="no matching credential"):
            SSHTransport(parse_target(url(sshd)), make_opts()).open()  # agent off by default
        with SSHTransport(parse_target(url(sshd)), make_opts(use_agent=True)) as t:
            assert t.info["auth"] == ["publickey(agent ssh-ed25519)"]
    finally:
        proc.terminate()
        proc.wait(timeout=5)


@pytest.mark.parametrize("reply", [b"HTTP/1.0 400 Bad Request\r\n\r\n", None])
def test_non_ssh_or_silent_peer_is_a_connect_error(reply: bytes | None, make_opts: MakeOpts) -> None:
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    done = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            if reply is not None:
                conn.sendall(reply)
            done.wait(10)

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    start = time.monotonic()
    try:
        with pytest.raises(ConnectError) as err:
            SSHTransport(parse_target(f"ssh://u@127.0.0.1:{port}"), make_opts("x", connect_timeout=1.0)).open()
        assert "\n" not in err.value.message
        assert time.monotonic() - start < 5
    finally:
        done.set()
        th.join(5)
        listener.close()


def test_openssh_hashed_known_hosts_file(sshd: SshdServer, known_hosts: Path, make_opts: MakeOpts) -> None:
    """A known_hosts hashed by `ssh-keygen -H` (Debian's HashKnownHosts default) still verifies."""
    import shutil
    import subprocess

    keygen_bin = shutil.which("ssh-keygen")
    if not keygen_bin:
        pytest.skip("ssh-keygen missing (install openssh-client)")
    system = known_hosts.parent / "system_known_hosts"
    system.parent.mkdir(parents=True, exist_ok=True)
    system.write_text(sshd.known_hosts_line)
    subprocess.run([keygen_bin, "-H", "-f", str(system)], check=True, capture_output=True)
    assert system.read_text().startswith("|1|")
    opts = make_opts(sshd.account.password, system_known_hosts=str(system))
    with SSHTransport(parse_target(url(sshd)), opts) as t:
        assert t.info["host_key_status"] == "known"
        assert t.info["host_key_source"] == f"{system}:1"
    assert not known_hosts.exists()  # nothing recorded: the read-only system file was enough


def test_sim_wrong_password_is_not_retried_over_keyboard_interactive(make_opts: MakeOpts, known_hosts: Path) -> None:
    """The server offers password and keyboard-interactive: a refused password ends the login."""
    sim = pytest.importorskip("collector.sim.ssh_server")
    with sim.SimSSHServer() as server:
        known_hosts.parent.mkdir(parents=True, exist_ok=True)
        known_hosts.write_text(
            f"[127.0.0.1]:{server.port} {server.host_key.get_name()} {server.host_key.get_base64()}\n"
        )
        with pytest.raises(AuthenticationError):
            SSHTransport(parse_target(url(server, "admin")), make_opts("wrong-one")).open()
        assert server.events.count("auth-attempt") == 1


def test_encrypted_key_file_needs_its_passphrase(
    sshd: SshdServer, tmp_path: Path, known_hosts: Path, make_opts: MakeOpts
) -> None:
    import shutil
    import subprocess

    trust(known_hosts, sshd)
    key = tmp_path / "id_locked"
    shutil.copy(sshd.client_key_path, key)
    key.chmod(0o600)
    subprocess.run(["ssh-keygen", "-q", "-p", "-a", "1", "-P", "", "-N", "open-sesame-7", "-f", str(key)], check=True)
    before = sshd.count(r"Accepted|Failed")
    with pytest.raises(AuthenticationError, match="encrypted") as err:
        SSHTransport(parse_target(url(sshd)), make_opts(credentials=Credentials(key_file=str(key)))).open()
    assert "open-sesame-7" not in err.value.message
    assert sshd.count(r"Accepted|Failed") == before  # refused locally, nothing offered to the server
    wrong = Credentials(key_file=str(key), key_passphrase=Secret("not-it-8"))
    with pytest.raises(AuthenticationError, match="passphrase"):
        SSHTransport(parse_target(url(sshd)), make_opts(credentials=wrong)).open()
    assert sshd.count(r"Accepted|Failed") == before
    creds = Credentials(key_file=str(key), key_passphrase=Secret("open-sesame-7"))
    with SSHTransport(parse_target(url(sshd)), make_opts(credentials=creds)) as t:
        assert t.info["auth"] == ["publickey(id_locked)"]


def test_exec_mode_against_the_simulator_is_byte_exact(make_opts: MakeOpts, known_hosts: Path) -> None:
    sim = pytest.importorskip("collector.sim.ssh_server")
    from collector.errors import DeviceError
    from collector.sim.profile import DeviceProfile

    profile = DeviceProfile(show_tech_bytes=4 << 20)
    with sim.SimSSHServer(profile) as server:
        known_hosts.parent.mkdir(parents=True, exist_ok=True)
        known_hosts.write_text(
            f"[127.0.0.1]:{server.port} {server.host_key.get_name()} {server.host_key.get_base64()}\n"
        )
        t = SSHTransport(parse_target(url(server, "admin")), make_opts("cisco123"))
        t.connect()
        try:
            want = hashlib.sha256()
            for block in server.device.expected_output("show tech-support"):
                want.update(block)
            got = hashlib.sha256()
            res = t.exec_runner().run("show tech-support", got.update, idle_timeout=10)
            assert res.exit_status == 0 and res.bytes >= 4 << 20
            assert got.hexdigest() == want.hexdigest()
        finally:
            t.close()
    with sim.SimSSHServer(allow_exec=False) as server:
        known_hosts.write_text(
            f"[127.0.0.1]:{server.port} {server.host_key.get_name()} {server.host_key.get_base64()}\n"
        )
        t = SSHTransport(parse_target(url(server, "admin")), make_opts("cisco123"))
        t.connect()
        try:
            with pytest.raises(DeviceError) as err:
                t.exec_runner().run("show version", lambda b: None, idle_timeout=5)
            assert "interactive" in err.value.hint
        finally:
            t.close()


def test_large_write_is_complete_even_with_a_zero_read_timeout(
    sshd: SshdServer, known_hosts: Path, make_opts: MakeOpts
) -> None:
    """write() must not inherit read()'s channel timeout: 3 MB in one call arrive whole (sha256 on the far side)."""
    trust(known_hosts, sshd)
    with SSHTransport(parse_target(url(sshd)), make_opts(sshd.account.password)) as t:
        read_until(t, b"$ ")
        t.write(b"stty raw -echo; echo go-$((6*7)); head -c 3000000 | sha256sum; stty sane\n")
        read_until(t, b"go-42")  # the tty is raw and head is about to read
        payload = bytes(range(256)) * (3000000 // 256) + b"x" * (3000000 % 256)
        t.read(0)  # leaves the channel timeout at 0
        t.write(payload)
        digest = hashlib.sha256(payload).hexdigest().encode()
        read_until(t, digest, timeout=30)
