"""Platforms as pure data: `collector/platforms/<name>.yaml` validated by the `Platform` model.

A platform says how a device talks (prompts, paging, errors, login dialogs) and which commands are read-only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from . import debug as _debug
from . import sources as _sources
from ._base import Data as _Data
from ._base import Regex
from .auto import AUTO, auto_data
from .debug import DebugChange, DebugSpec
from .detection import DetectSpec
from .programs import ProgramSpec
from .settings import DeviceSetting
from .sources import PLATFORM_DIR, PlatformError


class EnableSpec(_Data):
    """How to reach privileged mode from a user-mode prompt (one not matching `privileged_pattern`)."""

    command: str = Field(default="enable", description="sent at a user-mode prompt when an enable secret is given")
    password_prompt: Regex = Field(default=r"(?i)password:\s*$", description="answered with the enable secret")
    refused_pattern: Regex = Field(
        default=r"(?i)(% ?access denied|% ?bad secrets?|% ?error in authentication|% ?authentication failed)",
        description="the device refused the secret: fail at once (never retried)",
    )
    username_prompt: Regex | None = Field(
        default=None, description="enable also asks a username (ProCurve manager login): answered with the login's"
    )


class Reply(_Data):
    """A question the device may ask in the middle of a command, and what to send back."""

    pattern: Regex
    response: str = Field(description="sent as typed (add \\n for Return)")


class LoginPatterns(_Data):
    """Regexes for the login dialog (matched on the tail of the stream); None = not used on this platform."""

    username: Regex | None = r"(?i)(user ?name|login)\s*:\s*$"
    password: Regex | None = r"(?i)password\s*:\s*$"
    otp: Regex | None = r"(?i)(one[- ]time (password|code)|otp|passcode|verification code|token code)\s*:?\s*$"
    passphrase: Regex | None = Field(
        default=r"(?i)enter passphrase for [^\n]{0,300}:\s*$",
        description="a local ssh client (openssh://) asks for a key's passphrase: answered with the key passphrase",
    )
    login_failed: Regex | None = r"(?i)(login invalid|login incorrect|authentication failed|access denied)"
    press_return: Regex | None = r"(?i)press (return|enter|any key) to (get started|continue)"
    initial_config_dialog: Regex | None = Field(default=None, description="answered `no`")
    autoinstall: Regex | None = Field(
        default=r"(?i)terminate autoinstall\?\s*\[yes(/no)?\]\s*:?\s*$", description="answered `yes`"
    )
    rommon: Regex | None = Field(default=None, description="boot loader prompt: the run stops (no CLI there)")
    replies: list[Reply] = Field(
        default=[], description="other questions before the prompt (accept a banner, decline a password change)"
    )


class LogoutSpec(_Data):
    """How a console session is left (so no shell stays open on the port)."""

    command: str = "exit"
    replies: list[Reply] = Field(
        default=[Reply(pattern=r"(?i)(save|commit)[^\n]*\?\s*(\[[^\]\n]*\])?\s*:?\s*$", response="no\n")],
        description="questions asked on the way out (unsaved or uncommitted changes: never saved)",
    )


class UniquePrompt(_Data):
    """Shells: set a per-session random prompt so output can never imitate it."""

    command: str = Field(description="command template; {prompt} is replaced by a quoted random prompt")
    quote_split: str = Field(
        default="''", description="inserted into the prompt text in the command so its echo never shows the prompt"
    )


class SlowLine(_Data):
    """Slow-line mode: send debug output to the log buffer and poll it instead of flooding a 9600-bps console."""

    config_mode: bool = Field(
        default=True, description="enable/disable are configuration commands (need allow_changes)"
    )
    enable: list[str]
    poll: str
    disable: list[str]


class VerbTable(_Data):
    """Words at the start of a command (or of a pipe filter): read-only ones and refused ones with a reason."""

    allow: list[str] = []
    refuse: dict[str, str] = {}


class ReadOnlyRule(_Data):
    """A regex on the normalised command (first word expanded); first matching rule wins."""

    pattern: Regex
    reason: str = ""
    action: Literal["refuse", "allow"] = "refuse"


class ReadOnlyPolicy(_Data):
    """Data for the read-only guard (collector/playbook/guard.py)."""

    abbreviations: bool = Field(default=False, description="the CLI accepts unique prefixes of words (IOS `sh ver`)")
    case_sensitive: bool = False
    shell: bool = Field(
        default=False, description="commands are shell lines: a plain pipeline of listed programs, deny by default"
    )
    unknown: Literal["refuse", "allow"] = "refuse"
    verbs: VerbTable = VerbTable()
    pipes: VerbTable = VerbTable()
    regex_pipes: list[str] = Field(
        default=[], description="pipe filters whose argument is a regex that may contain `|`"
    )
    rules: list[ReadOnlyRule] = []
    forbidden: dict[str, str] = Field(
        default={}, description="text refused anywhere in a command, with the reason (NX-OS `;` chains commands)"
    )
    paths: list[ReadOnlyRule] = Field(
        default=[], description="shell: words (paths) refused in any program's arguments, e.g. /dev/watchdog"
    )
    programs: dict[str, ProgramSpec] = Field(
        default={}, description="shell: the read-only programs and their allowed options (platforms/programs.py)"
    )
    pipe_programs: list[str] = Field(
        default=[], description="CLI pipe filters that are programs: checked like shell stages (EOS `| sort`)"
    )
    programs_from: str | None = Field(
        default=None, description="platform whose `programs` describe pipe_programs not described here"
    )


class CompositeCommand(_Data):
    """A command whose output is a run of sections, each the output of a show command that also runs alone
    (IOS `show tech-support`). On slow or unstable lines the runner fetches it section by section."""

    command: Regex = Field(description="regex on the step's command (lower case, single spaces) that names it")
    header: Regex = Field(description="a section's header line (re.M); its group `command` is the section's command")
    separator: str = Field(description="the exact bytes before each section's output; {command} is filled in")
    list_command: str = Field(description="learns the section list: the device sends only the header lines")

    @model_validator(mode="after")
    def _shape(self) -> CompositeCommand:
        if "command" not in re.compile(self.header).groupindex:
            raise ValueError("header needs a named group `command` (the section's command)")
        if "{command}" not in self.separator or "\n" in self.list_command:
            raise ValueError("separator must contain {command}; list_command must be one line")
        return self


_TEMP_DIR = re.compile(r"^/[A-Za-z0-9_./-]{1,100}$")


class Staging(_Data):
    """Shells: write a large output to a temporary file on the device, then fetch it from byte offsets.

    Only for steps the playbook lets change the device, and only with --allow-changes (it writes a file)."""

    directory: str = Field(default="/tmp", description="where the temporary file is made (an absolute path)")
    stage: str = Field(description="writes {command}'s output to {path} (never over an existing file)")
    size: str = Field(description="prints the byte size of {path}")
    fetch: str = Field(description="prints {path} from byte {offset1} (1-based) or {offset} (0-based) on")
    remove: str = Field(description="removes {path}")

    @model_validator(mode="after")
    def _shape(self) -> Staging:
        if not _TEMP_DIR.match(self.directory) or ".." in self.directory:
            raise ValueError("staging.directory must be an absolute path of letters, digits, _ . / -")
        for name in ("stage", "size", "fetch", "remove"):
            if "{path}" not in getattr(self, name):
                raise ValueError(f"staging.{name} must contain {{path}}")
        if "{command}" not in self.stage or ("{offset}" not in self.fetch and "{offset1}" not in self.fetch):
            raise ValueError("staging.stage needs {command}; staging.fetch needs {offset} or {offset1}")
        return self


class Platform(_Data):
    """Everything collector knows about a device family, loaded from YAML."""

    name: str
    description: str = ""
    prompt_pattern: Regex = Field(description="regex (re.M) matching a whole prompt line, any mode")
    prompt_host: Regex | None = Field(
        default=None, description="regex with a group `host`: the part of a prompt that names the device, kept by "
        "every later prompt (EXOS counts commands in its prompt); default: the prompt's leading name"
    )
    privileged_pattern: Regex | None = Field(
        default=None, description="a prompt in privileged mode; with `enable`, any other prompt is user mode"
    )
    config_pattern: Regex | None = Field(
        default=None, description="a prompt in configuration mode (left with config_exit_command at login)"
    )
    enable: EnableSpec | None = Field(default=None, description="how to leave user mode (None: no user mode)")
    config_exit_command: str | None = Field(
        default=None, description="sent when the session lands in configuration mode (config_pattern), e.g. end"
    )
    unique_prompt: UniquePrompt | None = None
    setup_commands: list[str] = []
    paging_patterns: list[Regex] = []
    paging_response: str = Field(default=" ", description="sent when a paging prompt ends the output so far")
    confirm_pattern: Regex | None = Field(
        default=None, description="a confirmation question mid-command: answered y only when changes are allowed, "
        "else interrupted (and the step is an error)"
    )
    command_replies: list[Reply] = Field(default=[], description="other questions answered mid-command")
    interrupt: str = Field(default="\x03", description="sent to stop a command that timed out (Ctrl-C)")
    logout: LogoutSpec = LogoutSpec()
    error_markers: list[str] = Field(default=[], description="literal text that marks a failed command in its output")
    error_patterns: list[Regex] = Field(
        default=[], description="regexes (multi-line) that mark a failed command, e.g. % [ZEBRA] Unknown command"
    )
    debug: DebugSpec | None = Field(default=None, description="what switches debug on and off; None: no debug CLI")
    session_state_commands: list[Regex] = Field(
        default=[], description="regexes: a step whose normalised command matches is restored after every reconnect"
    )
    login: LoginPatterns = LoginPatterns()
    supports_exec: bool = False
    return_char: Literal["\n", "\r", "\r\n"] = "\n"
    slow_line: SlowLine | None = None
    read_only: ReadOnlyPolicy = ReadOnlyPolicy()
    composite_commands: list[CompositeCommand] = Field(
        default=[], description="commands made of sections that run alone (fetched by parts on slow lines)"
    )
    staging: Staging | None = Field(default=None, description="shells: stage a large output, fetch by offsets")
    settings: list[DeviceSetting] = Field(
        default=[], description="device settings changed after login (paging) and restored when the run ends"
    )
    username_suffix: str = Field(
        default="", description="login options appended to the username (RouterOS `+ct511w4098h`: no colours, "
        "no terminal probing, a page taller than any output)"
    )
    detect: DetectSpec | None = Field(default=None, description="how `platform: auto` recognises this platform")

    @model_validator(mode="before")
    @classmethod
    def _legacy_debug_off(cls, data: Any) -> Any:
        """`debug_off_commands: [...]` (before the `debug:` section) still works: it sets debug.all_off."""
        if isinstance(data, dict) and "debug_off_commands" in data:
            data = dict(data)
            legacy = data.pop("debug_off_commands") or []
            section = dict(data.get("debug") or {})
            section["all_off"], section["monitor_off"] = legacy, []
            data["debug"] = section
        return data

    @property
    def debug_off_commands(self) -> list[str]:
        """What switches every debug off on this platform (all_off, then monitor_off); [] without an all-off."""
        if self.debug is None or not self.debug.all_off:
            return []
        return [*self.debug.all_off, *self.debug.monitor_off]

    def debug_change(self, command: str) -> DebugChange | None:
        """'on' / 'off' when the command switches debug on / off (any abbreviation the platform accepts), else None."""
        return _debug.change(self.debug, command, self.read_only.case_sensitive)

    def debug_off_for(self, commands_switched_on: Iterable[str]) -> list[str]:
        """Commands that leave no debugging on after these were sent: the all-off commands, or each one negated."""
        return _debug.off_for(self.debug, commands_switched_on, self.read_only.case_sensitive)

    @model_validator(mode="after")
    def _enable_needs_privileged(self) -> Platform:
        if self.enable is not None and self.privileged_pattern is None:
            raise ValueError("enable needs privileged_pattern (how else is user mode told apart?)")
        return self

    def mode_of(self, prompt: str) -> Literal["user", "privileged", "config", "other"]:
        """What a prompt says about the session's mode, from config_pattern, privileged_pattern and enable."""
        if self.config_pattern and re.search(self.config_pattern, prompt, re.M):
            return "config"
        if self.privileged_pattern and re.search(self.privileged_pattern, prompt, re.M):
            return "privileged"
        return "user" if self.enable is not None else "other"

    def error_in(self, text: str) -> str | None:
        """The first error marker (literal) or error pattern (regex) found in a command's output head."""
        for marker in self.error_markers:
            if marker in text:
                return marker
        for pattern in self.error_patterns:
            m = re.search(pattern, text, re.M)
            if m:
                return m.group(0).strip()[:200]
        return None

    def composite_for(self, command: str) -> CompositeCommand | None:
        """The composite spec naming this command (e.g. `show tech-support`), or None."""
        norm = " ".join(command.split()).lower()
        return next((c for c in self.composite_commands if re.search(c.command, norm)), None)

    def is_session_state(self, command: str) -> bool:
        """True when the command sets per-session state that must be restored after a reconnect."""
        norm = " ".join(command.split()).lower()
        return any(re.search(p, norm) for p in self.session_state_commands)


