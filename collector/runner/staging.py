"""A large output on a shell, staged on the device and fetched from byte offsets after each drop.

Only for a step the playbook lets change the device, with --allow-changes: the command's output is written to a
temporary file (random name, mode 0600, never over an existing file), its size read, then fetched with the
platform's offset command; after a drop the next call continues from the bytes kept, proven by the 4 KiB overlap
check of offset_resume. The file is removed at the end of the step; cleanup removes any left behind.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from ..errors import ConnectionLost
from ..platforms import Staging
from ..session.command import CommandInterrupted, CommandResult, NullSink
from ..session.session import Session
from ..store.dialin_events import OutputStaged, PieceCompleted, PiecesPlanned, StagedRemoved
from ..store.events import OffsetResumeFailed
from ..store.journal import Journal
from ..store.stepfile import StepFile
from . import offset_resume
from .pieces import PieceRun

STAGE_QUIET = 600.0  # the stage command prints nothing while the device writes: allowed silence (or max_time)
CUT_MARGIN = 512  # a cut fetch ends in what the line made of the drop (the modem's NO CARRIER, noise): never kept
_SIZE = re.compile(rb"^\s*(\d{1,15})\s*$")
_FILE = "staged.txt"


class _Capture:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data[: max(0, 4096 - len(self.data))]


def trim_cut(path: Path, margin: int = CUT_MARGIN) -> int:
    """Shorten a cut fetch to the last line end at least `margin` bytes before its end; returns the new size."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        start = max(0, size - margin - 8192)
        fh.seek(start)
        window = fh.read(max(0, size - margin - start))
        keep = start + window.rfind(b"\n") + 1 if b"\n" in window else 0
        fh.truncate(keep)
    return keep


def fill(template: str, path: str, command: str = "") -> str:
    return template.replace("{path}", path).replace("{command}", command)


def remove_staged(session: Session, spec: Staging, journal: Journal, paths: dict[str, int]) -> None:
    """Remove temporary files still on the device (cleanup, and the end of a staged step)."""
    for path, step in list(paths.items()):
        session.run(fill(spec.remove, path), NullSink(), idle_timeout=30.0)
        journal.write(StagedRemoved(step=step, path=path))


