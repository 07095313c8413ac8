"""Resume benchmark: the real Runner against sshd behind the fault proxy; a cut mid-output, then the clock runs
until the first byte of the re-run step. Phases come from the journal's monotonic stamps.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collector.credentials import Credentials
from collector.platforms import load_platform
from collector.runner.connector import ReconnectPolicy
from collector.runner.observer import RunObserver
from collector.runner.plan import PlannedStep
from collector.runner.runner import Runner, RunOptions
from collector.store.journal import read_journal
from collector.target import parse_target
from collector.transports.base import ConnectOptions

from .sshd_host import BenchHost


@dataclass
class ResumeTiming:
    """Seconds from the cut: detected (connection-lost), reconnected (logged in again), first byte of the re-run."""

    detected: float
    reconnected: float
    first_byte: float
    sha_ok: bool


class _CutObserver(RunObserver):
    """Cuts the link once `cut_at` bytes of step 1 have arrived; notes when the re-run step gets its first byte."""

    def __init__(self, proxy: Any, cut_at: int) -> None:
        self.proxy = proxy
        self.cut_at = cut_at
        self.starts = 0
        self.seen = 0
        self.t_cut: float | None = None
        self.t_first: float | None = None

    def step_started(self, index: int, name: str, expected_bytes: int | None = None) -> None:
        self.starts += 1

    def bytes_read(self, n: int) -> None:
        if self.starts == 1 and self.t_cut is None:
            self.seen += n
            if self.seen >= self.cut_at:
                self.t_cut = time.monotonic()
                self.proxy.cut_now()
        elif self.starts >= 2 and self.t_first is None:
            self.t_first = time.monotonic()


def one_resume(host: BenchHost, path: Path, sha256: str, *, cut_at: int, policy: ReconnectPolicy) -> ResumeTiming:
    """One run with one cut; raises if the run did not complete or no cut happened."""
    from tests.servers.fault_proxy import FaultProxy

    creds = Credentials(username=host.user, key_file=host.key_path)
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as tmp, FaultProxy(host.host, host.port) as proxy:
        kh = Path(tmp) / "known_hosts"
        # the proxy listens on another port: the same host key under the proxy's address
        line = Path(host.known_hosts).read_text().split(None, 1)[1]
        kh.write_text(f"[127.0.0.1]:{proxy.port} {line}")
        opts = ConnectOptions(credentials=creds, known_hosts=str(kh), system_known_hosts=None, ssh_config=None)
        steps = [PlannedStep(index=1, name="big", command=f"cat {path}", idle_timeout=30.0)]
        obs = _CutObserver(proxy, cut_at)
        ro = RunOptions(runs_dir=Path(tmp) / "runs", policy=policy, login_timeout=30.0)
        runner = Runner(steps, load_platform("linux"), parse_target(f"ssh://{host.user}@127.0.0.1:{proxy.port}"),
                        opts, ro, obs, playbook_info={"name": "resume-bench"})
        outcome = runner.start()
        if outcome.status != "ok" or obs.t_cut is None or obs.t_first is None:
            fired = obs.t_cut is not None
            raise RuntimeError(f"resume run ended {outcome.status} ({outcome.error}); cut fired: {fired}")
        events = list(read_journal(outcome.run_dir / "journal.jsonl"))
        lost = next(e["mono"] for e in events if e["event"] == "connection-lost")
        back = next(e["mono"] for e in events if e["event"] == "reconnected")
        rec = outcome.steps[0]
        return ResumeTiming(detected=lost - obs.t_cut, reconnected=back - obs.t_cut,
                            first_byte=obs.t_first - obs.t_cut, sha_ok=rec.sha256 == sha256)


def default_policy() -> ReconnectPolicy:
    """What users get (collector's defaults: the first reconnect attempt does not wait)."""
    return ReconnectPolicy()
