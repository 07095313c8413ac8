"""openssh:// against a real OpenSSH sshd: ProxyCommand, ControlMaster, user certificates, prompts, host keys.

The system `ssh` client on a pty, configured only through a test ssh_config (`?config=`), never ~/.ssh.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.credentials import Credentials
from collector.errors import AuthenticationError, ChangedHostKey, CollectorError, UnknownHostKey, UsageError
from collector.platforms import load_platform
from collector.runner.connector import Connector, ReconnectPolicy
from collector.secrets import Secret, secret_from_env
from collector.session.command import CommandResult
from collector.session.session import Session
from collector.sim.device import SimDevice
from collector.sim.profile import DeviceProfile
from collector.sim.ssh_server import SimSSHServer
from collector.store.chunks import RawStream
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from collector.transports.openssh import OpenSSHTransport
from tests.servers.sshd import SSH_KEYGEN, SshdServer, keygen, openssh_client_config, sshd_ca  # noqa: F401

pytestmark = [pytest.mark.servers,
              pytest.mark.skipif(shutil.which("ssh") is None or shutil.which("socat") is None,
                                 reason="needs the OpenSSH client and socat (apt-get install openssh-client socat)")]

LINUX = load_platform("linux")


class Collect:
    """An OutputSink keeping everything (small outputs only)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short private directory for ControlPath sockets (a unix socket path has ~100 bytes at most)."""
    path = Path(tempfile.mkdtemp(prefix="cm-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def open_session(url: str, creds: Credentials, tmp: Path, **opts: object) -> Session:
    """A logged-in session through the connector (as the runner opens one); the caller closes it."""
    options = ConnectOptions(credentials=creds, **opts)  # type: ignore[arg-type]
    raw = RawStream(tmp / f"raw-{len(list(tmp.glob('raw-*')))}")
    connector = Connector(parse_target(url), options, LINUX, raw, login_timeout=20,
                          policy=ReconnectPolicy(attempts=1, initial_wait=0.01, max_wait=0.01))
    return connector.connect()


def run(session: Session, command: str) -> tuple[CommandResult, bytes]:
    sink = Collect()
    result = session.run(command, sink, idle_timeout=10)
    return result, bytes(sink.data)


def password(server: SshdServer) -> Credentials:
    return Credentials(password=Secret(server.account.password))


def auth_lines(server: SshdServer) -> int:
    return server.count(r"Accepted |Failed |Postponed ")


def test_proxy_command_password_login_and_manifest_info(sshd: SshdServer, tmp_path: Path) -> None:
    cfg = openssh_client_config(sshd, tmp_path / "ssh_config")
    session = open_session(f"openssh://dev?config={cfg}", password(sshd), tmp_path)
    try:
        _, out = run(session, "echo $SSH_CONNECTION")
        info = dict(session.transport.info)
    finally:
        session.close()
    assert out.split()[1] != b"" and out.split()[2] == b"127.0.0.1"  # reached sshd (through socat)
    assert info["transport"] == "openssh" and info["proxy"] == "ProxyCommand"
    assert (info["host"], info["user"], info["port"]) == ("127.0.0.1", sshd.account.name, sshd.port)
    assert info["client"].startswith("OpenSSH_") and info["config"] == "file"
    assert info["multiplexed"] is False
    assert session.transport.info["ended_by"] == "collector"
    assert str(tmp_path) not in repr(info)  # no local paths in what the manifest records
    assert sshd.count(f"Accepted password for {sshd.account.name}") >= 1


def test_control_master_second_connection_is_multiplexed(sshd: SshdServer, tmp_path: Path, short_dir: Path) -> None:
    cfg = openssh_client_config(sshd, tmp_path / "ssh_config", control_path=f"{short_dir}/%C")
    url = f"openssh://dev?config={cfg}"
    before = sshd.count("Accepted password")
    first = open_session(url, password(sshd), tmp_path)
    try:
        # no credentials at all: BatchMode=yes, so this can only log in by joining the first connection
        second = open_session(url, Credentials(), tmp_path)
        try:
            _, a = run(first, "echo $SSH_CONNECTION")
            _, b = run(second, "echo $SSH_CONNECTION")
            assert second.transport.info["multiplexed"] is True
            assert first.transport.info["multiplexed"] is False
        finally:
            second.close()
    finally:
        first.close()
    assert a.strip() and a == b  # the same TCP connection (same client port) carries both sessions
    assert sshd.count("Accepted password") == before + 1


def test_user_certificate_signed_by_the_test_ca(sshd_ca: SshdServer, tmp_path: Path) -> None:  # noqa: F811
    key = tmp_path / "cert_key"
    keygen(key)  # never added to authorized_keys: only the certificate can log it in
    cert = sshd_ca.sign_user_key(Path(f"{key}.pub"))
    cfg = openssh_client_config(sshd_ca, tmp_path / "ssh_config", proxy_command=False, identity=key,
                                certificate=cert)
    session = open_session(f"openssh://dev?config={cfg}", Credentials(), tmp_path)
    try:
        _, out = run(session, "id -un")
    finally:
        session.close()
    assert out.strip() == sshd_ca.account.name.encode()
    assert sshd_ca.count(r"Accepted publickey for .* ED25519-CERT .*ID collector-test-cert") == 1
    # a certificate for another principal is refused: an authentication error, never retried
    other = tmp_path / "other_key"
    keygen(other)
    cert = sshd_ca.sign_user_key(Path(f"{other}.pub"), principal="somebody-else")
    cfg = openssh_client_config(sshd_ca, tmp_path / "other_config", proxy_command=False, identity=other,
                                certificate=cert)
    with pytest.raises(AuthenticationError) as err:
        open_session(f"openssh://dev?config={cfg}", Credentials(), tmp_path)
    assert err.value.exit_code == 13 and "Permission denied" in err.value.message


def encrypted_key(path: Path, passphrase: str) -> Path:
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", passphrase, "-C", "collector-pp", "-f", str(path)],
                   check=True)
    return Path(f"{path}.pub")


def test_key_passphrase_prompt_is_answered_by_the_login_dialog(sshd: SshdServer, tmp_path: Path) -> None:
    key = tmp_path / "pp_key"
    sshd.authorize(encrypted_key(key, "pass-phrase-51"))
    cfg = openssh_client_config(sshd, tmp_path / "ssh_config", identity=key)
    url = f"openssh://dev?config={cfg}"
    before = sshd.count("Accepted publickey")
    session = open_session(url, Credentials(key_passphrase=Secret("pass-phrase-51")), tmp_path)
    try:
        _, out = run(session, "echo pp-$((6*7))")
    finally:
        session.close()
    assert out == b"pp-42\n" and sshd.count("Accepted publickey") == before + 1
    with pytest.raises(AuthenticationError, match="passphrase again"):  # a wrong one: asked again, we stop
        open_session(url, Credentials(key_passphrase=Secret("wrong-phrase")), tmp_path)
    with pytest.raises(AuthenticationError, match="no[n]e was given"):  # asked, nothing to answer with
        open_session(url, Credentials(password=Secret("unused-pw")), tmp_path)
    assert sshd.count("Accepted publickey") == before + 1


def test_password_and_otp_prompts_against_the_simulator(tmp_path: Path) -> None:
    asked: list[str] = []

    def otp(prompt: str) -> Secret:
        asked.append(prompt)
        return Secret("424242")

    profile = DeviceProfile.load("cisco_ios")
    with SimSSHServer(profile, users={"admin": "sim-pw-77"}, otp="424242") as srv:
        assert srv.host_key is not None
        kh = tmp_path / "known_hosts"
        kh.write_text(f"[127.0.0.1]:{srv.port} {srv.host_key.get_name()} {srv.host_key.get_base64()}\n")
        cfg = tmp_path / "ssh_config"
        cfg.write_text(f"Host sim\n  HostName 127.0.0.1\n  Port {srv.port}\n  User admin\n  UserKnownHostsFile {kh}\n"
                       "  GlobalKnownHostsFile /dev/null\n  IdentityAgent none\n  PubkeyAuthentication no\n")
        creds = Credentials(password=Secret("sim-pw-77"), otp_provider=otp)
        options = ConnectOptions(credentials=creds)
        transport = OpenSSHTransport(parse_target(f"openssh://sim?config={cfg}"), options)
        transport.open()
        session = Session(transport, load_platform("cisco_ios"), creds, RawStream(tmp_path / "raw"))
        try:
            session.open(timeout=20)
            sink = Collect()
            session.run("show version", sink, idle_timeout=10)
        finally:
            session.close()
    want = b"".join(SimDevice(profile).expected_output("show version"))
    assert bytes(sink.data) == want
    assert len(asked) == 1 and "OTP" in asked[0]


def test_unknown_and_changed_host_keys_are_refused_before_any_password(sshd: SshdServer, tmp_path: Path) -> None:
    kh = tmp_path / "known_hosts"
    cfg = openssh_client_config(sshd, tmp_path / "ssh_config", known_hosts=kh)
    url = f"openssh://dev?config={cfg}"
    kh.write_text("")
    before = auth_lines(sshd)
    with pytest.raises(UnknownHostKey) as unknown:
        open_session(url, password(sshd), tmp_path)
    assert unknown.value.exit_code == 11 and "Host key verification failed" in unknown.value.message
    other = keygen(tmp_path / "impostor")
    kh.write_text(f"[127.0.0.1]:{sshd.port} {other.get_name()} {other.get_base64()}\n")
    for accept_new in (False, True):  # trust on first use never covers a changed key
        with pytest.raises(ChangedHostKey) as changed:
            open_session(url, password(sshd), tmp_path, accept_new_host_key=accept_new)
        assert changed.value.exit_code == 12 and f"{kh}:1" in changed.value.message
    assert auth_lines(sshd) == before  # no password was ever sent
    kh.write_text("")
    session = open_session(url, password(sshd), tmp_path, accept_new_host_key=True)
    session.close()
    assert session.transport.info["host_key_status"] == "trusted on first use"
    assert sshd.host_key.get_base64() in kh.read_text()


def test_secrets_never_reach_the_ssh_command_line_or_environment(sshd: SshdServer, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSSH_TEST_PW", sshd.account.password)
    creds = Credentials(password=secret_from_env("OPENSSH_TEST_PW"))
    cfg = openssh_client_config(sshd, tmp_path / "ssh_config")
    session = open_session(f"openssh://dev?config={cfg}", creds, tmp_path)
    try:
        pids = descendants(os.getpid(), "ssh")
        assert pids, "no ssh process found"
        secret = sshd.account.password.encode()
        for pid in pids + [p for q in pids for p in descendants(q)]:  # ssh and the ProxyCommand it runs
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert not any(secret in part for part in argv + environ)
            assert not any(e.startswith(b"OPENSSH_TEST_PW=") for e in environ)
        ssh_argv = Path(f"/proc/{pids[0]}/cmdline").read_bytes().split(b"\0")
        assert b"-tt" in ssh_argv and b"BatchMode=no" in ssh_argv and b"StrictHostKeyChecking=yes" in ssh_argv
        assert ssh_argv[-3:-1] == [b"--", b"dev"]
        assert b"SSH_ASKPASS_REQUIRE=never" in Path(f"/proc/{pids[0]}/environ").read_bytes().split(b"\0")
    finally:
        session.close()


def descendants(parent: int, name: str | None = None) -> list[int]:
    """Live child processes of `parent` (optionally only those whose command is `name`)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if int(rest[1]) == parent and rest[0] != "Z" and (name is None or comm == name):
            found.append(int(entry))
    return found


def test_batch_mode_when_nothing_can_answer_a_prompt(sshd: SshdServer, tmp_path: Path) -> None:
    """No password, OTP or passphrase to give: BatchMode=yes, and ssh's refusal is an authentication error."""
    cfg = openssh_client_config(sshd, tmp_path / "ssh_config")
    with pytest.raises(AuthenticationError) as err:
        open_session(f"openssh://dev?config={cfg}", Credentials(), tmp_path)
    assert "Permission denied" in err.value.message


def test_a_missing_ssh_binary_is_a_one_line_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    transport = OpenSSHTransport(parse_target("openssh://router1"), ConnectOptions())
    with pytest.raises(UsageError) as err:
        transport.open()
    assert "`ssh` is not installed" in err.value.message and "\n" not in err.value.message
    transport.close()


def test_a_broken_ssh_config_is_a_usage_error_naming_the_line(tmp_path: Path) -> None:
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host dev\n  NoSuchOption yes\n")
    with pytest.raises(CollectorError) as err:
        OpenSSHTransport(parse_target(f"openssh://dev?config={cfg}"), ConnectOptions()).open()
    assert isinstance(err.value, UsageError) and "Bad configuration option" in err.value.message
