"""A run directory exactly as collector wrote it before typed journal events (before commit bc8e779).

Record shapes are the ones the old runner and capture engine wrote (dict records, `kind` on step events, trigger
steps without `attempt`), so readers of today are tested on a run made before parsing existed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

TRANSCRIPTS = Path(__file__).resolve().parents[2] / "transcripts" / "cisco_ios"


def _ts(n: int) -> str:
    return f"2026-11-20T10:00:{n:02d}.000Z"


def make_legacy_run(runs_dir: Path) -> Path:
    """A finished cisco_ios run: two show steps, a capture whose trigger ran one command, a cleanup step."""
    rd = runs_dir / "20261120T100000Z-r1-legacy"
    (rd / "steps").mkdir(parents=True)
    (rd / "raw").mkdir()
    (rd / "run.json").write_text(json.dumps({
        "format": 1, "run_id": "0011223344556677", "collector_version": "0.0.9", "target": "ssh://admin@r1:22",
        "target_url": "ssh://admin@r1:22", "transport": "ssh", "jumps": [], "platform": "cisco_ios",
        "playbook": {"name": "legacy", "sha256": "0" * 64}, "case": None, "status": "ok",
        "started_at": _ts(0), "ended_at": _ts(30)}))
    records: list[dict[str, object]] = [
        {"event": "run-started", "ts": _ts(0), "mono": 1.0, "target": "ssh://admin@r1:22", "steps": 3,
         "cleanup_steps": 1},
        {"event": "connected", "ts": _ts(1), "mono": 2.0, "link": {}, "prompt": "R1#"},
    ]
    steps = [(1, "sh ip int br", "show ip interface brief"), (2, "show version", "show version")]
    for n, command, source in steps:
        name = f"{n:03d}-{command.replace(' ', '-')}.txt"
        data = (TRANSCRIPTS / f"{source}.txt").read_bytes()
        (rd / "steps" / name).write_bytes(data)
        records += [
            {"event": "step-started", "ts": _ts(2 * n), "mono": 3.0 + n, "step": n, "name": command,
             "command": command, "kind": "show", "attempt": 1, "raw_offset": 0, "mode": "interactive"},
            {"event": "step-completed", "ts": _ts(2 * n + 1), "mono": 4.0 + n, "step": n, "kind": "show",
             "status": "ok", "attempt": 1, "name": command, "command": command, "file": f"steps/{name}",
             "raw_start": 0, "raw_end": len(data), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
             "error_marker": None, "timed_out": False, "truncated": False, "confirm_refused": False,
             "duration": 0.5, "mode": "interactive"},
        ]
    cpu = (TRANSCRIPTS / "show processes cpu.txt").read_bytes()
    trig = "003-cpu-trigger-1-1-show-processes-cpu.txt"
    (rd / "steps" / trig).write_bytes(cpu)
    records += [
        {"event": "step-started", "ts": _ts(10), "mono": 10.0, "step": 3, "capture": "cpu", "name": "cpu",
         "command": "capture cpu", "kind": "capture", "attempt": 1, "raw_offset": 0, "mode": "stream"},
        {"event": "trigger-fired", "ts": _ts(12), "mono": 12.0, "step": 3, "capture": "cpu", "trigger": 1, "run": 1,
         "line": "%SYS-1-CPURISINGTHRESHOLD", "commands": ["show processes cpu"], "capture_line": 3},
        # the old engine wrote trigger steps without `attempt`
        {"event": "trigger-step-completed", "ts": _ts(13), "mono": 13.0, "step": 3, "capture": "cpu",
         "kind": "trigger", "trigger": 1, "run": 1, "command": "show processes cpu",
         "name": "cpu trigger 1.1: show processes cpu", "status": "ok", "file": f"steps/{trig}",
         "bytes": len(cpu), "sha256": hashlib.sha256(cpu).hexdigest(), "raw_start": 0, "raw_end": len(cpu),
         "error_marker": None, "timed_out": False, "duration": 0.2},
        {"event": "step-completed", "ts": _ts(20), "mono": 20.0, "step": 3, "capture": "cpu", "kind": "capture",
         "status": "ok", "attempt": 1, "name": "cpu", "command": "capture cpu",
         "file": "captures/cpu/index.jsonl", "bytes": 0, "lines": 0, "capture_status": "duration",
         "reason": "duration 10s reached", "raw_start": 0, "raw_end": 0, "duration": 10.0, "mode": "stream"},
    ]
    clock = (TRANSCRIPTS / "show clock.txt").read_bytes()
    (rd / "steps" / "004-show-clock.txt").write_bytes(clock)
    records += [
        {"event": "cleanup-started", "ts": _ts(21), "mono": 21.0, "debug_on": False},
        {"event": "step-started", "ts": _ts(22), "mono": 22.0, "step": 4, "name": "show clock",
         "command": "show clock", "kind": "cleanup", "attempt": 1, "raw_offset": 0, "mode": "interactive"},
        {"event": "step-completed", "ts": _ts(23), "mono": 23.0, "step": 4, "kind": "cleanup", "status": "ok",
         "attempt": 1, "name": "show clock", "command": "show clock", "file": "steps/004-show-clock.txt",
         "raw_start": 0, "raw_end": len(clock), "bytes": len(clock), "sha256": hashlib.sha256(clock).hexdigest(),
         "error_marker": None, "timed_out": False, "truncated": False, "duration": 0.1, "mode": "interactive"},
        {"event": "cleanup-completed", "ts": _ts(24), "mono": 24.0},
        {"event": "run-ended", "ts": _ts(30), "mono": 30.0, "status": "ok", "error": None},
    ]
    (rd / "journal.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return rd
