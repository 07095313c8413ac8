"""Parse one program's arguments the way the program will (GNU getopt_long, or exact option words) against its spec.

Every option must be on the spec's allowed list; a unique prefix of any long option the spec knows resolves to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..platforms import ProgramSpec
from .shell_lex import Word

_NUMBER_ARG = re.compile(r"^-\d+$")


class OptionRefused(ValueError):
    """An option (or option argument) that is not allowed; str() is the one-line reason."""


@dataclass
class Parsed:
    """A program call split into options (canonical name, argument) and operands (in order)."""

    options: list[tuple[str, str | None]] = field(default_factory=list)
    operands: list[Word] = field(default_factory=list)

    def has(self, *names: str) -> bool:
        return any(name in names for name, _ in self.options)


def _shown(name: str) -> str:
    if name.startswith("-"):
        return name
    return f"-{name}" if len(name) == 1 else f"--{name}"


def _refused(program: str, spec: ProgramSpec, name: str, typed: str) -> OptionRefused:
    shown = _shown(name)
    via = f" (`{typed}` abbreviates `{shown}`)" if typed != shown and not typed.startswith(shown + "=") else ""
    reason = spec.refuse.get(name)
    if reason:
        return OptionRefused(f"`{program} {shown}`{via} {reason}")
    return OptionRefused(f"option `{shown}`{via} of {program} is not on the list of read-only options")


def _detached(program: str, option: str, words: list[Word], i: int) -> str:
    """The argument of an option given as the next word; refused when missing, a glob, or option-like."""
    if i >= len(words):
        raise OptionRefused(f"option `{option}` of {program} needs an argument")
    word = words[i]
    if word.glob:
        raise OptionRefused(f"the argument of `{program} {option}` holds an unquoted glob; quote it")
    if word.text.startswith("-") and word.text != "-" and not _NUMBER_ARG.match(word.text):
        raise OptionRefused(
            f"the argument {word.text!r} of `{program} {option}` starts with '-'; attach it ({option}=...) or quote it"
        )
    return word.text


def _resolve_long(program: str, spec: ProgramSpec, name: str) -> str:
    known = spec.known_long()
    if name in known:
        return name
    candidates = sorted({k for k in known if k.startswith(name)})
    if not candidates:
        raise OptionRefused(f"option `--{name}` of {program} is not on the list of read-only options")
    if len(candidates) > 1:
        raise OptionRefused(f"`--{name}` of {program} is ambiguous ({', '.join('--' + c for c in candidates)})")
    return candidates[0]


def _long(program: str, spec: ProgramSpec, words: list[Word], i: int, out: Parsed) -> int:
    typed = words[i].text
    name, eq, value = typed[2:].partition("=")
    full = _resolve_long(program, spec, name)
    if full in spec.refuse or full not in spec.long + spec.long_arg + spec.long_optional:
        raise _refused(program, spec, full, typed)
    if full in spec.long:
        if eq:
            raise OptionRefused(f"option `--{full}` of {program} takes no argument")
        out.options.append((full, None))
    elif full in spec.long_optional:
        out.options.append((full, value if eq else None))
    elif eq:
        out.options.append((full, value))
    else:
        out.options.append((full, _detached(program, f"--{full}", words, i + 1)))
        return i + 2
    return i + 1


def _short(program: str, spec: ProgramSpec, words: list[Word], i: int, out: Parsed) -> int:
    text = words[i].text
    j = 1
    while j < len(text):
        ch = text[j]
        if ch in spec.refuse or ch not in spec.flags + spec.with_arg + spec.optional_arg:
            raise _refused(program, spec, ch, f"-{ch}")
        if ch in spec.flags:
            out.options.append((ch, None))
            j += 1
            continue
        rest = text[j + 1 :]
        if ch in spec.optional_arg or rest:
            out.options.append((ch, rest or None))
            return i + 1
        out.options.append((ch, _detached(program, f"-{ch}", words, i + 1)))
        return i + 2
    return i + 1


def _word_option(program: str, spec: ProgramSpec, words: list[Word], i: int, out: Parsed) -> int:
    text = words[i].text
    if text in spec.words or any(re.fullmatch(p, text) for p in spec.word_patterns):
        out.options.append((text, None))
        return i + 1
    if text in spec.words_arg:
        out.options.append((text, _detached(program, text, words, i + 1)))
        return i + 2
    raise _refused(program, spec, text, text)


def parse_call(program: str, spec: ProgramSpec, words: list[Word]) -> Parsed:
    """Options and operands of `program words...`; OptionRefused names the first option that is not allowed."""
    out = Parsed()
    i = 0
    options_end = False
    while i < len(words):
        word = words[i]
        text = word.text
        if options_end or text == "-" or not text.startswith("-"):
            out.operands.append(word)
            options_end = options_end or not spec.permute
            i += 1
            continue
        if word.glob:
            raise OptionRefused(f"the option word {text!r} of {program} holds an unquoted glob; quote it")
        if spec.style == "words":
            i = _word_option(program, spec, words, i, out)
        elif text == "--":
            options_end = True
            i += 1
        elif text.startswith("--"):
            i = _long(program, spec, words, i, out)
        else:
            i = _short(program, spec, words, i, out)
    return out


__all__ = ["OptionRefused", "Parsed", "parse_call"]
