"""The parse benchmark runs (small size here; `python -m benchmarks.parse_bench` measures 35 MiB)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.parse_bench import bgp_table, measure

ROOT = Path(__file__).resolve().parents[2]


def test_generated_table_has_the_size_asked_for() -> None:
    text = bgp_table(200_000, seed=3)
    assert 200_000 <= len(text) < 200_200 and text.startswith("BGP table version")
    assert bgp_table(200_000, seed=3) == text  # same seed, same bytes


def test_measure_reports_parse_skip_and_bundle(tmp_path: Path) -> None:
    res = measure(1 << 20, tmp_path)
    assert res["template"] == "cisco_ios_show_ip_bgp.textfsm" and res["records"] > 10_000
    assert res["parse_seconds"] > 0 and res["mib_per_s"] > 0
    assert res["bundle_text_only_seconds"] > 0 and res["bundle_seconds"] > 0 and res["bundle_anonymized_seconds"] > 0
    assert "above the parse limit" in res["skip_reason"]
    assert res["bundle_seconds"] > res["bundle_text_only_seconds"]  # the parsed file was carried and cleaned


def test_command_line_prints_json() -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.parse_bench", "--mb", "0.3", "--no-bundle", "--json"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["records"] > 1000