class StagedFetcher:
    def __init__(self, ctx: PieceRun, spec: Staging, may_stage: bool) -> None:
        self.ctx = ctx
        self.spec = spec
        self.may_stage = may_stage
        self.kept = 0
        self.tries = 0
        self.fresh = False  # staged on this call: no need to check the file is still there
        self.total: int | None = None
        self.kept_path: Path | None = None  # the longest verified prefix so far

    def run(self) -> bool:
        """True when the step is recorded complete; False when staging is declined (run it whole)."""
        r = self.ctx
        rec = r.record()
        plan = rec.plan if rec is not None and rec.plan and rec.plan.get("strategy") == "staged" else None
        r.started("staged", plan.get("total") if plan else None)
        try:
            staged = (str(plan["pieces"][0]), int(plan["total"])) if plan is not None else self._stage()
            if staged is None or not self._fetch(*staged):
                return False
        except BaseException as exc:
            r.abort(exc, self.kept)
            raise
        self._remove_all()  # the step is recorded: if this fails, the file is cleanup's (journal state `staged`)
        return True

    # -- staging -----------------------------------------------------------------------------------------------
    def _size(self, path: str) -> int | None:
        out = _Capture()
        result = self.ctx.with_redial(lambda s: s.run(fill(self.spec.size, path), out, idle_timeout=30.0))
        m = _SIZE.match(bytes(out.data))
        return int(m.group(1)) if m and not result.timed_out else None

    def _stage(self) -> tuple[str, int] | None:
        r = self.ctx
        if not self.may_stage:
            r.stopped("not staged: the step may not change the device (allow_changes and --allow-changes)", 0)
            return None
        t0, raw0 = time.monotonic(), r.link.live().offset
        while True:  # a drop while the device writes: a new file on the next call (the old one goes at the end)
            path = f"{self.spec.directory.rstrip('/')}/collector-{os.urandom(6).hex()}-{r.step.index:03d}.out"
            r.journal.write(OutputStaged(step=r.step.index, kind_of_step=r.kind, path=path, command=r.step.command))
            out = _Capture()  # write-ahead above: whatever happens now, cleanup removes the file
            session = r.link.live()
            try:
                result = session.run(fill(self.spec.stage, path, r.step.command), out,
                                     idle_timeout=r.step.max_time or STAGE_QUIET, max_time=r.step.max_time)
                break
            except ConnectionLost as exc:
                r.redial(exc.message)
        size = self._size(path) if not out.data.strip() and not result.timed_out else None
        if size is None:
            self._remove_all()
            first = bytes(out.data).decode("utf-8", "replace").strip().splitlines()[:1]
            r.stopped(f"not staged: {first[0][:120] if first else 'no size'}; running the whole command", 0)
            return None
        r.journal.write(PiecesPlanned(step=r.step.index, kind_of_step=r.kind, strategy="staged", pieces=[path],
                                      learnt_from="staged", total=size, list_seconds=round(time.monotonic() - t0, 3),
                                      list_bytes=r.link.live().offset - raw0))
        r.obs.step_started(r.step.index, r.step.name, size)
        self.fresh = True
        return path, size

    def _remove_all(self) -> None:
        r = self.ctx
        mine = {p: s for p, s in r.journal.state.staged.items() if s == r.step.index}
        if mine:
            r.with_redial(lambda s: remove_staged(s, self.spec, r.journal, mine))

    # -- the kept prefix -------------------------------------------------------------------------------------------
    def _partials(self) -> list[Path]:
        d = self.ctx.pieces_dir
        return sorted(d.glob(f"{_FILE}.partial.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))

    def _next_number(self) -> int:
        have = self._partials()
        return int(have[-1].name.rsplit(".", 1)[1]) + 1 if have else 1

    def _new_partial(self, target: StepFile) -> Path:
        return target.keep_partial(self._next_number())

    def _initial_kept(self) -> Path | None:
        """This strategy's last partial (a crash's half-written fetch too), else the whole attempt's partial."""
        writing = self.ctx.pieces_dir / f"{_FILE}.writing"
        if writing.exists():  # a crash mid-fetch: what reached the disk is a prefix too
            writing.rename(self.ctx.pieces_dir / f"{_FILE}.partial.{self._next_number()}")
        partials = self._partials()
        for older in partials[:-1]:
            older.unlink()
        if partials:
            return partials[-1]
        rec = self.ctx.record()
        files = [a.partial_file for a in rec.attempts if a.partial_file] if rec is not None else []
        path = self.ctx.rundir.path / files[-1] if files else None
        if path is None or not path.is_file() or not path.stat().st_size:
            return None
        self.ctx.ledger.piece(path.stat().st_size, 0.0)  # received by that attempt
        copy = self.ctx.pieces_dir / f"{_FILE}.partial.{self._next_number()}"
        shutil.copyfile(path, copy)  # that attempt's record stays as it is; the copy loses its cut end
        return copy if trim_cut(copy) else None

    def _forget(self, path: Path | None) -> None:
        """Drop a prefix file this strategy made (never the whole attempt's partial: that is the attempt's record)."""
        if path is not None and path.parent == self.ctx.pieces_dir:
            path.unlink(missing_ok=True)
        if path == self.kept_path:
            self.kept_path = None

    # -- fetching ------------------------------------------------------------------------------------------------
    def _fetch(self, path: str, total: int) -> bool:
        r = self.ctx
        self.total = total
        self.kept_path = self._initial_kept()
        while True:
            if not self.fresh and self._size(path) != total:
                r.stopped(f"the staged file {path} is gone or changed; running the whole command", self.kept)
                return False
            self.fresh = False
            template = fill(self.spec.fetch, path)
            check: offset_resume.OverlapSink | None = None
            if self.kept_path is not None:
                target, expected, kept = offset_resume.prepare(self.kept_path, r.pieces_dir / _FILE, r.masker)
                check = offset_resume.OverlapSink(target, expected)
            else:
                target, expected, kept = StepFile(r.pieces_dir / _FILE, masker=r.masker), b"", 0
            self.kept = kept
            command = offset_resume.continuation_command(template, kept, len(expected))
            if self._one_call(total, target, check, command, kept - len(expected)):
                return True

    def _one_call(self, total: int, target: StepFile, check: offset_resume.OverlapSink | None, command: str,
                  start: int) -> bool:
        r = self.ctx
        session = r.link.live()
        t0 = time.monotonic()
        self.tries += 1
        try:
            result, gap = r.run(session, command, check or target)
        except ConnectionLost as exc:
            delivered = exc.partial.bytes if isinstance(exc, CommandInterrupted) else 0
            self._cut(target, check, command, start, delivered, time.monotonic() - t0)
            r.redial(exc.message)
            return False
        if check is not None and (check.mismatch or not check.verified):
            self._new_partial(target).unlink()
            self._forget(self.kept_path)
            r.journal.write(OffsetResumeFailed(step=r.step.index, attempt=r.attempt, kept=self.kept,
                                               cause="overlap mismatch" if check.mismatch else "no continuation"))
            return False  # the next try starts from byte 0
        target.finish()
        status = "timeout" if result.timed_out else ("error" if result.error_marker else "ok")
        r.ledger.piece(result.bytes, result.duration)
        self._piece(command, start, result.bytes, status, result, gap)
        marker = result.error_marker
        if target.bytes != total and marker is None:
            marker = f"fetched {target.bytes} bytes of a {total}-byte staged output (bytes translated on the line?)"
        final = r.step_path()
        os.replace(target.final, final)
        target.final = final
        self._forget(self.kept_path)
        self.kept = target.bytes
        r.finish(target, "staged", self.tries, error_marker=marker, timed_out=result.timed_out)
        r.tidy()
        return True

    def _cut(self, target: StepFile, check: offset_resume.OverlapSink | None, command: str, start: int,
             delivered: int, seconds: float) -> None:
        """A drop mid-fetch: keep the longer verified prefix, forget the other one."""
        partial = self._new_partial(target)
        trim_cut(partial)
        if check is not None and check.mismatch:
            partial.unlink()
            self._forget(self.kept_path)
        elif self.kept_path is None or partial.stat().st_size > self.kept_path.stat().st_size:
            self._forget(self.kept_path)
            self.kept_path = partial
        else:
            partial.unlink()  # dropped inside the overlap: the earlier prefix is still the longest
        self.kept = self.kept_path.stat().st_size if self.kept_path is not None else 0
        self.ctx.ledger.piece(delivered, seconds)
        self._piece(command, start, delivered, "cut", None, None)

    def _piece(self, command: str, start: int, nbytes: int, status: str, result: CommandResult | None,
               gap: float | None) -> None:
        r = self.ctx
        rec = r.record()
        r.journal.write(PieceCompleted(
            step=r.step.index, kind_of_step=r.kind, piece=len(rec.pieces) if rec is not None else 0,
            command=command, offset=start, bytes=nbytes, raw_start=result.raw_start if result else None,
            raw_end=result.raw_end if result else None, call=r.ledger.calls,
            seconds=round(result.duration, 3) if result else 0.0, gap=None if gap is None else round(gap, 4),
            status=status, error_marker=result.error_marker if result else None))
        r.progress(self.kept if status == "cut" else start + nbytes, self.total, self.tries, None)
