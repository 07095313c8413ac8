"""How a read-only program may be called on a shell platform: its allowed options and operands, as data.

The shell guard (collector/playbook/guard_shell.py) allows a program only with options listed here (deny by default).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ._base import Data, Regex


class ProgramSpec(Data):
    """One program of a platform's read-only list.

    `style: getopt` parses like GNU getopt_long: short clusters (`-nd` = `-n -d`), attached or detached arguments
    (`-oFILE`, `-o FILE`), `--long[=ARG]` with unique-prefix abbreviations over every long option named here
    (allowed or refused), options anywhere unless `permute: false`, `--` ends the options.
    `style: words`: every word starting with `-` must be exactly one of `words` / `words_arg` / `word_patterns`.
    """

    style: Literal["getopt", "words"] = "getopt"
    flags: str = Field(default="", description="short options without an argument, e.g. 'nrv'")
    with_arg: str = Field(default="", description="short options that need an argument, e.g. 'kt'")
    optional_arg: str = Field(default="", description="short options whose argument may only be attached (-Iseconds)")
    long: list[str] = Field(default=[], description="long options without an argument (no leading --)")
    long_arg: list[str] = Field(default=[], description="long options that need an argument")
    long_optional: list[str] = Field(default=[], description="long options with an optional argument (--opt=ARG)")
    words: list[str] = Field(default=[], description="style words: option words without an argument")
    words_arg: list[str] = Field(default=[], description="style words: option words followed by one argument")
    word_patterns: list[Regex] = Field(default=[], description="style words: regexes for option words (no argument)")
    refuse: dict[str, str] = Field(
        default={}, description="known options that are refused, with the reason: 'o', 'output' or '-delete'"
    )
    permute: bool = Field(default=True, description="options may follow operands (GNU); false: first operand ends them")
    args: int | Literal["any"] = Field(default="any", description="most operands allowed")
    min_args: int = 0
    args_reason: str = Field(default="", description="why more operands are refused (uniq IN OUT writes OUT)")
    arg_pattern: Regex | None = Field(default=None, description="every operand must match this regex in full")
    forms: list[list[str]] = Field(
        default=[],
        description="allowed operand sequences, one regex per word; a last item '...REGEX' repeats for the rest",
    )
    globs: bool = Field(default=False, description="operands may be unquoted globs (e.g. /var/log/*.log)")
    check_arg: dict[str, str] = Field(
        default={}, description="option -> platform whose guard checks its argument (vtysh -c: frr)"
    )
    script_refuse: Regex | None = Field(default=None, description="refuse when the first operand (a script) matches")
    script_reason: str = ""
    require: list[str] = Field(default=[], description="one of these options must be given (top: b)")
    pager: bool = Field(default=False, description="pages on a terminal: needs --no-pager unless piped")
    wraps: int | None = Field(
        default=None, description="a wrapper: after its options and this many operands comes a command, checked too"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ProgramSpec:
        shorts = self.flags + self.with_arg + self.optional_arg
        if len(set(shorts)) != len(shorts):
            raise ValueError("a short option is listed twice among flags / with_arg / optional_arg")
        longs = self.long + self.long_arg + self.long_optional
        if len(set(longs)) != len(longs):
            raise ValueError("a long option is listed twice among long / long_arg / long_optional")
        allowed = set(shorts) | set(longs) | set(self.words) | set(self.words_arg)
        clash = sorted(allowed & set(self.refuse))
        if clash:
            raise ValueError(f"options both allowed and refused: {', '.join(clash)}")
        if self.wraps is not None and self.permute:
            raise ValueError("a wrapper must say permute: false (its options end at the wrapped command)")
        return self

    def known_long(self) -> list[str]:
        """Every long option this spec names (allowed or refused): the set getopt abbreviations resolve against."""
        refused = [k for k in self.refuse if len(k) > 1 and not k.startswith("-")]
        return self.long + self.long_arg + self.long_optional + refused


__all__ = ["ProgramSpec"]
