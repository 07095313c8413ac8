"""`--platform auto` end to end: log in knowing no platform, detect it, journal what was found and why, run the
detected platform's version of a library playbook (guard-checked first); a playbook for another platform, or a
refused command, stops the run before any step reaches the device."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collector.errors import GuardRefused, PlaybookError
from collector.platforms import AUTO, load_platform
from collector.playbook import load_playbook
from collector.playbook.library import SHIPPED
from collector.runner.autoplan import LibraryRetarget, PlaybookRetarget, placeholder
from collector.session.session import SETUP_IDLE
from tests.helpers.platform_rig import rig, run_steps
from tests.servers.sim_process import SIM_PASSWORD, start_sim

AUTO_CASES = [("fortinet", "ssh"), ("huawei", "ssh"), ("cisco_asa", "telnet"), ("extreme_exos", "telnet"),
              ("cisco_wlc", "ssh"), ("mikrotik_routeros", "telnet"), ("cisco_nxos", "ssh"), ("cisco_nxos", "telnet"),
              ("juniper_junos", "ssh"), ("juniper_junos", "telnet"), ("arista_eos", "ssh"), ("arista_eos", "telnet")]


def journal(run_dir: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(("name", "transport"), AUTO_CASES)
def test_auto_detects_and_runs_the_platforms_library_playbook(name: str, transport: str, tmp_path: Path) -> None:
    with rig(name, transport, page_length=6) as r:
        outcome = run_steps([], load_platform(AUTO), r.url, tmp_path,
                            retarget=LibraryRetarget("tac/high-cpu", {}, False))
        assert outcome.status == "ok", (outcome.status, outcome.error)
        events = journal(outcome.run_dir)
        detected = [e for e in events if e["event"] == "platform-detected"]
        assert len(detected) == 1 and detected[0]["platform"] == name and detected[0]["reason"]
        started = next(e for e in events if e["event"] == "run-started")
        # every probe ended at its prompt (EXOS counts commands in its prompt), none by an idle timeout
        assert detected[0]["mono"] - started["mono"] < SETUP_IDLE
        info = json.loads((outcome.run_dir / "run.json").read_text())
        assert info["platform"] == name and info["detection"]["reason"] == detected[0]["reason"]
        assert info["playbook"]["path"] == str((SHIPPED / name / "tac" / "high-cpu.yaml").resolve())
        steps = load_playbook(SHIPPED / name / "tac" / "high-cpu.yaml").model.steps
        assert [s.command for s in outcome.steps if s.kind == "show"] == [s.command for s in steps]  # type: ignore
        for rec in outcome.steps:
            if rec.kind == "show":
                assert rec.status == "ok" and rec.sha256 == r.expected(rec.command), rec.command
        assert r.device.settings == r.profile.settings  # e.g. FortiOS console paging set back


def test_a_playbook_for_another_platform_stops_before_any_step(tmp_path: Path) -> None:
    loaded = load_playbook(SHIPPED / "cisco_ios" / "tac" / "high-cpu.yaml")
    with rig("huawei", "ssh") as r:
        outcome = run_steps([], load_platform(AUTO), r.url, tmp_path, retarget=PlaybookRetarget(loaded, {}, False))
        assert outcome.status == "failed" and isinstance(outcome.error, PlaybookError)
        assert "the device is huawei, but the playbook is for cisco_ios" in outcome.error.message
        sent = [e["command"] for e in r.events.events() if e["kind"] == "command"]
        assert not any(c.startswith("show ") for c in sent), sent


def test_the_guard_checks_an_auto_playbook_for_the_detected_platform(tmp_path: Path) -> None:
    book = tmp_path / "auto.yaml"
    book.write_text("name: any\nplatform: auto\nsteps:\n  - display version\n  - reboot\n")
    with rig("huawei", "ssh") as r:
        outcome = run_steps([], load_platform(AUTO), r.url, tmp_path,
                            retarget=PlaybookRetarget(load_playbook(book), {}, False))
        assert outcome.status == "failed" and isinstance(outcome.error, GuardRefused)
        assert "reboot" not in [e["command"] for e in r.events.events() if e["kind"] == "command"]


def test_placeholder_names_the_run_directory() -> None:
    assert placeholder("tac/high-cpu").name == "tac-high-cpu"


def collector(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIM_PW": SIM_PASSWORD}
    return subprocess.run([sys.executable, "-m", "collector", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_collector_run_finds_a_library_playbook_by_name(tmp_path: Path) -> None:
    sim = start_sim(tmp_path, profile="fortinet", host_key=tmp_path / "key")
    try:
        base = ["--target", f"ssh://admin@127.0.0.1:{sim.port}", "--password-env", "SIM_PW", "--accept-new-host-key",
                "--known-hosts", str(tmp_path / "known_hosts"), "--runs-dir", str(tmp_path / "runs"),
                "--no-ssh-config", "--json"]
        which = collector("run", "tac/high-cpu", *base)
        assert which.returncode == 3 and "--platform" in which.stderr  # a library name needs a platform
        named = collector("run", "tac/high-cpu", "--platform", "fortinet", *base)
        assert named.returncode == 0, named.stderr
        detected = collector("run", "tac/memory", "--platform", "auto", *base)
        assert detected.returncode == 0, detected.stderr
        info = json.loads((Path(json.loads(detected.stdout)["run_dir"]) / "run.json").read_text())
        assert info["platform"] == "fortinet" and info["playbook"]["name"] == "tac-memory"
        assert "get system status" in sim.commands()  # how it was told
    finally:
        sim.stop()
