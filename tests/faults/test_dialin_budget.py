"""The redial budget: a run that spends it stops with a clear, resumable state (exit 15), and `collector resume`
continues from the pieces already fetched until the hashes equal the device's output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collector.errors import UsageError
from collector.runner.budget import DEFAULT_MODEM_REDIALS, RedialBudget, RedialBudgetSpent, budget_for
from collector.target import parse_target
from tests.faults.dialin_rig import (
    ENABLE,
    PASSWORD,
    DialinLine,
    events,
    expected,
    journal,
    linux_host,
    router,
    run,
    sent_commands,
    sha,
    step,
)

BPS, DROP_EVERY = 230_400, 1.2
PLAYBOOK = """\
name: dialin-budget
platform: cisco_ios
steps:
  - show version
  - command: show tech-support
    idle_timeout: 20s
"""


def collector(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AUX_PW=PASSWORD, AUX_EN=ENABLE)
    return subprocess.run([sys.executable, "-m", "collector", *args, "--password-env", "AUX_PW", "--enable-env",
                           "AUX_EN", "--json"], capture_output=True, text=True, env=env, timeout=300, check=False)


def test_budget_spent_stops_resumably_and_resume_completes_with_equal_hashes(tmp_path: Path) -> None:
    device = router(150_000, login="password")  # an AUX line password, as on a real router's modem port
    playbook = tmp_path / "dialin.yaml"
    playbook.write_text(PLAYBOOK)
    with DialinLine(device, BPS, drop_after_seconds=DROP_EVERY, redials=2) as line:
        first = collector("run", str(playbook), "--target", line.url(), "--runs-dir", str(tmp_path / "runs"))
        assert first.returncode == 15, first.stderr  # connection lost and not recovered: resumable
        summary = json.loads(first.stdout)
        assert summary["status"] == "failed" and "redial budget spent" in summary["error"]
        assert line.modem.dials == 3  # the first call and the two redials allowed, never more
        run_dir = Path(summary["run_dir"])
        before = sent_commands(line)
        records = [json.loads(x) for x in (run_dir / "journal.jsonl").read_text().splitlines()]
        damaged = events(records, "piece-completed")[1]  # a piece file that no longer matches its record
        (run_dir / damaged["file"]).write_bytes(b"torn\n")
        line.quiet()
        second = collector("resume", str(run_dir))
        after = sent_commands(line)[len(before):]
    assert second.returncode == 0, second.stderr
    resumed = json.loads(second.stdout)
    tech = next(s for s in resumed["steps"] if s["command"] == "show tech-support")
    data = (run_dir / tech["file"]).read_bytes()
    assert sha(data) == tech["sha256"] == expected(device, "show tech-support")
    records = [json.loads(x) for x in (run_dir / "journal.jsonl").read_text().splitlines()]
    stopped = events(records, "step-interrupted", step=2)
    assert stopped and "redial budget spent" in stopped[0]["cause"]
    first_run = [e for e in records[: records.index(events(records, "run-resumed")[0])]
                 if e["event"] == "piece-completed"]
    assert first_run, "the first run kept finished sections"
    for piece in first_run:  # the resume continued from them: never fetched again (but the damaged one)
        assert (piece["command"] in after) == (piece["piece"] == damaged["piece"]), piece["command"]
    assert "show tech-support | include ^-+ show" not in after  # the plan came from the journal
    assert len(events(records, "pieces-planned")) == 1


def test_a_staged_file_waits_for_the_resume_when_the_budget_is_spent(tmp_path: Path) -> None:
    from collector.credentials import Credentials
    from collector.platforms import load_platform
    from collector.runner.runner import Runner, RunOptions
    from collector.secrets import Secret
    from collector.transports.base import ConnectOptions

    host = linux_host()
    command = "cat /collector/blob 120000"
    steps = [step(1, command, may_change=True)]
    with DialinLine(host, BPS, drop_after_seconds=DROP_EVERY, redials=2) as line:
        outcome = run(steps, line.url(), tmp_path, platform="linux", allow_changes=True)
        assert outcome.status == "cleanup-pending" and outcome.error is not None and outcome.error.exit_code == 15
        (path,) = host.files.files  # left for the resume: it continues from it rather than staging again
        line.quiet()
        creds = Credentials(username="admin", password=Secret(PASSWORD))
        resumed = Runner(steps, load_platform("linux"), parse_target(line.url()), ConnectOptions(credentials=creds),
                         RunOptions(runs_dir=tmp_path / "runs"), playbook_info={"name": "dialin"}
                         ).resume(outcome.run_dir)
        sent = sent_commands(line)
    assert resumed.status == "ok", resumed.error
    (rec,) = resumed.steps
    assert sha((resumed.run_dir / rec.file).read_bytes()) == rec.sha256 == expected(host, command)
    assert line.events.count("file-write") == 1 and host.files.files == {}
    fetches = [int(c.split()[2][1:]) for c in sent if c.startswith("tail -c +")]
    assert fetches == sorted(fetches) and fetches[-1] > 1  # the resumed fetch started after the bytes kept
    assert events(journal(resumed), "staged-removed", path=path)


def test_cleanup_may_still_dial_to_switch_debug_off(tmp_path: Path) -> None:
    """A spent budget stops collecting, but a device left debugging is worse: cleanup dials (bounded) for it.

    (Any redial switches debug off, so debug is still on only when the budget refused that very redial.)"""
    device = router(150_000)
    with DialinLine(device, BPS, drop_after_seconds=DROP_EVERY, redials=0) as line:
        outcome = run([step(1, "debug ip ospf adj"), step(2, "show tech-support")], line.url(), tmp_path)
        sent = sent_commands(line)
        dials = line.modem.dials
    assert outcome.status == "failed" and outcome.error is not None and outcome.error.exit_code == 15
    assert dials == 2 and "undebug all" in sent[sent.index("show tech-support | include ^-+ show"):]
    records = journal(outcome)
    assert events(records, "cleanup-completed") and events(records, "debug-off")


def test_the_budget_counts_every_dial_and_refuses_one_more() -> None:
    dialled: list[str] = []
    budget = RedialBudget(2)
    dial = budget.wrap(lambda target, options: dialled.append(target.path) or None)  # type: ignore[func-returns-value,return-value]
    target = parse_target("modem:///dev/ttyS0?number=1")
    for _ in range(3):
        dial(target, None)  # type: ignore[arg-type]
    with pytest.raises(RedialBudgetSpent) as exc:
        dial(target, None)  # type: ignore[arg-type]
    assert exc.value.exit_code == 15 and not exc.value.retryable and len(dialled) == 3
    exempt = RedialBudget(0, exempt=lambda: True)
    dial = exempt.wrap(lambda target, options: None)  # type: ignore[arg-type,return-value]
    for _ in range(3):
        dial(target, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("url", "want"), [
    ("modem:///dev/ttyS0?number=1", DEFAULT_MODEM_REDIALS),
    ("modem:///dev/ttyS0?number=1&redials=0", 0),
    ("ssh://r1", None),
    ("ssh://r1?redials=3", 3),
])
def test_budget_for_targets(url: str, want: int | None) -> None:
    assert budget_for(parse_target(url)) == want


@pytest.mark.parametrize("bad", ["-1", "x", "1.5", ""])
def test_a_bad_budget_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError, match="redials"):
        budget_for(parse_target(f"modem:///dev/ttyS0?number=1&redials={bad}"))


def test_a_bad_budget_fails_the_run_cleanly_before_any_dial(tmp_path: Path) -> None:
    with DialinLine(router(10_000), BPS) as line:
        outcome = run([step(1, "show clock")], line.url(redials="many"), tmp_path)
        dials = line.modem.dials
    assert outcome.status == "failed-before-start" and isinstance(outcome.error, UsageError)
    assert outcome.error.exit_code == 2
    assert "redials" in outcome.error.message and dials == 0
