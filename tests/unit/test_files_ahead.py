"""Step files created ahead on a background thread: a step takes one under its own `.writing` name, files never
taken are removed when the run closes or before a resume, their names never carry command text, and nothing
reads or bundles them."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.secrets import Masker
from collector.store.ahead import PREFIX, FilesAhead, is_ahead, remove_stale
from collector.store.stepfile import StepFile


def test_each_step_takes_a_prepared_file(tmp_path: Path) -> None:
    ahead = FilesAhead(tmp_path, 20, depth=4).start()
    for i in range(1, 21):
        sink = StepFile(tmp_path / f"{i:03d}-step-{i}.txt", masker=Masker(), ahead=ahead)
        sink.write(f"output {i}\n".encode())
        assert sink.finish().read_bytes() == f"output {i}\n".encode()
    ahead.close()
    assert sorted(os.listdir(tmp_path)) == [f"{i:03d}-step-{i}.txt" for i in range(1, 21)]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 30), ran=st.integers(0, 30), depth=st.integers(1, 8))
def test_a_run_that_stops_anywhere_leaves_only_its_step_files(tmp_path_factory, n: int, ran: int,  # type: ignore[no-untyped-def]
                                                              depth: int) -> None:
    d = tmp_path_factory.mktemp("steps")
    ahead = FilesAhead(d, n, depth=depth).start()
    done = [f"{i:03d}-s.txt" for i in range(1, min(ran, n) + 1)]
    for name in done:
        sink = StepFile(d / name, masker=Masker(), ahead=ahead)
        sink.write(b"x")
        sink.finish()
    ahead.close()
    assert sorted(os.listdir(d)) == done


def test_a_prepared_name_never_carries_the_command_or_a_secret(tmp_path: Path) -> None:
    """The step's real name (masked) is given only when it is taken: a secret learnt later can never be in a
    prepared file's name."""
    masker = Masker(["hunter2"])
    ahead = FilesAhead(tmp_path, 3, depth=3).start()
    sink = StepFile(tmp_path / "001-show-user-hunter2.txt", masker=masker, ahead=ahead)
    sink.write(b"output")
    sink.finish()
    ahead.close()
    assert all("hunter2" not in name for name in os.listdir(tmp_path))


def test_files_a_killed_run_prepared_are_removed_before_a_resume(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"{PREFIX}{i:06d}").write_bytes(b"")
    (tmp_path / "001-step-1.txt.writing").write_bytes(b"half")  # a real attempt's file: salvage's business
    assert remove_stale(tmp_path) == 3
    assert os.listdir(tmp_path) == ["001-step-1.txt.writing"]
    ahead = FilesAhead(tmp_path, 2, depth=2).start()  # names a killed run left are skipped, never reused
    ahead.close()


def test_a_bundle_never_carries_a_prepared_file(tmp_path: Path) -> None:
    from collector.bundle.sources import run_sources
    from collector.store.rundir import RunDir

    rd = RunDir.create(tmp_path / "runs", "r1", "p")
    (rd.steps_dir / "001-a.txt").write_bytes(b"out")
    (rd.steps_dir / f"{PREFIX}000001").write_bytes(b"")
    names = [s.rel for s in run_sources(rd, "r1")]
    assert any(n.endswith("001-a.txt") for n in names) and not any(is_ahead(Path(n).name) for n in names)
