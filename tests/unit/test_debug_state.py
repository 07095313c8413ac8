"""Debug is always switched off again, whatever abbreviation switched it on: one definition per platform.

The tracker journals debug-on before the command leaves; platforms without an all-off command (FRR) get the
negation of every debug command that was switched on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.platforms import load_platform
from collector.runner.debug_state import DebugTracker
from collector.session.command import CommandResult
from collector.store.journal import Journal, read_journal


class FakeSession:
    """Records what would be sent; every command succeeds at once."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def run(self, command: str, sink: object, *, idle_timeout: float) -> CommandResult:
        self.sent.append(command)
        return CommandResult(command=command, raw_start=0, raw_end=0)


@pytest.mark.parametrize("platform,command", [
    ("cisco_ios", "debu ip packet"), ("cisco_ios", "deb ip ospf adj"), ("cisco_ios", "DEBUG IP OSPF EVENTS"),
    ("arista_eos", "debug ip ospf"), ("cisco_nxos", "debug ip ospf adjacency"), ("frr", "debug zebra events"),
])
def test_any_abbreviation_of_debug_is_tracked_and_switched_off(tmp_path: Path, platform: str, command: str) -> None:
    p = load_platform(platform)
    journal = Journal(tmp_path / "journal.jsonl")
    tracker = DebugTracker(p, journal)
    tracker.about_to_send(command)
    assert tracker.on and journal.state.debug_active  # journaled before the command leaves
    session = FakeSession()
    tracker.switch_off(session, "cleanup")  # type: ignore[arg-type]
    assert session.sent == p.debug_off_for([command]) and session.sent
    assert not tracker.on and not journal.state.debug_active


@pytest.mark.parametrize("off", ["un all", "undeb all", "no deb all", "u all", "no debug all"])
def test_ios_debug_off_abbreviations_end_tracking(tmp_path: Path, off: str) -> None:
    tracker = DebugTracker(load_platform("cisco_ios"), Journal(tmp_path / "j.jsonl"))
    tracker.about_to_send("debug ip packet")
    tracker.sent(off, ok=True)
    assert not tracker.on


def test_frr_negates_each_debug_command_even_after_a_crash(tmp_path: Path) -> None:
    frr = load_platform("frr")
    path = tmp_path / "journal.jsonl"
    first = DebugTracker(frr, Journal(path))
    for cmd in ("debug zebra events", "debug bgp updates"):
        first.about_to_send(cmd)
    # a new process (resume) knows from the journal alone what to negate
    again = DebugTracker(frr, Journal(path))
    session = FakeSession()
    again.switch_off(session, "resume")  # type: ignore[arg-type]
    assert sorted(session.sent) == ["no debug bgp updates", "no debug zebra events"]
    kinds = [e["event"] for e in read_journal(path)]
    assert kinds.count("debug-on") == 2 and kinds[-1] == "debug-off"
