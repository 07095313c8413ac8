"""The read-only guard for CLI platforms (IOS-like): verbs and `|` filters looked up with the CLI's abbreviations.

Filters that are programs (EOS/NX-OS `| sort`, `| uniq`) are checked like shell stages; `|` always splits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..platforms import Platform, ReadOnlyPolicy, VerbTable
from ..platforms.debug import compile_pattern
from .guard_programs import check_stage
from .shell_lex import ShellSyntax, Word, split_pipeline
from .verdict import GuardVerdict, NestedCheck, allowed, refused


@dataclass(frozen=True)
class _Word:
    """A command word as the verb table reads it: allowed, refused, ambiguous or unknown."""

    kind: str  # allow | refuse | ambiguous | unknown
    word: str  # the expanded word when unique, else the input
    reason: str = ""


def resolve(word: str, table: VerbTable, abbreviations: bool) -> _Word:
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


def unknown(policy: ReadOnlyPolicy, platform: Platform, kind: str, word: str) -> GuardVerdict:
    if policy.unknown == "allow":
        return allowed(f"{kind}:unknown", f"{word!r} is not listed; {platform.name} allows unlisted words")
    return refused(f"{kind}:unknown", f"{word!r} is not on {platform.name}'s list of read-only commands")


def apply_rules(text: str, policy: ReadOnlyPolicy) -> GuardVerdict | None:
    flags = 0 if policy.case_sensitive else re.IGNORECASE
    for i, rule in enumerate(policy.rules):
        if re.search(rule.pattern, text, flags):
            name = f"rules[{i}]"
            if rule.action == "allow":
                return allowed(name, rule.reason or "allowed by platform rule")
            return refused(name, rule.reason or f"matches {rule.pattern!r}")
    return None


def _program_pipe(segment: str, word: str, platform: Platform, nested: NestedCheck) -> GuardVerdict:
    """`| sort -o FILE` on EOS: the filter is a program; its options follow the shell rules."""
    try:
        stages = split_pipeline(segment.strip())
    except ShellSyntax as exc:
        return refused(f"pipe:{word}", f"`| {word}`: {exc}")
    if len(stages) != 1:
        return refused(f"pipe:{word}", f"`| {segment.strip()}`: one program per filter")
    words = [Word(word), *stages[0][1:]]  # the abbreviation written out (EOS `| so` is `| sort`)
    verdict = check_stage(words, platform, piped=True, nested=nested)
    return verdict if not verdict.allowed else allowed(f"pipe:{word}", verdict.reason)


def _check_pipes(
    segments: list[str], originals: list[str], platform: Platform, nested: NestedCheck
) -> GuardVerdict | None:
    policy = platform.read_only
    after_regex = False
    for segment, original in zip(segments, originals, strict=True):
        words = segment.split()
        if not words:
            if after_regex:
                continue
            return refused("pipe:empty", "an empty `|` filter")
        res = resolve(words[0], policy.pipes, policy.abbreviations)
        if res.kind == "refuse":
            return refused(
                f"pipe:{res.word}", res.reason if "abbreviat" in res.reason else f"`| {res.word}` {res.reason}"
            )
        if res.kind == "allow":
            after_regex = res.word in policy.regex_pipes
            if res.word in policy.pipe_programs:
                verdict = _program_pipe(original, res.word, platform, nested)
                if not verdict.allowed:
                    return verdict
            continue
        if after_regex:
            continue  # `| include a|b`: the rest is part of the regex
        if res.kind == "ambiguous":
            return refused(f"pipe:{words[0]}", res.reason)
        verdict = unknown(policy, platform, "pipe", words[0])
        if not verdict.allowed:
            return verdict
    return None


def _debug_words(platform: Platform) -> set[str]:
    if platform.debug is None:
        return set()
    return {compile_pattern(p)[1].split()[0] for p in platform.debug.on}


def check_cli(command: str, platform: Platform, nested: NestedCheck) -> GuardVerdict:
    """Verdict for one CLI line; words are compared with whitespace collapsed (and case folded if the CLI ignores it).

    Program filters are checked on the line as written (`sort -M` is not `sort -m`).
    """
    policy = platform.read_only
    spaced = " ".join(command.split())
    text = spaced if policy.case_sensitive else spaced.lower()
    for needle, reason in policy.forbidden.items():
        if needle in text:
            return refused("forbidden", f"{needle!r} {reason}")
    segments = text.split("|")  # quotes do not protect a `|` from the CLI
    bad = _check_pipes(segments[1:], spaced.split("|")[1:], platform, nested)
    if bad is not None:
        return bad
    if platform.debug_change(text) == "off":
        return allowed("debug:off", "switches debugging off")
    head_words = segments[0].split()
    if not head_words:
        return allowed("empty", "an empty line only prints the prompt")
    verb = resolve(head_words[0], policy.verbs, policy.abbreviations)
    expanded = " ".join([verb.word if verb.kind in ("allow", "refuse") else head_words[0]] + head_words[1:])
    by_rule = apply_rules(" | ".join([expanded] + [s.strip() for s in segments[1:]]), policy)
    if by_rule is not None:
        return by_rule
    if verb.kind == "allow":
        if verb.word in _debug_words(platform) and platform.debug_change(text) != "on":
            return refused(f"verb:{verb.word}", f"{head_words[0]!r} is not recognised as switching debug on")
        return allowed(f"verb:{verb.word}", f"{verb.word} is read-only")
    if verb.kind == "refuse":
        reason = verb.reason if "abbreviat" in verb.reason else f"`{verb.word}` {verb.reason}"
        return refused(f"verb:{verb.word}", reason)
    if verb.kind == "ambiguous":
        return refused(f"verb:{head_words[0]}", verb.reason)
    return unknown(policy, platform, "verb", head_words[0])


__all__ = ["apply_rules", "check_cli", "resolve", "unknown"]
