"""SimDevice driven through an in-memory ByteChannel pair: login dialogs, enable, paging, errors, debug stream."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from collector.errors import UsageError
from collector.sim.channel import MemoryChannel, memory_pair
from collector.sim.cmdtable import CommandTable
from collector.sim.device import MORE, MORE_ERASE, SimDevice
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile, LoginDialog


class Client:
    """Test-side end of the pipe with a read-until helper (polls a condition with a deadline)."""

    def __init__(self, profile: DeviceProfile) -> None:
        self.events = EventLog()
        self.device = SimDevice(profile, self.events)
        self.c, s = memory_pair()
        self.c.settimeout(0.05)
        self.buf = bytearray()
        self.thread = threading.Thread(target=self._serve, args=(s,), daemon=True)
        self.thread.start()

    def _serve(self, s: MemoryChannel) -> None:
        try:
            self.device.serve(s)
        finally:
            s.close()  # serve() never closes the channel: that is the front end's job

    def send(self, data: bytes) -> None:
        self.c.sendall(data)

    def _more(self) -> bool:
        try:
            data = self.c.recv(1 << 20)
        except TimeoutError:
            return True
        if not data:
            return False
        self.buf += data
        return True

    def read_until(self, marker: bytes, timeout: float = 10.0) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.buf:
            if time.monotonic() > deadline:
                raise AssertionError(f"{marker!r} not seen; got tail {bytes(self.buf[-300:])!r}")
            if not self._more():
                raise AssertionError(f"EOF before {marker!r}; got tail {bytes(self.buf[-300:])!r}")
        i = self.buf.index(marker) + len(marker)
        out = bytes(self.buf[:i])
        del self.buf[:i]
        return out

    def read_for(self, seconds: float) -> bytes:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._more():
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def wait_eof(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self._more():
            assert time.monotonic() < deadline, "no EOF"

    def cmd(self, line: str, prompt: bytes = b"R1#") -> bytes:
        """Send a command, return what came between the echoed line and the next prompt."""
        self.send(line.encode() + b"\r")
        echo = self.read_until(b"\r\n")
        assert echo.endswith(line.encode() + b"\r\n")
        return self.read_until(prompt)[: -len(prompt)]

    def close(self) -> None:
        self.c.close()
        self.thread.join(5)


def ios(**kw: object) -> DeviceProfile:
    return DeviceProfile.load("cisco_ios", **kw)


def sha(chunks: object) -> str:
    h = hashlib.sha256()
    for c in chunks:  # type: ignore[attr-defined]
        h.update(c)
    return h.hexdigest()


def test_mode_none_enable_and_prompts() -> None:
    cl = Client(ios())
    head = cl.read_until(b"R1>")
    assert b"Authorized access only! #> are ok" in head
    cl.send(b"enable\r")
    cl.read_until(b"Password: ")
    cl.send(b"wrong\r")
    cl.read_until(b"Password: ")
    cl.send(b"enable123\r")
    cl.read_until(b"\r\nR1#")
    assert cl.cmd("configure terminal", b"R1(config)#").startswith(b"Enter configuration commands")
    assert cl.cmd("interface Gi0/0/1", b"R1(config)#") == b""
    assert cl.cmd("end") == b""
    assert cl.cmd("disable", b"R1>") == b""
    cl.send(b"exit\r")
    cl.wait_eof()
    assert cl.events.commands() == ["enable", "configure terminal", "interface Gi0/0/1", "end", "disable", "exit"]
    assert cl.events.count("auth-attempt", user="enable") == 2
    assert cl.events.count("auth-fail", user="enable") == 1
    assert all("enable123" not in str(e) and "wrong" not in str(e) for e in cl.events.events())
    cl.close()


def test_username_password_login_counts_attempts() -> None:
    cl = Client(ios(login={"mode": "username-password"}, start_privileged=True))
    assert b"User Access Verification" in cl.read_until(b"Username: ")
    cl.send(b"admin\r")
    assert cl.read_until(b"Password: ").endswith(b"admin\r\nPassword: ")  # username echoed
    cl.send(b"nope\r")
    assert b"% Login invalid" in cl.read_until(b"Username: ")
    cl.send(b"admin\r\n")  # CR LF counts as one line end
    cl.read_until(b"Password: ")
    cl.send(b"cisco123\r\n")
    out = cl.read_until(b"R1#")
    assert b"cisco123" not in out  # the password is not echoed
    assert cl.events.count("auth-attempt", user="admin", method="login") == 2
    assert cl.events.count("auth-ok") == 1
    cl.close()


def test_password_mode_disconnects_after_max_attempts() -> None:
    cl = Client(ios(login={"mode": "password", "max_attempts": 3}))
    for _ in range(3):
        cl.read_until(b"Password: ")
        cl.send(b"bad\r")
    assert b"% Bad passwords" in cl.read_until(b"% Bad passwords")
    cl.wait_eof()
    assert cl.events.count("auth-fail") == 3


def test_console_dialogs_then_otp_login() -> None:
    login = LoginDialog(
        mode="username-password-otp", otp="424242", press_return=True, initial_config_dialog=True, banner="MOTD #1>"
    )
    cl = Client(ios(login=login))
    cl.read_until(b"[yes/no]: ")
    cl.send(b"yes\r")
    cl.read_until(b"[yes/no]: ")
    cl.send(b"no\r")
    cl.read_until(b"Press RETURN to get started!")
    cl.send(b"\r")
    assert b"MOTD #1>" in cl.read_until(b"Username: ")
    cl.send(b"admin\r")
    cl.read_until(b"Password: ")
    cl.send(b"cisco123\r")
    cl.read_until(b"OTP: ")
    cl.send(b"000000\r")
    cl.read_until(b"Username: ")
    cl.send(b"admin\rcisco123\r424242\r")  # typed ahead
    cl.read_until(b"R1>")
    assert cl.events.count("auth-attempt") == 2 and cl.events.count("auth-ok") == 1
    cl.close()


def test_paging_is_byte_exact_and_normalises() -> None:
    cl = Client(ios(start_privileged=True))
    cl.read_until(b"R1#")
    cl.send(b"show running-config\r")
    cl.read_until(b"show running-config\r\n")
    raw = bytearray()
    pages = 0
    while True:
        chunk = cl.read_until(b"R1#", timeout=0.2) if b"R1#" in cl.buf else None
        if chunk is not None:
            raw += chunk[:-3]
            break
        cl._more()
        if cl.buf.endswith(MORE):
            pages += 1
            raw += cl.buf
            cl.buf.clear()
            cl.send(b" " if pages % 2 else b"\r")  # space: a page, return: one line
    expected = b"".join(cl.device.expected_output("show running-config"))
    assert pages > 3
    assert bytes(raw).replace(MORE + MORE_ERASE, b"") == expected.replace(b"\n", b"\r\n")
    first_page = bytes(raw).split(MORE)[0]
    assert first_page.count(b"\r\n") == 23
    # q aborts the output and returns to the prompt
    cl.send(b"show running-config\r")
    cl.read_until(MORE)
    cl.send(b"q")
    assert cl.read_until(b"R1#") == MORE_ERASE + b"R1#"
    cl.close()


def test_terminal_length_0_show_tech_sha_matches_expected_output() -> None:
    prof = ios(start_privileged=True, show_tech_bytes=3 << 20)
    cl = Client(prof)
    cl.read_until(b"R1#")
    assert cl.cmd("term len 0") == b""
    served = cl.cmd("show tech-support")
    assert MORE not in served
    assert len(served.replace(b"\r\n", b"\n")) == 3 << 20
    assert hashlib.sha256(served.replace(b"\r\n", b"\n")).hexdigest() == sha(
        SimDevice(prof).expected_output("show tech")
    )
    assert b"------------------ show version ------------------" in served
    cl.close()


def test_invalid_incomplete_and_privilege() -> None:
    cl = Client(ios())
    cl.read_until(b"R1>")
    out = cl.cmd("show running-config", b"R1>")
    assert out == b"     ^\r\n% Invalid input detected at '^' marker.\r\n\r\n".replace(b"     ^", b" " * 8 + b"^")
    assert cl.cmd("show foo bar", b"R1>").startswith(b" " * 8 + b"^\r\n")
    assert cl.cmd("show", b"R1>") == b"% Incomplete command.\r\n\r\n"
    assert cl.cmd("sh clo", b"R1>") == b"*16:20:31.482 UTC Fri Nov 27 2026\r\n"
    cl.close()


def test_debug_stream_needs_monitor_and_stops_after_undebug() -> None:
    cl = Client(ios(start_privileged=True, debug_rate=200.0, flap_after=0.2))
    cl.read_until(b"R1#")
    assert cl.cmd("debug ip ospf hello") == b"ip ospf hello debugging is on\r\n"
    assert b"OSPF-1 HELLO" not in cl.read_for(0.15)  # no monitor: nothing on this terminal
    cl.send(b"terminal monitor\r")
    cl.read_until(b"OSPF-1 HELLO")
    cl.read_until(b"%OSPF-5-ADJCHG")
    assert cl.events.count("flap") == 1
    cl.send(b"undebug all\r")
    cl.read_until(b"All possible debugging has been turned off\r\nR1#")
    assert b"OSPF-1 HELLO" not in cl.read_for(0.15)
    cl.close()


def test_linux_shell_and_generators() -> None:
    prof = DeviceProfile.load("linux")
    cl = Client(prof)
    p = b"admin@labhost:~$ "
    cl.read_until(p)
    assert cl.cmd("seq 5", p) == b"1\r\n2\r\n3\r\n4\r\n5\r\n"
    assert cl.cmd("uname -a", p).startswith(b"Linux labhost")
    assert cl.cmd("frobnicate now", p) == b"-bash: frobnicate: command not found\r\n"
    blob = cl.cmd("cat /collector/blob 300000", p).replace(b"\r\n", b"\n")
    assert len(blob) == 300000
    assert hashlib.sha256(blob).hexdigest() == sha(cl.device.expected_output("cat /collector/blob 300000"))
    assert b"".join(cl.device.expected_output("yes-bytes 5")) == b"y\ny\ny"
    cl.close()


def test_command_table_abbreviations() -> None:
    t = CommandTable(["show version", "show vlan", "show ip interface brief", "terminal length {n}", "debug *"])
    assert t.match("sh ip int br").pattern == "show ip interface brief"
    assert t.match("sh v").status == "ambiguous"
    assert t.match("sh ve").pattern == "show version"
    assert t.match("term len 0").args == ["0"]
    assert t.match("term len x").status == "invalid"
    assert t.match("debug ip  packet").args == ["ip  packet"]
    assert t.match("show ip bogus").column == 8


@pytest.mark.parametrize("n", [0, 1, 65535, 65536, 1000003])
def test_generators_exact_sizes(n: int) -> None:
    dev = SimDevice(ios(show_tech_bytes=n))
    data = b"".join(dev.expected_output("show tech-support"))
    assert len(data) == n and (n == 0 or data.endswith(b"\n"))


def test_linux_in_band_login_and_unknown_expected_output() -> None:
    cl = Client(DeviceProfile.load("linux", login={"mode": "username-password"}))
    cl.read_until(b"labhost login: ")
    cl.send(b"admin\r")
    cl.read_until(b"Password: ")
    cl.send(b"bad\r")
    assert b"Login incorrect" in cl.read_until(b"labhost login: ")
    cl.send(b"admin\rcisco123\r")
    cl.read_until(b"admin@labhost:~$ ")
    assert cl.cmd("echo hello  world", b"admin@labhost:~$ ") == b"hello  world\r\n"
    cl.send(b"logout\r")
    cl.wait_eof()
    assert cl.events.commands() == ["echo hello  world", "logout"]
    with pytest.raises(UsageError):
        cl.device.expected_output("rm -rf /")
