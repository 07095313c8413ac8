"""Session against the simulated device in memory: login dialogs, prompts, paging, errors, byte-at-a-time."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from collector.credentials import Credentials
from collector.errors import AuthenticationError, DeviceError
from collector.platforms import load_platform
from collector.secrets import Secret
from collector.session.session import NullSink, Session
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile, LoginDialog
from collector.store.chunks import RawStream
from tests.helpers.memory_transport import MemoryTransport

IOS = load_platform("cisco_ios")


class Sink(io.BytesIO):
    pass


def expected_sha(profile: DeviceProfile, command: str) -> str:
    return hashlib.sha256(b"".join(SimDevice(profile).expected_output(command))).hexdigest()


def make(tmp_path: Path, profile: DeviceProfile, creds: Credentials, read_size: int = 65536,
         events: EventLog | None = None) -> tuple[Session, MemoryTransport]:
    tr = MemoryTransport(profile, read_size=read_size, events=events)
    tr.open()
    raw = RawStream(tmp_path / "raw", masker=creds.masker)
    return Session(tr, IOS, creds, raw, wake_after=0.5), tr


def creds_for(p: DeviceProfile, otp: str | None = None) -> Credentials:
    return Credentials(
        username=p.login.username, password=Secret(p.login.password), enable=Secret(p.enable_secret or "x"),
        otp_provider=(lambda prompt: Secret(otp)) if otp else None,
    )


@pytest.mark.parametrize(
    "login",
    [
        LoginDialog(mode="none"),
        LoginDialog(mode="password"),
        LoginDialog(mode="username-password"),
        LoginDialog(mode="username-password", banner="** R1# authorised > only **\nR1>\nR1#", press_return=True),
        LoginDialog(mode="username-password-otp", otp="424242"),
        LoginDialog(mode="none", initial_config_dialog=True),
    ],
    ids=["none", "password-only", "user-password", "banner-press-return", "otp", "initial-config"],
)
def test_login_dialogs_reach_privileged_prompt(tmp_path: Path, login: LoginDialog) -> None:
    profile = DeviceProfile.load("cisco_ios", login=login, show_tech_bytes=1 << 16)
    session, tr = make(tmp_path, profile, creds_for(profile, otp=login.otp))
    prompt = session.open(timeout=15)
    assert prompt == "R1#"
    sink = Sink()
    result = session.run("show version", sink, idle_timeout=5)
    assert hashlib.sha256(sink.getvalue()).hexdigest() == expected_sha(profile, "show version")
    assert result.error_marker is None and not result.timed_out
    tr.close()


def test_wrong_password_fails_after_one_attempt(tmp_path: Path) -> None:
    events = EventLog()
    profile = DeviceProfile.load("cisco_ios", login=LoginDialog(mode="username-password"))
    creds = Credentials(username="admin", password=Secret("wrong-password"))
    session, tr = make(tmp_path, profile, creds, events=events)
    with pytest.raises(AuthenticationError):
        session.open(timeout=15)
    assert events.count("auth-fail") == 1
    tr.close()


@pytest.mark.parametrize("read_size", [1, 3, 65536])
def test_outputs_match_source_whatever_the_read_size(tmp_path: Path, read_size: int) -> None:
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=200_000)
    session, tr = make(tmp_path, profile, creds_for(profile), read_size=read_size)
    session.open(timeout=15)
    for command in ("show version", "show running-config", "show ip interface brief", "show tech-support"):
        sink = Sink()
        session.run(command, sink, idle_timeout=5)
        assert hashlib.sha256(sink.getvalue()).hexdigest() == expected_sha(profile, command), command
    tr.close()


def test_paging_without_terminal_length_is_removed(tmp_path: Path) -> None:
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=50_000)
    session, tr = make(tmp_path, profile, creds_for(profile))
    session.open(timeout=15, setup=False)  # no `terminal length 0`: the device pages
    sink = Sink()
    session.run("show running-config", sink, idle_timeout=5)
    assert b"More" not in sink.getvalue()
    assert hashlib.sha256(sink.getvalue()).hexdigest() == expected_sha(profile, "show running-config")
    tr.close()


def test_invalid_command_records_error_marker(tmp_path: Path) -> None:
    profile = DeviceProfile.load("cisco_ios")
    session, tr = make(tmp_path, profile, creds_for(profile))
    session.open(timeout=15)
    result = session.run("show nonsense here", NullSink(), idle_timeout=5)
    assert result.error_marker == "% Invalid input"
    tr.close()


def test_raw_stream_is_written_before_interpretation(tmp_path: Path) -> None:
    profile = DeviceProfile.load("cisco_ios")
    session, tr = make(tmp_path, profile, creds_for(profile))
    session.open(timeout=15)
    result = session.run("show clock", NullSink(), idle_timeout=5)
    session.stream.raw.close()
    raw = b"".join(p.read_bytes() for p in sorted((tmp_path / "raw").glob("*.chunk")))
    assert len(raw) == session.offset
    assert b"show clock" in raw[result.raw_start : result.raw_end]
    assert profile.login.password.encode() not in raw and (profile.enable_secret or "").encode() not in raw
    tr.close()


def test_idle_timeout_when_device_goes_silent(tmp_path: Path) -> None:
    class Silent(MemoryTransport):
        def write(self, data: bytes) -> None:  # swallow everything after login: the device never answers
            if self.mute:
                return
            super().write(data)

    profile = DeviceProfile.load("cisco_ios")
    tr = Silent(profile)
    tr.mute = False
    tr.open()
    session = Session(tr, IOS, creds_for(profile), RawStream(tmp_path / "raw"))
    session.open(timeout=15)
    tr.mute = True
    result = session.run("show version", NullSink(), idle_timeout=0.3)
    assert result.timed_out and session.desynced
    tr.close()


def test_rommon_is_refused(tmp_path: Path) -> None:
    class Rommon(MemoryTransport):
        def open(self) -> None:
            self.sent = False

        def read(self, timeout: float | None) -> bytes:
            if not self.sent:
                self.sent = True
                return b"\r\nrommon 1 > "
            return b""

        def write(self, data: bytes) -> None:
            return None

    tr = Rommon(DeviceProfile.load("cisco_ios"))
    tr.open()
    session = Session(tr, IOS, Credentials(), RawStream(tmp_path / "raw"), wake_after=0.2)
    with pytest.raises(DeviceError, match="ROMMON"):
        session.open(timeout=5)


def test_async_debug_lines_and_reprinted_prompts_do_not_end_a_command_early(tmp_path: Path) -> None:
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=100_000, debug_rate=500)
    session, tr = make(tmp_path, profile, creds_for(profile))
    session.open(timeout=15)
    session.run("terminal monitor", NullSink(), idle_timeout=5)
    session.run("debug ip ospf adj", NullSink(), idle_timeout=5)
    for _ in range(5):
        for command in ("show clock", "show tech-support", "show ip interface brief"):
            sink = Sink()
            session.run(command, sink, idle_timeout=5)
            assert hashlib.sha256(sink.getvalue()).hexdigest() == expected_sha(profile, command), command
    session.run("undebug all", NullSink(), idle_timeout=5)
    tr.close()


@pytest.mark.parametrize("response,complete", [(" ", True), ("q", False)])
def test_paging_response_is_what_the_session_sends(tmp_path: Path, response: str, complete: bool) -> None:
    """The platform's paging_response drives the reply to a pager prompt: ' ' pages on, 'q' stops the output."""
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=50_000)
    tr = MemoryTransport(profile)
    tr.open()
    platform = IOS.model_copy(update={"paging_response": response})
    session = Session(tr, platform, creds_for(profile), RawStream(tmp_path / "raw"), wake_after=0.5)
    session.open(timeout=15, setup=False)
    sink = Sink()
    result = session.run("show running-config", sink, idle_timeout=5)
    full = b"".join(SimDevice(profile).expected_output("show running-config"))
    assert not result.timed_out and b"More" not in sink.getvalue()
    assert (sink.getvalue() == full) is complete and len(sink.getvalue()) <= len(full)
    tr.close()


