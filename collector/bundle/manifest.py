"""The bundle manifest: sos-grade records per run and per step, built from a run directory's folded journal.

Pure record building: every device-derived string passes through `clean` (redaction + pseudonyms) first.
"""

from __future__ import annotations

import re
from collections import Counter
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
    return _by_number(run_prefix, p.name, staged)


def _by_number(run_prefix: str, name: str, staged: Staged) -> str | None:
    """A reference whose name was masked differently from the file (older runs): the one file of its step number.

    Only plain step files (`NNN-<slug>.txt[.partial.N]`) are matched, and only when exactly one fits.
    """
    m = re.fullmatch(r"(\d{3,})-.*?(\.txt(?:\.partial\.\d+)?)", name)
    if m is None or "-trigger-" in name or "-precheck-" in name:
        return None
    number, suffix = m.groups()
    folder = f"{run_prefix}/steps/"
    found = [k for k in staged if k.startswith(folder + number + "-") and k.endswith(suffix)
             and "/" not in k[len(folder):] and "-trigger-" not in k and "-precheck-" not in k
             and (suffix != ".txt" or not re.search(r"\.txt\.partial\.\d+$", k))]
    return found[0] if len(found) == 1 else None


def _attempts(rec: StepRecord, run_prefix: str, staged: Staged, clean: Clean,
              rename: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for a in rec.attempts:
        member = _member(run_prefix, a.partial_file, staged, rename)
        out.append({
            "attempt": a.attempt, "status": a.status, "raw_range": [a.raw_start, a.raw_end],
            "bytes": staged[member]["size"] if member else a.bytes, "cause": clean(a.cause) if a.cause else None,
            "partial_file": member, "started_at": a.started_at, "ended_at": a.ended_at,
        })
    return out


def step_record(rec: StepRecord, run_prefix: str, staged: Staged, clean: Clean,
                include_source_hash: bool, rename: dict[str, str],
                parsed: dict[str, Any] | None = None) -> dict[str, Any]:
    """One step: its file is the completed output, or for a step that never completed, the bytes it kept."""
    member = _member(run_prefix, rec.file or rec.partial_file, staged, rename)
    attempts = _attempts(rec, run_prefix, staged, clean, rename)
    kept = [a["partial_file"] for a in attempts if a["partial_file"]]
    partial = member is None and bool(kept)
    if partial:
        member = kept[-1]
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
        "source_bytes": rec.bytes or (attempts[-1]["bytes"] if partial else 0),
        "file": member,
        "partial": partial or (member is not None and ".txt.partial." in member),
        "bytes": info.get("size"),
        "sha256": info.get("sha256"),
        "raw_range": [rec.raw_start, rec.raw_end] if rec.raw_start is not None else None,
        "attempts": attempts,
        "resumed": len(rec.attempts) > 1,
        "parsed": parsed,  # parser, template, records and file, or the reason it did not parse (None: captures)
    }
    if rec.plan is not None:  # fetched by pieces (dial-in recovery): how the file was assembled
        out["assembly"] = {**(rec.assembly or {}), "plan": clean_obj(rec.plan, clean)}
        out["pieces"] = [clean_obj({k: v for k, v in asdict(p).items() if k != "file"}, clean) for p in rec.pieces]
    if include_source_hash:
        out["source_sha256"] = rec.sha256
    if rec.skip_reason is not None:
        out["skip_reason"] = clean(rec.skip_reason)
    return out


def summarize(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts over some steps; `by_status` always adds up to `steps` (the README's counts come from it)."""
    return {
        "steps": len(steps),
        "by_status": dict(sorted(Counter(str(s["status"]) for s in steps).items())),
        "ok": sum(1 for s in steps if s["status"] == "ok"),
        "failed": sum(1 for s in steps if s["status"] in FAILED),
        "skipped": sum(1 for s in steps if s["status"] == "skipped"),
        "timed_out": sum(1 for s in steps if s["timed_out"]),
        "truncated": sum(1 for s in steps if s["truncated"]),
        "with_error_marker": sum(1 for s in steps if s["error_marker"]),
        "resumed": sum(1 for s in steps if s["resumed"]),
        "partial": sum(1 for s in steps if s["partial"]),
        "parsed": sum(1 for s in steps if (s.get("parsed") or {}).get("file")),
        "bytes": sum(s["bytes"] or 0 for s in steps),
    }


def run_record(label: str, run_prefix: str, info: dict[str, Any], state: RunState, staged: Staged,
               raw: dict[str, Any], clean: Clean, include_source_hash: bool,
               rename: dict[str, str] | None = None, *, hostname: str | None = None,
               playbook_file: dict[str, Any] | None = None,
               parsed: dict[tuple[str, int, str | None], dict[str, Any]] | None = None) -> dict[str, Any]:
    steps = [step_record(r, run_prefix, staged, clean, include_source_hash, rename or {},
                         (parsed or {}).get((r.kind, r.step, r.file))) for r in state.ordered()]
    playbook = info.get("playbook") or {}
    return {
        "label": label,
        "dir": run_prefix,
        "run_id": clean(str(info.get("run_id", ""))),
        "source_dir": clean(info.get("_source_dir", "")),
        "target": clean(str(info.get("target", ""))),
        "device_hostname": clean(hostname) if hostname else None,
        "transport": info.get("transport"),
        "platform": info.get("platform"),
        "playbook": {"name": clean(str(playbook.get("name") or "")) or None, "sha256": playbook.get("sha256"),
                     **(playbook_file or {})},
        "collector_version": info.get("collector_version"),
        "case": clean(str(info["case"])) if info.get("case") else None,
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
        "summary": summarize([s for s in steps if s["kind"] != "cleanup"]),
        "cleanup_summary": summarize([s for s in steps if s["kind"] == "cleanup"]),
        "steps": steps,
    }
