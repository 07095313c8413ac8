"""Redaction coverage on the test corpus: collector's Redactor against netconan (`-p`, passwords/communities).

Run: .venv/bin/python benchmarks/redact_vs_netconan.py  (prints planted / removed counts, misses and collateral)
"""

from __future__ import annotations

import io
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collector.bundle.redact import Redactor  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"


def load() -> tuple[list[Path], list[tuple[str, str]]]:
    files = sorted(p for p in CORPUS.glob("*.txt") if p.name != "planted-secrets.txt")
    planted = []
    for line in (CORPUS / "planted-secrets.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            form, value = line.split("\t", 1)
            planted.append((form, value))
    return files, planted


def run_collector(files: list[Path]) -> dict[str, str]:
    r = Redactor()
    for p in files:  # the bundle's learning pass
        with p.open("rb") as fh:
            r.learn(fh)
    out = {}
    for p in files:
        dst = io.BytesIO()
        with p.open("rb") as fh:
            r.stream(fh, dst)
        out[p.name] = dst.getvalue().decode("utf-8", "surrogateescape")
    return out


def run_netconan(files: list[Path]) -> dict[str, str]:
    from netconan.anonymize_files import FileAnonymizer

    logging.disable(logging.WARNING)
    anon = FileAnonymizer(anon_pwd=True, anon_ip=False, salt="benchmark-salt")
    out = {}
    for p in files:
        dst = io.StringIO()
        anon.anonymize_io(io.StringIO(p.read_text()), dst)
        out[p.name] = dst.getvalue()
    return out


def score(name: str, files: list[Path], planted: list[tuple[str, str]], outs: dict[str, str]) -> int:
    everything = "".join(outs.values())
    missed = [(f, v) for f, v in planted if v in everything]
    values = [v for _, v in planted]
    collateral = 0
    for p in files:
        for a, b in zip(p.read_text().split("\n"), outs[p.name].split("\n"), strict=False):
            if a != b and not any(v in a for v in values):
                collateral += 1
    removed = len(planted) - len(missed)
    print(f"  {name}: removed {removed}/{len(planted)}, non-secret lines changed: {collateral}")
    by_form: dict[str, int] = {}
    for f, _ in missed:
        by_form[f] = by_form.get(f, 0) + 1
    if by_form:
        print("    missed by form: " + ", ".join(f"{k} x{v}" for k, v in sorted(by_form.items())))
    return removed


def main() -> None:
    files, planted = load()
    t = time.perf_counter()
    ours = run_collector(files)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    theirs = run_netconan(files)
    t_theirs = time.perf_counter() - t
    print(f"corpus: {len(files)} files, {sum(p.stat().st_size for p in files)} bytes")
    x = score("collector", files, planted, ours)
    y = score("netconan ", files, planted, theirs)
    print(f"time: collector {t_ours * 1000:.1f} ms, netconan {t_theirs * 1000:.1f} ms")
    print(f"planted secrets: {len(planted)}; collector removed {x}; netconan removed {y}")


if __name__ == "__main__":
    main()
