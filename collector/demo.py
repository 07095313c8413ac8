"""`collector demo`: the whole path on this machine alone — simulator, SSH run, bundle, verification.

Starts the embedded simulator on a free loopback port, runs the TAC baseline playbook, bundles the run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from .credentials import Credentials
from .secrets import Secret
from .ui.console import say

DEMO_USER = "admin"
DEMO_PASSWORD = "demo-cisco-123"
DEMO_ENABLE = "demo-enable-123"
PLAYBOOK = Path(__file__).resolve().parent.parent / "playbooks" / "cisco_ios" / "tac-baseline.yaml"


def run_demo(runs_dir: Path, out_dir: Path, show_tech_mb: int, console: Console) -> tuple[int, Path | None]:
    from .bundle import build_bundle, verify_bundle
    from .platforms import load_platform
    from .playbook import check_playbook, load_playbook
    from .runner.plan import plan_steps, playbook_info
    from .runner.runner import Runner, RunOptions
    from .sim.profile import DeviceProfile
    from .sim.ssh_server import SimSSHServer
    from .target import parse_target
    from .transports.base import ConnectOptions
    from .ui.progress import RichObserver, summary_table

    profile = DeviceProfile.load("cisco_ios", show_tech_bytes=show_tech_mb << 20, enable_secret=DEMO_ENABLE)
    with SimSSHServer(profile, users={DEMO_USER: DEMO_PASSWORD}) as server, \
            tempfile.TemporaryDirectory(prefix="collector-demo-") as tmp:
        say(("simulator", "bold"), f" listening on 127.0.0.1:{server.port}, host key {server.fingerprint}", stderr=True)
        console.print("[dim]demo trusts the simulator's fresh host key on first use, in a throw-away "
                      "known_hosts file[/]")
        overrides: dict[str, str] = {}
        loaded = load_playbook(PLAYBOOK, overrides)
        platform = load_platform(loaded.model.platform)
        check_playbook(loaded, platform, False)
        creds = Credentials(username=DEMO_USER, password=Secret(DEMO_PASSWORD), enable=Secret(DEMO_ENABLE, "enable"))
        target = parse_target(f"ssh://{DEMO_USER}@127.0.0.1:{server.port}")
        options = ConnectOptions(credentials=creds, accept_new_host_key=True,
                                 known_hosts=str(Path(tmp) / "known_hosts"), system_known_hosts=None,
                                 ssh_config=None)
        runner = Runner(plan_steps(loaded.model), platform, target, options,
                        RunOptions(runs_dir=runs_dir, case="demo"), RichObserver(console),
                        playbook_info=playbook_info(loaded, overrides))
        outcome = runner.start()
    console.print(summary_table(outcome.steps, f"{outcome.run_dir.name}: {outcome.status}"))
    if outcome.error is not None:
        say(("error: ", "red"), outcome.error.message, stderr=True)
    result: Any = build_bundle([outcome.run_dir], out_dir, case="demo",
                               extra_secrets=[s for s in (creds.password, creds.enable) if s is not None])
    report = verify_bundle(result.path)
    say("run directory: ", str(outcome.run_dir), stderr=True)
    say(f"bundle verified: {report.ok} ({report.checked} members)", stderr=True)
    code = 0 if outcome.ok and report.ok else 1
    return code, result.path
