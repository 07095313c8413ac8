"""The ssh command lines collector builds, what `ssh -G` tells, and how an ssh client's failure is read."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.credentials import Credentials
from collector.errors import AuthenticationError, ChangedHostKey, ConnectionLost, UnknownHostKey
from collector.secrets import Secret
from collector.target import parse_target
from collector.transports.base import ConnectOptions
from collector.transports.client_failures import classify_client_text, last_line, printable
from collector.transports.hop_shell import classify_hop_end
from collector.transports.openssh_args import (
    Resolved,
    answers_prompts,
    common_args,
    config_file,
    exec_argv,
    session_argv,
)

G_OUTPUT = """host dev
user ops
hostname 10.1.2.3
port 2222
batchmode no
controlmaster auto
controlpath /home/ops/.ssh/cm-%C
serveraliveinterval 0
loglevel QUIET
proxycommand socat - TCP:%h:%p
"""


def resolved(**kw: object) -> Resolved:
    base = Resolved.parse(G_OUTPUT)
    return Resolved(**{**base.__dict__, **kw})  # type: ignore[arg-type]


def test_ssh_G_tells_host_user_port_and_proxy_without_recording_commands() -> None:
    r = Resolved.parse(G_OUTPUT)
    assert (r.hostname, r.user, r.port, r.proxy) == ("10.1.2.3", "ops", 2222, "ProxyCommand")
    assert r.multiplexing and r.control_master == "auto" and r.server_alive == 0 and r.log_level == "QUIET"
    assert r.info() == {"host": "10.1.2.3", "user": "ops", "port": 2222, "proxy": "ProxyCommand",
                        "control_master": "auto"}
    jump = Resolved.parse("hostname h\nuser u\nport 22\nproxyjump bastion\ncontrolpath none\n")
    assert jump.proxy == "ProxyJump" and not jump.multiplexing


def test_host_key_policy_is_yes_or_accept_new_never_no() -> None:
    target = parse_target("openssh://ops@router1:2222")
    strict = common_args(target, ConnectOptions())
    assert strict[:4] == ["-p", "2222", "-l", "ops"]
    assert "StrictHostKeyChecking=yes" in strict
    assert "StrictHostKeyChecking=accept-new" in common_args(target, ConnectOptions(accept_new_host_key=True))


def test_config_file_choice() -> None:
    assert config_file(parse_target("openssh://r1"), ConnectOptions()) is None  # ssh's own ~/.ssh/config
    assert config_file(parse_target("openssh://r1?config=/x/cfg"), ConnectOptions()) == "/x/cfg"
    assert config_file(parse_target("openssh://r1"), ConnectOptions(ssh_config=None)) == "none"
    args = common_args(parse_target("openssh://r1?config=/x/cfg"), ConnectOptions())
    assert args[:2] == ["-F", "/x/cfg"]


def test_known_hosts_and_key_options() -> None:
    opts = ConnectOptions(known_hosts="/k/own hosts", system_known_hosts="/k/sys",
                          credentials=Credentials(key_file="/k/id"))
    args = common_args(parse_target("openssh://r1"), opts)
    assert 'UserKnownHostsFile="/k/own hosts" "/k/sys"' in args and args[-2:] == ["-i", "/k/id"]


def test_batch_mode_only_when_nothing_answers_prompts() -> None:
    assert not answers_prompts(ConnectOptions())
    assert answers_prompts(ConnectOptions(credentials=Credentials(password=Secret("pw-123"))))
    assert answers_prompts(ConnectOptions(credentials=Credentials(key_passphrase=Secret("pp-123"))))
    assert answers_prompts(ConnectOptions(credentials=Credentials(otp_provider=lambda p: Secret("1"))))


def test_session_and_exec_argv() -> None:
    common = ["-F", "/c", "-o", "StrictHostKeyChecking=yes"]
    argv = session_argv("/usr/bin/ssh", common, "dev", log="/t/log", batch=True, resolved=resolved(),
                        control_path="/t/cm")
    assert argv[0] == "/usr/bin/ssh" and argv[-2:] == ["--", "dev"] and "-tt" in argv
    assert argv[argv.index("-E"): argv.index("-E") + 2] == ["-E", "/t/log"]
    assert "BatchMode=yes" in argv and "ServerAliveInterval=15" in argv and "LogLevel=ERROR" in argv
    assert "ControlMaster=yes" in argv and "ControlPath=/t/cm" in argv
    quiet = session_argv("ssh", common, "dev", log="l", batch=False, resolved=resolved(server_alive=30,
                         log_level="INFO"), control_path=None)
    assert "BatchMode=no" in quiet and not any(a.startswith(("ServerAlive", "LogLevel", "Control")) for a in quiet)
    timed = session_argv("ssh", common, "dev", log="l", batch=True, resolved=resolved(), control_path=None,
                         connect_timeout=12.4)
    assert "ConnectTimeout=12" in timed  # the user's config has none: ours
    own = session_argv("ssh", common, "dev", log="l", batch=True, resolved=resolved(connect_timeout=True),
                       control_path=None, connect_timeout=12.4)
    assert not any(a.startswith("ConnectTimeout") for a in own)  # the user's config has one: theirs
    ex = exec_argv("ssh", common, "dev", "show run | inc x", log="l", resolved=resolved(), control_path="/t/cm")
    assert ex[-3:] == ["--", "dev", "show run | inc x"] and "-T" in ex and "-tt" not in ex
    assert "BatchMode=yes" in ex and "ControlMaster=no" in ex and "ControlPath=/t/cm" in ex


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=3, max_size=40).filter(lambda s: s.strip() == s and len(s) >= 3))
def test_no_secret_is_ever_in_an_argv(secret: str) -> None:
    creds = Credentials(password=Secret(secret), key_passphrase=Secret(secret + "p"), enable=Secret(secret + "e"))
    opts = ConnectOptions(credentials=creds)
    common = common_args(parse_target("openssh://ops@r1?config=/c"), opts)
    for argv in (session_argv("ssh", common, "r1", log="l", batch=not answers_prompts(opts), resolved=resolved(),
                              control_path=None),
                 exec_argv("ssh", common, "r1", "uname", log="l", resolved=resolved(), control_path=None)):
        assert not any(secret in a for a in argv if a not in ("ssh", "r1", "uname", "l", "/c", "ops", "--"))


CHANGED = b"""@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Add correct host key in /tmp/kh to get rid of this message.
Offending ED25519 key in /tmp/kh:1
  remove with:
  ssh-keygen -f "/tmp/kh" -R "[127.0.0.1]:2222"
