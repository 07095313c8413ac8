"""Dial-in recovery by sections: a show tech several times longer than any call completes over a modem line
that drops every call, byte for byte, with a record of how it was assembled.

The line runs at 230400 bps (23 KB/s) with a drop every 1.2 s: the same shape as 9600 bps with a drop every
30 s, 24 times faster (benchmarks/dialin_bench.py runs the real rates).
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from collector.bundle import build_bundle
from collector.platforms import load_platform
from collector.playbook.guard import check_command
from collector.sim.device import SimDevice
from collector.sim.events import EventLog
from collector.sim.profile import DeviceProfile, LoginDialog
from collector.sim.showtech import SEPARATOR
from collector.sim.telnet_server import SimTelnetServer
from tests.faults.dialin_rig import (
    DialinLine,
    Recorder,
    events,
    expected,
    journal,
    router,
    run,
    sent_commands,
    sha,
    step,
)
from tests.servers.fault_proxy import DOWN, FaultProxy

BPS, DROP_EVERY, SHOW_TECH = 230_400, 1.2, 120_000
SESSION_COMMANDS = {"enable", "terminal length 0", "terminal width 511", "exit"}  # login, setup, logout


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One run over the dropping line, shared by the tests below (each checks one property of it)."""
    tmp = tmp_path_factory.mktemp("sections")
    device = router(SHOW_TECH)
    obs = Recorder()
    with DialinLine(device, BPS, drop_after_seconds=DROP_EVERY) as line:
        outcome = run([step(1, "show version"), step(2, "show tech-support")], line.url(), tmp, observer=obs)
        sent = sent_commands(line)
        drops = line.events.events("modem-carrier-drop")
    return {"outcome": outcome, "device": device, "obs": obs, "sent": sent, "drops": drops,
            "journal": journal(outcome), "tmp": tmp}


def test_a_show_tech_longer_than_any_call_completes_byte_for_byte(recovered: dict) -> None:
    outcome, device = recovered["outcome"], recovered["device"]
    assert outcome.status == "ok", outcome.error
    tech = next(r for r in outcome.steps if r.command == "show tech-support")
    data = (outcome.run_dir / tech.file).read_bytes()
    assert sha(data) == tech.sha256 == expected(device, "show tech-support")
    longest_call = max(d["after_seconds"] for d in recovered["drops"])
    assert longest_call <= DROP_EVERY + 0.3
    assert tech.assembly["seconds"] >= 3 * longest_call  # the step outlasts every call several times
    assert tech.assembly["drops"] >= 3 and tech.assembly["calls"] == tech.assembly["drops"] + 1


def test_the_step_file_reads_like_the_show_tech_and_each_section_ran_alone(recovered: dict) -> None:
    outcome, device, sent = recovered["outcome"], recovered["device"], recovered["sent"]
    tech = next(r for r in outcome.steps if r.command == "show tech-support")
    layout = device.tech()
    assert layout is not None
    titles = [s.title for s in layout.sections]
    assert tech.plan is not None and tech.plan["pieces"] == titles and tech.plan["learnt_from"] == "list-command"
    data = (outcome.run_dir / tech.file).read_bytes()
    positions = [data.find(SEPARATOR.format(title=t).encode()) for t in titles]
    assert positions == sorted(positions) and positions[0] == 0  # every header kept, in order
    for piece in tech.pieces:  # each section's bytes sit at its offset, and its receive time is recorded
        assert piece.status == "ok" and piece.received_at
        assert data[piece.offset:piece.offset + piece.bytes].startswith(SEPARATOR.format(title=piece.command).encode())
    assert "show tech-support" not in sent  # never the whole command: its parts, and the header listing
    assert "show tech-support | include ^-+ show" in sent


def test_progress_in_one_call_is_never_thrown_away(recovered: dict) -> None:
    outcome, sent, records = recovered["outcome"], recovered["sent"], recovered["journal"]
    tech = next(r for r in outcome.steps if r.command == "show tech-support")
    completed = events(records, "piece-completed", step=tech.step)
    assert sorted(e["piece"] for e in completed) == list(range(len(tech.plan["pieces"])))  # each exactly once
    cut = events(records, "piece-interrupted", step=tech.step)
    assert cut, "the line dropped mid-section at least once"
    by_parts = sent[sent.index("show tech-support | include ^-+ show") + 1 :]
    for piece in tech.pieces:  # a section is sent again only after a drop cut it, never after it completed
        assert by_parts.count(piece.command) == 1 + piece.interruptions
    assert tech.assembly["refetched"] == sum(e["bytes"] for e in cut)
    left = sorted(p.name for p in (outcome.run_dir / f"{tech.file}.pieces").iterdir())
    assert left == sorted(Path(e["partial_file"]).name for e in cut)  # only the cut tries stay, as records


def test_every_command_sent_passes_the_read_only_guard(recovered: dict) -> None:
    platform = load_platform("cisco_ios")
    for command in set(recovered["sent"]) - SESSION_COMMANDS:
        assert check_command(command, platform).allowed, command


def test_the_line_never_idles_between_pieces(recovered: dict) -> None:
    tech = next(r for r in recovered["outcome"].steps if r.command == "show tech-support")
    gaps = [p.gap for p in tech.pieces if p.gap is not None]
    assert len(gaps) >= len(tech.pieces) // 2
    assert max(gaps) < 0.25 and sum(gaps) < 0.05 * tech.assembly["seconds"]


