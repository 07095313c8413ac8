"""The bundle manifest: sos-grade records per run and per step, built from a run directory's folded journal.

Pure record building: every device-derived string passes through `clean` (redaction + pseudonyms) first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from ..store.records import RunState, StepRecord

MANIFEST_FORMAT = 1
MANIFEST_NAME = "manifest.json"
SUMS_NAME = "SHA256SUMS"
README_NAME = "README.txt"
FAILED = ("error", "timeout", "failed", "interrupted", "running", "pending")

Clean = Callable[[str], str]
Staged = dict[str, dict[str, Any]]  # member path (relative to the top folder) -> {"size", "sha256"}


def clean_obj(obj: Any, clean: Clean) -> Any:
    """Apply `clean` to every string inside a JSON-like value (keys kept)."""
    if isinstance(obj, str):
        return clean(obj)
    if isinstance(obj, dict):
        return {k: clean_obj(v, clean) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean_obj(v, clean) for v in obj]
    return obj


def target_parts(target: str) -> tuple[str | None, str | None]:
    """(host, user) of a display URL such as ssh://admin@r1:2222; (None, None) for device paths."""
    try:
        parts = urlsplit(target if "://" in target else f"ssh://{target}")
    except ValueError:
        return None, None
    if parts.scheme in ("serial", "modem"):
        return None, parts.username
    return parts.hostname, parts.username


def _member(run_prefix: str, file: str | None, staged: Staged, rename: dict[str, str]) -> str | None:
    """Map a journal file reference (steps/x, x, or captures/...) to its bundled member path."""
    if not file:
        return None
    p = PurePosixPath(file)
    if p.name in rename:
        p = p.with_name(rename[p.name])
    for cand in (f"{run_prefix}/{p}", f"{run_prefix}/steps/{p.name}", f"{run_prefix}/{p.name}"):
        if cand in staged:
            return cand
    return None


def step_record(rec: StepRecord, run_prefix: str, staged: Staged, clean: Clean,
                include_source_hash: bool, rename: dict[str, str]) -> dict[str, Any]:
    member = _member(run_prefix, rec.file, staged, rename)
    info = staged.get(member, {}) if member else {}
    out: dict[str, Any] = {
        "step": rec.step,
        "name": clean(rec.name),
        "command": clean(rec.command),
        "kind": rec.kind,
        "mode": rec.mode,
        "status": rec.status,
        "error_marker": clean(rec.error_marker) if rec.error_marker else None,
        "timed_out": rec.timed_out,
        "truncated": rec.truncated,
        "exit_status": rec.exit_status,
        "started_at": rec.started_at,
        "ended_at": rec.ended_at,
        "duration": rec.duration,
        "source_bytes": rec.bytes,
        "file": member,
        "bytes": info.get("size"),
        "sha256": info.get("sha256"),
        "raw_range": [rec.raw_start, rec.raw_end] if rec.raw_start is not None else None,
        "attempts": [
            {
                "attempt": a.attempt,
                "status": a.status,
                "raw_range": [a.raw_start, a.raw_end],
                "bytes": a.bytes,
                "cause": clean(a.cause) if a.cause else None,
                "partial_file": _member(run_prefix, a.partial_file, staged, rename),
                "started_at": a.started_at,
                "ended_at": a.ended_at,
            }
            for a in rec.attempts
        ],
        "resumed": len(rec.attempts) > 1,
    }
    if rec.plan is not None:  # fetched by pieces (dial-in recovery): how the file was assembled
        out["assembly"] = {**(rec.assembly or {}), "plan": clean_obj(rec.plan, clean)}
        out["pieces"] = [clean_obj({k: v for k, v in asdict(p).items() if k != "file"}, clean) for p in rec.pieces]
    if include_source_hash:
        out["source_sha256"] = rec.sha256
    if rec.skip_reason is not None:
        out["skip_reason"] = clean(rec.skip_reason)
    return out


def run_record(label: str, run_prefix: str, info: dict[str, Any], state: RunState, staged: Staged,
               raw: dict[str, Any], clean: Clean, include_source_hash: bool,
               rename: dict[str, str] | None = None) -> dict[str, Any]:
    steps = [step_record(r, run_prefix, staged, clean, include_source_hash, rename or {}) for r in state.ordered()]
    playbook = info.get("playbook") or {}
    main = [s for s in steps if s["kind"] != "cleanup"]
    summary = {
        "steps": len(main),
        "ok": sum(1 for s in main if s["status"] == "ok"),
        "failed": sum(1 for s in main if s["status"] in FAILED),
        "skipped": sum(1 for s in main if s["status"] == "skipped"),
        "timed_out": sum(1 for s in main if s["timed_out"]),
        "truncated": sum(1 for s in main if s["truncated"]),
        "with_error_marker": sum(1 for s in main if s["error_marker"]),
        "resumed": sum(1 for s in main if s["resumed"]),
        "bytes": sum(s["bytes"] or 0 for s in main),
    }
    return {
        "label": label,
        "dir": run_prefix,
        "run_id": clean(str(info.get("run_id", ""))),
        "source_dir": clean(info.get("_source_dir", "")),
        "target": clean(str(info.get("target", ""))),
        "transport": info.get("transport"),
        "platform": info.get("platform"),
        "playbook": clean_obj({"name": playbook.get("name"), "path": playbook.get("path"),
                               "sha256": playbook.get("sha256")}, clean),
        "collector_version": info.get("collector_version"),
        "case": info.get("case"),
        "link": clean_obj(info.get("link") or {}, clean),
        "started_at": state.started_at or info.get("started_at"),
        "ended_at": state.ended_at or info.get("ended_at"),
        "status": state.status if state.status != "running" or not info.get("status") else info.get("status"),
        "cleanup": state.cleanup,
        "debug_left_on": state.debug_active,
        "outages": [
            {"start": o.start, "end": o.end, "cause": clean(o.cause), "reconnect_attempts": o.reconnect_attempts}
            for o in state.outages
        ],
        "raw": raw,
        "summary": summary,
        "steps": steps,
    }
