"""One served connection of a simulated device: modes, prompts, the command loop and each command's effect.

Everything a platform does differently comes from the profile's `cli:` style (collector/sim/style.py).
"""

from __future__ import annotations

import re
import threading
import time

from . import pipes
from .channel import ByteChannel
from .cmdtable import Match
from .debugstream import FLAP_LINE, debug_loop
from .dialogs import confirm, enable, login, username_options
from .roles import DeviceRole
from .style import Paging
from .terminal import SessionEnd, Terminal, erase_bytes

MORE = Paging().prompt.encode()  # the IOS pager prompt (10 bytes) ...
MORE_ERASE = erase_bytes(Paging())  # ... and what erases it after the key
SET_PS1 = re.compile(r"^PS1=((?:'[^'\n]*')+); PS2=''; unset PROMPT_COMMAND$")  # collector's unique prompt


class SimSession(Terminal):
    """State of one served connection: mode, terminal settings, monitor/debug, input buffer."""

    def __init__(self, dev: DeviceRole, chan: ByteChannel, username: str, line_ending: bytes | None = None) -> None:
        p = dev.profile
        super().__init__(chan, line_ending if line_ending is not None else p.line_ending, p.cli.paging)
        self.dev = dev
        self.p = p
        self.style = p.cli
        self.username = username
        starts_priv = p.start_privileged or dev.linux or self.style.enable is None
        self.mode = "priv" if starts_priv else "user"
        self.context = ""  # the configuration context (FortiOS `config system console` -> console)
        self.count = 1  # commands entered so far ({n} in prompts: EXOS)
        self.page_length = p.page_length
        self.paging_on = True
        self.width = 80
        self.monitor = self.style.debug is not None and not self.style.debug.needs_monitor
        self.debugs: list[str] = []
        self.debug_started = 0.0
        self.flap_done = False
        self.debug_seq = 0
        self.wake = threading.Condition(self.lock)
        self.closed = False
        self.debug_thread: threading.Thread | None = None
        self.ps1: str | None = None  # linux: a prompt set with PS1=...
        self.username = username_options(self, username)  # SSH: the user name may carry RouterOS options

    def prompt(self) -> str:
        if self.dev.linux:
            return self.ps1 or f"{self.username}@{self.p.hostname}:~$ "
        template = getattr(self.style.prompts, self.mode)
        return str(template.format(hostname=self.p.hostname, username=self.username, n=self.count,
                                   context=self.context))

    def paging_active(self) -> bool:
        if self.page_length <= 0 or not self.paging_on:
            return False
        setting = self.style.paging.setting
        return setting is None or self.dev.setting(setting) == self.style.paging.on_value

    # ---- session flow -----------------------------------------------------------------------------------
    def run(self) -> None:
        login(self)
        if not self.dev.linux:
            if self.style.debug is not None:
                self.debug_thread = threading.Thread(target=debug_loop, args=(self,), name="sim-debug", daemon=True)
                self.debug_thread.start()
            self.send(self.style.after_login.replace("\n", "\r\n").encode())
        while True:
            with self.lock:
                self.send(self.prompt().encode())
                self.at_prompt = True
                self.linebuf = ""
            line = self.read_line(echo=True, cli=True)
            if line == "\x1a":
                if self.mode == "config":
                    self.mode, self.context = "priv", ""
                continue
            if not line.strip():
                continue
            self.dev.events.record("command", command=line.strip(), mode=self.mode)
            self.count += 1
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
            self.output(staged, 0)
            return True
        if self._setting_command(line):
            return True
        try:
            flts = self.style.filters
            line, flt = (line, None) if self.dev.linux else pipes.split(line, dict(flts.words), flts.quoted)
        except pipes.BadFilter:
            self.send(self.text(self.style.errors.bad_filter))
            return False
        m = self.dev.resolve(line, self.mode)
        if self.mode == "config" and m.status != "ok":
            return True  # configuration lines are accepted (and ignored)
        if m.status != "ok":
            self.error(line, m)
            return False
        if m.pattern in self.style.exit and self.mode != "config":
            self.closed = True
            if exec_request:
                return True
            raise SessionEnd()
        handled = self._builtin(m)
        if handled is not None:
            return handled
        out = self.dev.output(m)
        page = self.page_length if not exec_request and self.paging_active() else 0
        self.output(pipes.apply(flt, out) if flt is not None else out, page)
        return True

    def _setting_command(self, line: str) -> bool:
        """A command that changes a device-wide setting (WLC `config paging disable`, FortiOS `set output ...`)."""
        text = " ".join(line.split())
        for sc in self.style.setting_commands:
            if sc.context is not None and (self.mode != "config" or sc.context != self.context):
                continue
            m = re.fullmatch(sc.command, text)
            if m is not None:
                self.dev.set_setting(sc.setting, m.group("value"))
                return True
        return False

    def _builtin(self, m: Match) -> bool | None:
        """The effect of a built-in command (modes, paging, debug); None when it just prints its output."""
        p, st = m.pattern, self.style
        if st.config is not None and self.mode == "config" and p in (*st.config.leave, *st.config.up):
            self.mode, self.context = "priv", ""
        elif st.enable is not None and p == st.enable.command:
            enable(self)
        elif st.enable is not None and p == st.enable.disable:
            self.mode = "user"
        elif st.config is not None and p in st.config.enter:
            self.mode = "config"
            self.context = m.args[0].split()[-1] if m.args else ""
            if st.config.banner:
                self.send(self.text(st.config.banner))
        elif p in st.paging.commands:
            kind = st.paging.commands[p]
            if kind == "length":
                self.page_length = int(m.args[0])
            self.paging_on = kind != "off"
        elif st.debug is not None and p in (*st.debug.monitor_on, *st.debug.monitor_off):
            with self.lock:
                self.monitor = p in st.debug.monitor_on
                self.wake.notify_all()
        elif st.debug is not None and p in st.debug.off:
            self._debug_off()
        elif st.debug is not None and p in st.debug.on:
            self._debug_on(m.args[0] if m.args else p)
        elif p in st.confirms:
            return confirm(self, st.confirms[p])
        return None

    def _debug_on(self, name: str) -> None:
        with self.lock:
            if not self.debugs:
                self.debug_started = time.monotonic()
                self.debug_seq = 0
                self.flap_done = False
            self.debugs.append(name)
            self.wake.notify_all()
        self.dev.events.record("debug-on", debug=name)

    def _debug_off(self) -> None:
        with self.lock:
            self.debugs.clear()
            self.wake.notify_all()
        self.dev.events.record("debug-off")

    def error(self, line: str, m: Match) -> None:
        if self.dev.linux:
            word = line.split()[0]
            self.send(self.text(f"-bash: {word}: command not found\n"))
            return
        e = self.style.errors
        if m.status == "incomplete":
            template = e.incomplete
        elif m.status == "ambiguous":
            template = e.ambiguous
        else:
            first = not line[: m.column].strip()
            template = e.invalid_first if first and e.invalid_first is not None else e.invalid
        words = line[m.column :].split()
        caret = " " * (m.column + len(self.prompt())) + "^"
        text = (template.replace("{caret}", caret).replace("{word}", words[0] if words else "")
                .replace("{line}", line.strip()).replace("{col1}", str(m.column + 1)))
        self.send(self.text(text))


__all__ = ["FLAP_LINE", "MORE", "MORE_ERASE", "SessionEnd", "SimSession"]
