"""One adapter per tool with the same interface (connect, one big command, N small commands, close): collector and
bare paramiko here, the OpenSSH client and the peers in tool_peers.py.

Run as a child process by measure.py: `python -m benchmarks.tools '<json job>'` prints one JSON result line.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from .sshd_host import BenchHost
from .tool_base import IDLE, Capture, Tool
from .tool_peers import Netmiko, OpenSSH, Scrapli, openssh_connect_once


# -- collector ----------------------------------------------------------------------------------------------------
class _CollectorBase(Tool):
    """Shared set-up: the real write-ahead path (RawStream chunks + StepFile per step + journal) in a temp run dir."""

    def __init__(self, host: BenchHost, workdir: Path) -> None:
        super().__init__(host, workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        from collector.credentials import Credentials
        from collector.store import chunks
        from collector.store.journal import Journal
        from collector.target import parse_target
        from collector.transports.base import ConnectOptions

        self.creds = Credentials(username=host.user, key_file=host.key_path)
        self.options = ConnectOptions(
            credentials=self.creds, known_hosts=host.known_hosts, system_known_hosts=None, ssh_config=None
        )
        self.target = parse_target(f"ssh://{host.user}@{host.host}:{host.port}")
        (workdir / "steps").mkdir(parents=True, exist_ok=True)
        # read at call time so `run.py --patch collector.store.chunks.DEFAULT_CHUNK_SIZE=...` reaches it
        self.raw = chunks.RawStream(workdir / "raw", chunk_size=chunks.DEFAULT_CHUNK_SIZE, masker=self.creds.masker)
        self.journal = Journal(workdir / "journal.jsonl", self.creds.masker)
        self.step = 0

    def _step_file(self) -> Any:
        from collector.store.stepfile import StepFile

        self.step += 1
        return StepFile(self.workdir / "steps" / f"{self.step:04d}.txt", masker=self.creds.masker)


class CollectorInteractive(_CollectorBase):
    """collector's default: Session over an SSH pty shell (prompt detection, normaliser)."""

    name = "collector"

    def connect(self) -> None:
        from collector.platforms import load_platform
        from collector.session.session import Session
        from collector.transports.ssh import SSHTransport

        self.transport = SSHTransport(self.target, self.options)
        self.transport.open()
        self.session = Session(self.transport, load_platform("linux"), self.creds, self.raw)
        self.session.open(timeout=30.0)

    def run(self, command: str, timeout: float) -> Capture:
        sink = self._step_file()
        from collector.store.events import StepCompleted, StepStarted

        self.journal.write(StepStarted(step=self.step, name=command, command=command, attempt=1,
                                       raw_offset=self.raw.offset))
        result = self.session.run(command, sink, idle_timeout=IDLE, max_time=timeout)
        sink.finish()
        if result.timed_out:
            raise RuntimeError(f"collector timed out on {command!r}")
        self.journal.write(StepCompleted(step=self.step, status="ok", attempt=1, name=command, command=command,
                                         file=f"steps/{sink.final.name}", bytes=sink.bytes, sha256=sink.sha256,
                                         raw_start=result.raw_start, raw_end=result.raw_end,
                                         duration=round(result.duration, 6)))
        return Capture(sink.bytes, sink.sha256)

    def close(self) -> None:
        self.session.close()
        self.raw.close()


class CollectorExec(_CollectorBase):
    """collector's exec-channel mode: one SSH channel per command, no pty, exit status recorded."""

    name = "collector-exec"

    def connect(self) -> None:
        from collector.transports.ssh import SSHTransport

        self.transport = SSHTransport(self.target, self.options)
        self.runner = self.transport.exec_runner()

    def run(self, command: str, timeout: float) -> Capture:
        """As Session.exec does it: the step file is the exec output's write-ahead record (hashed and written once)."""
        from collector.store.events import StepCompleted, StepStarted

        sink = self._step_file()
        offset = self.raw.offset
        self.journal.write(StepStarted(step=self.step, name=command, command=command, attempt=1, raw_offset=offset,
                                       mode="exec"))
        result = self.runner.run(command, sink.write, idle_timeout=IDLE, max_time=timeout)
        sink.finish()
        if result.timed_out:
            raise RuntimeError(f"collector exec timed out on {command!r}")
        self.journal.write(StepCompleted(step=self.step, status="ok", attempt=1, name=command, command=command,
                                         file=f"steps/{sink.final.name}", bytes=sink.bytes, sha256=sink.sha256,
                                         raw_start=offset, raw_end=offset, exit_status=result.exit_status,
                                         mode="exec"))
        return Capture(sink.bytes, sink.sha256)

    def close(self) -> None:
        self.transport.close()
        self.raw.close()