Host key for [127.0.0.1]:2222 has changed and you have requested strict checking.
Host key verification failed.
"""


@pytest.mark.parametrize(("text", "kind", "line"), [
    (CHANGED, "host_key_changed", "Host key verification failed."),
    (b"No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\n"
     b"Host key verification failed.\n", "host_key_unknown", "Host key verification failed."),
    (b"collector-test@127.0.0.1: Permission denied (publickey,password).\n", "auth", None),
    (b"Received disconnect from 10.0.0.1 port 22:2: Too many authentication failures\n", "auth", None),
    (b"/c: line 2: Bad configuration option: nosuch\n/c: terminating, 1 bad configuration options\n", "config",
     "/c: line 2: Bad configuration option: nosuch"),
    (b"Unable to negotiate with 10.0.0.1 port 22: no matching key exchange method found.\n", "negotiation", None),
    (b"ssh: connect to host 10.0.0.1 port 22: Connection refused\n", "unreachable", None),
    (b"ssh: Could not resolve hostname nope: Name or service not known\n", "unreachable", None),
    (b"kex_exchange_identification: Connection closed by remote host\nConnection closed by UNKNOWN port 65535\n",
     "unreachable", None),
    (b"Permission denied, please try again.\nConnection to 10.0.0.1 closed by remote host.\n", "lost",
     "Connection to 10.0.0.1 closed by remote host."),
    (b"Timeout, server 10.0.0.1 not responding.\n", "lost", None),
    (b"Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known hosts.\n", None, None),
    (b"", None, None),
])
def test_client_failures(text: bytes, kind: str | None, line: str | None) -> None:
    failure = classify_client_text(text)
    assert (failure.kind if failure else None) == kind
    if failure is not None and line is not None:
        assert failure.line == line
    if kind == "host_key_changed":
        assert failure is not None and failure.where == "Offending ED25519 key in /tmp/kh:1"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_printable_lines_are_one_line_and_escape_free(data: bytes) -> None:
    for shown in (printable(data), last_line(data)):
        assert "\n" not in shown and "\r" not in shown and "\x1b" not in shown and len(shown) <= 200
        assert all(c.isprintable() for c in shown)


def test_hop_shell_keeps_its_classification() -> None:
    prompt = b"\r\nops@jump:~$ "
    unknown = classify_hop_end(b"No ED25519 host key is known for x.\r\nHost key verification failed.\r\n" + prompt)
    assert isinstance(unknown, UnknownHostKey) and "Host key verification failed" in unknown.message
    changed = classify_hop_end(CHANGED.replace(b"\n", b"\r\n") + prompt)
    assert isinstance(changed, ChangedHostKey)
    assert isinstance(classify_hop_end(b"Permission denied (password).\r\n" + prompt), AuthenticationError)
    assert isinstance(classify_hop_end(b"logout\r\nConnection to dev closed.\r\n" + prompt), ConnectionLost)
