"""`collector resume RUN_DIR` as the interrupt hint says it: no credential option typed again.

run.json records where each credential came from (a variable name, a command, a prompt), never a value.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_cli_run import PLAYBOOK, collector
from tests.servers.sim_process import SIM_ENABLE, SIM_PASSWORD, SimProcess, start_sim


def interrupted_run(sim: SimProcess, tmp: Path) -> Path:
    """Start `collector run`, SIGTERM it while the big show tech streams; returns the run directory."""
    args = [sys.executable, "-m", "collector", "run", str(PLAYBOOK), "--target", f"ssh://admin@127.0.0.1:{sim.port}",
            "--password-env", "SIM_PW", "--enable-env", "SIM_EN", "--known-hosts", str(tmp / "known_hosts"),
            "--accept-new-host-key", "--runs-dir", str(tmp / "runs"), "--no-ssh-config", "--json"]
    env = dict(os.environ, SIM_PW=SIM_PASSWORD, SIM_EN=SIM_ENABLE)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        partial = list((tmp / "runs").glob("*/steps/*show-tech-support.txt.writing"))
        if partial and partial[0].stat().st_size > 1 << 20:
            break
        time.sleep(0.02)  # polling a file that another process writes
    proc.send_signal(signal.SIGTERM)
    out, errs = proc.communicate(timeout=60)
    assert proc.returncode == 130, errs
    return Path(json.loads(out)["run_dir"])


@pytest.fixture
def sim(tmp_path: Path) -> SimProcess:
    s = start_sim(tmp_path, show_tech_mb=64, host_key=tmp_path / "sim_host_key")
    yield s  # type: ignore[misc]
    s.stop()


def test_resume_reuses_how_credentials_were_given(sim: SimProcess, tmp_path: Path) -> None:
    run_dir = interrupted_run(sim, tmp_path)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["credentials"]["password"] == {"env": "SIM_PW", "command": None, "ask": False}
    assert info["credentials"]["enable"]["env"] == "SIM_EN"
    assert SIM_PASSWORD not in json.dumps(info) and SIM_ENABLE not in json.dumps(info)
    done = collector("resume", str(run_dir), "--json")
    assert done.returncode in (0, 5), done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] in ("ok", "completed-with-errors")
    assert all(s["status"] != "interrupted" for s in summary["steps"])


def test_options_given_to_resume_override_the_recorded_ones(sim: SimProcess, tmp_path: Path) -> None:
    run_dir = interrupted_run(sim, tmp_path)
    env = {"SIM_PW": "not-the-password", "OTHER_PW": SIM_PASSWORD}
    done = collector("resume", str(run_dir), "--password-env", "OTHER_PW", "--json", env=env)
    assert done.returncode in (0, 5), done.stderr
    info = json.loads((run_dir / "run.json").read_text())
    assert info["credentials"]["password"]["env"] == "OTHER_PW"


def test_a_recorded_prompt_without_a_terminal_says_how_to_give_it(sim: SimProcess, tmp_path: Path) -> None:
    run_dir = interrupted_run(sim, tmp_path)
    info = json.loads((run_dir / "run.json").read_text())
    info["credentials"]["password"] = {"env": None, "command": None, "ask": True}
    (run_dir / "run.json").write_text(json.dumps(info))
    done = subprocess.run([sys.executable, "-m", "collector", "resume", str(run_dir)], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert done.returncode == 2
    assert "--password-env" in done.stderr and "Traceback" not in done.stderr
