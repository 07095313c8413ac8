"""A simulated Cisco-IOS-like (or Linux-shell-like) device driven by transcripts, served over any ByteChannel.

One SimDevice can serve many sessions at once; each serve() call runs its own login dialog and CLI.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from ..errors import UsageError
from . import pipes
from .channel import ByteChannel
from .cmdtable import CommandTable, Match
from .events import EventLog
from .profile import DeviceProfile, Generator
from .shellfiles import ShellFiles
from .showtech import CATALOGUE, TechLayout, blob, seq, show_tech, tech_layout, yes_bytes

MORE = b" --More-- "
MORE_ERASE = b"\b" * len(MORE) + b" " * len(MORE) + b"\b" * len(MORE)
SEND_BLOCK = 64 * 1024

IOS_USER = [
    "enable",
    "exit",
    "logout",
    "quit",
    "terminal length {n}",
    "terminal width {n}",
    "terminal monitor",
    "terminal no monitor",
]
IOS_PRIV = [
    "disable",
    "configure terminal",
    "debug *",
    "undebug all",
    "undebug *",
    "no debug all",
    "no debug *",
    "clear counters",
]
IOS_CONFIG = ["end", "exit", "do *"]
LINUX_BUILTINS = ["exit", "logout", "echo *", "echo", "true"]
TECH_SECTIONS = [
    "show clock",
    "show version",
    "show running-config",
    "show ip interface brief",
    "show processes cpu",
    "show logging",
]
TECH_PARTS = [title for title, _ in CATALOGUE] + ["show controllers *"]  # show tech sections that run alone
SET_PS1 = re.compile(r"^PS1=((?:'[^'\n]*')+); PS2=''; unset PROMPT_COMMAND$")  # collector's unique prompt
FLAP_LINE = (
    "%OSPF-5-ADJCHG: Process 1, Nbr 10.0.12.2 on GigabitEthernet0/0/1 from FULL to DOWN, "
    "Neighbor Down: Dead timer expired"
)
_DEBUG_TEXT = {
    "ip ospf": "OSPF-1 HELLO Gi0/0/1: Rcv hello from 10.0.12.2 area 0 10.0.12.2",
    "ip packet": "IP: s=10.0.12.1 (local), d=10.0.12.2 (GigabitEthernet0/0/1), len 100, sending",
    "ip bgp": "BGP(0): 10.0.12.2 rcvd UPDATE w/ attr: nexthop 10.0.12.2, origin i, metric 0, path 65002",
}


class SessionEnd(Exception):
    """The client left or the session was closed by exit/logout/failed login."""


def _load_transcripts(d: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if not d.is_dir():
        return out
    for f in sorted(d.glob("*.txt")):
        name = " ".join(unquote(f.name[: -len(".txt")]).split())
        data = f.read_bytes().replace(b"\r\n", b"\n")
        if data and not data.endswith(b"\n"):
            data += b"\n"
        out[name] = data
    return out


class SimDevice:
    def __init__(self, profile: DeviceProfile | None = None, events: EventLog | None = None) -> None:
        self.profile = profile or DeviceProfile()
        self.events = events if events is not None else EventLog()
        self.transcripts = _load_transcripts(Path(self.profile.transcripts_dir))
        self.linux = self.profile.platform == "linux"
        self.files = ShellFiles(self.events)  # linux: files written by output staging
        priv_set = {" ".join(c.split()) for c in self.profile.privileged_commands}
        self.generators = dict(self.profile.generators)
        if not self.linux:  # show tech-support is part of the IOS contract even without a device.yaml
            self.generators.setdefault("show tech-support", Generator(kind="showtech"))
        extra = list(self.transcripts) + list(self.generators)
        if self.tech() is not None:
            extra += [c for c in TECH_PARTS if c not in extra]
        if self.linux:
            table = CommandTable(LINUX_BUILTINS + extra, abbreviate=False)
            self.tables = {"user": table, "priv": table, "config": table}
        else:
            user = IOS_USER + [c for c in extra if c not in priv_set]
            priv = IOS_USER + IOS_PRIV + extra
            self.tables = {"user": CommandTable(user), "priv": CommandTable(priv), "config": CommandTable(IOS_CONFIG)}

    # ---- public API -------------------------------------------------------------------------------------
    def serve(self, chan: ByteChannel, username: str | None = None, record_session: bool = True) -> None:
        """Run the login dialog, then the CLI loop until exit/logout/EOF. Never raises for a client that left.

        With record_session (default) "connect"/"disconnect" events are recorded here; a front end that
        records them itself at its transport level (the SSH server does) passes False.
        """
        sess = _Session(self, chan, username or self.profile.login.username)
        if record_session:
            self.events.record("connect", via="serve")
        try:
            sess.run()
        except (SessionEnd, OSError, EOFError):
            pass
        finally:
            sess.stop()
            if record_session:
                self.events.record("disconnect", via="serve")

    def expected_output(self, command: str) -> Iterator[bytes]:
        """Canonical output of `command` (privileged mode): LF line endings, no paging, no echo, no prompt."""
        m = self._resolve(command, "priv")
        if m.status != "ok":
            raise UsageError(f"the simulator does not know the command {command!r} ({m.status})")
        return self._output(m, "priv")

    def exec_command(self, chan: ByteChannel, command: str, line_ending: bytes = b"\n") -> int:
        """One command as for an SSH exec request: no echo, no paging, no prompt. Returns the exit status."""
        sess = _Session(self, chan, self.profile.login.username, line_ending=line_ending)
        sess.mode = "priv"
        self.events.record("command", command=command, mode="exec")
        try:
            return 0 if sess.execute(command, exec_request=True) else 1
        except (SessionEnd, OSError, EOFError):
            return 1
        finally:
            sess.stop()

    def tech(self) -> TechLayout | None:
        """The layout of `show tech-support` (sections that also run alone), when this device has one."""
        gen = self.generators.get("show tech-support")
        if self.linux or gen is None or gen.kind != "showtech":
            return None
        size = gen.size if gen.size is not None else self.profile.show_tech_bytes
        fixed = tuple((c, self.transcripts[c]) for c in TECH_SECTIONS if c in self.transcripts)
        return tech_layout(size, fixed, self.profile.seed)

    def output_of(self, command: str) -> Iterator[bytes] | None:
        """A command's output as the shell would print it (privileged), or None for an unknown command."""
        m = self._resolve(command, "priv")
        return self._output(m, "priv") if m.status == "ok" else None

    # ---- internals --------------------------------------------------------------------------------------
    def _resolve(self, line: str, mode: str) -> Match:
        m = self.tables[mode].match(line)
        if mode == "config" and m.status == "ok" and m.pattern == "do *":
            return self._resolve(m.args[0], "priv")
        return m

    def _output(self, m: Match, mode: str) -> Iterator[bytes]:
        """LF output of a resolved command (builtins with side effects yield nothing here)."""
        p = m.pattern
        if p in self.transcripts:
            return iter((self.transcripts[p],))
        if p in TECH_PARTS and p not in self.generators:
            layout = self.tech()
            body = layout.output(f"show controllers {m.args[0]}" if m.args else p) if layout else None
            return iter((body if body is not None else b"% Invalid input detected at '^' marker.\n",))
        gen = self.generators.get(p)
        if gen is not None:
            n = int(m.args[0]) if m.args else 0
            if gen.kind == "showtech":
                size = gen.size if gen.size is not None else self.profile.show_tech_bytes
                if p == "show tech-support" and (layout := self.tech()) is not None:
                    return layout.chunks()
                sections = [(c, self.transcripts[c]) for c in TECH_SECTIONS if c in self.transcripts]
                return show_tech(size, sections, seed=self.profile.seed)
            if gen.kind == "seq":
                return seq(n)
            if gen.kind == "yes":
                return yes_bytes(n)
            return blob(n, seed=self.profile.seed)
        if p.startswith("debug ") and m.args:
            return iter((f"{m.args[0]} debugging is on\n".encode(),))
        if p in ("undebug all", "no debug all", "undebug *", "no debug *"):
            return iter((b"All possible debugging has been turned off\n",))
        if p == "echo *":
            return iter(((m.args[0] + "\n").encode(),))
        if p == "echo":
            return iter((b"\n",))
        return iter(())


