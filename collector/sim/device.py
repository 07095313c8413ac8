"""A simulated network device (any CLI described by a profile's `cli:` style) or Linux shell, driven by transcripts.

One SimDevice serves many sessions at once (each serve() runs its own login dialog and CLI) and keeps the
device-wide settings they share (FortiOS console paging, WLC paging).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

from ..errors import UsageError
from .channel import ByteChannel
from .cmdtable import CommandTable, Match
from .events import EventLog
from .profile import DeviceProfile, Generator
from .session import FLAP_LINE, MORE, MORE_ERASE, SessionEnd, SimSession
from .shellfiles import ShellFiles
from .showtech import CATALOGUE, TechLayout, blob, seq, show_tech, tech_layout, yes_bytes

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
INVALID_TECH = b"% Invalid input detected at '^' marker.\n"


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
        self.style = self.profile.cli
        self.events = events if events is not None else EventLog()
        self.transcripts = _load_transcripts(Path(self.profile.transcripts_dir))
        self.linux = self.style.kind == "shell"
        self.files = ShellFiles(self.events)  # linux: files written by output staging
        self.settings = dict(self.profile.settings)  # device-wide: every session sees the same values
        self._settings_lock = threading.Lock()
        self.generators = dict(self.profile.generators)
        if not self.linux and self.profile.platform == "cisco_ios":  # IOS always knows show tech-support
            self.generators.setdefault("show tech-support", Generator(kind="showtech"))
        self.tables = self._tables()

    def _tables(self) -> dict[str, CommandTable]:
        extra = list(self.transcripts) + list(self.generators)
        if self.tech() is not None:
            extra += [c for c in TECH_PARTS if c not in extra]
        if self.linux:
            table = CommandTable(LINUX_BUILTINS + extra, abbreviate=False)
            return {"user": table, "priv": table, "config": table}
        st = self.style
        priv_only = {" ".join(c.split()) for c in self.profile.privileged_commands}
        monitor = [*st.debug.monitor_on, *st.debug.monitor_off] if st.debug else []
        common = [*st.exit, *st.paging.commands, *st.noop, *monitor]
        if st.enable is not None:
            common.append(st.enable.command)
        priv = list(common)
        if st.enable is not None and st.enable.disable:
            priv.append(st.enable.disable)
        if st.config is not None:
            priv += st.config.enter
        if st.debug is not None:
            priv += [*st.debug.off, *st.debug.on]  # off first: `debug disable-all` is not `debug *`
        priv += list(st.confirms)
        user = common + [c for c in extra if c not in priv_only]
        config: list[str] = []
        if st.config is not None:
            config = [*st.config.leave, *st.config.up, *([st.config.do] if st.config.do else [])]
        ab = st.abbreviations
        return {"user": CommandTable(user, ab), "priv": CommandTable(priv + extra, ab),
                "config": CommandTable(config, ab)}

    # ---- device-wide settings ----------------------------------------------------------------------------
    def setting(self, name: str) -> str | None:
        with self._settings_lock:
            return self.settings.get(name)

    def set_setting(self, name: str, value: str) -> None:
        with self._settings_lock:
            self.settings[name] = value
        self.events.record("setting", name=name, value=value)

    # ---- public API -------------------------------------------------------------------------------------
    def serve(self, chan: ByteChannel, username: str | None = None, record_session: bool = True) -> None:
        """Run the login dialog, then the CLI loop until exit/logout/EOF. Never raises for a client that left.

        With record_session (default) "connect"/"disconnect" events are recorded here; a front end that
        records them itself at its transport level (the SSH server does) passes False.
        """
        sess = SimSession(self, chan, username or self.profile.login.username)
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
        m = self.resolve(command, "priv")
        if m.status != "ok":
            raise UsageError(f"the simulator does not know the command {command!r} ({m.status})")
        return self.output(m)

    def exec_command(self, chan: ByteChannel, command: str, line_ending: bytes = b"\n") -> int:
        """One command as for an SSH exec request: no echo, no paging, no prompt. Returns the exit status."""
        sess = SimSession(self, chan, self.profile.login.username, line_ending=line_ending)
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
        # every section with a recorded output is that output (the command run alone prints the same bytes)
        titles = TECH_SECTIONS + [title for title, _ in CATALOGUE]
        fixed = tuple((c, self.transcripts[c]) for c in titles if c in self.transcripts)
        return tech_layout(size, fixed, self.profile.seed)

    def output_of(self, command: str) -> Iterator[bytes] | None:
        """A command's output as the shell would print it (privileged), or None for an unknown command."""
        m = self.resolve(command, "priv")
        return self.output(m) if m.status == "ok" else None

    # ---- lookup and outputs -------------------------------------------------------------------------------
    def resolve(self, line: str, mode: str) -> Match:
        m = self.tables[mode].match(line)
        do = self.style.config.do if self.style.config else None
        if mode == "config" and m.status == "ok" and do is not None and m.pattern == do:
            return self.resolve(m.args[0], "priv")
        return m

    def output(self, m: Match) -> Iterator[bytes]:
        """LF output of a resolved command (builtins with side effects yield nothing here)."""
        p = m.pattern
        if p in self.transcripts:
            return iter((self.transcripts[p],))
        if p in TECH_PARTS and p not in self.generators:
            layout = self.tech()
            body = layout.output(f"show controllers {m.args[0]}" if m.args else p) if layout else None
            return iter((body if body is not None else INVALID_TECH,))
        gen = self.generators.get(p)
        if gen is not None:
            return self._generated(p, gen, m)
        return self._builtin_output(p, m)

    def _generated(self, p: str, gen: Generator, m: Match) -> Iterator[bytes]:
        n = int(m.args[0]) if m.args else 0
        if gen.kind == "showtech":
            size = gen.size if gen.size is not None else self.profile.show_tech_bytes
            if p == "show tech-support" and (layout := self.tech()) is not None:
                return layout.chunks()
            sections = [(c, self.transcripts[c]) for c in TECH_SECTIONS if c in self.transcripts]
            return show_tech(size, sections, seed=self.profile.seed)
        if gen.kind == "template":
            text = gen.text
            with self._settings_lock:
                for name, value in self.settings.items():
                    text = text.replace("{" + name + "}", value)
            return iter((text.encode(),))
        if gen.kind == "seq":
            return seq(n)
        if gen.kind == "yes":
            return yes_bytes(n)
        return blob(n, seed=self.profile.seed)

    def _builtin_output(self, p: str, m: Match) -> Iterator[bytes]:
        debug = self.style.debug
        if debug is not None and p in debug.off:
            return iter((debug.off_reply.encode(),) if debug.off_reply else ())
        if debug is not None and p in debug.on and m.args:
            return iter((debug.on_reply.replace("{name}", m.args[0]).encode(),) if debug.on_reply else ())
        if p == "echo *":
            return iter(((m.args[0] + "\n").encode(),))
        if p == "echo":
            return iter((b"\n",))
        return iter(())


__all__ = ["FLAP_LINE", "MORE", "MORE_ERASE", "SessionEnd", "SimDevice"]
