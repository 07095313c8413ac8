"""The one adapter type and the one retry block: every protocol is an `Adapter` run by `driver.deliver`, which
alone retries (bounded, only `Retryable`) and counts bytes at their offsets (re-sent = sent again below the
high-water mark)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import collector.upload as upload_pkg
from collector.errors import UploadError, UsageError
from collector.secrets import Secret
from collector.upload.common import Adapter, Job, Meter, Retryable, RunCounters, UploadOptions
from collector.upload.driver import deliver
from collector.upload.http_put import HttpPutAdapter
from collector.upload.parts import plan_parts
from collector.upload.progress import NullProgress
from collector.upload.sftp import SftpAdapter
from collector.upload.state import DestState
from collector.upload.tus import TusAdapter

PKG = Path(upload_pkg.__file__).parent


def test_the_three_protocols_are_adapters_with_the_base_signatures() -> None:
    for cls in (HttpPutAdapter, SftpAdapter, TusAdapter):
        assert issubclass(cls, Adapter)
        assert not getattr(cls, "__abstractmethods__", None), cls
        for name in ("open", "offset", "send", "finish", "close", "summary"):
            assert callable(getattr(cls, name))


def test_only_the_driver_retries() -> None:
    """tenacity (and any loop that catches Retryable to try again) lives in driver.py only."""
    users = []
    for path in sorted(PKG.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "tenacity":
                users.append(path.name)
            if isinstance(node, ast.ExceptHandler) and "Retryable" in ast.unparse(node.type or ast.Name("")):
                users.append(path.name)
    assert set(users) == {"driver.py"}


class Scripted(Adapter):
    """An in-memory server: `plan` lists, per attempt, how many bytes a send gets through before failing."""

    mode = "test"

    def __init__(self, job: Job, plan: list[object], unit: int) -> None:
        super().__init__(job)
        self.plan = plan
        self.unit = unit
        self.held = 0
        self.opens = 0
        self.closes = 0

    @property
    def label(self) -> str:
        return "mem://case/"

    def open(self) -> None:
        self.opens += 1
        step = self.plan[min(self.opens - 1, len(self.plan) - 1)]
        if isinstance(step, Exception):
            raise step

    def offset(self) -> int:
        return self.held

    def send(self, offset: int, meter: Meter) -> int:
        step = self.plan[min(self.opens - 1, len(self.plan) - 1)]
        size = min(self.unit, self.job.plan.bundle_size - offset)
        if isinstance(step, int) and step < size:
            meter.sent(step)  # the socket took `step` bytes, then the link broke
            raise Retryable("cut")
        meter.sent(size)
        self.held = offset + size
        return self.held

    def close(self) -> None:
        self.closes += 1


def _job(tmp_path: Path, size: int, retries: int) -> Job:
    f = tmp_path / "b.bin"
    f.write_bytes(b"x" * size)
    dest = DestState(url="mem://case/", scheme="https", case="1", part_size=0)
    opts = UploadOptions(case="1", token=Secret("tok"), retries=retries, backoff=0.0)
    return Job(f, plan_parts(f, size), dest, opts, save=lambda: None)


def test_a_cut_costs_the_bytes_sent_twice_and_nothing_else(tmp_path: Path) -> None:
    job = _job(tmp_path, 1000, retries=3)
    a = Scripted(job, [300, 10**9], unit=400)  # attempt 1: 400 + 300 then cut; attempt 2 resumes at 400
    c = RunCounters()
    deliver(a, job, c, NullProgress(), 0)
    assert job.dest.complete and a.held == 1000 and c.attempts_failed == 1
    assert (c.bytes_sent, c.bytes_resent, c.resumed_from, c.confirmed) == (1000 + 300, 300, 0, 1000)
    assert a.opens == a.closes == 2


def test_retries_are_bounded_and_say_so(tmp_path: Path) -> None:
    job = _job(tmp_path, 1000, retries=2)
    a = Scripted(job, [Retryable("reset")], unit=1000)
    with pytest.raises(UploadError) as ei:
        deliver(a, job, RunCounters(), NullProgress(), 0)
    assert a.opens == 3 and "failed after 3 attempts" in ei.value.message and "re-run" in ei.value.hint
    assert not job.dest.complete


def test_final_errors_are_not_retried(tmp_path: Path) -> None:
    job = _job(tmp_path, 1000, retries=5)
    a = Scripted(job, [UsageError("wrong URL")], unit=1000)
    with pytest.raises(UsageError):
        deliver(a, job, RunCounters(), NullProgress(), 0)
    assert a.opens == 1 == a.closes
