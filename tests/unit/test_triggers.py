"""Triggers: a match fires, debounce ignores repeats for a while after a run, max_runs caps the total."""

from __future__ import annotations

from collector.playbook.schema import Trigger
from collector.runner.triggers import Triggers

FLAP = "%OSPF-5-ADJCHG: Process 1, Nbr 10.0.12.2 from FULL to DOWN"


def trig(**kw: object) -> Trigger:
    data: dict[str, object] = {"match": "ADJCHG", "run": ["show ip ospf neighbor"]}
    data.update(kw)
    return Trigger.model_validate(data)


def test_fires_on_match_only() -> None:
    t = Triggers([trig()])
    assert t.check("OSPF hello", 0.0) == []
    fired = t.check(FLAP, 0.0)
    assert len(fired) == 1 and fired[0].run == 1 and fired[0].trigger.number == 1
    assert t.fired == 1


def test_debounce_counts_from_the_end_of_the_run() -> None:
    t = Triggers([trig(debounce="10s", max_runs=5)])
    f = t.check(FLAP, 0.0)[0]
    assert t.check(FLAP, 1.0) == []  # while the run is in progress / just after
    t.done(f, 4.0)  # the commands took 4 s
    assert t.check(FLAP, 13.9) == []
    assert len(t.check(FLAP, 14.0)) == 1
    assert t.states[0].ignored == 2


def test_max_runs() -> None:
    t = Triggers([trig(debounce=0, max_runs=3)])
    runs = [f.run for n in range(10) for f in t.check(FLAP, float(n))]
    assert runs == [1, 2, 3]
    assert t.states[0].exhausted and t.states[0].ignored == 7


def test_several_triggers_are_independent() -> None:
    t = Triggers([trig(match="FULL to DOWN", max_runs=1), trig(match="ADJCHG", debounce=0, max_runs=2)])
    first = t.check(FLAP, 0.0)
    assert [f.trigger.number for f in first] == [1, 2]
    second = t.check(FLAP, 1.0)
    assert [f.trigger.number for f in second] == [2]
    assert t.check(FLAP, 2.0) == [] and t.fired == 3


def test_no_triggers_is_falsy() -> None:
    assert not Triggers([])
