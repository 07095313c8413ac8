"""Opening a run directory says what it found: a run killed before its first journal record is named as such
(nothing to resume, start it again), anything else that is not a run directory says so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from collector.errors import StoreError
from collector.store.rundir import RunDir


def test_a_run_killed_before_its_journal_says_start_again(tmp_path: Path) -> None:
    run = tmp_path / "20261206T000000Z-r1-p"
    run.mkdir()
    (run / "run.json").write_text("{}")
    with pytest.raises(StoreError, match="stopped before it recorded anything") as err:
        RunDir.open(run)
    assert "collector run" in (err.value.hint or "")
    done = subprocess.run([sys.executable, "-m", "collector", "resume", str(run)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == StoreError.exit_code and "Traceback" not in done.stderr
    assert "nothing to resume" in done.stderr
    with pytest.raises(StoreError, match="is not a collector run directory"):
        RunDir.open(tmp_path)
