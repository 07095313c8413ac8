"""Parses one output with the parser its step asks for (`auto`: TextFSM, then TTP, then Genie), never raising.

Every way of not parsing (no template, parser not installed, the template rejected the output, too large) ends as
a recorded reason; records go to a sink that the caller discards when an attempt fails half-way.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from .commands import resolve
from .ntc_index import find_template
from .optional import genie_parse, ttp_parse
from .outcome import CHOICES, PARSERS, NoParser, ParseFailed, ParseOutcome
from .textfsm_parser import BLOCK, blocks
from .textfsm_parser import parse as textfsm_parse

DEFAULT_MAX_BYTES = 64 << 20  # outputs above this are not parsed (a note says so); `parse_max_size` changes it


class Sink(Protocol):
    def emit(self, record: Any) -> None: ...
    def discard(self) -> None: ...


class ListSink:
    """Records kept in memory (pre-checks and triggers: small outputs)."""

    def __init__(self) -> None:
        self.records: list[Any] = []

    def emit(self, record: Any) -> None:
        self.records.append(record)

    def discard(self) -> None:
        self.records.clear()


class Output:
    """An output to parse: a file read block by block (flat memory for TextFSM) or text already in memory."""

    def __init__(self, *, path: Path | None = None, text: str | None = None) -> None:
        self.path, self._text = path, text

    @property
    def size(self) -> int:
        if self.path is not None:
            return self.path.stat().st_size
        return len((self._text or "").encode("utf-8", "surrogatepass"))

    def pieces(self) -> Iterator[str]:
        if self.path is None:
            yield from blocks(self._text or "")
            return
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        carry = ""
        with self.path.open("rb") as fh:
            while data := fh.read(BLOCK):
                text = carry + decoder.decode(data)
                cut = text.rfind("\n") + 1
                if cut:
                    yield text[:cut]
                carry = text[cut:]
        carry += decoder.decode(b"", final=True)
        if carry:
            yield carry

    def text(self) -> str:
        return "".join(self.pieces()) if self.path is not None else (self._text or "")


def _textfsm(platform: str, command: str, output: Output, sink: Sink) -> tuple[str, str]:
    match = find_template(platform, command)
    textfsm_parse(match, output.pieces(), sink.emit)
    return match.templates[0] if len(match.templates) == 1 else ":".join(match.templates), match.canonical


def _optional(which: str) -> Callable[[str, str, Output, Sink], tuple[str, str]]:
    run = ttp_parse if which == "ttp" else genie_parse

    def attempt(platform: str, command: str, output: Output, sink: Sink) -> tuple[str, str]:
        template, records = run(platform, command, output.text)
        for record in records:
            sink.emit(record)
        return template, command

    return attempt


_PARSERS = {"textfsm": _textfsm, "ttp": _optional("ttp"), "genie": _optional("genie")}


def parse_output(platform: str, command: str, output: Output, sink: Sink, choice: str = "auto",
                 max_bytes: int | None = DEFAULT_MAX_BYTES) -> ParseOutcome:
    """Parse `output` of `command` on `platform` into `sink`; the outcome says what answered or why none did."""
    started = time.perf_counter()
    out = ParseOutcome(choice=choice, command=command, platform=platform)
    try:
        _run(out, platform, command, output, sink, choice, max_bytes)
    except Exception as exc:  # a parser bug must never fail a run: it becomes the recorded reason
        sink.discard()
        out.parser, out.records = None, None
        out.reason = f"parser error: {type(exc).__name__}: {str(exc)[:200]}"
    out.seconds = round(time.perf_counter() - started, 6)
    return out


def _run(out: ParseOutcome, platform: str, command: str, output: Output, sink: Sink, choice: str,
         max_bytes: int | None) -> None:
    if choice not in CHOICES:
        out.reason = f"unknown parser {choice!r} (choose {', '.join(CHOICES)})"
        return
    if choice == "none":
        out.reason = "parse: none (the step asks for no parsing)"
        return
    out.bytes = output.size
    if max_bytes is not None and out.bytes > max_bytes:
        out.reason = f"output of {out.bytes:,} bytes is above the parse limit of {max_bytes:,} bytes (parse_max_size)"
        return
    cmd = resolve(platform, command)
    out.resolved = cmd.text
    if cmd.filtered is not None:
        out.reason = f"the output was filtered (| {cmd.filtered}): templates describe the whole output"
        return
    counter = _Counting(sink)
    for name in PARSERS if choice == "auto" else (choice,):
        try:
            out.template, out.resolved = _PARSERS[name](platform, cmd.text, output, counter)
        except (NoParser, ParseFailed) as exc:
            counter.discard()
            out.notes.append(f"{name}: {exc}")
            continue
        out.parser, out.records = name, counter.count
        return
    out.reason = "; ".join(out.notes) if out.notes else "no parser"
    out.notes = []


class _Counting:
    def __init__(self, sink: Sink) -> None:
        self.sink, self.count = sink, 0

    def emit(self, record: Any) -> None:
        self.sink.emit(record)
        self.count += 1

    def discard(self) -> None:
        self.sink.discard()
        self.count = 0


__all__ = ["DEFAULT_MAX_BYTES", "ListSink", "Output", "Sink", "parse_output"]