# -- bare paramiko (the ceiling for a pty) -------------------------------------------------------------------------
class ParamikoPty(Tool):
    """A bare paramiko channel with a pty reading the output to EOF: no prompt logic, nothing stored.

    Same cipher preference and channel window as collector, so the gap to collector is collector's own work.
    """

    name = "paramiko-pty"
    cases = ("big", "connect")

    def connect(self) -> None:
        import paramiko

        from collector.transports.ssh import CIPHER_PREFERENCE, tcp_connect

        sock = tcp_connect(self.host.host, self.host.port, 15.0, "bench")
        t = paramiko.Transport(sock)
        known = tuple(t.get_security_options().ciphers)
        t.get_security_options().ciphers = tuple(
            [c for c in CIPHER_PREFERENCE if c in known] + [c for c in known if c not in CIPHER_PREFERENCE]
        )
        t.start_client(timeout=15)
        t.auth_publickey(self.host.user, paramiko.PKey.from_path(self.host.key_path))  # type: ignore[call-arg]
        self.t = t

    pty = True

    def run(self, command: str, timeout: float) -> Capture:
        from collector.transports.ssh import MAX_PACKET_SIZE, WINDOW_SIZE

        chan = self.t.open_session(window_size=WINDOW_SIZE, max_packet_size=MAX_PACKET_SIZE)
        if self.pty:
            chan.get_pty(term="vt100", width=511, height=0)
        chan.exec_command(command)
        chan.settimeout(IDLE)
        h = hashlib.sha256()
        n = 0
        while True:
            data = chan.recv(65536)
            if not data:
                break
            h.update(data)
            n += len(data)
        chan.close()
        return Capture(n, h.hexdigest())

    def close(self) -> None:
        self.t.close()


class ParamikoExec(ParamikoPty):
    """The same bare paramiko read without a pty (the ceiling for collector's exec mode)."""

    name = "paramiko-exec"
    pty = False


TOOLS: dict[str, type[Tool]] = {
    t.name: t for t in (OpenSSH, ParamikoPty, ParamikoExec, CollectorInteractive, CollectorExec, Netmiko, Scrapli)
}


# -- child entry point ---------------------------------------------------------------------------------------------
def _watchdog(seconds: float) -> None:
    """A stuck peer must not hang the benchmark: the child ends itself after `seconds`."""

    def fire() -> None:
        print(json.dumps({"error": f"gave up after {seconds:.0f} s"}), flush=True)
        os._exit(3)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()


PRELOAD = {
    "collector": ("collector.transports.ssh", "collector.session.session", "collector.platforms"),
    "collector-exec": ("collector.transports.ssh", "collector.transports.ssh_exec"),
    "paramiko-pty": ("paramiko", "collector.transports.ssh"),
    "paramiko-exec": ("paramiko", "collector.transports.ssh"),
    "netmiko": ("netmiko",),
    "scrapli": ("scrapli",),
    "openssh": (),
}


def _preload(tool: str) -> None:
    """Import the tool's modules before any clock starts (latency, not interpreter start-up, is measured)."""
    import importlib

    for mod in PRELOAD.get(tool, ()):
        importlib.import_module(mod)


def apply_patches(patches: dict[str, Any]) -> None:
    """Experiments only (`run.py --patch MODULE.NAME=VALUE`): set module constants before the tool runs."""
    import importlib

    for dotted, value in patches.items():
        mod, _, attr = dotted.rpartition(".")
        module = importlib.import_module(mod)
        if not hasattr(module, attr):
            raise ValueError(f"--patch: {mod} has no {attr}")
        setattr(module, attr, value)


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """One measurement in this process: connect, the case's work, close; times in seconds."""
    host = BenchHost(**job["host"])
    case = job["case"]
    name = job["tool"]
    _preload(name)
    if name.startswith("collector"):
        apply_patches(job.get("patch", {}))
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=job.get("workroot")))
    out: dict[str, Any] = {"tool": name, "case": case}
    try:
        if case == "connect":
            lat: list[float] = []
            for i in range(int(job.get("count", 1))):
                if name == "openssh":
                    lat.append(openssh_connect_once(host))
                    continue
                tool = TOOLS[name](host, workdir / str(i))
                t0 = time.monotonic()
                tool.connect()
                tool.run("echo 1", 30.0)
                lat.append(time.monotonic() - t0)
                tool.close()
            out["latencies"] = lat
            return out
        tool = TOOLS[name](host, workdir)
        t0 = time.monotonic()
        tool.connect()
        out["connect_s"] = time.monotonic() - t0
        if case == "big":
            t1 = time.monotonic()
            cap = tool.run(job["command"], float(job.get("timeout", 3600)))
            out["command_s"] = time.monotonic() - t1
            out["bytes"] = cap.bytes
            out["sha256"] = cap.sha256
        elif case == "many":
            n = int(job["count"])
            tool.run("echo warm", 30.0)
            t1 = time.monotonic()
            out["bytes"] = tool.run_many([f"echo {i}" for i in range(n)])
            out["command_s"] = time.monotonic() - t1
        else:
            raise ValueError(f"unknown case {case}")
        tool.close()
        return out
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def peak_rss_kb() -> int | None:
    """This process's peak RSS since exec (VmHWM), in KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    job = json.loads(args[0])
    _watchdog(float(job.get("timeout", 3600)) + 30.0)
    try:
        result = run_job(job)
    except Exception as exc:  # a peer failing is a result, not a crash of the benchmark
        result = {"tool": job.get("tool"), "case": job.get("case"), "error": f"{type(exc).__name__}: {exc}",
                  "trace": traceback.format_exc(limit=3)}
    result["vmhwm_kb"] = peak_rss_kb()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
