"""The progress display's deadline thread: fires once per armed step that runs past the delay, never for a step
that ended or was replaced, and a thousand quick steps start one thread, not a thousand."""

from __future__ import annotations

import threading

from collector.ui.deadline import Deadline


def test_fires_for_the_step_still_running_after_the_delay() -> None:
    fired: list[int] = []
    done = threading.Event()
    d: Deadline[int] = Deadline(0.05, lambda t: (fired.append(t), done.set()))
    d.arm(7)
    assert done.wait(5)
    assert fired == [7]


def test_a_disarmed_or_replaced_step_never_fires() -> None:
    fired: list[int] = []
    last = threading.Event()
    d: Deadline[int] = Deadline(0.05, lambda t: (fired.append(t), last.set() if t == 3 else None))
    d.arm(1)
    d.disarm()
    d.arm(2)
    d.arm(3)  # replaces 2 before its deadline
    assert last.wait(5)
    assert fired == [3]


def test_many_quick_steps_start_one_thread() -> None:
    fired: list[int] = []
    d: Deadline[int] = Deadline(10.0, fired.append)
    before = threading.active_count()
    for i in range(1000):
        d.arm(i)
        d.disarm()
    assert threading.active_count() <= before + 1 and fired == []


def test_a_fake_clock_decides_when_it_is_due() -> None:
    now = [0.0]
    fired = threading.Event()
    d: Deadline[str] = Deadline(100.0, lambda t: fired.set(), clock=lambda: now[0])
    d.arm("x")
    assert not fired.wait(0.1)
    now[0] = 1000.0
    d.arm("y")  # re-armed against the new time: due at 1100
    assert not fired.wait(0.1)
    now[0] = 2000.0
    with d._cond:
        d._cond.notify()
    assert fired.wait(5)
