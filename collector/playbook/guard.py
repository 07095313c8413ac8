"""The read-only guard: refuses commands that could change a device, before anything connects.

Rules are platform data (`read_only:` in collector/platforms/*.yaml); changes run only when the playbook
(or the step) says `allow_changes: true` AND the command line passes --allow-changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import GuardRefused
from ..platforms import Platform
from .guard_cli import check_cli
from .guard_shell import check_shell
from .loader import LoadedPlaybook
from .schema import CaptureStep, Playbook, ShowStep
from .verdict import GuardVerdict, refused

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
OFFSET_SAMPLES = (0, 123456789)  # resume offsets the offset_command is checked with


@dataclass(frozen=True)
class GuardRefusal:
    """A refused command of a playbook, with the step it belongs to."""

    step: str
    command: str
    where: str
    verdict: GuardVerdict
    line: int = 0  # line of the command in the playbook file
    step_allows_changes: bool = False  # the step (or the playbook) says allow_changes: true

    def __str__(self) -> str:
        return f"{self.where}: {self.step}: `{self.command}` refused: {self.verdict.reason} [rule {self.verdict.rule}]"


class PlaybookRefused(GuardRefused):
    """GuardRefused carrying every refusal of the playbook (the message names the first)."""

    def __init__(self, refusals: list[GuardRefusal], hint: str | None = None) -> None:
        more = f" (and {len(refusals) - 1} more refused)" if len(refusals) > 1 else ""
        super().__init__(f"{refusals[0]}{more}", hint=hint)
        self.refusals = refusals


# --------------------------------------------------------------------------- public API


def normalise(command: str, platform: Platform) -> str:
    """Whitespace collapsed, and lower-cased when the platform's CLI ignores case."""
    text = " ".join(command.replace("\t", " ").split())
    return text if platform.read_only.case_sensitive else text.lower()


def check_command(command: str, platform: Platform, allow_changes: bool = False) -> GuardVerdict:
    """Is this command read-only on this platform? With allow_changes, refusals become allowed (noted in reason).

    Multi-line commands and control characters are always refused: each command must be one line.
    """
    if _CONTROL.search(command):
        return refused(
            "control-characters",
            "a command must be one line without control characters; put each command in its own step",
            overridable=False,
        )
    verdict = _check(command, platform)
    if not verdict.allowed and allow_changes and verdict.overridable:
        return GuardVerdict(True, verdict.rule, f"allowed by allow_changes: {verdict.reason}")
    return verdict


def _check(command: str, platform: Platform) -> GuardVerdict:
    if platform.read_only.shell:
        return check_shell(command, platform, _check)
    return check_cli(command, platform, _check)


@dataclass(frozen=True)
class StepCommand:
    """One command a playbook will send, with the step it belongs to and where it is written."""

    section: str  # steps | cleanup
    index: int  # 0-based within the section
    step: ShowStep | CaptureStep
    command: str
    role: str  # command | offset_command | start | stop | on_match | precheck | slow_line
    loc: tuple[str | int, ...] = ()  # key path of the command in the file (for file:line)

    @property
    def label(self) -> str:
        number = f"{'step' if self.section == 'steps' else 'cleanup step'} {self.index + 1}"
        if isinstance(self.step, CaptureStep):
            name = f" capture {self.step.capture!r}"
        else:
            name = "" if self.step.name == self.step.command else f" {self.step.name!r}"
        role = "" if self.role == "command" else f" ({self.role})"
        return f"{number}{name}{role}"


def render_offset(template: str, start: int) -> str:
    """offset_command as the runner sends it: {offset} is the 0-based restart point, {offset1} the 1-based one."""
    return template.replace("{offset1}", str(start + 1)).replace("{offset}", str(start))


def _show_commands(section: str, i: int, step: ShowStep) -> Iterator[StepCommand]:
    yield StepCommand(section, i, step, step.command, "command", (section, i, "command"))
    if step.offset_command:
        rendered = dict.fromkeys(render_offset(step.offset_command, n) for n in OFFSET_SAMPLES)
        for text in rendered:
            yield StepCommand(section, i, step, text, "offset_command", (section, i, "offset_command"))


