"""Every journal event compares and prints exactly as a generated dataclass would (the same class and equal fields
are equal; every field is shown), and stays unhashable, now that one Event method serves them all."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.store.event_codec import KINDS, UnknownEvent
from collector.store.events import Event

CLASSES = sorted({*KINDS.values(), UnknownEvent}, key=lambda c: c.__name__)
VALUES = st.none() | st.integers() | st.text(max_size=5) | st.floats(allow_nan=True) | st.lists(st.integers(),
                                                                                               max_size=2)


def twin(cls: type[Event]) -> Any:
    """The same fields as a plain generated dataclass (eq and repr on)."""
    made = dataclasses.make_dataclass(cls.__name__, [(f.name, Any) for f in dataclasses.fields(cls)], kw_only=True)
    made.__qualname__ = cls.__qualname__
    return made


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_event_is_unhashable_like_a_dataclass(cls: type[Event]) -> None:
    assert cls.__hash__ is None


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_events_compare_and_print_as_generated_dataclasses(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(CLASSES))
    names = [f.name for f in dataclasses.fields(cls)]
    a = {n: data.draw(VALUES) for n in names}
    b = dict(a) if data.draw(st.booleans()) else {n: data.draw(VALUES) for n in names}
    ours_a, ours_b = cls(**a), cls(**b)
    ref = twin(cls)
    ref_a, ref_b = ref(**a), ref(**b)
    assert repr(ours_a) == repr(ref_a)
    assert (ours_a == ours_b) == (ref_a == ref_b)
    assert (ours_a == ours_a) and ours_a != object()
    for other in CLASSES:  # another class with the same fields and values is never equal (RunStarted/RunResumed)
        if other is not cls and {f.name for f in dataclasses.fields(other)} == set(names):
            assert ours_a != other(**a)
