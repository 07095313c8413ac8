"""`collector bundle` and `collector verify` as a user types them: options, warnings, refusals, safe output."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from tests.corpus.make_run import RunSpec, StepSpec, make_run


def collector(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLLECTOR_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "collector", *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_bundle_options_warnings_and_refusal(tmp_path: Path) -> None:
    failed = make_run(tmp_path / "runs", RunSpec(steps=[], status="failed-before-start", case="SR-9"))
    refused = collector("bundle", str(failed), "--out", str(tmp_path / "out"), home=tmp_path / "home")
    assert refused.returncode == 21 and "failed before its first step" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    forced = collector("bundle", str(failed), "--out", str(tmp_path / "out"), "--force", home=tmp_path / "home")
    assert forced.returncode == 0, forced.stderr
    assert "warning:" in forced.stderr and "no step output" in forced.stderr
    assert "collector-SR-9-" in forced.stdout  # the case recorded at run time

    rd = make_run(tmp_path / "runs", RunSpec(steps=[StepSpec("show clock", b"10:00\n")]))
    done = collector("bundle", str(rd), "--out", str(tmp_path / "raw"), "--include-raw", "--anonymize", "ips",
                     home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    (bundle,) = (tmp_path / "raw").glob("*.tar.gz")
    with tarfile.open(bundle) as tar:
        assert any(n.endswith("/raw/transcript.raw") for n in tar.getnames())
    maps = list((tmp_path / "home" / "private-maps").glob("*.private-map.json"))
    assert len(maps) == 1 and str(maps[0]) in done.stdout
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted([bundle.name, bundle.name + ".sha256"])


def test_verify_prints_hostile_member_names_safely(tmp_path: Path) -> None:
    rd = make_run(tmp_path / "runs", RunSpec(steps=[StepSpec("show clock", b"10:00\n")]))
    assert collector("bundle", str(rd), "--out", str(tmp_path / "out"), home=tmp_path / "home").returncode == 0
    (good,) = (tmp_path / "out").glob("*.tar.gz")
    evil = tmp_path / "evil.tar.gz"
    buf = io.BytesIO()
    with tarfile.open(good) as tin, tarfile.open(fileobj=buf, mode="w:gz") as tout:
        top = tin.getnames()[0]
        for m in tin.getmembers():
            tout.addfile(m, tin.extractfile(m) if m.isfile() else None)
        for name in (f"{top}/[/]\x1b]8;;https://evil.example\x07x", f"{top}/../../etc/cron.d/x"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tout.addfile(info, io.BytesIO(b"hi\n"))
    evil.write_bytes(buf.getvalue())
    evil.with_name(evil.name + ".sha256").write_text(f"{hashlib.sha256(buf.getvalue()).hexdigest()}  {evil.name}\n")
    done = collector("verify", str(evil), home=tmp_path / "home")
    assert done.returncode == 21 and "Traceback" not in done.stderr
    assert "\x1b" not in done.stderr + done.stdout and "\x07" not in done.stderr
    assert "refused" in done.stderr and "\\x1b" in done.stderr
