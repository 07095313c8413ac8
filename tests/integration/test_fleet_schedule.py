"""`collector schedule add ... --inventory`: the inventory is checked when the job is added (a secret value is
refused with its line), the job stores references only, and `run-now` runs the fleet."""

from __future__ import annotations

import json
from pathlib import Path

from collector.sim.fleet import SimFleet
from collector.sim.profile import DeviceProfile
from tests.helpers.fleet import SIM_PASSWORD, collector, device_runs, write_csv


def playbook(tmp: Path) -> Path:
    path = tmp / "pb.yaml"
    path.write_text("name: sched-fleet\nplatform: cisco_ios\nsteps:\n  - command: show version\n"
                    "  - command: show clock\n")
    return path


def test_schedule_a_fleet_and_run_it_now(tmp_path: Path) -> None:
    store = tmp_path / "schedule.db"
    with SimFleet(3, DeviceProfile.load("cisco_ios"), users={"admin": SIM_PASSWORD}) as sims:
        rows = [{"name": n, "target": f"ssh://admin@127.0.0.1:{p}", "platform": "ios", "password_env": "SIM_PW",
                 "groups": "core" if n != "R3" else "edge"} for n, p in zip(sims.names, sims.ports, strict=True)]
        inv = write_csv(tmp_path / "inv.csv", rows)
        added = collector("schedule", "add", str(playbook(tmp_path)), "--inventory", str(inv), "--limit", "core",
                          "--every", "6h", "--enable-env", "SIM_EN", "--known-hosts", str(tmp_path / "kh"),
                          "--runs-dir", str(tmp_path / "runs"), "--store", str(store), "--json")
        assert added.returncode == 0, added.stderr
        job_id = json.loads(added.stdout)["id"]
        listed = json.loads(collector("schedule", "list", "--store", str(store), "--json").stdout)
        assert listed[0]["inventory"] == str(inv.resolve()) and listed[0]["target"] is None
        # a job never holds a secret: the store has the variable names only
        assert SIM_PASSWORD.encode() not in store.read_bytes()
        (tmp_path / "kh").write_text("".join(f"[127.0.0.1]:{p} {sims.host_key.get_name()} "
                                             f"{sims.host_key.get_base64()}\n" for p in sims.ports))
        ran = collector("schedule", "run-now", job_id, "--store", str(store), "--json")
    assert ran.returncode == 0, ran.stderr + ran.stdout
    result = json.loads(ran.stdout)
    assert result["status"] == "ok" and Path(result["run_dir"]).name.startswith("fleet-")
    assert set(device_runs(Path(result["run_dir"]))) == {"r1", "r2"}


def test_an_inventory_with_a_secret_value_is_refused_when_the_job_is_added(tmp_path: Path) -> None:
    inv = tmp_path / "hosts"
    inv.write_text("[routers]\nr1 ansible_host=192.0.2.1 ansible_password=hunter22\n")
    added = collector("schedule", "add", str(playbook(tmp_path)), "--inventory", str(inv), "--every", "6h",
                      "--store", str(tmp_path / "s.db"))
    assert added.returncode == 2
    assert f"{inv}:2:" in added.stderr and "hunter22" not in added.stderr
    assert not (tmp_path / "s.db").exists() or b"hunter22" not in (tmp_path / "s.db").read_bytes()
