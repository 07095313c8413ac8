"""`collector run` end to end over SSH against the simulator process: outputs, host keys, secrets, memory, guard."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.sim.device import SimDevice
from collector.sim.profile import DeviceProfile
from tests.servers.sim_process import SIM_ENABLE, SIM_PASSWORD, SimProcess, start_sim

PLAYBOOK = Path(__file__).resolve().parents[2] / "playbooks" / "cisco_ios" / "tac-baseline.yaml"


def collector(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "SIM_PW": SIM_PASSWORD, "SIM_EN": SIM_ENABLE, **(env or {})}
    return subprocess.run([sys.executable, "-m", "collector", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, check=False)


def run_args(sim: SimProcess, tmp: Path, *extra: str, playbook: Path = PLAYBOOK) -> list[str]:
    return ["run", str(playbook), "--target", f"ssh://admin@127.0.0.1:{sim.port}", "--password-env", "SIM_PW",
            "--enable-env", "SIM_EN", "--known-hosts", str(tmp / "known_hosts"), "--runs-dir", str(tmp / "runs"),
            "--no-ssh-config", "--json", *extra]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimProcess]:
    s = start_sim(tmp_path, show_tech_mb=2, host_key=tmp_path / "sim_host_key")
    yield s
    s.stop()


def expected(command: str, show_tech_mb: float) -> str:
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=int(show_tech_mb * (1 << 20)))
    return hashlib.sha256(b"".join(SimDevice(profile).expected_output(command))).hexdigest()


def test_run_collects_every_step_identical_to_the_source(sim: SimProcess, tmp_path: Path) -> None:
    done = collector(*run_args(sim, tmp_path, "--accept-new-host-key"))
    assert done.returncode in (0, 5), done.stderr
    summary = json.loads(done.stdout)
    run_dir = Path(summary["run_dir"])
    by_cmd = {s["command"]: s for s in summary["steps"]}
    for command in ("show version", "show running-config", "show ip interface brief", "show tech-support"):
        step = by_cmd[command]
        data = (run_dir / step["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == step["sha256"] == expected(command, 2), command
    assert (run_dir / "steps" / "001-show-version.txt").exists()
    # raw chunks are sealed: every chunk's length and sha256 are on record
    index = [json.loads(line) for line in (run_dir / "raw" / "index.jsonl").read_text().splitlines()]
    for seal in index:
        blob = (run_dir / "raw" / seal["file"]).read_bytes()
        assert len(blob) == seal["length"] and hashlib.sha256(blob).hexdigest() == seal["sha256"]


def test_unknown_host_key_is_refused_then_trusted_then_remembered(sim: SimProcess, tmp_path: Path) -> None:
    refused = collector(*run_args(sim, tmp_path))
    assert refused.returncode == 11
    assert sim.fingerprint in refused.stderr and "--accept-new-host-key" in refused.stderr
    (failed_run,) = list((tmp_path / "runs").iterdir())  # the refused attempt is on record, with no output
    assert json.loads((failed_run / "run.json").read_text())["status"] == "failed-before-start"
    assert not any((failed_run / "steps").iterdir())
    assert collector(*run_args(sim, tmp_path, "--accept-new-host-key")).returncode in (0, 5)
    assert collector(*run_args(sim, tmp_path)).returncode in (0, 5)  # remembered


def test_changed_host_key_is_refused_even_with_the_flag(tmp_path: Path) -> None:
    first = start_sim(tmp_path, host_key=tmp_path / "key-a")
    try:
        assert collector(*run_args(first, tmp_path, "--accept-new-host-key")).returncode in (0, 5)
        port = first.port
    finally:
        first.stop()
    second = start_sim(tmp_path, port=port, host_key=tmp_path / "key-b")
    try:
        changed = collector(*run_args(second, tmp_path, "--accept-new-host-key"))
        assert changed.returncode == 12, changed.stderr
        assert second.fingerprint in changed.stderr
    finally:
        second.stop()


def test_no_credential_reaches_any_file(tmp_path: Path) -> None:
    otp = "731904"
    sim = start_sim(tmp_path, extra=["--otp", otp])
    try:
        done = collector(*run_args(sim, tmp_path, "--accept-new-host-key", "--bundle", "--bundle-dir",
                                   str(tmp_path / "bundles"), "--otp-command", f"printf {otp}"),
                         env={"HOME": str(tmp_path)})
    finally:
        sim.stop()
    assert done.returncode in (0, 5), done.stderr
    assert json.loads(done.stdout)["status"] == "ok"
    secrets = [SIM_PASSWORD.encode(), SIM_ENABLE.encode(), otp.encode()]
    scanned = 0
    assert list((tmp_path / "bundles").glob("*.tar.gz"))
    for root in (tmp_path / "runs", tmp_path / "bundles"):
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                scanned += 1
                for secret in secrets:
                    assert secret not in data, f"{secret!r} found in {path}"
    assert scanned > 10
    assert all(s.decode() not in done.stdout + done.stderr for s in secrets)


def test_guard_refuses_before_connecting(tmp_path: Path) -> None:
    pb = tmp_path / "bad.yaml"
    pb.write_text("name: bad\nplatform: cisco_ios\nsteps:\n  - command: show version\n  - command: conf t\n")
    done = collector("run", str(pb), "--target", "ssh://admin@127.0.0.1:1", "--runs-dir", str(tmp_path / "runs"))
    assert done.returncode == 4
    assert "conf t" in done.stderr and "step 2" in done.stderr
    assert not (tmp_path / "runs").exists()


def test_validate_reports_file_and_line(tmp_path: Path) -> None:
    pb = tmp_path / "typo.yaml"
    pb.write_text("name: x\nplatform: cisco_ios\nsteps:\n  - command: show version\n    idle_timout: 5s\n")
    done = collector("validate", str(pb))
    assert done.returncode == 3
    assert f"{pb}:5" in done.stderr and "idle_timeout" in done.stderr


def test_schema_prints_json_schema() -> None:
    done = collector("schema")
    assert done.returncode == 0
    assert "steps" in json.loads(done.stdout)["properties"]


def test_200mb_show_tech_with_bounded_memory(tmp_path: Path) -> None:
    sim = start_sim(tmp_path, show_tech_mb=200)
    try:
        pb = tmp_path / "big.yaml"
        pb.write_text("name: big\nplatform: cisco_ios\nsteps:\n  - command: show tech-support\n"
                      "    idle_timeout: 60s\n")
        args = run_args(sim, tmp_path, "--accept-new-host-key", playbook=pb)
        env = dict(os.environ, SIM_PW=SIM_PASSWORD, SIM_EN=SIM_ENABLE)
        with (tmp_path / "out.json").open("w") as out, (tmp_path / "err.txt").open("w") as err:
            proc = subprocess.Popen([sys.executable, "-m", "collector", *args], stdout=out, stderr=err, env=env)
            _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS, not the simulator's
        assert os.waitstatus_to_exitcode(status) == 0, (tmp_path / "err.txt").read_text()
        stdout = (tmp_path / "out.json").read_text()
    finally:
        sim.stop()
    summary = json.loads(stdout)
    step = summary["steps"][0]
    assert step["bytes"] == 200 << 20
    assert step["sha256"] == expected("show tech-support", 200)
    # VmHWM of the collector image itself (ru_maxrss would include the forking pytest parent)
    peak_kib = summary["peak_rss_kib"]
    assert usage.ru_maxrss > 0
    print(f"collector peak RSS for a 200 MB show tech: {peak_kib / 1024:.1f} MiB")
    assert peak_kib < 100 * 1024, f"peak RSS {peak_kib} KiB"
