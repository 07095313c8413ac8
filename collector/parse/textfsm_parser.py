"""Runs TextFSM templates over an output block by block, handing each record on as soon as it is complete.

Memory stays flat for large outputs (a BGP table): finished records leave the FSM after every block, unless a
template fills values upwards (`Fillup`) or merges several templates, which need the whole table at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .ntc_index import TemplateMatch
from .outcome import ParseFailed

Record = dict[str, Any]
BLOCK = 1 << 20  # characters handed to the FSM at a time (cut at a line end)


def blocks(text: str, size: int = BLOCK) -> Iterator[str]:
    """`text` in pieces of about `size` characters that end at a newline (the last may not)."""
    start = 0
    while start < len(text):
        end = text.find("\n", min(start + size, len(text)) - 1)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _fsm(path: Path) -> Any:
    import textfsm

    try:
        with path.open(encoding="utf-8") as fh:
            return textfsm.TextFSM(fh)
    except (OSError, textfsm.TextFSMTemplateError) as exc:
        raise ParseFailed(f"template {path.name} cannot be used: {exc}") from None


def _streamable(fsm: Any) -> bool:
    if not isinstance(getattr(fsm, "_result", None), list):  # textfsm keeps finished records there
        return False
    return not any("Fillup" in v.OptionNames() for v in fsm.values)


def _rows(fsm: Any, pieces: Iterable[str], emit: Callable[[list[Any]], None]) -> None:
    import textfsm

    stream = _streamable(fsm)
    try:
        for piece in pieces:
            fsm.ParseText(piece, eof=False)
            if stream:
                for row in fsm._result:
                    emit(row)
                fsm._result.clear()
            if fsm._cur_state_name in ("End", "EOF"):
                break
        for row in fsm.ParseText("", eof=True):
            emit(row)
    except textfsm.TextFSMError as exc:
        raise ParseFailed(f"the template rejected the output: {str(exc).splitlines()[0][:300]}") from None


def parse(match: TemplateMatch, pieces: Iterable[str], emit: Callable[[Record], None]) -> None:
    """Parse the output given as `pieces` (blocks ending at line ends) with the matched template(s).

    Keys are the template's value names in lower case (as ntc-templates and netmiko return them).
    """
    if len(match.templates) > 1:
        _merged(match, "".join(pieces), emit)
        return
    fsm = _fsm(match.template_dir / match.templates[0])
    header = [h.lower() for h in fsm.header]
    _rows(fsm, pieces, lambda row: emit(dict(zip(header, row, strict=True))))


def _merged(match: TemplateMatch, text: str, emit: Callable[[Record], None]) -> None:
    """Rows naming several templates: textfsm's CliTable merges their tables by the templates' Key values."""
    import textfsm
    from textfsm import clitable

    table = clitable.CliTable("index", str(match.template_dir))
    try:
        table.ParseCmd(text, templates=":".join(match.templates))
    except (clitable.CliTableError, textfsm.TextFSMError, textfsm.TextFSMTemplateError) as exc:
        raise ParseFailed(f"the templates rejected the output: {str(exc).splitlines()[0][:300]}") from None
    header = [h.lower() for h in table.header]
    for row in table:
        emit(dict(zip(header, list(row), strict=True)))


__all__ = ["BLOCK", "Record", "blocks", "parse"]
