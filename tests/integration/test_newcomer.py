"""What a newcomer meets first: readable help, logging on every command, the user-mode hint, paths.

Each check here was a real stumble in a first-hour trial of collector.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from collector.cli import app
from tests.integration.test_cli_run import collector
from tests.servers.sim_process import SIM_ENABLE, start_sim

PLAYBOOK = Path(__file__).resolve().parents[2] / "playbooks" / "cisco_ios" / "tac-baseline.yaml"
QUIET = {"version", "schema", "platforms", "sim", "scheduler", "playbooks"}  # print data only, or run a server


def leaves(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if hasattr(cmd, "commands"):  # a group
        out = []
        for name, sub in cmd.commands.items():
            out += leaves(sub, (*path, name))
        return out
    return [(path, cmd)]


def test_every_working_command_takes_verbose_and_log_file() -> None:
    root = typer.main.get_command(app)
    missing = []
    for path, cmd in leaves(root):
        if path and path[0] in QUIET:
            continue
        names = {opt for p in cmd.params for opt in getattr(p, "opts", [])}
        if not {"--verbose", "--log-file"} <= names:
            missing.append(" ".join(path))
    assert missing == []


@pytest.mark.parametrize("command", ["run", "resume", "bundle", "upload", "validate", "schedule add"])
def test_help_is_plain_and_fits_80_columns(command: str) -> None:
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    done = subprocess.run([sys.executable, "-m", "collector", *command.split(), "--help"], capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "<bool>" not in text and "<str>" not in text and "…" not in text
    assert all(len(line) <= 80 for line in text.splitlines()), max(text.splitlines(), key=len)
    for option in re.findall(r"--[a-z][a-z-]+", text):  # every option name appears whole
        assert option.endswith(("-", "--")) is False


def test_user_mode_gets_one_hint_with_the_fix(tmp_path: Path) -> None:
    sim = start_sim(tmp_path, host_key=tmp_path / "k")
    try:
        args = ["run", str(PLAYBOOK), "--target", f"ssh://admin@127.0.0.1:{sim.port}", "--password-env", "SIM_PW",
                "--known-hosts", str(tmp_path / "kh"), "--accept-new-host-key", "--runs-dir",
                str(tmp_path / "runs"), "--no-ssh-config"]
        no_enable = collector(*args)
        assert no_enable.returncode == 5, no_enable.stderr
        assert no_enable.stderr.count("user mode") == 1 and "--enable-env" in no_enable.stderr
        unneeded = collector(*args, "--enable-env", "SIM_EN", "--json")  # given, used: no hint
        assert unneeded.returncode in (0, 5) and json.loads(unneeded.stdout)["hints"] == []
        assert "user mode" not in unneeded.stderr
    finally:
        sim.stop()
    assert SIM_ENABLE not in (no_enable.stdout + no_enable.stderr)


def test_collector_home_holds_every_own_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from collector import paths
    from collector.transports.ssh_hostkeys import default_own_known_hosts

    monkeypatch.setenv("COLLECTOR_HOME", str(tmp_path / "home"))
    assert paths.data_dir() == paths.config_dir() == paths.state_dir() == tmp_path / "home"
    assert default_own_known_hosts() == str(tmp_path / "home" / "known_hosts")
    monkeypatch.delenv("COLLECTOR_HOME")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert paths.state_dir() == tmp_path / "state" / "collector"