def _capture_commands(section: str, i: int, step: CaptureStep) -> Iterator[StepCommand]:
    if step.precheck is not None:
        key = "parsed" if step.precheck.parsed is not None else "command"
        yield StepCommand(section, i, step, step.precheck.sent, "precheck", (section, i, "precheck", key))
    for j, cmd in enumerate(step.start):
        yield StepCommand(section, i, step, cmd, "start", (section, i, "start", j))
    for t, trigger in enumerate(step.on_match):
        if trigger.parsed is not None:  # polled while the capture runs
            yield StepCommand(section, i, step, trigger.parsed, "on_match", (section, i, "on_match", t, "parsed"))
        for j, cmd in enumerate(trigger.run):
            yield StepCommand(section, i, step, cmd, "on_match", (section, i, "on_match", t, "run", j))
    for j, cmd in enumerate(step.stop):
        yield StepCommand(section, i, step, cmd, "stop", (section, i, "stop", j))


def iter_commands(model: Playbook) -> Iterator[StepCommand]:
    """Every command the playbook can send: show commands, offset commands (rendered), capture commands."""
    for section, steps in (("steps", list(model.steps)), ("cleanup", list(model.cleanup))):
        for i, step in enumerate(steps):
            if isinstance(step, ShowStep):
                yield from _show_commands(section, i, step)
            else:
                yield from _capture_commands(section, i, step)


def changes_allowed(model: Playbook, step: ShowStep | CaptureStep, allow_changes_cli: bool) -> bool:
    """True when this step may change the device: playbook or step says so AND the CLI flag was given."""
    return allow_changes_cli and (model.allow_changes or step.allow_changes)


def slow_line_commands(step: CaptureStep, platform: Platform) -> list[str]:
    """What slow-line (log-buffer) mode sends for this capture: config entry, enable, disable; [] when unused."""
    spec = platform.slow_line
    if spec is None or step.slow_line == "off":
        return []
    return (["configure terminal"] if spec.config_mode else []) + spec.enable + spec.disable


def slow_line_allowed(model: Playbook, step: CaptureStep, platform: Platform, allow_changes_cli: bool) -> bool:
    """May the runner switch this capture to log-buffer mode (it reconfigures logging)? For slow_line: auto."""
    if platform.slow_line is None or step.slow_line == "off":
        return False
    if not platform.slow_line.config_mode:
        return True
    return changes_allowed(model, step, allow_changes_cli)


def guard_refusals(loaded: LoadedPlaybook, platform: Platform, allow_changes_cli: bool = False) -> list[GuardRefusal]:
    """Every command of the playbook the guard refuses (with its file:line), in file order; [] when all pass.

    A capture with `slow_line: buffer` reconfigures logging, so it counts as a change; `auto` is decided by the
    runner at run time with `slow_line_allowed` (it falls back to streaming when changes are not allowed).
    """
    model = loaded.model
    items = list(iter_commands(model))
    for i, step in enumerate(model.steps):
        if isinstance(step, CaptureStep) and step.slow_line == "buffer":
            items += [
                StepCommand("steps", i, step, c, "slow_line", ("steps", i, "slow_line"))
                for c in slow_line_commands(step, platform)
            ]
    refusals: list[GuardRefusal] = []
    for item in items:
        verdict = check_command(item.command, platform, changes_allowed(model, item.step, allow_changes_cli))
        if not verdict.allowed:
            wants = model.allow_changes or item.step.allow_changes
            line = loaded.line_of(*item.loc)
            refusals.append(GuardRefusal(item.label, item.command, loaded.where(*item.loc), verdict, line, wants))
    refusals.sort(key=lambda r: r.line)
    return refusals


def check_playbook(loaded: LoadedPlaybook, platform: Platform, allow_changes_cli: bool = False) -> None:
    """Refuse the whole run (PlaybookRefused, a GuardRefused) if any command could change the device unasked."""
    refusals = guard_refusals(loaded, platform, allow_changes_cli)
    if not refusals:
        return
    playbook_wants_changes = any(r.step_allows_changes for r in refusals)
    hint: str | None = None
    if not all(r.verdict.overridable for r in refusals):
        hint = "split the command into one step per line"
    elif playbook_wants_changes and not allow_changes_cli:
        hint = "the playbook allows changes; pass --allow-changes to run it anyway"
    elif allow_changes_cli:
        hint = "--allow-changes was given, but the playbook must also say allow_changes: true (playbook or step)"
    raise PlaybookRefused(refusals, hint=hint)


__all__ = [
    "GuardRefusal",
    "GuardVerdict",
    "PlaybookRefused",
    "StepCommand",
    "changes_allowed",
    "check_command",
    "check_playbook",
    "guard_refusals",
    "iter_commands",
    "render_offset",
    "normalise",
    "slow_line_allowed",
    "slow_line_commands",
]
