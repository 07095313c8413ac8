"""Builds run directories for bundle tests through the store API only (no runner, no device).

Each step's output goes to the raw stream (with a prompt and echo, CRLF like a device) and to steps/NNN-slug.txt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from collector.store import RunDir
from collector.store import events as ev
from collector.store.rundir import slugify

BLOCK = 1 << 20


@dataclass
class StepSpec:
    command: str
    output: bytes | Path  # bytes, or a file streamed in blocks (big outputs)
    status: str = "ok"
    error_marker: str | None = None
    timed_out: bool = False
    truncated: bool = False
    interrupted_first: bool = False  # first attempt cut by a connection loss, then resumed
    kind: str = "show"


@dataclass
class RunSpec:
    target: str = "ssh://netops@BR-RTR-01:22"
    platform: str = "cisco_ios"
    playbook: str = "tac-baseline"
    prompt: str = "BR-RTR-01#"
    steps: list[StepSpec] = field(default_factory=list)
    chunk_size: int = 64 * 1024
    status: str = "completed"


def _blocks(output: bytes | Path) -> Iterator[bytes]:
    if isinstance(output, bytes):
        for i in range(0, len(output), BLOCK):
            yield output[i:i + BLOCK]
        return
    with output.open("rb") as fh:
        while piece := fh.read(BLOCK):
            yield piece


def make_run(runs_dir: Path, spec: RunSpec) -> Path:
    host = spec.target.split("@")[-1].split("://")[-1].split(":")[0]
    rd = RunDir.create(runs_dir, host, spec.playbook)
    rd.write_run_info({
        "run_id": rd.path.name, "collector_version": "0.1.0", "target": spec.target, "transport": "ssh",
        "platform": spec.platform, "playbook": {"name": spec.playbook, "path": f"playbooks/{spec.playbook}.yaml",
                                                "sha256": hashlib.sha256(spec.playbook.encode()).hexdigest()},
        "started_at": "2026-11-27T10:00:00.000Z", "ended_at": "2026-11-27T10:05:00.000Z", "status": spec.status,
        "link": {"kex": "curve25519-sha256", "cipher": "aes128-ctr", "peer": host},
    })
    j = rd.journal()
    raw = rd.raw_stream(chunk_size=spec.chunk_size)
    j.write(ev.RunStarted(target=spec.target, steps=len(spec.steps), cleanup_steps=0))
    raw.append(f"\r\n{spec.prompt}".encode())
    for n, st in enumerate(spec.steps, start=1):
        name = f"{n:03d}-{slugify(st.command)}.txt"
        attempt = 1
        if st.interrupted_first:
            start = raw.append(f"{st.command}\r\n".encode())
            first = next(_blocks(st.output))[:200]
            raw.append(first.replace(b"\n", b"\r\n"))
            (rd.steps_dir / f"{name}.partial.1").write_bytes(first)
            j.write(ev.StepStarted(step=n, name=st.command, command=st.command, kind_of_step=st.kind, attempt=1,
                                   raw_offset=start, mode="interactive"))
            j.write(ev.StepInterrupted(step=n, kind_of_step=st.kind, raw_end=raw.offset, bytes=len(first),
                                       partial_file=f"steps/{name}.partial.1", cause="connection reset by peer"))
            j.write(ev.LinkLost(cause="connection reset by peer"))
            j.write(ev.ReconnectAttempt(attempt=1))
            j.write(ev.Reconnected(prompt=spec.prompt))
            raw.append(f"\r\n{spec.prompt}".encode())
            attempt = 2
        start = raw.append(f"{st.command}\r\n".encode())
        j.write(ev.StepStarted(step=n, name=st.command, command=st.command, kind_of_step=st.kind, attempt=attempt,
                               raw_offset=start, mode="interactive"))
        h = hashlib.sha256()
        size = 0
        with (rd.steps_dir / name).open("wb") as out:
            for piece in _blocks(st.output):
                out.write(piece)
                h.update(piece)
                size += len(piece)
                raw.append(piece.replace(b"\n", b"\r\n"))
        end = raw.append(f"\r\n{spec.prompt}".encode())
        j.write(ev.StepCompleted(step=n, kind_of_step=st.kind, status=st.status, attempt=attempt, name=st.command,
                                 command=st.command, raw_start=start, raw_end=end, bytes=size, sha256=h.hexdigest(),
                                 file=f"steps/{name}", error_marker=st.error_marker, timed_out=st.timed_out,
                                 truncated=st.truncated, duration=1.0, exit_status=None))
    j.write(ev.CleanupCompleted())
    raw.close()
    j.write(ev.RunEnded(status=spec.status))
    return rd.path
