"""Builds run directories for bundle tests through the store API only (no runner, no device).

Each step's output goes to the raw stream (with a prompt and echo, CRLF like a device) and to steps/NNN-slug.txt,
both through the masker of `RunSpec.secrets` as the runner writes them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collector.secrets import Masker
from collector.store import RunDir
from collector.store import events as ev
from collector.store.rundir import slugify
from collector.store.stepfile import StepFile

BLOCK = 1 << 20


@dataclass
class StepSpec:
    command: str
    output: bytes | Path  # bytes, or a file streamed in blocks (big outputs)
    status: str = "ok"
    error_marker: str | None = None
    timed_out: bool = False
    truncated: bool = False
    interrupted_first: bool = False  # first attempt cut by a connection loss, then resumed (status "interrupted":
    # never resumed, only the partial is kept)
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
    secrets: list[str] = field(default_factory=list)  # what collector was given (masked on write)
    case: str | None = None
    playbook_path: str | None = None  # default: playbooks/<playbook>.yaml (relative, usually absent)
    playbook_sha256: str | None = None
    link: dict[str, Any] | None = None


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
    masker = Masker(spec.secrets)
    rd = RunDir.create(runs_dir, host, spec.playbook)
    link = spec.link if spec.link is not None else {"kex": "curve25519-sha256", "cipher": "aes128-ctr", "peer": host}
    rd.write_run_info({
        "run_id": rd.path.name, "collector_version": "0.1.0", "target": spec.target, "transport": "ssh",
        "platform": spec.platform, "case": spec.case,
        "playbook": {"name": spec.playbook, "path": spec.playbook_path or f"playbooks/{spec.playbook}.yaml",
                     "sha256": spec.playbook_sha256 or hashlib.sha256(spec.playbook.encode()).hexdigest()},
        "started_at": "2026-11-27T10:00:00.000Z", "ended_at": "2026-11-27T10:05:00.000Z", "status": spec.status,
        "link": link,
    })
    j = rd.journal(masker)
    raw = rd.raw_stream(chunk_size=spec.chunk_size, masker=masker)
    j.write(ev.RunStarted(target=spec.target, steps=len(spec.steps), cleanup_steps=0))
    raw.append(f"\r\n{spec.prompt}".encode())
    j.write(ev.Connected(link=link, prompt=spec.prompt))
    for n, st in enumerate(spec.steps, start=1):
        name = f"{n:03d}-{slugify(st.command)}.txt"
        attempt = 1
        if st.interrupted_first:
            start = raw.append(f"{st.command}\r\n".encode())
            first = next(_blocks(st.output))[:200]
            raw.append(first.replace(b"\n", b"\r\n"))
            sink = StepFile(rd.steps_dir / name, masker=masker)
            sink.write(first)
            partial = sink.keep_partial(1)
            j.write(ev.StepStarted(step=n, name=st.command, command=st.command, kind_of_step=st.kind, attempt=1,
                                   raw_offset=start, mode="interactive"))
            j.write(ev.StepInterrupted(step=n, kind_of_step=st.kind, raw_end=raw.offset, bytes=len(first),
                                       partial_file=f"steps/{partial.name}", cause="connection reset by peer"))
            j.write(ev.LinkLost(cause="connection reset by peer"))
            j.write(ev.ReconnectAttempt(attempt=1))
            j.write(ev.Reconnected(link=link, prompt=spec.prompt))
            raw.append(f"\r\n{spec.prompt}".encode())
            attempt = 2
            if st.status == "interrupted":
                continue
        start = raw.append(f"{st.command}\r\n".encode())
        j.write(ev.StepStarted(step=n, name=st.command, command=st.command, kind_of_step=st.kind, attempt=attempt,
                               raw_offset=start, mode="interactive"))
        sink = StepFile(rd.steps_dir / name, masker=masker)
        for piece in _blocks(st.output):
            sink.write(piece)
            raw.append(piece.replace(b"\n", b"\r\n"))
        sink.finish()
        end = raw.append(f"\r\n{spec.prompt}".encode())
        j.write(ev.StepCompleted(step=n, kind_of_step=st.kind, status=st.status, attempt=attempt, name=st.command,
                                 command=st.command, raw_start=start, raw_end=end, bytes=sink.bytes,
                                 sha256=sink.sha256, file=f"steps/{sink.final.name}", error_marker=st.error_marker,
                                 timed_out=st.timed_out, truncated=st.truncated, duration=1.0, exit_status=None))
    j.write(ev.CleanupCompleted())
    raw.close()
    j.write(ev.RunEnded(status=spec.status))
    return rd.path