def list_platforms() -> list[str]:
    """Names of the known platforms: the bundled ones, your own (COLLECTOR_PLATFORMS, <config dir>/platforms), and
    `auto` (detected after login)."""
    return sorted([*_sources.platform_files(), AUTO])


def device_platforms() -> list[str]:
    """The known platforms a device can be (every name but `auto`)."""
    return sorted(_sources.platform_files())


def platform_lineage(name: str) -> list[str]:
    """The platform's name, then every platform it `extends` (cisco_xe -> [cisco_xe, cisco_ios])."""
    return [AUTO] if name == AUTO else _sources.resolve(name)[1]


def load_platform_file(path: str | Path) -> Platform:
    """A platform from your own YAML file (same schema; `extends:` may name a known platform)."""
    return _validate(_sources.resolve_file(Path(path)), str(path))


def _validate(data: dict[str, Any], where: str) -> Platform:
    try:
        return Platform.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise PlatformError(f"platform {where}: {loc}: {first['msg']}") from None


@functools.cache
def load_platform(name: str) -> Platform:
    """The validated Platform for a known name; PlatformError (a PlaybookError) when unknown or invalid.

    A platform file may say `extends: other` to start from another platform's top-level keys. Your own platform
    files are validated exactly like the bundled ones.
    """
    if name == AUTO:  # built from every known platform's prompts, pager prompts and login questions
        return _validate(auto_data([load_platform(n) for n in device_platforms()]), repr(name))
    data, _ = _sources.resolve(name)
    platform = _validate(data, repr(name))
    if platform.name != name:
        raise PlatformError(f"platform file {name}.yaml declares name {platform.name!r}; they must match")
    return platform


__all__ = [
    "AUTO",
    "PLATFORM_DIR",
    "CompositeCommand",
    "DetectSpec",
    "DeviceSetting",
    "EnableSpec",
    "LoginPatterns",
    "LogoutSpec",
    "Reply",
    "UniquePrompt",
    "Platform",
    "PlatformError",
    "ReadOnlyPolicy",
    "ReadOnlyRule",
    "SlowLine",
    "Staging",
    "VerbTable",
    "list_platforms",
    "device_platforms",
    "platform_lineage",
    "load_platform",
    "load_platform_file",
]
