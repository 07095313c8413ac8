"""README.txt for humans: what was collected, when, from where, what failed, and how to check the bundle.

Rendered only from the (already redacted and pseudonymised) manifest, so it cannot leak more than it.
"""

from __future__ import annotations

from typing import Any

from .fleet import render_fleet


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _dur(d: float | None) -> str:
    return "-" if d is None else f"{d:.1f}s"


def _counts(summary: dict[str, Any]) -> str:
    """`5 (3 ok, 1 error, 1 timeout)`: counts by the status the table shows, so they always add up."""
    by = summary.get("by_status") or {}
    parts = [f"{n} {status}" for status, n in sorted(by.items(), key=lambda kv: (kv[0] != "ok", kv[0]))]
    return f"{summary['steps']} ({', '.join(parts) or 'none'})"


def _header(manifest: dict[str, Any], add: Any) -> None:
    add(f"Created:   {manifest['created_at']} by collector {manifest['collector_version']}")
    add(f"Case:      {manifest.get('case') or '(none)'}")
    red = manifest["redaction"]
    if red["profile"]:
        add(f"Redaction: profile {red['profile']}: {red['total']} secret(s) replaced by <redacted-secret-N>"
            f" ({red['distinct']} distinct); rules fired: "
            + (", ".join(f"{k} x{v}" for k, v in sorted(red["rules"].items())) or "none"))
    else:
        add("Redaction: OFF (only the credentials given to collector were removed)")
    if red.get("masked_on_write"):
        add("           Passwords and secrets collector was given were masked (********) as they were written.")
    anon = manifest["anonymization"]
    if anon["kinds"]:
        add(f"Pseudonyms: {', '.join(anon['kinds'])} replaced consistently across all files; the customer keeps"
            " the private map")
        if "ips" in anon["kinds"]:
            add("  IP addresses: prefix-preserving (same subnet before = same subnet after), last octet kept;"
                " private ranges stay private; loopback, link-local, multicast, documentation and netmasks unchanged")
    add("")


def _step_row(st: dict[str, Any]) -> str:
    flags = []
    if st["timed_out"]:
        flags.append("TIMED OUT")
    if st["truncated"]:
        flags.append("TRUNCATED")
    if st.get("partial"):
        flags.append("kept what arrived before the interruption")
    if st["error_marker"]:
        flags.append(f"error: {st['error_marker']}")
    if st["resumed"]:
        flags.append(f"{len(st['attempts'])} attempts")
    note = f"  [{'; '.join(flags)}]" if flags else ""
    kind = "cleanup " if st["kind"] == "cleanup" else ""
    return (f"  {st['step']:>4}  {st['status']:<11} {_size(st['bytes']):>10} {_dur(st['duration']):>8}"
            f"  {kind}{st['command']}{note}")


def _run(run: dict[str, Any], add: Any) -> None:
    s, c = run["summary"], run.get("cleanup_summary") or {"steps": 0}
    host = f" (device hostname {run['device_hostname']})" if run.get("device_hostname") else ""
    add(f"Device {run['label']}: {run['target']}{host}")
    pb = run["playbook"]
    carried = f", file {pb['file']}" if pb.get("file") else (f" (file not included: {pb['note']})"
                                                               if pb.get("note") else "")
    add(f"  platform {run['platform']}, transport {run['transport']}, playbook {pb.get('name')}"
        f" (sha256 {str(pb.get('sha256') or '-')[:16]}...){carried}")
    add(f"  run {run['started_at']} -> {run['ended_at'] or '(not ended)'}, status {run['status']},"
        f" cleanup {run['cleanup']}{', DEBUG MAY STILL BE ON' if run['debug_left_on'] else ''}")
    link = run.get("link") or {}
    if link:
        add("  link: " + ", ".join(f"{k}={v}" for k, v in sorted(link.items()) if not isinstance(v, dict | list)))
    add(f"  steps: {_counts(s)}; {s['timed_out']} timed out, {s['truncated']} truncated, {_size(s['bytes'])}")
    if c["steps"]:
        add(f"  cleanup steps: {_counts(c)}")
    for o in run["outages"]:
        add(f"  OUTAGE {o['start']} -> {o['end'] or '(not restored)'}: {o['cause']}"
            f" ({o['reconnect_attempts']} reconnect attempts)")
    add("")
    add(f"  {'step':>4}  {'status':<11} {'bytes':>10} {'time':>8}  command")
    for st in run["steps"]:
        add(_step_row(st))
    failed = [st for st in run["steps"] if st["status"] not in ("ok", "skipped")]
    if failed:
        add("")
        add("  What failed:")
        for st in failed:
            add(f"   - step {st['step']} `{st['command']}`: {st['status']}"
                + (f" ({st['error_marker']})" if st["error_marker"] else ""))
    for p in run["raw"].get("problems") or []:
        add(f"  RAW STREAM: {p}")
    add("")


def render_readme(manifest: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    add(f"Collector bundle {manifest['bundle']}")
    add("=" * min(79, len(lines[0])))
    add("")
    _header(manifest, add)
    if manifest.get("fleet"):
        render_fleet(manifest["fleet"], add)
    for run in manifest["runs"]:
        _run(run, add)
    raw = any(run["raw"].get("included") for run in manifest["runs"])
    add("Layout")
    add("------")
    add("  manifest.json                      machine-readable record of everything above, with checksums")
    add("  SHA256SUMS                         sha256sum -c SHA256SUMS (run inside this folder)")
    add("  runs/<NN-device>/steps/            one text file per step (NNN-<command>.txt, .partial.N = attempts)")
    add("  runs/<NN-device>/journal.jsonl     the run's event journal")
    if any(run["playbook"].get("file") for run in manifest["runs"]):
        add("  runs/<NN-device>/playbook.yaml     the playbook that ran (it matched the SHA-256 recorded at run time)")
    if raw:
        add("  runs/<NN-device>/raw/transcript.raw  the byte-exact session (redacted like the rest)")
    else:
        add("  (the byte-exact session transcript stays in the run directory: `collector bundle --include-raw`)")
    add("")
    add("Check integrity with `collector verify <bundle>` (archive and every member).")
    return "\n".join(lines) + "\n"
