"""A fleet of real components: the OpenSSH sshd (also as a jump host, with MaxStartups respected), the real
telnet daemon and simulated devices, with a wrong password on one host and an unreachable one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from collector.sim.fleet import SimFleet
from collector.sim.profile import DeviceProfile
from tests.helpers.fleet import (
    SIM_PASSWORD,
    check_device,
    collector,
    completed_steps,
    device_runs,
    load_json,
    write_csv,
)
from tests.servers.ports import free_port
from tests.servers.sshd import SshdServer
from tests.servers.telnetd import TelnetdServer, telnetd  # noqa: F401  (fixture)

SEQ = [5, 2000, 30000]


def linux_playbook(tmp: Path) -> Path:
    path = tmp / "linux-seq.yaml"
    steps = "\n".join(f"  - command: seq {n}" for n in SEQ)
    path.write_text(f"name: linux-seq\nplatform: linux\ndefaults:\n  idle_timeout: 20s\nsteps:\n{steps}\n")
    return path


def seq_sha(n: int) -> str:
    return hashlib.sha256("".join(f"{i}\n" for i in range(1, n + 1)).encode()).hexdigest()


def check_seq(run_dir: Path) -> None:
    done = completed_steps(run_dir)
    assert sorted(done) == [1, 2, 3], run_dir
    for step, n in zip((1, 2, 3), SEQ, strict=True):
        (rec,) = done[step]
        assert rec["status"] == "ok" and rec["sha256"] == seq_sha(n)
        assert hashlib.sha256((run_dir / rec["file"]).read_bytes()).hexdigest() == seq_sha(n)


def test_sshd_telnetd_and_the_simulator_as_one_fleet(sshd: SshdServer, telnetd: TelnetdServer,  # noqa: F811
                                                     tmp_path: Path) -> None:
    user, pw = sshd.account.name, sshd.account.password
    kh = tmp_path / "kh"
    kh.write_text(sshd.known_hosts_line)
    profile = DeviceProfile.load("linux")
    with SimFleet(2, profile, prefix="lab", users={"admin": SIM_PASSWORD}) as sims:
        rows = [
            {"name": "sshd-host", "target": f"ssh://{user}@127.0.0.1:{sshd.port}", "password_env": "ACCOUNT_PW"},
            {"name": "telnet-host", "target": f"telnet://{user}@127.0.0.1:{telnetd.port}", "password_env":
             "ACCOUNT_PW"},
            {"name": "sim1", "target": f"ssh://admin@127.0.0.1:{sims.ports[0]}", "password_env": "SIM_PW"},
            {"name": "sim2", "target": f"ssh://admin@127.0.0.1:{sims.ports[1]}", "password_env": "SIM_PW"},
            {"name": "wrong-pw", "target": f"ssh://{user}@127.0.0.1:{sshd.port}", "password_env": "WRONG_PW"},
            {"name": "unreachable", "target": f"ssh://{user}@127.0.0.1:{free_port()}", "password_env": "ACCOUNT_PW"},
        ]
        done = collector("run", str(linux_playbook(tmp_path)), "-i", str(write_csv(tmp_path / "inv.csv", rows)),
                         "--known-hosts", str(kh), "--accept-new-host-key", "--no-ssh-config", "--runs-dir",
                         str(tmp_path / "runs"), "--json", env={"ACCOUNT_PW": pw})
    assert done.returncode == 6, done.stderr
    doc = load_json(done.stdout)
    by = {d["device"]: d for d in doc["devices"]}
    assert by["wrong-pw"]["exit_code"] == 13 and by["unreachable"]["exit_code"] == 10
    assert sshd.count(rf"Failed password for {sshd.account.name}") >= 1
    runs = device_runs(Path(doc["fleet_dir"]))
    for name in ("sshd-host", "telnet-host", "sim1", "sim2"):
        assert by[name]["status"] == "ok", by[name]
        check_seq(runs[name])


def test_max_startups_is_respected_through_a_jump_host(sshd_factory: Callable[..., SshdServer],
                                                       tmp_path: Path) -> None:
    """sshd drops every unauthenticated connection beyond 2 (MaxStartups 2:100:2); 10 devices behind it as a
    jump host, logins limited to 2 at a time on it: every device completes and sshd drops nothing."""
    jump = sshd_factory(extra_config="MaxStartups 2:100:2")
    kh = tmp_path / "kh"
    kh.write_text(jump.known_hosts_line)
    user = jump.account.name
    pb = tmp_path / "ios.yaml"
    pb.write_text("name: ios\nplatform: cisco_ios\nsteps:\n  - command: show version\n  - command: show clock\n")
    with SimFleet(10, DeviceProfile.load("cisco_ios"), users={"admin": SIM_PASSWORD}) as sims:
        rows = [{"name": n, "target": f"ssh://admin@127.0.0.1:{p}", "password_env": "SIM_PW",
                 "jump": f"ssh://{user}@127.0.0.1:{jump.port}", "jump_password_env": "ACCOUNT_PW"}
                for n, p in zip(sims.names, sims.ports, strict=True)]
        done = collector("run", str(pb), "-i", str(write_csv(tmp_path / "inv.csv", rows)),
                         "--known-hosts", str(kh), "--accept-new-host-key", "--no-ssh-config", "--runs-dir",
                         str(tmp_path / "runs"), "--json", "--workers", "10", "--logins-per-host", "2",
                         env={"ACCOUNT_PW": jump.account.password})
    assert done.returncode == 0, done.stderr + done.stdout
    runs = device_runs(Path(load_json(done.stdout)["fleet_dir"]))
    assert len(runs) == 10
    for name, run_dir in runs.items():
        check_device(run_dir, name.upper(), DeviceProfile().show_tech_bytes, ["show version", "show clock"])
    assert jump.count(r"drop connection|MaxStartups|exceeded") == 0, jump.log()[-2000:]
    assert jump.count(rf"Accepted password for {jump.account.name}") == 10
