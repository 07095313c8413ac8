"""Step files created ahead on a background thread: a step takes its file under its own `.writing` name, files
never taken are removed when the run closes or before a resume, and nothing reads or bundles them."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.secrets import Masker
from collector.store.ahead import FilesAhead, ahead_path, remove_stale
from collector.store.stepfile import StepFile


def tmps(d: Path, n: int) -> list[Path]:
    return [StepFile.temp_path(d / f"{i:03d}-step-{i}.txt", Masker()) for i in range(1, n + 1)]


def test_each_step_takes_its_prepared_file(tmp_path: Path) -> None:
    paths = tmps(tmp_path, 20)
    ahead = FilesAhead(paths, depth=4).start()
    for i in range(1, len(paths) + 1):
        sink = StepFile(tmp_path / f"{i:03d}-step-{i}.txt", masker=Masker(), ahead=ahead)
        sink.write(f"output {i}\n".encode())
        assert sink.finish().read_bytes() == f"output {i}\n".encode()
    ahead.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name.removesuffix(".writing") for p in paths)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 30), ran=st.integers(0, 30), depth=st.integers(1, 8))
def test_a_run_that_stops_anywhere_leaves_only_its_step_files(tmp_path_factory, n: int, ran: int,  # type: ignore[no-untyped-def]
                                                              depth: int) -> None:
    d = tmp_path_factory.mktemp("steps")
    paths = tmps(d, n)
    ahead = FilesAhead(paths, depth=depth).start()
    done = paths[: min(ran, n)]
    for p in done:
        sink = StepFile(p.with_name(p.name.removesuffix(".writing")), masker=Masker(), ahead=ahead)
        sink.write(b"x")
        sink.finish()
    ahead.close()
    left = sorted(os.listdir(d))
    assert left == sorted(p.name.removesuffix(".writing") for p in done)


def test_a_step_not_prepared_opens_its_own_file(tmp_path: Path) -> None:
    ahead = FilesAhead([], depth=2).start()
    sink = StepFile(tmp_path / "001-a.txt", masker=Masker(), ahead=ahead)
    sink.write(b"y")
    assert sink.finish().read_bytes() == b"y"
    ahead.close()


def test_files_a_killed_run_prepared_are_removed_before_a_resume(tmp_path: Path) -> None:
    for p in tmps(tmp_path, 3):
        ahead_path(p).write_bytes(b"")
    (tmp_path / "001-step-1.txt.writing").write_bytes(b"half")  # a real attempt's file: salvage's business
    assert remove_stale(tmp_path) == 3
    assert os.listdir(tmp_path) == ["001-step-1.txt.writing"]


def test_a_bundle_never_carries_a_prepared_file(tmp_path: Path) -> None:
    from collector.bundle.sources import run_sources
    from collector.store.rundir import RunDir

    rd = RunDir.create(tmp_path / "runs", "r1", "p")
    (rd.steps_dir / "001-a.txt").write_bytes(b"out")
    ahead_path(rd.steps_dir / "002-b.txt.writing").write_bytes(b"")
    names = [s.rel for s in run_sources(rd, "r1")]
    assert any(n.endswith("001-a.txt") for n in names) and not any(".ahead" in n for n in names)
