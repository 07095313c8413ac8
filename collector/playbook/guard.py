"""The read-only guard: refuses commands that could change a device, before anything connects.

Rules are platform data (`read_only:` in collector/platforms/*.yaml); changes run only when the playbook
(or the step) says `allow_changes: true` AND the command line passes --allow-changes.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import GuardRefused
from ..platforms import Platform, ReadOnlyPolicy, VerbTable
from .loader import LoadedPlaybook
from .schema import CaptureStep, Playbook, ShowStep

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SHELL_SEPARATORS = {"|", "||", "&&", ";", "&", "|&"}
_OUT_REDIRECTS = {">", ">>", ">|", "&>", "&>>", ">&"}
_SUDO_OPTIONS = {"-n", "-E", "-H", "--non-interactive", "--preserve-env"}


@dataclass(frozen=True)
class GuardVerdict:
    """The guard's answer for one command: allowed or not, which rule decided, and why (one line)."""

    allowed: bool
    rule: str
    reason: str
    overridable: bool = True


@dataclass(frozen=True)
class GuardRefusal:
    """A refused command of a playbook, with the step it belongs to."""

    step: str
    command: str
    where: str
    verdict: GuardVerdict

    def __str__(self) -> str:
        return f"{self.where}: {self.step}: `{self.command}` refused: {self.verdict.reason} [rule {self.verdict.rule}]"


class PlaybookRefused(GuardRefused):
    """GuardRefused carrying every refusal of the playbook (the message names the first)."""

    def __init__(self, refusals: list[GuardRefusal], hint: str | None = None) -> None:
        more = f" (and {len(refusals) - 1} more refused)" if len(refusals) > 1 else ""
        super().__init__(f"{refusals[0]}{more}", hint=hint)
        self.refusals = refusals


# --------------------------------------------------------------------------- word tables


@dataclass(frozen=True)
class _Word:
    kind: str  # allow | refuse | ambiguous | unknown
    word: str  # the expanded word when unique, else the input
    reason: str = ""


def _resolve(word: str, table: VerbTable, abbreviations: bool) -> _Word:
    """Look a word up, with IOS-style unique-prefix abbreviations when the platform accepts them.

    Strict: a prefix that could abbreviate any refused word is refused unless it can only mean read-only words.
    """
    if word in table.allow:
        return _Word("allow", word)
    if word in table.refuse:
        return _Word("refuse", word, table.refuse[word])
    if not abbreviations:
        return _Word("unknown", word)
    safe = [w for w in table.allow if w.startswith(word)]
    bad = [w for w in table.refuse if w.startswith(word)]
    if bad and not safe:
        if len(bad) == 1:
            return _Word("refuse", bad[0], f"{word!r} abbreviates {bad[0]!r}, which {table.refuse[bad[0]]}")
        return _Word("refuse", word, f"{word!r} may abbreviate {', '.join(bad)}: {table.refuse[bad[0]]}")
    if bad and safe:
        return _Word(
            "ambiguous",
            word,
            f"{word!r} is ambiguous: it may abbreviate {', '.join(bad)} as well as {', '.join(safe)}; spell it out",
        )
    if len(safe) == 1:
        return _Word("allow", safe[0])
    if safe:
        return _Word("allow", word)
    return _Word("unknown", word)


def _refused(rule: str, reason: str, overridable: bool = True) -> GuardVerdict:
    return GuardVerdict(False, rule, reason, overridable)


def _unknown(policy: ReadOnlyPolicy, platform: Platform, kind: str, word: str) -> GuardVerdict:
    if policy.unknown == "allow":
        return GuardVerdict(True, f"{kind}:unknown", f"{word!r} is not listed; {platform.name} allows unlisted words")
    return _refused(
        f"{kind}:unknown",
        f"{word!r} is not on {platform.name}'s list of read-only commands",
    )


def _apply_rules(text: str, policy: ReadOnlyPolicy) -> GuardVerdict | None:
    flags = 0 if policy.case_sensitive else re.IGNORECASE
    for i, rule in enumerate(policy.rules):
        if re.search(rule.pattern, text, flags):
            name = f"rules[{i}]"
            if rule.action == "allow":
                return GuardVerdict(True, name, rule.reason or "allowed by platform rule")
            return _refused(name, rule.reason or f"matches {rule.pattern!r}")
    return None


# --------------------------------------------------------------------------- CLI (IOS-like) commands


