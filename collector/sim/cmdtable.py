"""Command lookup for the simulator: IOS-style abbreviations, `{n}` integer and `*` rest-of-line words.

Gives the caret position of the first unknown word, "incomplete" and "ambiguous" like IOS does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Match:
    status: str  # ok | invalid | incomplete | ambiguous | empty
    pattern: str = ""
    args: list[str] = field(default_factory=list)
    column: int = 0  # invalid: character offset of the offending word in the typed line
    word: str = ""  # ambiguous: the word


def _word_ok(p: str, w: str, abbreviate: bool) -> bool:
    if p == "{n}":
        return w.isdigit()
    if p == "*":
        return True
    return p.startswith(w.lower()) if abbreviate else p == w


class CommandTable:
    """A set of command patterns ("show version", "terminal length {n}", "debug *")."""

    def __init__(self, patterns: list[str], abbreviate: bool = True) -> None:
        self.abbreviate = abbreviate
        self.patterns = list(dict.fromkeys(" ".join(p.split()) for p in patterns))
        self._split = [(p, p.split()) for p in self.patterns]

    def match(self, line: str) -> Match:
        spans = [(m.start(), m.group()) for m in _WORD.finditer(line)]
        if not spans:
            return Match("empty")
        alive = [(p, ws) for p, ws in self._split]
        for i, (col, w) in enumerate(spans):
            # A pattern whose "*" was already passed swallows the rest.
            starred = [(p, ws) for p, ws in alive if i >= len(ws) and ws and ws[-1] == "*"]
            here = [(p, ws) for p, ws in alive if i < len(ws) and _word_ok(ws[i], w, self.abbreviate)]
            keywords = {ws[i] for _, ws in here if ws[i] not in ("{n}", "*")}
            lw = w.lower() if self.abbreviate else w
            if lw in keywords:
                here = [(p, ws) for p, ws in here if ws[i] in (lw, "{n}", "*")]
            elif len(keywords) > 1:
                return Match("ambiguous", word=w, column=col)
            alive = here + starred
            if not alive:
                return Match("invalid", column=col)
        n = len(spans)
        done = [(p, ws) for p, ws in alive if len(ws) == n or (ws and ws[-1] == "*" and n >= len(ws))]
        if not done:
            return Match("incomplete")
        p, ws = done[0]
        args: list[str] = []
        for i, (_, w) in enumerate(spans):
            if i < len(ws) and ws[i] == "{n}":
                args.append(w)
            elif ws[-1] == "*" and i >= len(ws) - 1:
                args.append(line[spans[i][0] :].strip())
                break
        return Match("ok", pattern=p, args=args)