@pytest.mark.parametrize("allowed", [False, True])
def test_a_confirmation_is_refused_unless_changes_are_allowed(tmp_path: Path, allowed: bool) -> None:
    profile = DeviceProfile.load("cisco_ios")
    events = EventLog()
    session, tr = make(tmp_path, profile, creds_for(profile), events=events)
    session.open(timeout=15)
    result = session.run("clear counters", NullSink(), idle_timeout=5, allow_confirm=allowed)
    assert result.confirm_refused is not allowed and not result.timed_out
    assert [e["answer"] for e in events.events() if e["kind"] == "confirm"] == ["yes" if allowed else "no"]
    assert session.run("show clock", NullSink(), idle_timeout=5).prompt == "R1#"  # still in step with the device
    tr.close()


def test_enable_at_a_user_prompt_on_any_cisco_like_platform(tmp_path: Path) -> None:
    """frr's daemon VTYs start at `zebra>`: with an enable secret the session enters privileged mode."""
    profile = DeviceProfile.load("cisco_ios")
    tr = MemoryTransport(profile)
    tr.open()
    session = Session(tr, load_platform("frr"), creds_for(profile), RawStream(tmp_path / "raw"), wake_after=0.5)
    session.open(timeout=15, setup=False)
    assert (session.prompt, session.mode) == ("R1#", "privileged")
    tr.close()


def test_daemon_named_errors_are_errors() -> None:
    frr = load_platform("frr")
    assert frr.error_in("% [ZEBRA] Unknown command: show foo") == "% [ZEBRA] Unknown command"
    assert frr.error_in("% [BGPD] Command incomplete: show bgp") is not None
    assert frr.error_in("Codes: K - kernel route, % [ZEBRA] is fine inline") is None
