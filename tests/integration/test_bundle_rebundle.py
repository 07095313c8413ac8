"""`collector run --bundle` and a later `collector bundle RUN_DIR` against a device that echoes the password.

The simulated device prints the login password and the enable secret in its output (and a command names the
password), with 64-byte raw chunks (chunk boundaries fall between reads; tests/unit/test_masking.py splits
secrets at every point). Scanned afterwards: every file of the run
directory (names and bytes), every member of both bundles (names and decompressed bytes), the `.sha256` files and
the commands' output — for the secrets in every spelling and for any 6-character piece of the password.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from collector.sim.profile import TRANSCRIPTS_ROOT
from tests.servers.sim_process import SIM_ENABLE, SIM_PASSWORD, start_sim

COMMAND = f"show users {SIM_PASSWORD}"


def collector(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "collector", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300, check=False)


def echoing_profile(tmp: Path) -> Path:
    prof = tmp / "echo_device"
    shutil.copytree(TRANSCRIPTS_ROOT / "cisco_ios", prof)
    lines = [f"{i:>3} vty {i}  admin  {'0' * (i % 17)}{SIM_PASSWORD}  idle 00:00:0{i % 10}" for i in range(60)]
    lines += [f"enable typed as {SIM_ENABLE} on line {i}" for i in range(5)]
    (prof / f"{COMMAND}.txt").write_text("\n".join(lines) + "\n")
    return prof


def pieces(secret: str, size: int = 6) -> set[str]:
    return {secret[i:i + size] for i in range(len(secret) - size + 1)}


def scan(blobs: dict[str, bytes]) -> list[str]:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", SIM_PASSWORD).lower()
    needles = {SIM_PASSWORD, slug, SIM_ENABLE, *pieces(SIM_PASSWORD)}
    return [f"{needle!r} in {where}" for where, data in blobs.items() for needle in needles
            if needle.encode() in data.lower() or needle in where.lower()]


def everything(roots: list[Path]) -> dict[str, bytes]:
    """Every file under the roots, and for each bundle every member name and its bytes."""
    out: dict[str, bytes] = {}
    for root in roots:
        for path in root.rglob("*"):
            if not path.is_file():
                continue
            out[str(path.relative_to(root.parent))] = path.read_bytes()
            if path.name.endswith(".tar.gz"):
                with tarfile.open(path) as tar:
                    for m in tar.getmembers():
                        data = tar.extractfile(m).read() if m.isfile() else b""  # type: ignore[union-attr]
                        out[f"{path.relative_to(root.parent)}!{m.name}"] = data
    return out


def bundle_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers() if m.isfile()}


def test_rebundle_masks_what_run_bundle_masks(tmp_path: Path) -> None:
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    playbook = tmp_path / "pb" / "echo.yaml"
    playbook.parent.mkdir()
    playbook.write_text(f"name: echo\nplatform: cisco_ios\nsteps:\n  - command: show version\n  - command: {COMMAND}\n"
                        "  - command: show clock\ncleanup:\n  - command: terminal no monitor\n")
    env = dict(os.environ, SIM_PW=SIM_PASSWORD, SIM_EN=SIM_ENABLE, HOME=str(home), COLLECTOR_HOME=str(home / "c"))
    sim = start_sim(tmp_path, profile=str(echoing_profile(tmp_path)))
    try:
        run = collector("run", str(playbook), "--target", f"ssh://admin@127.0.0.1:{sim.port}", "--password-env",
                        "SIM_PW", "--enable-env", "SIM_EN", "--accept-new-host-key", "--known-hosts",
                        str(home / "kh"), "--no-ssh-config", "--runs-dir", str(work / "runs"), "--chunk-size", "64",
                        "--case", "698765432", "--bundle", "--bundle-dir", str(work / "first"), "--json",
                        env=env, cwd=work)
    finally:
        sim.stop()
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    run_dir, first = Path(summary["run_dir"]), Path(summary["bundle"])
    raw = b"".join(p.read_bytes() for p in sorted((run_dir / "raw").glob("*.chunk")))
    assert raw.count(b"*" * len(SIM_PASSWORD)) >= 60 and raw.count(b"*" * len(SIM_ENABLE)) >= 5

    again = collector("bundle", str(run_dir), "--out", str(work / "again"), env=env, cwd=work)
    assert again.returncode == 0, again.stderr
    (second,) = (work / "again").glob("*.tar.gz")
    assert second.name.startswith("collector-698765432-")  # the case recorded at run time

    blobs = everything([work / "runs", work / "first", work / "again"])
    assert sum("!" in k for k in blobs) >= 20 and sum("/steps/" in k and "!" not in k for k in blobs) == 4
    assert scan(blobs) == []
    assert SIM_PASSWORD not in run.stdout + run.stderr + again.stdout + again.stderr

    a, b = bundle_members(first), bundle_members(second)
    assert sorted(a) == sorted(b)
    assert {k: v for k, v in a.items() if "/steps/" in k} == {k: v for k, v in b.items() if "/steps/" in k}
    for res in (first, second):
        assert collector("verify", str(res), env=env, cwd=work).returncode == 0
        run_rec = json.loads(bundle_members(res)["manifest.json"])["runs"][0]
        assert all(s["file"] for s in run_rec["steps"]), run_rec["steps"]
        assert run_rec["device_hostname"] == "R1" and run_rec["playbook"]["file"].endswith("playbook.yaml")
        users = next(s for s in run_rec["steps"] if s["command"].startswith("show users"))
        assert users["command"] == "show users ********" and users["file"].endswith("002-show-users-redacted.txt")
        assert bundle_members(res)[users["file"]].count(b"*" * len(SIM_PASSWORD)) == 60
        for local in (str(home), str(work), str(tmp_path)):
            assert not any(local.encode() in v for v in bundle_members(res).values()), local
