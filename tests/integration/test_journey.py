"""The engineer's whole journey through the CLI: run a playbook, bundle, verify, upload to the case, status."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.servers.nginx_dav import NginxDav, nginx_dav  # noqa: F401  (fixture)
from tests.servers.sim_process import SIM_ENABLE, SIM_PASSWORD, start_sim

PLAYBOOK = Path(__file__).resolve().parents[2] / "playbooks" / "cisco_ios" / "tac-baseline.yaml"


def collector(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "collector", *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


def test_run_bundle_verify_upload(tmp_path: Path, nginx_dav: NginxDav) -> None:  # noqa: F811
    env = dict(os.environ, SIM_PW=SIM_PASSWORD, SIM_EN=SIM_ENABLE, CASE_TOKEN=nginx_dav.token)
    sim = start_sim(tmp_path, show_tech_mb=3)
    try:
        run = collector("run", str(PLAYBOOK), "--target", f"ssh://admin@127.0.0.1:{sim.port}", "--password-env",
                        "SIM_PW", "--enable-env", "SIM_EN", "--accept-new-host-key", "--known-hosts",
                        str(tmp_path / "kh"), "--runs-dir", str(tmp_path / "runs"), "--case", nginx_dav.user,
                        "--bundle", "--json", env=env)
    finally:
        sim.stop()
    assert run.returncode == 0, run.stderr
    bundle = Path(json.loads(run.stdout)["bundle"])
    assert bundle.name.startswith(f"collector-{nginx_dav.user}-") and bundle.with_name(bundle.name + ".sha256").exists()

    verified = collector("verify", str(bundle), env=env)
    assert verified.returncode == 0 and "ok" in verified.stdout

    args = ["upload", str(bundle), "--case", nginx_dav.user, "--to", nginx_dav.url, "--token-env", "CASE_TOKEN",
            "--ca-bundle", str(nginx_dav.ca_path), "--part-size", "256KiB"]  # the bundle carries each byte once
    up = collector(*args, env=env)
    assert up.returncode == 0, up.stderr
    received = nginx_dav.root_dir / "home"
    parts = sorted(received.glob(f"{bundle.name}.part[0-9]*"))
    assert parts, list(received.iterdir())
    whole = b"".join(p.read_bytes() for p in parts)
    assert hashlib.sha256(whole).hexdigest() == hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert (received / f"{bundle.name}.parts.json").exists()

    status = collector("upload", str(bundle), "--status", env=env)
    assert status.returncode == 0 and "complete" in status.stdout
    again = collector(*args, env=env)  # a re-run sends nothing more
    assert again.returncode == 0 and "sent 0 bytes" in again.stdout
    for text in (run.stdout, run.stderr, up.stdout, up.stderr, status.stdout, again.stdout):
        assert nginx_dav.token not in text and SIM_PASSWORD not in text
    state = bundle.with_name(bundle.name + ".upload.json").read_text()
    assert nginx_dav.token not in state