def _split_pipes(text: str) -> list[str]:
    """Split on `|` outside double quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "|" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _check_cli(text: str, platform: Platform) -> GuardVerdict:
    policy = platform.read_only
    segments = _split_pipes(text)
    head_words = segments[0].split()
    after_regex = False
    for segment in segments[1:]:
        words = segment.split()
        if not words:
            if after_regex:
                continue
            return _refused("pipe:empty", "an empty `|` filter")
        res = _resolve(words[0], policy.pipes, policy.abbreviations)
        if res.kind == "refuse":
            return _refused(
                f"pipe:{res.word}", res.reason if "abbreviat" in res.reason else f"`| {res.word}` {res.reason}"
            )
        if res.kind == "allow":
            after_regex = res.word in policy.regex_pipes
            continue
        if after_regex:
            continue  # `| include a|b`: the rest is part of the regex
        if res.kind == "ambiguous":
            return _refused(f"pipe:{words[0]}", res.reason)
        verdict = _unknown(policy, platform, "pipe", words[0])
        if not verdict.allowed:
            return verdict
    if not head_words:
        return GuardVerdict(True, "empty", "an empty line only prints the prompt")
    verb = _resolve(head_words[0], policy.verbs, policy.abbreviations)
    expanded = " ".join([verb.word if verb.kind in ("allow", "refuse") else head_words[0]] + head_words[1:])
    full = " | ".join([expanded] + [s.strip() for s in segments[1:]])
    by_rule = _apply_rules(full, policy)
    if by_rule is not None:
        return by_rule
    if verb.kind == "allow":
        return GuardVerdict(True, f"verb:{verb.word}", f"{verb.word} is read-only")
    if verb.kind == "refuse":
        reason = verb.reason if "abbreviat" in verb.reason else f"`{verb.word}` {verb.reason}"
        return _refused(f"verb:{verb.word}", reason)
    if verb.kind == "ambiguous":
        return _refused(f"verb:{head_words[0]}", verb.reason)
    return _unknown(policy, platform, "verb", head_words[0])


# --------------------------------------------------------------------------- shell (linux) commands


def _peel_wrappers(words: list[str]) -> list[str]:
    """Drop `VAR=x`, `env`, `sudo -n`, `time`, `command`, `nice`, `timeout N` in front of the real command."""
    while words:
        first = words[0]
        base = posixpath.basename(first)
        if _ASSIGNMENT.match(first):
            words = words[1:]
        elif base == "sudo":
            j = 1
            while j < len(words) and words[j] in _SUDO_OPTIONS:
                j += 1
            if j >= len(words) or words[j].startswith("-"):
                return words  # sudo -u/-s/-i ...: refused by the verb table
            words = words[j:]
        elif base == "env":
            j = 1
            while j < len(words) and (_ASSIGNMENT.match(words[j]) or words[j] in ("-i", "--ignore-environment")):
                j += 1
            if j >= len(words):
                return ["env"]
            words = words[j:]
        elif base in ("time", "command") and len(words) > 1 and not words[1].startswith("-"):
            words = words[1:]
        elif base == "nice" and len(words) > 1:
            j = 1
            if words[j] == "-n" and len(words) > 2:
                j = 3
            elif re.match(r"^-\d+$", words[j]):
                j = 2
            words = words[j:] if j < len(words) else words
            if words and posixpath.basename(words[0]) == "nice":
                return words
        elif base == "timeout" and len(words) > 2:
            j = 1
            while j < len(words) and words[j].startswith("-"):
                j += 2 if words[j] in ("-s", "-k", "--signal", "--kill-after") else 1
            words = words[j + 1 :] if j + 1 < len(words) else words
            if words and posixpath.basename(words[0]) == "timeout":
                return words
        else:
            return words
    return words


def _check_simple_command(words: list[str], platform: Platform) -> GuardVerdict:
    policy = platform.read_only
    words = _peel_wrappers(words)
    if not words:
        return GuardVerdict(True, "empty", "nothing to run")
    verb = posixpath.basename(words[0])
    text = " ".join([verb] + words[1:])
    if not policy.case_sensitive:
        text, verb = text.lower(), verb.lower()
    by_rule = _apply_rules(text, policy)
    if by_rule is not None:
        return by_rule
    res = _resolve(verb, policy.verbs, abbreviations=False)
    if res.kind == "allow":
        return GuardVerdict(True, f"verb:{verb}", f"{verb} is read-only")
    if res.kind == "refuse":
        return _refused(f"verb:{verb}", f"`{verb}` {res.reason}")
    return _unknown(policy, platform, "verb", verb)


def _check_shell(command: str, platform: Platform) -> GuardVerdict:
    if "`" in command or "$(" in command:
        return _refused("shell:substitution", "command substitution (`...` or $(...)) cannot be checked")
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as exc:
        return _refused("shell:parse", f"cannot parse the shell line: {exc}")
    segments: list[list[str]] = [[]]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        operator = bool(tok) and all(c in "<>&|;()" for c in tok)
        if not operator:
            segments[-1].append(tok)
        elif tok in _SHELL_SEPARATORS:
            segments.append([])
        elif tok in _OUT_REDIRECTS:
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            harmless = target == "/dev/null" or (tok == ">&" and target.isdigit())
            if not harmless:
                return _refused("shell:redirect", f"`{tok} {target}` writes the output to a file")
            if segments[-1] and segments[-1][-1].isdigit():
                segments[-1].pop()
            i += 2
            continue
        elif tok == "<":
            if segments[-1] and segments[-1][-1].isdigit():
                segments[-1].pop()
            if i + 1 < len(tokens):
                segments[-1].append(tokens[i + 1])
            i += 2
            continue
        elif "(" in tok or ")" in tok:
            return _refused("shell:subshell", "subshells and process substitution cannot be checked")
        else:
            return _refused("shell:operator", f"shell operator {tok!r} cannot be checked")
        i += 1
    last: GuardVerdict | None = None
    for words in segments:
        if not words:
            continue
        verdict = _check_simple_command(words, platform)
        if not verdict.allowed:
            return verdict
        last = verdict
    return last or GuardVerdict(True, "empty", "nothing to run")


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
        return _refused(
            "control-characters",
            "a command must be one line without control characters; put each command in its own step",
            overridable=False,
        )
    text = normalise(command, platform)
    verdict = _check_shell(text, platform) if platform.read_only.shell else _check_cli(text, platform)
    if not verdict.allowed and allow_changes and verdict.overridable:
        return GuardVerdict(True, verdict.rule, f"allowed by allow_changes: {verdict.reason}")
    return verdict


@dataclass(frozen=True)
class StepCommand:
    """One command a playbook will send, with the step it belongs to."""

    section: str  # steps | cleanup
    index: int  # 0-based within the section
    step: ShowStep | CaptureStep
    command: str
    role: str  # command | offset_command | start | stop | on_match | precheck | slow_line

    @property
    def label(self) -> str:
        number = f"{'step' if self.section == 'steps' else 'cleanup step'} {self.index + 1}"
        if isinstance(self.step, CaptureStep):
            name = f" capture {self.step.capture!r}"
        else:
            name = "" if self.step.name == self.step.command else f" {self.step.name!r}"
        role = "" if self.role == "command" else f" ({self.role})"
        return f"{number}{name}{role}"


def iter_commands(model: Playbook) -> Iterator[StepCommand]:
    """Every command the playbook can send: show commands, offset commands, capture start/stop/trigger/precheck."""
    for section, steps in (("steps", list(model.steps)), ("cleanup", list(model.cleanup))):
        for i, step in enumerate(steps):
            if isinstance(step, ShowStep):
                yield StepCommand(section, i, step, step.command, "command")
                if step.offset_command:
                    yield StepCommand(section, i, step, step.offset_command.replace("{offset}", "0"), "offset_command")
            else:
                if step.precheck is not None:
                    yield StepCommand(section, i, step, step.precheck.command, "precheck")
                for cmd in step.start:
                    yield StepCommand(section, i, step, cmd, "start")
                for trigger in step.on_match:
                    for cmd in trigger.run:
                        yield StepCommand(section, i, step, cmd, "on_match")
                for cmd in step.stop:
                    yield StepCommand(section, i, step, cmd, "stop")


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


def check_playbook(loaded: LoadedPlaybook, platform: Platform, allow_changes_cli: bool = False) -> None:
    """Refuse the whole run (PlaybookRefused, a GuardRefused) if any command could change the device unasked.

    A capture with `slow_line: buffer` reconfigures logging, so it counts as a change; `auto` is decided by the
    runner at run time with `slow_line_allowed` (it falls back to streaming when changes are not allowed).
    """
    model = loaded.model
    refusals: list[GuardRefusal] = []
    playbook_wants_changes = False
    items = list(iter_commands(model))
    for i, step in enumerate(model.steps):
        if isinstance(step, CaptureStep) and step.slow_line == "buffer":
            items += [StepCommand("steps", i, step, c, "slow_line") for c in slow_line_commands(step, platform)]
    for item in items:
        permitted = changes_allowed(model, item.step, allow_changes_cli)
        verdict = check_command(item.command, platform, permitted)
        if not verdict.allowed:
            playbook_wants_changes = playbook_wants_changes or model.allow_changes or item.step.allow_changes
            refusals.append(GuardRefusal(item.label, item.command, loaded.where(item.section, item.index), verdict))
    if not refusals:
        return
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
    "iter_commands",
    "normalise",
    "slow_line_allowed",
    "slow_line_commands",
]
