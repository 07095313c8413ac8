"""`python -m benchmarks.openssh_bench`: one 100 MiB output through openssh:// against the paramiko ssh:// transport
and raw `ssh` on the local sshd (issue 17). Each run is a fresh child process; the table reports ratios of medians.

collector rows run the real write-ahead path (raw chunks + step file). Raw rows read to EOF and keep nothing; the
"under a local pty" row is the ceiling for openssh:// (ssh writes into a pty that Python reads, as openssh:// does).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .measure import Sample, Stats, fmt_ratio, ratio, run_child, run_interleaved, summarize
from .sshd_host import MB, BenchHost, BenchSetupError, SshdHost, data_file

IDLE = 60.0
TOOLS = ("openssh-url", "paramiko-url", "openssh-url-exec", "paramiko-url-exec", "ssh-local-pty", "ssh-tt", "ssh-T")
LABEL = {
    "openssh-url": "**collector openssh://** interactive (system ssh on a pty)",
    "paramiko-url": "**collector ssh://** interactive (paramiko pty)",
    "openssh-url-exec": "collector openssh:// exec mode (`ssh -T`, no pty)",
    "paramiko-url-exec": "collector ssh:// exec mode (paramiko, no pty)",
    "ssh-local-pty": "raw `ssh -tt` under a local pty, read by Python (openssh://'s ceiling)",
    "ssh-tt": "raw `ssh -tt host cat > /dev/null` (remote pty)",
    "ssh-T": "raw `ssh -T host cat > /dev/null` (no pty)",
}


def ssh_config(host: BenchHost, directory: Path) -> Path:
    """An ssh_config naming the bench host `bench` (its key only, no agent, its known_hosts)."""
    path = directory / "ssh_config"
    path.write_text(
        f"Host bench\n  HostName {host.host}\n  Port {host.port}\n  User {host.user}\n  IdentityFile {host.key_path}\n"
        f"  IdentitiesOnly yes\n  IdentityAgent none\n  UserKnownHostsFile {host.known_hosts}\n"
        "  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n"
    )
    return path


# -- the child: one tool, one big command ------------------------------------------------------------------------
def _collector(tool: str, host: BenchHost, work: Path, command: str) -> tuple[float, int, str]:
    from collector.credentials import Credentials
    from collector.platforms import load_platform
    from collector.session.session import Session
    from collector.store.chunks import RawStream
    from collector.store.stepfile import StepFile
    from collector.target import parse_target
    from collector.transports.base import ConnectOptions
    from collector.transports.factory import make_transport

    if tool.startswith("openssh"):
        target = parse_target(f"openssh://bench?config={ssh_config(host, work)}")
        creds = Credentials()
    else:
        target = parse_target(f"ssh://{host.user}@{host.host}:{host.port}")
        creds = Credentials(username=host.user, key_file=host.key_path)
    opts = ConnectOptions(credentials=creds, known_hosts=None if tool.startswith("openssh") else host.known_hosts,
                          system_known_hosts=None, ssh_config=None)
    raw = RawStream(work / "raw", masker=creds.masker)
    sink = StepFile(work / "step.txt", masker=creds.masker)
    transport = make_transport(target, opts)
    transport.open()
    session = Session(transport, load_platform("linux"), creds, raw)
    try:
        session.open(timeout=30)
        t0 = time.monotonic()
        if tool.endswith("exec"):
            result = session.exec(command, sink, idle_timeout=IDLE)
        else:
            result = session.run(command, sink, idle_timeout=IDLE)
        took = time.monotonic() - t0
        sink.finish()
    finally:
        session.close()
        raw.close()
    if result.timed_out:
        raise RuntimeError("timed out")
    return took, sink.bytes, sink.sha256


def _raw_ssh(tool: str, host: BenchHost, work: Path, command: str) -> tuple[float, int, str]:
    """Raw ssh over a ControlMaster made beforehand, so the time is the transfer, not the handshake."""
    cfg = ssh_config(host, work)
    base = ["ssh", "-F", str(cfg), "-S", str(work / "cm")]
    master = subprocess.Popen([*base, "-M", "-N", "bench"], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while subprocess.run([*base, "-O", "check", "bench"], capture_output=True).returncode != 0:
            if master.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("ssh master did not come up")
            time.sleep(0.005)
        t0 = time.monotonic()
        if tool == "ssh-local-pty":
            nbytes = _read_under_pty([*base, "-tt", "bench", command])
        else:
            flag = "-tt" if tool == "ssh-tt" else "-T"
            subprocess.run([*base, flag, "bench", command], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           check=True, timeout=3600)
            nbytes = -1
        return time.monotonic() - t0, nbytes, ""
    finally:
        subprocess.run([*base, "-O", "exit", "bench"], capture_output=True)
        master.wait(10)


def _read_under_pty(argv: list[str]) -> int:
    import pexpect

    child = pexpect.spawn(argv[0], argv[1:], dimensions=(0, 511))
    n = 0
    try:
        while True:
            n += len(child.read_nonblocking(65536, IDLE))
    except pexpect.EOF:
        pass
    child.close()
    return n


def child_main(job: dict[str, Any]) -> None:
    host = BenchHost(**job["host"])
    work = Path(tempfile.mkdtemp(prefix=f"bench-{job['tool']}-"))
    try:
        runner = _raw_ssh if job["tool"].startswith("ssh-") else _collector
        took, nbytes, sha = runner(job["tool"], host, work, job["command"])
        out: dict[str, Any] = {"command_s": took, "bytes": nbytes, "sha256": sha}
    except Exception as exc:  # reported as a failed sample, the parent goes on
        out = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                out["vmhwm_kb"] = int(line.split()[1])
    print(json.dumps(out), flush=True)


# -- the parent: interleaved runs, one table ---------------------------------------------------------------------
def measure(host: BenchHost, size_mb: int, runs: int, tools: tuple[str, ...]) -> list[str]:
    path, want_sha = data_file(size_mb * MB)
    command = f"cat {path}"

    def one(tool: str) -> Sample:
        job = {"host": host.__dict__, "tool": tool, "command": command}
        argv = [sys.executable, "-m", "benchmarks.openssh_bench", "--child", json.dumps(job)]
        return run_child(argv, 1800, tool=tool, case="big")

    res = run_interleaved(tools, runs, one, lambda m: print(m, file=sys.stderr, flush=True))
    good = {t: [s for s in v if s.ok] for t, v in res.items()}
    speed: dict[str, Stats] = {t: summarize(size_mb / float(s.result["command_s"]) for s in v)
                               for t, v in good.items()}
    ref = speed.get("openssh-url", Stats(0, 0, 0, 0))
    rows = ["| path | MiB/s median (min–max) | CPU s | output | openssh:// / this |", "|---|---|---|---|---|"]
    for t in tools:
        cpu = summarize(s.cpu_s for s in good[t])
        sample = good[t][0] if good[t] else None
        if sample is None:
            exact = "; ".join(s.error or "failed" for s in res[t])
        elif sample.result.get("sha256"):
            exact = "exact" if sample.result["sha256"] == want_sha else "DIFFERS"
        else:
            exact = "not kept"
        rows.append(f"| {LABEL[t]} | {speed[t].fmt()} | {cpu.fmt('.2f')} | {exact} | "
                    f"{fmt_ratio(ratio(ref, speed[t]))} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.openssh_bench", description=__doc__)
    ap.add_argument("--size-mb", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS))
    ap.add_argument("--out", type=Path, help="also write the table (markdown) to this file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child_main(json.loads(args.child))
        return 0
    tools = tuple(t for t in args.tools.split(",") if t)
    unknown = set(tools) - set(TOOLS)
    if unknown:
        ap.error(f"unknown tools: {', '.join(sorted(unknown))}")
    try:
        with SshdHost() as host:
            rows = measure(host, args.size_mb, args.runs, tools)
    except BenchSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = (f"## openssh:// throughput: one command producing {args.size_mb} MiB ({args.runs} runs each, "
            f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs)\n\n"
            "`cat` of a file on the local test sshd; MiB/s = size / command time (connect excluded; raw ssh rows run "
            "over a ControlMaster made beforehand). collector rows store every byte (raw chunks + step file) and "
            "check the step's SHA-256; CPU s includes child processes (ssh). openssh:// interactive passes two ptys "
            "(the device's and ours): the row read by Python under a local pty is its ceiling.\n\n"
            + "\n".join(rows) + "\n")
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
