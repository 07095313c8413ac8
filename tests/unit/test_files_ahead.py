"""Step files created ahead on a background thread: a step takes one under its own `.writing` name, files never
taken are removed when the run closes or before a resume, their names never carry command text, and nothing
reads or bundles them. Every behaviour holds for nameless (O_TMPFILE) and named prepared files alike."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.secrets import Masker
from collector.store import ahead as ahead_module
from collector.store.ahead import PREFIX, FilesAhead, is_ahead, remove_stale
from collector.store.stepfile import StepFile


@pytest.fixture(autouse=True, params=["nameless", "named"])
def mode(request: pytest.FixtureRequest) -> Iterator[str]:
    """Runs each test with O_TMPFILE files (where this system has them) and with named `.ahead-` files."""
    if request.param == "named":
        saved = ahead_module.O_TMPFILE
        ahead_module.O_TMPFILE = 0
        yield request.param
        ahead_module.O_TMPFILE = saved
    else:
        yield request.param


def test_each_step_takes_a_prepared_file(tmp_path: Path) -> None:
    ahead = FilesAhead(tmp_path, 20, depth=4).start()
    for i in range(1, 21):
        _ready(ahead, 1)
        prepared = os.fstat(ahead._ready[0][0]).st_ino
        sink = StepFile(tmp_path / f"{i:03d}-step-{i}.txt", masker=Masker(), ahead=ahead)
        sink.open()
        assert sink.tmp.stat().st_ino == prepared
        sink.write(f"output {i}\n".encode())
        assert sink.finish().read_bytes() == f"output {i}\n".encode()
    ahead.close()
    assert sorted(os.listdir(tmp_path)) == [f"{i:03d}-step-{i}.txt" for i in range(1, 21)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
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


def _ready(ahead: FilesAhead, count: int) -> None:
    """Waits until `count` files are prepared (a condition, not a sleep)."""
    with ahead._cond:
        assert ahead._cond.wait_for(lambda: len(ahead._ready) >= count, timeout=30)


def test_nameless_files_leave_no_name_behind_until_taken(tmp_path: Path, mode: str) -> None:
    if mode != "nameless" or not ahead_module.O_TMPFILE:
        pytest.skip("named mode, or no O_TMPFILE here")
    ahead = FilesAhead(tmp_path, 5, depth=5).start()
    _ready(ahead, 5)
    assert os.listdir(tmp_path) == []  # five files exist, none has a name
    prepared = {os.fstat(fd).st_ino for fd, _ in ahead._ready}
    sink = StepFile(tmp_path / "001-a.txt", masker=Masker(), ahead=ahead)
    sink.open()
    assert os.listdir(tmp_path) == ["001-a.txt.writing"]
    assert (tmp_path / "001-a.txt.writing").stat().st_ino in prepared  # the prepared file, now named
    sink.finish()
    ahead.close()
    assert os.listdir(tmp_path) == ["001-a.txt"]


def test_a_process_killed_with_files_prepared_leaves_only_what_steps_took(tmp_path: Path, mode: str) -> None:
    code = f"""
        import os
        from pathlib import Path
        from collector.secrets import Masker
        from collector.store import ahead as m
        from collector.store.stepfile import StepFile
        m.O_TMPFILE = m.O_TMPFILE if {mode == "nameless"} else 0
        a = m.FilesAhead(Path({str(tmp_path)!r}), 6, depth=4).start()
        s = StepFile(Path({str(tmp_path)!r}) / "001-a.txt", masker=Masker(), ahead=a)
        s.write(b"half an output")
        s._fh.flush()
        with a._cond:
            a._cond.wait_for(lambda: len(a._ready) >= 3, timeout=30)
        os._exit(9)
    """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, timeout=60,
                          check=False)
    assert done.returncode == 9, done.stderr
    names = sorted(os.listdir(tmp_path))
    assert "001-a.txt.writing" in names and (tmp_path / "001-a.txt.writing").read_bytes() == b"half an output"
    if mode == "nameless" and ahead_module.O_TMPFILE:
        assert names == ["001-a.txt.writing"]
    remove_stale(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["001-a.txt.writing"]


def test_a_file_system_without_o_tmpfile_gets_named_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def refuse_tmpfile(path, flags, mode=0o777, **kw):  # type: ignore[no-untyped-def]
        if ahead_module.O_TMPFILE and flags & ahead_module.O_TMPFILE == ahead_module.O_TMPFILE:
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")
        return real_open(path, flags, mode, **kw)

    monkeypatch.setattr(ahead_module.os, "open", refuse_tmpfile)
    ahead = FilesAhead(tmp_path, 3, depth=3).start()
    _ready(ahead, 3)
    assert len([n for n in os.listdir(tmp_path) if is_ahead(n)]) == 3
    sink = StepFile(tmp_path / "001-a.txt", masker=Masker(), ahead=ahead)
    sink.write(b"out")
    assert sink.finish().read_bytes() == b"out"
    ahead.close()
    assert os.listdir(tmp_path) == ["001-a.txt"]


def test_a_file_that_cannot_be_named_is_replaced_by_the_steps_own(tmp_path: Path, mode: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """No /proc (the link refused), or a prepared file gone from the folder: the step creates its own file, and
    the prepared one leaves nothing."""
    ahead = FilesAhead(tmp_path, 4, depth=4).start()
    _ready(ahead, 4)
    if mode == "nameless" and ahead_module.O_TMPFILE:
        monkeypatch.setattr(ahead_module.os, "link", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOENT, "x")))
    else:
        for name in os.listdir(tmp_path):
            os.unlink(tmp_path / name)
    for i in range(1, 5):
        sink = StepFile(tmp_path / f"{i:03d}-a.txt", masker=Masker(), ahead=ahead)
        sink.write(b"out %d" % i)
        assert sink.finish().read_bytes() == b"out %d" % i
    ahead.close()
    assert sorted(os.listdir(tmp_path)) == [f"{i:03d}-a.txt" for i in range(1, 5)]


def test_a_relative_steps_folder_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "steps").mkdir()
    ahead = FilesAhead(Path("steps"), 3, depth=3).start()
    _ready(ahead, 3)
    prepared = {os.fstat(fd).st_ino for fd, _ in ahead._ready}
    for i in range(1, 4):
        sink = StepFile(Path("steps") / f"{i:03d}-a.txt", masker=Masker(), ahead=ahead)
        sink.write(b"out")
        assert sink.finish().stat().st_ino in prepared
    ahead.close()
    assert sorted(os.listdir(tmp_path / "steps")) == [f"{i:03d}-a.txt" for i in range(1, 4)]