def test_progress_shows_bytes_rate_drops_and_an_eta(recovered: dict) -> None:
    reports = [p for p in recovered["obs"].progress if p.step == 2]
    tech = next(r for r in recovered["outcome"].steps if r.command == "show tech-support")
    assert len(reports) == len(tech.pieces)
    assert [p.fetched for p in reports] == sorted(p.fetched for p in reports)
    assert reports[-1].fetched == tech.bytes and reports[-1].eta == 0
    after_drop = [p for p in reports if p.drops and p.fetched < tech.bytes // 2]
    assert after_drop and all(p.rate and p.rate > 1000 and p.eta and p.eta > 0 for p in after_drop)
    drops = [p.drops for p in reports]
    assert drops == sorted(drops) and drops[-1] == tech.assembly["drops"]


def test_the_manifest_records_calls_drops_redial_waits_and_goodput(recovered: dict) -> None:
    outcome, tmp = recovered["outcome"], recovered["tmp"]
    result = build_bundle([outcome.run_dir], tmp / "bundles")
    with tarfile.open(result.path) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("manifest.json"))
        handle = tar.extractfile(member)
        assert handle is not None
        manifest = json.load(handle)
    tech = next(s for r in manifest["runs"] for s in r["steps"] if s["command"] == "show tech-support")
    assembly = tech["assembly"]
    for key in ("calls", "drops", "redial_seconds", "goodput", "received", "refetched", "seconds", "line_rate"):
        assert key in assembly, key
    assert assembly["plan"]["strategy"] == "sections" and assembly["goodput"] > 0
    assert len(tech["pieces"]) == len(assembly["plan"]["pieces"]) and all(p["received_at"] for p in tech["pieces"])


def test_a_drop_during_the_whole_command_keeps_the_sections_already_received(tmp_path: Path) -> None:
    """A fast line (Telnet) cut mid show tech: the next attempt keeps the complete sections and fetches the rest."""
    device = router(SHOW_TECH)
    with SimTelnetServer(device.profile) as srv, FaultProxy("127.0.0.1", srv.port) as proxy:
        proxy.cut_after_bytes(70_000, DOWN)
        outcome = run([step(1, "show tech-support")], f"telnet://admin@127.0.0.1:{proxy.port}", tmp_path)
        sent = srv.events.commands()
    assert outcome.status == "ok", outcome.error
    (tech,) = outcome.steps
    assert sha((outcome.run_dir / tech.file).read_bytes()) == tech.sha256 == expected(device, "show tech-support")
    reused = [p for p in tech.pieces if p.status == "reused"]
    assert reused and tech.plan["reused"] == len(reused)
    for piece in reused:
        assert piece.command not in sent  # kept from the cut attempt, never fetched again
    assert sent.count("show tech-support") == 1


def test_a_section_list_that_is_not_plain_show_commands_runs_the_whole_command(tmp_path: Path) -> None:
    """The section list is device text: one header that is no plain read-only show command, and nothing is sent
    from it; the step runs whole instead (even with `resume: skip`: declining is not an interruption)."""
    profile_dir = tmp_path / "odd_router"
    profile_dir.mkdir()
    (profile_dir / "device.yaml").write_text("platform: cisco_ios\nhostname: R9\n")
    tech = ("\n------------------ show clock ------------------\n\n*10:00:00.000 UTC Mon Nov 27 2026\n"
            "\n------------------ show run | redirect flash:x ------------------\n\nhostname R9\n")
    (profile_dir / "show tech-support.txt").write_text(tech)
    device = SimDevice(DeviceProfile.load(profile_dir, login=LoginDialog(mode="username-password", banner="")),
                       EventLog())
    with DialinLine(device, BPS) as line:
        outcome = run([step(1, "show tech-support", resume="skip")], line.url(), tmp_path)
        sent = sent_commands(line)
    assert outcome.status == "ok", outcome.error
    (rec,) = outcome.steps
    assert rec.sha256 == sha(tech.encode()) and rec.plan is None
    (declined,) = events(journal(outcome), "step-interrupted")
    assert "not fetched by parts" in declined["cause"] and "redirect" in declined["cause"]
    assert sent.count("show tech-support") == 1
    assert "show run | redirect flash:x" not in sent and "show clock" not in sent


def test_the_progress_display_shows_drops_rate_and_eta(recovered: dict) -> None:
    """The CLI's progress line for a step fetched by pieces (device text is escaped, never markup)."""
    from rich.console import Console

    from collector.ui.progress import RichObserver

    console = Console(record=True, width=160, force_terminal=True)  # the live bar is drawn on terminals only
    obs = RichObserver(console)
    report = next(p for p in recovered["obs"].progress if p.drops and p.eta)
    report = replace(report, name="show tech [bold]x[/]")
    obs.run_started("runs/x", "modem:///dev/ttyS0", 1)
    obs.step_started(2, "show tech")
    obs.line_progress(report)
    obs._bar().refresh()  # a slow line shows its bar at once, before any timer
    obs.run_finished("ok")
    text = console.export_text()
    assert f"drops {report.drops}" in text and "B/s" in text and "ETA " in text and "ETA ?" not in text
    assert "[bold]x[/]" in text  # shown as typed
