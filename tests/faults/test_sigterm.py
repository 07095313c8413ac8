"""SIGTERM (and Ctrl-C) in the middle of a run: the step is kept as partial, cleanup runs, exit 130, resume ends it."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from collector.sim.ssh_server import SimSSHServer
from collector.store.journal import read_journal
from tests.faults.harness import ENABLE, PASSWORD, make_harness


def test_sigterm_runs_cleanup_then_resume_completes(tmp_path: Path) -> None:
    h = make_harness(show_tech_bytes=64 << 20)
    pb = tmp_path / "pb.yaml"
    pb.write_text("name: term\nplatform: cisco_ios\nsteps:\n  - show version\n  - terminal monitor\n"
                  "  - debug ip ospf adj\n  - show tech-support\n  - show clock\ncleanup:\n  - terminal no monitor\n")
    env = dict(os.environ, PW=PASSWORD, EN=ENABLE)
    common = ["--password-env", "PW", "--enable-env", "EN", "--known-hosts", str(tmp_path / "kh"), "--json"]
    with SimSSHServer(h.profile, users={"admin": PASSWORD}) as srv:
        proc = subprocess.Popen(
            [sys.executable, "-m", "collector", "run", str(pb), "--target", f"ssh://admin@127.0.0.1:{srv.port}",
             "--runs-dir", str(tmp_path / "runs"), "--accept-new-host-key", *common],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        run_dir = None
        while time.monotonic() < deadline:  # wait until the show tech is streaming
            dirs = list((tmp_path / "runs").glob("*")) if (tmp_path / "runs").exists() else []
            if dirs and any(e["event"] == "step-started" and e["step"] == 4
                            for e in read_journal(dirs[0] / "journal.jsonl")):
                run_dir = dirs[0]
                break
            time.sleep(0.005)
        assert run_dir is not None
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        journal = list(read_journal(run_dir / "journal.jsonl"))
        kinds = [e["event"] for e in journal]
        assert "step-interrupted" in kinds and "cleanup-completed" in kinds
        assert journal[-1]["event"] == "run-ended" and journal[-1]["status"] == "interrupted"
        # debug was switched off during cleanup, before the playbook's own cleanup step
        sent = [e["command"] for e in journal if e["event"] == "debug-off-sent"]
        assert sent[:1] == ["undebug all"]
        assert srv.events.commands().count("undebug all") == 1

        done = subprocess.run([sys.executable, "-m", "collector", "resume", str(run_dir), *common], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    tech = next(s for s in summary["steps"] if s["command"] == "show tech-support")
    data = (run_dir / tech["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == h.expected["show tech-support"]
    assert len(tech["attempts"]) == 2 and tech["attempts"][0]["status"] == "interrupted"
