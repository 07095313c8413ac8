"""Show steps in exec mode: one SSH exec channel per command, no pty, exact bytes and the exit status.

The bytes still go to the raw stream first (write-ahead), then to the step file unchanged.
"""

from __future__ import annotations

from typing import Any

from ..errors import DeviceError
from ..session.session import MARKER_HEAD, CommandResult, OutputSink, Session


def run_exec(session: Session, command: str, sink: OutputSink, *, idle_timeout: float,
             max_time: float | None) -> CommandResult:
    transport: Any = session.transport
    make_runner = getattr(transport, "exec_runner", None)
    if make_runner is None:
        raise DeviceError(f"exec mode needs an SSH target ({transport.target.scheme}:// has no exec channels)",
                          hint="set `mode: interactive` on the step")
    runner = getattr(session, "_exec_runner", None) or make_runner()
    session._exec_runner = runner  # type: ignore[attr-defined]
    raw = session.raw
    result = CommandResult(command=command, raw_start=raw.offset, raw_end=raw.offset)
    head = bytearray()

    def on_data(data: bytes) -> None:
        raw.append(data)
        if len(head) < MARKER_HEAD:
            head.extend(data[: MARKER_HEAD - len(head)])
        sink.write(data)
        if session.progress is not None:
            session.progress(len(data))

    done = runner.run(command, on_data, idle_timeout, max_time)
    result.raw_end = raw.offset
    result.bytes = done.bytes
    result.timed_out = done.timed_out
    result.capped = done.timeout_reason == "max_time"
    result.duration = done.duration
    result.exit_status = done.exit_status
    result.error_marker = session._marker(bytes(head))
    return result
