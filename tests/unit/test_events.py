"""Typed journal events: every class round-trips through its JSON record, unknown records never break a fold."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from collector.store import events as ev
from collector.store.event_codec import KINDS, UnknownEvent, from_record, to_record
from collector.store.journal import Journal, read_events
from collector.store.records import fold


def sample(cls: type[ev.Event]) -> ev.Event:
    """An instance with a plausible value in every field."""
    hints = typing.get_type_hints(cls)
    values: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        if f.name in ("ts", "mono"):
            continue
        t = str(hints[f.name])
        values[f.name] = (1 if "int" in t and "str" not in t else 1.5 if "float" in t else True if "bool" in t
                          else ["x"] if "list" in t else {"k": "v"} if "dict" in t else "show" if f.name ==
                          "kind_of_step" else "text")
    return cls(**values)  # type: ignore[arg-type]


def test_every_event_round_trips() -> None:
    assert len(KINDS) >= 35
    for name, cls in KINDS.items():
        event = sample(cls)
        record = to_record(event)
        assert record["event"] == name
        back = from_record(record)
        assert type(back) is cls and back.fields() == event.fields(), name


def test_unknown_and_foreign_records_are_kept_not_folded(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    j = Journal(path)
    j.write(ev.RunStarted(target="ssh://r1", steps=1, cleanup_steps=0))
    j.close()
    with path.open("a") as fh:
        fh.write('{"event": "from-the-future", "x": 1}\n{"event": "step-completed"}\n{"torn": \n')
    events = list(read_events(path))
    assert [type(e) for e in events] == [ev.RunStarted, UnknownEvent, UnknownEvent]
    assert fold(events).target == "ssh://r1"
