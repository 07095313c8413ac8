"""A composite command (IOS `show tech-support`) fetched by its parts: each section as its own command.

The section list comes from the device (the platform's list_command sends only the header lines); sections an
interrupted whole-command attempt already holds complete are kept, not fetched again. Each section is fetched into
its own piece file (separator first, as in the whole output), resumable on its own: a drop costs at most the
section in flight. The step file is the pieces in order, so it reads like the show tech byte for byte.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import time
from pathlib import Path

from ..errors import ConnectionLost
from ..platforms import CompositeCommand, Platform
from ..session.command import CommandInterrupted, CommandResult
from ..session.session import Session
from ..store.dialin_events import PieceCompleted, PieceInterrupted, PiecesPlanned
from ..store.stepfile import StepFile
from . import sections
from .pieces import PieceRun

LIST_LIMIT = 1 << 20  # the header listing is kept in memory: bounded
COPY_BLOCK = 1 << 20


class _Capture:
    """Keeps at most LIST_LIMIT bytes of a command's output."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data[: max(0, LIST_LIMIT - len(self.data))]


class SectionFetcher:
    def __init__(self, ctx: PieceRun, spec: CompositeCommand, platform: Platform) -> None:
        self.ctx = ctx
        self.spec = spec
        self.platform = platform
        self.kept = 0

    def run(self) -> bool:
        """True when the step is recorded complete; False when fetching by parts is declined (run it whole)."""
        r = self.ctx
        rec = r.record()
        plan = rec.plan if rec is not None and rec.plan and rec.plan.get("strategy") == "sections" else None
        r.started("sections")
        try:
            commands = list(plan["pieces"]) if plan is not None else self._plan()
            if commands is None:
                return False
            self._fetch_all(commands)
            self._assemble(commands)
            return True
        except BaseException as exc:
            r.abort(exc, self.kept)
            raise

    # -- the plan ----------------------------------------------------------------------------------------------
    def _plan(self) -> list[str] | None:
        r = self.ctx
        t0 = time.monotonic()

        def listing(session: Session) -> tuple[bytes, CommandResult]:
            sink = _Capture()
            result = session.run(self.spec.list_command, sink, idle_timeout=r.step.idle_timeout,
                                 max_time=r.step.max_time)
            if result.timed_out and not session.resync():
                r.redial("no prompt after the section list timed out")
            return bytes(sink.data), result

        data, result = r.with_redial(listing)
        commands = sections.section_commands(data, self.spec)
        reason = sections.unusable(commands, self.spec, self.platform)
        if result.timed_out or result.error_marker:
            reason = f"the section list {'timed out' if result.timed_out else 'failed: ' + str(result.error_marker)}"
        raw_bytes = result.raw_end - result.raw_start
        if reason is not None:
            r.stopped(f"not fetched by parts: {reason}; running the whole command", 0)
            r.obs.notice(f"step {r.step.index}: not fetched by parts ({reason})")
            return None
        partial = self._partial()
        with contextlib.ExitStack() as stack:
            view = None
            if partial is not None:  # searched in place: a cut 1 GB show tech is never read into memory
                fh = stack.enter_context(partial.open("rb"))
                view = stack.enter_context(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))
                r.ledger.piece(len(view), 0.0)  # received by that attempt; what is not kept is fetched again
            reused = sections.received_sections(view, self.spec, commands) if view is not None else []
            r.journal.write(PiecesPlanned(step=r.step.index, kind_of_step=r.kind, strategy="sections",
                                          pieces=commands, learnt_from="list-command", list_bytes=raw_bytes,
                                          list_seconds=round(time.monotonic() - t0, 3), reused=len(reused)))
            for i, (start, end) in enumerate(reused):
                assert view is not None
                self._keep(i, commands[i], view, start, end)
        return commands

    def _partial(self) -> Path | None:
        """The latest interrupted whole-command attempt's .partial file (what it received before the drop)."""
        rec = self.ctx.record()
        files = [a.partial_file for a in rec.attempts if a.partial_file] if rec is not None else []
        path = self.ctx.rundir.path / files[-1] if files else None
        return path if path is not None and path.is_file() and path.stat().st_size else None

    # -- the pieces --------------------------------------------------------------------------------------------
    def _piece_path(self, i: int) -> Path:
        return self.ctx.pieces_dir / f"{i:04d}.txt"

    def _keep(self, i: int, command: str, view: mmap.mmap, start: int, end: int) -> None:
        """A section kept from the cut attempt's partial: copied to its piece file, never fetched again."""
        path = self._piece_path(i)
        sink = StepFile(path, masker=self.ctx.masker)
        for pos in range(start, end, COPY_BLOCK):
            sink.write(view[pos : min(end, pos + COPY_BLOCK)])
        sink.finish()
        r = self.ctx
        r.journal.write(PieceCompleted(step=r.step.index, kind_of_step=r.kind, piece=i, command=command,
                                       offset=self.kept, bytes=sink.bytes, sha256=sink.sha256, file=r.rel(path),
                                       call=0, status="reused"))
        self.kept += sink.bytes

    def _fetch_all(self, commands: list[str]) -> None:
        rec = self.ctx.record()
        done = {p.piece: p for p in (rec.pieces if rec is not None else []) if p.done}
        for i, command in enumerate(commands):
            piece = done.get(i)
            if piece is not None and self._intact(i, piece.bytes, piece.sha256):
                self.kept += piece.bytes
                continue
            self._fetch(i, command, len(commands))

    def _intact(self, i: int, size: int, sha256: str | None) -> bool:
        """A piece fetched earlier (this run or a crashed one) is kept only if its file is what the journal says."""
        path = self._piece_path(i)
        if not path.is_file() or path.stat().st_size != size:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while block := fh.read(COPY_BLOCK):
                digest.update(block)
        return digest.hexdigest() == sha256

    def _fetch(self, i: int, command: str, total: int) -> None:
        """One section, again on the next call after each drop, until its prompt comes back."""
        r = self.ctx
        rec = r.record()
        tries = rec.pieces[i].interruptions if rec is not None and i < len(rec.pieces) else 0
        while True:
            session = r.link.live()
            sink = StepFile(self._piece_path(i), masker=r.masker)
            sink.write(sections.separator(self.spec, command))
            t0 = time.monotonic()
            try:
                result, gap = r.run(session, command, sink)
            except BaseException as exc:
                delivered = exc.partial.bytes if isinstance(exc, CommandInterrupted) else 0
                tries += 1
                partial = sink.keep_partial(tries)
                cause = exc.message if isinstance(exc, ConnectionLost) else type(exc).__name__
                r.journal.write(PieceInterrupted(step=r.step.index, kind_of_step=r.kind, piece=i, command=command,
                                                 bytes=delivered, cause=cause, partial_file=r.rel(partial)))
                r.ledger.piece(delivered, time.monotonic() - t0)
                if not isinstance(exc, ConnectionLost):
                    raise
                r.redial(exc.message)
                continue
            sink.finish()
            status = "timeout" if result.timed_out else (
                "error" if result.error_marker and not r.step.expect_error else "ok")
            r.journal.write(PieceCompleted(
                step=r.step.index, kind_of_step=r.kind, piece=i, command=command, offset=self.kept, bytes=sink.bytes,
                sha256=sink.sha256, file=r.rel(self._piece_path(i)), raw_start=result.raw_start,
                raw_end=result.raw_end, call=r.ledger.calls, seconds=round(result.duration, 3),
                gap=None if gap is None else round(gap, 4), status=status, error_marker=result.error_marker))
            r.ledger.piece(sink.bytes, result.duration)  # the separator counts as kept and as received
            self.kept += sink.bytes
            estimate = self.kept * total // (i + 1)
            r.progress(self.kept, estimate, i + 1, total)
            return

    # -- the step file ---------------------------------------------------------------------------------------------
    def _assemble(self, commands: list[str]) -> None:
        r = self.ctx
        target = StepFile(r.rundir.step_path(r.step.filename), masker=r.masker)
        for i in range(len(commands)):
            with self._piece_path(i).open("rb") as fh:
                while block := fh.read(COPY_BLOCK):
                    target.write(block)
        target.finish()
        rec = r.record()
        pieces = rec.pieces if rec is not None else []
        marker = next((p.error_marker for p in pieces if p.error_marker and p.status == "error"), None)
        r.finish(target, "sections", len(commands), error_marker=marker,
                 timed_out=any(p.status == "timeout" for p in pieces))
        for i in range(len(commands)):
            self._piece_path(i).unlink(missing_ok=True)  # the step file holds them; the journal has their ranges
        r.tidy()