class _Session:
    """State of one served connection: mode, terminal settings, monitor/debug, input buffer."""

    def __init__(self, dev: SimDevice, chan: ByteChannel, username: str, line_ending: bytes | None = None) -> None:
        self.dev = dev
        self.p = dev.profile
        self.chan = chan
        self.username = username
        self.le = line_ending if line_ending is not None else self.p.line_ending
        self.mode = "priv" if (self.p.start_privileged or dev.linux) else "user"
        self.page_length = self.p.page_length
        self.width = 80
        self.monitor = False
        self.debugs: list[str] = []
        self.debug_started = 0.0
        self.flap_done = False
        self.debug_seq = 0
        self.pending = bytearray()
        self.skip_lf = False
        self.lock = threading.RLock()
        self.wake = threading.Condition(self.lock)
        self.at_prompt = False
        self.linebuf = ""
        self.closed = False
        self.debug_thread: threading.Thread | None = None
        self.ps1: str | None = None  # linux: a prompt set with PS1=...

    # ---- wire helpers -----------------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        self.chan.sendall(data)

    def text(self, s: str) -> bytes:
        return s.replace("\n", "\r\n").encode() if self.le == b"\r\n" else s.encode()

    def prompt(self) -> str:
        if self.dev.linux:
            return self.ps1 or f"{self.username}@{self.p.hostname}:~$ "
        return {"user": f"{self.p.hostname}>", "priv": f"{self.p.hostname}#", "config": f"{self.p.hostname}(config)#"}[
            self.mode
        ]

    def _fill(self) -> None:
        data = self.chan.recv(4096)
        if not data:
            raise SessionEnd()
        self.pending += data

    def read_key(self) -> int:
        """One keystroke (for --More--); a CR swallows the LF/NUL that may follow it."""
        while True:
            if not self.pending:
                self._fill()
            b = self.pending[0]
            del self.pending[0]
            if self.skip_lf and b in (10, 0):
                self.skip_lf = False
                continue
            self.skip_lf = b == 13
            return b

    def read_line(self, echo: bool, cli: bool = False) -> str:
        """A line ended by CR, LF or CR LF / CR NUL; backspace edits; Ctrl-C gives ""; Ctrl-Z gives "\\x1a"."""
        line = bytearray()
        while True:
            if not self.pending:
                self._fill()
            with self.lock:
                out = bytearray()
                done: str | None = None
                i = 0
                n = len(self.pending)
                while i < n:
                    b = self.pending[i]
                    i += 1
                    if self.skip_lf:
                        self.skip_lf = False
                        if b in (10, 0):
                            continue
                    if b in (13, 10):
                        self.skip_lf = b == 13
                        out += b"\r\n" if echo else b""
                        done = line.decode("utf-8", "replace")
                        break
                    if b in (8, 127):
                        if line:
                            del line[-1]
                            out += b"\b \b" if echo else b""
                    elif b == 3:
                        out += b"^C\r\n" if echo else b""
                        done = ""
                        break
                    elif b == 26:
                        out += b"^Z\r\n" if echo else b""
                        done = "\x1a"
                        break
                    elif b >= 32 or b == 9:
                        line.append(b)
                        if echo:
                            out.append(b)
                del self.pending[:i]
                if out:
                    self.send(bytes(out))
                if cli:
                    self.linebuf = line.decode("utf-8", "replace")
                    if done is not None:
                        self.at_prompt = False
                if done is not None:
                    return done

    # ---- session flow -----------------------------------------------------------------------------------
    def run(self) -> None:
        self.login()
        if not self.dev.linux:
            self.debug_thread = threading.Thread(target=self._debug_loop, name="sim-debug", daemon=True)
            self.debug_thread.start()
        if not self.dev.linux:
            self.send(b"\r\n")
        while True:
            with self.lock:
                self.send(self.prompt().encode())
                self.at_prompt = True
                self.linebuf = ""
            line = self.read_line(echo=True, cli=True)
            if line == "\x1a":
                if self.mode == "config":
                    self.mode = "priv"
                continue
            if not line.strip():
                continue
            self.dev.events.record("command", command=line.strip(), mode=self.mode)
            if not self.execute(line) and self.closed:
                return

    def stop(self) -> None:
        with self.lock:
            self.closed = True
            self.wake.notify_all()

    def execute(self, line: str, exec_request: bool = False) -> bool:
        """Run one command line; returns False for an error (or for exit, with self.closed set)."""
        if self.dev.linux and (ps1 := SET_PS1.match(line.strip())):
            self.ps1 = ps1.group(1).replace("'", "")
            return True
        if self.dev.linux and (staged := self.dev.files.run(line, self.dev.output_of)) is not None:
            self.output(staged, False)
            return True
        try:
            line, flt = (line, None) if self.dev.linux else pipes.split(line)
        except pipes.BadFilter:
            self.send(self.text("% Invalid input detected at '^' marker.\n\n"))
            return False
        m = self.dev._resolve(line, self.mode)
        if self.mode == "config" and m.status != "ok":
            return True  # configuration lines are accepted (and ignored)
        if m.status != "ok":
            self.error(line, m)
            return False
        p = m.pattern
        if p in ("exit", "logout", "quit") and self.mode != "config":
            self.closed = True
            if exec_request:
                return True
            raise SessionEnd()
        if p == "exit" or p == "end":
            self.mode = "priv"
        elif p == "enable":
            self.enable()
        elif p == "disable":
            self.mode = "user"
        elif p == "configure terminal":
            self.mode = "config"
            self.send(self.text("Enter configuration commands, one per line.  End with CNTL/Z.\n"))
        elif p == "terminal length {n}":
            self.page_length = int(m.args[0])
        elif p == "terminal width {n}":
            self.width = int(m.args[0])
        elif p in ("terminal monitor", "terminal no monitor"):
            with self.lock:
                self.monitor = p == "terminal monitor"
                self.wake.notify_all()
        elif p.startswith("debug "):
            with self.lock:
                if not self.debugs:
                    self.debug_started = time.monotonic()
                    self.debug_seq = 0
                    self.flap_done = False
                self.debugs.append(m.args[0])
                self.wake.notify_all()
            self.dev.events.record("debug-on", debug=m.args[0])
        elif p in ("undebug all", "no debug all", "undebug *", "no debug *"):
            with self.lock:
                self.debugs.clear()
                self.wake.notify_all()
            self.dev.events.record("debug-off")
        elif p == "clear counters":
            return self._confirm('Clear "show interface" counters on all interfaces [confirm]')
        paging = not exec_request and self.page_length > 0
        out = self.dev._output(m, self.mode)
        self.output(pipes.apply(flt, out) if flt is not None else out, paging)
        return True

    def _confirm(self, question: str) -> bool:
        """IOS asks before a change: y or Return goes ahead, anything else (Ctrl-C, n) aborts."""
        self.send(self.text(question))
        key = self.read_key()
        done = key in (ord("y"), ord("Y"), 13, 10)
        self.dev.events.record("confirm", answer="yes" if done else "no")
        self.send(self.text("\n" if done else "^C\n"))
        return done

    def error(self, line: str, m: Match) -> None:
        if self.dev.linux:
            word = line.split()[0]
            self.send(self.text(f"-bash: {word}: command not found\n"))
        elif m.status == "incomplete":
            self.send(self.text("% Incomplete command.\n\n"))
        elif m.status == "ambiguous":
            self.send(self.text(f'% Ambiguous command:  "{line.strip()}"\n'))
        else:
            col = m.column + len(self.prompt())
            self.send(self.text(" " * col + "^\n% Invalid input detected at '^' marker.\n\n"))

    def enable(self) -> None:
        secret = self.p.enable_secret
        if secret is None or self.mode == "priv":
            self.mode = "priv"
            return
        for _ in range(3):
            self.send(b"Password: ")
            given = self.read_line(echo=False)
            self.send(b"\r\n")
            self.dev.events.record("auth-attempt", user="enable", method="enable")
            if given == secret:
                self.dev.events.record("auth-ok", user="enable", method="enable")
                self.mode = "priv"
                return
            self.dev.events.record("auth-fail", user="enable", method="enable")
        self.send(self.text("% Bad secrets\n\n"))

    def login(self) -> None:
        lg = self.p.login
        if lg.initial_config_dialog:
            self.send(self.text("\n         --- System Configuration Dialog ---\n\n"))
            while True:
                self.send(b"Would you like to enter the initial configuration dialog? [yes/no]: ")
                ans = self.read_line(echo=True).strip().lower()
                if ans in ("n", "no"):
                    break
                self.send(self.text("% Please answer 'no': the simulator has no setup dialog.\n"))
        if lg.press_return:
            self.send(self.text("\n\nPress RETURN to get started!\n\n\n"))
            self.read_line(echo=False)
        if lg.banner:
            self.send(self.text("\n" + lg.banner.rstrip("\n") + "\n"))
        if lg.mode == "none":
            return
        if not self.dev.linux:
            self.send(self.text("\nUser Access Verification\n\n"))
        fmt = {"hostname": self.p.hostname}
        for _ in range(max(1, lg.max_attempts)):
            user = self.username
            if lg.mode != "password":
                self.send(lg.username_prompt.format(**fmt).encode())
                user = self.read_line(echo=True).strip()
            self.send(lg.password_prompt.format(**fmt).encode())
            pw = self.read_line(echo=False)
            self.send(b"\r\n")
            otp_ok = True
            if lg.mode == "username-password-otp":
                self.send(lg.otp_prompt.format(**fmt).encode())
                otp = self.read_line(echo=False)
                self.send(b"\r\n")
                otp_ok = lg.otp is None or otp == lg.otp
            ev = self.dev.events
            ev.record("auth-attempt", user=user, method="login")
            user_ok = lg.mode == "password" or user == lg.username
            if user_ok and pw == lg.password and otp_ok:
                ev.record("auth-ok", user=user, method="login")
                self.username = user
                return
            ev.record("auth-fail", user=user, method="login")
            msg = "% Bad passwords" if lg.mode == "password" and not self.dev.linux else lg.fail_message
            self.send(self.text(msg + "\n\n"))
        raise SessionEnd()

    # ---- output -----------------------------------------------------------------------------------------
    def output(self, chunks: Iterable[bytes], paging: bool) -> bool:
        """Send LF chunks as wire lines, with --More-- paging if on. False if the user aborted with q."""
        le = self.le
        convert = le != b"\n"
        if not paging:
            buf = bytearray()
            for c in chunks:
                if convert:
                    c = c.replace(b"\n", le)
                if len(c) >= SEND_BLOCK // 2 and not buf:
                    self.send(c)
                    continue
                buf += c
                if len(buf) >= SEND_BLOCK // 2:
                    self.send(bytes(buf))
                    buf.clear()
            if buf:
                self.send(bytes(buf))
            return True
        per_page = max(1, self.page_length - 1)
        left = per_page
        need_more = False
        for c in chunks:
            pos = 0
            n = len(c)
            while pos < n:
                if need_more:
                    self.send(MORE)
                    key = self.read_key()
                    self.send(MORE_ERASE)
                    if key == 32:
                        left = per_page
                    elif key in (13, 10):
                        left = 1
                    else:
                        return False
                    need_more = False
                cut = pos
                for _ in range(left):
                    j = c.find(b"\n", cut, n)
                    if j < 0:
                        cut = -1
                        break
                    cut = j + 1
                if cut < 0:  # the chunk ends before the page does
                    part = c[pos:]
                    left -= part.count(b"\n")
                    pos = n
                else:
                    part = c[pos:cut]
                    pos = cut
                    need_more = True
                self.send(part.replace(b"\n", le) if convert else part)
        return True

    # ---- debug stream -----------------------------------------------------------------------------------
    def _debug_text(self, seq_no: int) -> str:
        name = self.debugs[seq_no % len(self.debugs)]
        for key, text in _DEBUG_TEXT.items():
            if name.startswith(key):
                return text
        return f"{name.upper()}: event {seq_no}"

    def _debug_loop(self) -> None:
        """Emit debug lines while monitor + debug are on, only when the CLI idles at an empty prompt."""
        rate = max(self.p.debug_rate, 0.001)
        with self.lock:
            while not self.closed:
                if not (self.monitor and self.debugs):
                    self.wake.wait()
                    continue
                elapsed = time.monotonic() - self.debug_started
                due = int(elapsed * rate) + 1
                flap_due = (
                    self.p.flap_after is not None and not self.flap_done and elapsed >= self.p.flap_after
                )
                if (due > self.debug_seq or flap_due) and self.at_prompt and not self.linebuf:
                    lines = []
                    first = max(self.debug_seq, due - 100)  # a backlog while busy is capped at 100 lines
                    for s in range(first, due):
                        stamp = datetime.now(UTC).strftime("%b %d %H:%M:%S.%f")[:-3]
                        lines.append(f"{s + 1:06d}: *{stamp}: {self._debug_text(s)}")
                    if flap_due:
                        stamp = datetime.now(UTC).strftime("%b %d %H:%M:%S.%f")[:-3]
                        lines.append(f"{due:06d}: *{stamp}: {FLAP_LINE}")
                        self.flap_done = True
                        self.dev.events.record("flap")
                    self.debug_seq = due
                    try:
                        self.send(b"\r\n" + "\r\n".join(lines).encode() + b"\r\n" + self.prompt().encode())
                    except OSError:
                        return
                    continue
                nxt = (self.debug_seq / rate) - elapsed if due <= self.debug_seq else 0.05
                self.wake.wait(max(0.005, min(nxt, 0.5)))
