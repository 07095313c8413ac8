"""A strict tokeniser for shell lines: a plain pipeline (`a | b`) of words, or a refusal naming the shell syntax.

Deny by default: only printable ASCII, blanks, `|` between stages, quotes and backslashes that bash decodes the same
way; everything else that bash would treat as syntax (; & # $ ` { } ( ) < > ! ^ assignments ...) is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# characters a word may hold unquoted (bash gives them no meaning in a plain word); globs are marked separately
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:,+=@%~]")
_GLOB = frozenset("*?[")
# NAME=, NAME+=, NAME[sub]= with NAME and = unquoted (quoted characters are masked as \x00 before the test)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^=]*\])?\+?=")
_DOUBLE_ESCAPES = frozenset('$`"\\')
_NAMES = {
    ";": "`;` (runs another command)",
    "&": "`&` (background jobs, `&&` lists)",
    "#": "`#` (a comment hides the rest of the line from some parsers, not from others)",
    "$": "`$` (variables and command substitution)",
    "`": "backquotes (command substitution)",
    "{": "`{` (brace expansion and command groups)",
    "}": "`}` (brace expansion and command groups)",
    "(": "`(` (subshells, process substitution, extended globs)",
    ")": "`)` (subshells)",
    "<": "`<` (redirection)",
    ">": "`>` (redirection to a file)",
    "!": "`!` (history expansion and negation)",
    "^": "`^` (history substitution; a pipe in old shells)",
    "\t": "a tab (completion in an interactive shell)",
}


class ShellSyntax(ValueError):
    """The line holds shell syntax that the guard does not accept; str() is the one-line reason."""


@dataclass(frozen=True)
class Word:
    """One word as the program receives it (quotes removed), with what was unquoted in it."""

    text: str
    glob: bool = False  # holds an unquoted * ? [ (the shell may expand it to file names)
    assignment: bool = False  # starts with an unquoted NAME= (bash: an assignment before a command)
    literal_head: bool = True  # its first character is not an unquoted glob character


def _refuse(ch: str, pos: int, where: str = "") -> ShellSyntax:
    name = _NAMES.get(ch)
    if name is None:
        name = f"{ch!r}" if ch.isprintable() and ch.isascii() else f"the character U+{ord(ch):04X}"
        if not ch.isascii():
            return ShellSyntax(
                f"{name} at column {pos + 1}: only printable ASCII is accepted in shell commands "
                "(a shell's line editor may read other bytes as editing keys)"
            )
    return ShellSyntax(f"shell syntax {name} at column {pos + 1}{where} is not accepted: only plain pipelines are")


class _Lexer:
    def __init__(self, line: str) -> None:
        self.line = line
        self.pos = 0
        self.stages: list[list[Word]] = [[]]
        self.buf: list[str] = []
        self.in_word = False
        self.glob = False
        self.literal_head = True
        self.shape: list[str] = []  # the word with quoted characters masked (assignment test)

    def run(self) -> list[list[Word]]:
        line = self.line
        while self.pos < len(line):
            ch = line[self.pos]
            if ch == " ":
                self._end_word()
            elif ch == "|":
                self._pipe()
            elif ch == "'":
                self._single()
            elif ch == '"':
                self._double()
            elif ch == "\\":
                self._escape()
            elif ch in _GLOB:
                self._add(ch, glob=True)
            elif ch in _PLAIN:
                self._add(ch)
            else:
                raise _refuse(ch, self.pos)
            self.pos += 1
        self._end_word()
        if not self.stages[-1]:
            raise ShellSyntax("an empty command after `|`" if len(self.stages) > 1 else "an empty command")
        return self.stages

    def _add(self, ch: str, glob: bool = False, quoted: bool = False) -> None:
        if not self.in_word:
            self.literal_head = not glob
        self.in_word = True
        self.buf.append(ch)
        self.glob = self.glob or glob
        self.shape.append("\x00" if quoted else ch)

    def _end_word(self) -> None:
        if self.in_word:
            assignment = bool(_ASSIGNMENT.match("".join(self.shape)))
            self.stages[-1].append(Word("".join(self.buf), self.glob, assignment, self.literal_head))
        self.buf, self.in_word, self.glob, self.literal_head, self.shape = [], False, False, True, []

    def _pipe(self) -> None:
        self._end_word()
        nxt = self.line[self.pos + 1 : self.pos + 2]
        if nxt in ("|", "&"):
            raise ShellSyntax(f"shell operator `|{nxt}` at column {self.pos + 1} is not accepted: only plain pipelines")
        if not self.stages[-1]:
            raise ShellSyntax(f"an empty command before `|` at column {self.pos + 1}")
        self.stages.append([])

    def _single(self) -> None:
        end = self.line.find("'", self.pos + 1)
        if end < 0:
            raise ShellSyntax(f"an unclosed ' at column {self.pos + 1}")
        self._open_quote()
        for ch in self.line[self.pos + 1 : end]:
            self._add(ch, quoted=True)
        self.pos = end

    def _double(self) -> None:
        start = self.pos
        self._open_quote()
        self.pos += 1
        while self.pos < len(self.line):
            ch = self.line[self.pos]
            if ch == '"':
                return
            if ch in "$`!":
                raise _refuse(ch, self.pos, " inside double quotes")
            if ch == "\\" and self.line[self.pos + 1 : self.pos + 2] in _DOUBLE_ESCAPES:
                self.pos += 1
                ch = self.line[self.pos]
            self._add(ch, quoted=True)
            self.pos += 1
        raise ShellSyntax(f'an unclosed " at column {start + 1}')

    def _escape(self) -> None:
        if self.pos + 1 >= len(self.line):
            raise ShellSyntax("a backslash at the end of the line continues it onto the next line")
        self.pos += 1
        ch = self.line[self.pos]
        if not (ch.isascii() and ch.isprintable()):
            raise _refuse(ch, self.pos)
        self._add(ch, quoted=True)

    def _open_quote(self) -> None:
        if not self.in_word:
            self.literal_head = True
        self.in_word = True
        self.shape.append("\x00")


def split_pipeline(line: str) -> list[list[Word]]:
    """The stages of a plain pipeline, each a list of words; ShellSyntax names the first construct refused.

    Quotes are decoded exactly as bash does ('...' literal; "..." with \\ before $ ` " \\ only; \\x outside quotes),
    and `$`, backquotes and `!` are refused even inside double quotes (bash expands them there).
    """
    for i, ch in enumerate(line):
        if not (ch.isascii() and ch.isprintable()):
            raise _refuse(ch, i)
    return _Lexer(line).run()


__all__ = ["ShellSyntax", "Word", "split_pipeline"]
