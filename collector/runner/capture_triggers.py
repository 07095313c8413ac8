"""Running a fired capture trigger: its show commands become their own step files and records.

Debug lines that arrive around a trigger command stay in the capture; a drop mid-command keeps a partial.
"""

from __future__ import annotations

from ..errors import ConnectionLost
from ..store.capture_events import TriggerFired, TriggerStepCompleted, TriggerStepInterrupted
from ..store.rundir import slugify
from ..store.stepfile import StepFile
from .capture_control import CaptureControl
from .capture_state import CaptureState
from .triggers import Firing, Triggers


def run_trigger(s: CaptureState, control: CaptureControl, triggers: Triggers, firing: Firing) -> None:
    t = firing.trigger
    s.journal.write(TriggerFired(step=s.step.index, capture=s.name, trigger=t.number, run=firing.run,
                                 line=firing.line[:500], commands=list(t.spec.run),
                                 capture_line=s.files.lines if s.files else None))
    s.obs.notice(f"capture {s.name}: trigger {t.number} fired ({firing.line[:80]!r})")
    used: set[str] = set()
    try:
        for cmd in t.spec.run:
            base = f"{s.step.index:03d}-{s.slug}-trigger-{t.number}-{firing.run}-{slugify(cmd, 40)}"
            name = base if base not in used else f"{base}-{len(used) + 1}"
            used.add(name)
            _run_one(s, control, firing, cmd, f"{name}.txt")
    finally:
        triggers.done(firing, s.clock())
        s.last_activity = s.clock()


def _run_one(s: CaptureState, control: CaptureControl, firing: Firing, cmd: str, fname: str) -> None:
    t = firing.trigger
    sink = StepFile(s.rundir.step_path(fname), masker=s.journal.masker)
    fname = sink.final.name  # a secret in the command is masked out of the file name
    session = s.live()
    try:
        with session.tap(s.clock) as tap:
            result = session.run(cmd, sink, idle_timeout=s.step.idle_timeout, max_time=s.step.max_time)
    except ConnectionLost as exc:
        partial = sink.keep_partial(1)
        s.journal.write(TriggerStepInterrupted(step=s.step.index, kind_of_step="trigger", capture=s.name,
                                               trigger=t.number, run=firing.run, command=cmd,
                                               partial_file=f"steps/{partial.name}", bytes=sink.bytes,
                                               cause=exc.message))
        raise
    except BaseException:
        sink.keep_partial(1)
        raise
    sink.finish()
    control.ingest_around(tap, cmd, after=False)  # debug lines that arrived just before the echo
    s.trigger_files.append(f"steps/{fname}")
    status = "timeout" if result.timed_out else ("error" if result.error_marker else "ok")
    s.journal.write(TriggerStepCompleted(
        step=s.step.index, kind_of_step="trigger", capture=s.name, trigger=t.number, run=firing.run,
        command=cmd, name=f"{s.name} trigger {t.number}.{firing.run}: {cmd}", status=status, attempt=1,
        file=f"steps/{fname}", bytes=sink.bytes, sha256=sink.sha256, raw_start=result.raw_start,
        raw_end=result.raw_end, error_marker=result.error_marker, timed_out=result.timed_out,
        duration=round(result.duration, 6)))
    if result.timed_out and not session.resync():
        raise ConnectionLost(f"no prompt after trigger command `{cmd}` timed out")
