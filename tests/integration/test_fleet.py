"""Fleet runs end to end (`collector run --inventory` as a user runs it) against many simulated devices served
by one simulator process-in-the-test, each with its own hostname: isolation of failures, one view, exit codes,
--json, --dry-run, status, and one verified bundle with a per-device section and consistent pseudonyms."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from collector.sim.events import EventLog
from collector.sim.fleet import SimFleet
from collector.sim.profile import DeviceProfile
from tests.helpers.fleet import SIM_PASSWORD, check_device, collector, device_runs, fleet_events, load_json, write_csv
from tests.servers.ports import free_port

TECH = 64 << 10
COMMANDS = ["show version", "show running-config", "show ip interface brief", "show interfaces {{ interface }}",
            "show tech-support"]


def playbook(tmp: Path) -> Path:
    path = tmp / "fleet-baseline.yaml"
    steps = "\n".join(f"  - command: {c}" for c in COMMANDS)
    path.write_text("name: fleet-baseline\nplatform: cisco_ios\nvars:\n  interface: GigabitEthernet0/0/1\n"
                    f"defaults:\n  idle_timeout: 20s\nsteps:\n{steps}\ncleanup:\n  - command: terminal no monitor\n")
    return path


def resolved(hostname: str) -> list[str]:
    return [c.replace("{{ interface }}", "GigabitEthernet0/0/1") for c in COMMANDS]


@pytest.fixture(scope="module")
def sims() -> Iterator[SimFleet]:
    events = EventLog()
    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=TECH)
    with SimFleet(6, profile, users={"admin": SIM_PASSWORD}, events=events) as fleet:
        yield fleet


def rows(sims: SimFleet, names: list[str]) -> list[dict[str, str]]:
    out = []
    for name, port in zip(sims.names, sims.ports, strict=True):
        if name in names:
            out.append({"name": name, "target": f"ssh://admin@127.0.0.1:{port}", "platform": "ios",
                        "groups": "core" if name in ("R1", "R2") else "edge", "password_env": "SIM_PW",
                        "site": "ams" if name in ("R1", "R3") else "fra"})
    return out


def common(tmp: Path) -> list[str]:
    return ["--enable-env", "SIM_EN", "--known-hosts", str(tmp / "kh"), "--accept-new-host-key", "--no-ssh-config",
            "--runs-dir", str(tmp / "runs")]


def test_one_device_failing_never_stops_the_others(sims: SimFleet, tmp_path: Path) -> None:
    inv = rows(sims, ["R1", "R2", "R3", "R4", "R5"])
    inv[4]["password_env"] = "WRONG_PW"  # R5: authentication refused
    inv.append({"name": "dead", "target": f"ssh://admin@127.0.0.1:{free_port()}", "platform": "ios",
                "groups": "edge", "password_env": "SIM_PW", "site": "fra"})  # unreachable
    changed = rows(sims, ["R6"])[0] | {"name": "changed"}  # a host key on record that is not the device's
    inv.append(changed)
    inv.append(rows(sims, ["R2"])[0] | {"name": "guarded", "interface": "Gi0/1 | redirect flash:x"})
    kh = tmp_path / "kh"
    other = paramiko.ECDSAKey.generate()
    kh.write_text(f"[127.0.0.1]:{sims.ports[5]} {other.get_name()} {other.get_base64()}\n")
    done = collector("run", str(playbook(tmp_path)), "--inventory", str(write_csv(tmp_path / "inv.csv", inv)),
                     *common(tmp_path), "--workers", "4", "--json")
    assert done.returncode == 6, done.stderr  # some devices failed
    doc = load_json(done.stdout)
    by = {d["device"]: d for d in doc["devices"]}
    assert {d for d, r in by.items() if r["status"] == "ok"} == {"R1", "R2", "R3", "R4"}
    assert by["R5"]["exit_code"] == 13 and by["dead"]["exit_code"] == 10 and by["changed"]["exit_code"] == 12
    assert by["guarded"]["status"] == "refused" and by["guarded"]["exit_code"] == 4
    assert {f["device"] for f in doc["failed"]} == {"R5", "dead", "changed", "guarded"}
    assert "R5: failed-before-start" in doc["error"] and "dead: failed-before-start" in doc["error"]
    fleet = Path(doc["fleet_dir"])
    runs = device_runs(fleet)
    assert "guarded" not in runs  # refused before anything was contacted: no run directory at all
    for name in ("R1", "R2", "R3", "R4"):
        check_device(runs[name.lower()], name, TECH, resolved(name))
        assert (runs[name.lower()] / "raw" / "index.jsonl").exists()  # the usual layout, unchanged
    kinds = [e["event"] for e in fleet_events(fleet)]
    assert kinds[0] == "fleet-started" and kinds[-1] == "fleet-ended"
    assert kinds.count("device-started") == kinds.count("device-finished") == 8
    # status and resume agree on what did not finish
    status = load_json(collector("fleet", "status", str(fleet), "--json").stdout)
    assert sorted(status["resume"]) == ["R5", "changed", "dead", "guarded"]


def test_plain_lines_when_stderr_is_not_a_terminal_and_the_final_table(sims: SimFleet, tmp_path: Path) -> None:
    inv = write_csv(tmp_path / "inv.csv", rows(sims, ["R1", "R2", "R3"]))
    done = collector("run", str(playbook(tmp_path)), "-i", str(inv), *common(tmp_path), "--limit", "core")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(line.startswith("[1/2] R") and " ok 5/5 steps" in line for line in lines), done.stderr
    assert any(line.startswith("[2/2] R") for line in lines)
    assert "\x1b[" not in done.stderr  # no live panel, no cursor movement
    assert "2 done, 0 running, 0 failed, 0 queued of 2" in done.stderr
    assert "R1" in done.stdout and "R2" in done.stdout and "R3" not in done.stdout  # the table
    assert "fleet directory:" in done.stdout


def test_dry_run_connects_to_nothing(sims: SimFleet, tmp_path: Path) -> None:
    inv = rows(sims, ["R1", "R2", "R3", "R4"])
    inv[0]["jump"] = "ssh://ops@bastion.example"
    inv.append({"name": "aux", "target": "modem:///dev/ttyS9?number=5551234", "platform": "ios",
                "password_env": "NOT_SET_ANYWHERE"})
    before = sims.events.count("connect")
    done = collector("run", str(playbook(tmp_path)), "-i", str(write_csv(tmp_path / "inv.csv", inv)),
                     *common(tmp_path), "--dry-run", "--json", "--limit", "core:aux", "--filter", "name!=R2")
    assert done.returncode == 0, done.stderr
    doc = load_json(done.stdout)
    by = {d["device"]: d for d in doc["devices"]}
    assert set(by) == {"R1", "aux"}
    assert by["R1"]["path"] == f"ssh://ops@bastion.example -> ssh://admin@127.0.0.1:{sims.ports[0]}"
    assert by["aux"]["line"] == "/dev/ttyS9" and by["aux"]["credentials"] == {"password": "$NOT_SET_ANYWHERE"}
    assert not (tmp_path / "runs").exists()
    assert sims.events.count("connect") == before


def test_one_bundle_with_a_section_per_device_and_consistent_pseudonyms(sims: SimFleet, tmp_path: Path) -> None:
    inv = rows(sims, ["R1", "R2", "R3"])
    inv.append({"name": "dead", "target": f"ssh://admin@127.0.0.1:{free_port()}", "platform": "ios",
                "password_env": "SIM_PW"})
    done = collector("run", str(playbook(tmp_path)), "-i", str(write_csv(tmp_path / "inv.csv", inv)),
                     *common(tmp_path), "--json", "--case", "698765432")
    assert done.returncode == 6, done.stderr
    fleet = load_json(done.stdout)["fleet_dir"]
    made = collector("bundle", fleet, "--out", str(tmp_path / "bundles"), "--anonymize", "hostnames",
                     "--map-dir", str(tmp_path / "maps"), "--json")
    assert made.returncode == 0, made.stderr
    path = Path(load_json(made.stdout)["bundle"])
    assert collector("verify", str(path)).returncode == 0
    with tarfile.open(path) as tar:
        members = {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    manifest = json.loads(members["manifest.json"])
    section = manifest["fleet"]
    assert [d["status"] for d in section["devices"]] == ["ok", "ok", "ok", "failed-before-start"]
    assert section["devices"][3]["run"] is None and "connection refused" in section["devices"][3]["error"]
    pseudonyms = [d["device"] for d in section["devices"][:3]]
    assert all(p.startswith("host-") for p in pseudonyms) and len(set(pseudonyms)) == 3
    for dev, run in zip(section["devices"][:3], manifest["runs"], strict=True):
        assert dev["run"] == f"runs/{run['label']}"
        assert run["device_hostname"] == dev["device"]  # the prompt's hostname got the inventory name's pseudonym
    readme = members["README.txt"].decode()
    assert "Fleet " in readme and "Devices that did not complete" in readme and "(nothing collected)" in readme
    for name, data in members.items():
        for real in (b"R1#", b"R2#", b"R3#", b"R1>", b"hostname R1"):
            assert real not in data, (name, real)
    assert "case" in manifest and manifest["case"] == "698765432"
