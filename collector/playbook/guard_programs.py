"""Check one stage of a shell pipeline: a listed program, only its allowed options, operands of the allowed forms.

Wrappers (`sudo -n`, `timeout 5`, `nice`) are unwrapped and the command they run is checked the same way.
"""

from __future__ import annotations

import posixpath
import re

from ..platforms import Platform, ProgramSpec, load_platform
from .shell_lex import Word
from .shell_options import OptionRefused, Parsed, parse_call
from .verdict import GuardVerdict, NestedCheck, allowed, refused

_SYSTEM_PATH = re.compile(r"^/(?:usr/)?s?bin/([^/]+)$")
_MAX_WRAPPERS = 4


def program_spec(platform: Platform, name: str) -> ProgramSpec | None:
    """The platform's spec for a program, or the one of `programs_from` (EOS pipes use linux's sort/uniq)."""
    policy = platform.read_only
    spec = policy.programs.get(name)
    if spec is None and policy.programs_from:
        spec = load_platform(policy.programs_from).read_only.programs.get(name)
    return spec


def _program_name(word: Word, platform: Platform) -> tuple[str | None, GuardVerdict | None]:
    if word.glob:
        return None, refused("program:glob", f"the program name {word.text!r} holds an unquoted glob")
    name = word.text
    if "/" in name:
        m = _SYSTEM_PATH.match(name)
        if m is None:
            return None, refused(
                "program:path", f"{name!r}: run programs by name or from /bin, /sbin, /usr/bin or /usr/sbin"
            )
        name = m.group(1)
    return name, None


def _unknown(name: str, platform: Platform) -> GuardVerdict:
    reason = platform.read_only.verbs.refuse.get(name)
    if reason:
        return refused(f"program:{name}", f"`{name}` {reason}")
    return refused("program:unknown", f"{name!r} is not on {platform.name}'s list of read-only programs")


def _form_matches(form: list[str], texts: list[str]) -> bool:
    fixed, repeat = form, None
    if form and form[-1].startswith("..."):
        fixed, repeat = form[:-1], form[-1][3:]
    if len(texts) < len(fixed) or (repeat is None and len(texts) > len(fixed)):
        return False
    if not all(re.fullmatch(p, t) for p, t in zip(fixed, texts, strict=False)):
        return False
    return repeat is None or all(re.fullmatch(repeat, t) for t in texts[len(fixed) :])


def _operand_problem(name: str, spec: ProgramSpec, operands: list[Word]) -> str | None:
    texts = [w.text for w in operands]
    if spec.args != "any" and len(texts) > spec.args:
        why = f" ({spec.args_reason})" if spec.args_reason else ""
        return f"`{name}` takes at most {spec.args} operand(s) here, got {len(texts)}{why}"
    if len(texts) < spec.min_args:
        return f"`{name}` needs at least {spec.min_args} operand(s) here (without them it waits for input)"
    for word in operands:
        if word.glob and not (spec.globs and spec.args == "any" and word.literal_head):
            return f"the operand {word.text!r} of {name} is an unquoted glob (the shell may expand it); quote it"
        if spec.arg_pattern is not None and not re.fullmatch(spec.arg_pattern, word.text):
            return f"the operand {word.text!r} of {name} is not of an allowed form"
    if spec.forms and not any(_form_matches(form, texts) for form in spec.forms):
        shown = " ".join(texts) or "(none)"
        return f"`{name} {shown}`: these operands are not one of the read-only forms of {name}"
    if spec.script_refuse and texts and re.search(spec.script_refuse, texts[0]):
        return f"the {name} program {texts[0]!r} {spec.script_reason or 'is not read-only'}"
    return None


def _nested(name: str, spec: ProgramSpec, parsed: Parsed, nested: NestedCheck) -> GuardVerdict | None:
    for option, arg in parsed.options:
        target = spec.check_arg.get(option)
        if target is None or arg is None:
            continue
        other = load_platform(target)
        verdict = nested(arg, other)
        if not verdict.allowed:
            return refused(f"option:{name}", f"`{name}` runs {arg!r}, which {target} refuses: {verdict.reason}")
        if other.debug_change(arg) == "on":
            return refused(
                f"option:{name}",
                f"`{name}` would switch debug on ({arg!r}) where cleanup cannot switch it off; "
                f"use a {target} playbook for debug captures",
            )
    return None


def check_stage(
    words: list[Word], platform: Platform, *, piped: bool, nested: NestedCheck, depth: int = 0
) -> GuardVerdict:
    """Is this pipeline stage (program and arguments, quotes decoded) read-only on this platform?"""
    for word in words:
        if word.assignment:
            return refused(
                "shell:assignment",
                f"{word.text!r} is a variable assignment to the shell (it can run code later, e.g. PROMPT_COMMAND)",
            )
    for word in words[1:]:
        path = posixpath.normpath(word.text) if word.text.startswith("/") else word.text
        for rule in platform.read_only.paths:
            if re.search(rule.pattern, path):
                return refused("shell:path", f"{word.text!r}: {rule.reason}")
    name, bad = _program_name(words[0], platform)
    if bad is not None or name is None:
        return bad or refused("program:unknown", "no program")
    spec = program_spec(platform, name)
    if spec is None:
        return _unknown(name, platform)
    try:
        parsed = parse_call(name, spec, words[1:])
    except OptionRefused as exc:
        return refused(f"option:{name}", str(exc))
    operands = parsed.operands
    if spec.wraps is not None:
        operands, command = operands[: spec.wraps], operands[spec.wraps :]
        if not command or depth >= _MAX_WRAPPERS:
            return refused(f"program:{name}", f"`{name}` needs a command to run (at most {_MAX_WRAPPERS} wrappers)")
    problem = _operand_problem(name, spec, operands)
    if problem:
        return refused(f"operands:{name}", problem)
    bad = _nested(name, spec, parsed, nested)
    if bad is not None:
        return bad
    if spec.require and not parsed.has(*spec.require):
        need = " or ".join(f"`{'-' if len(r) == 1 else '--'}{r}`" for r in spec.require)
        return refused(f"option:{name}", f"`{name}` is only read-only with {need} (otherwise it waits for keys)")
    if spec.pager and not piped and not parsed.has("no-pager"):
        return refused(
            f"option:{name}", f"`{name}` starts a pager on a terminal (it reads keys); add --no-pager or pipe it"
        )
    if spec.wraps is not None:
        return check_stage(command, platform, piped=piped, nested=nested, depth=depth + 1)
    return allowed(f"program:{name}", f"{name} with these options is read-only")


__all__ = ["check_stage", "program_spec"]
