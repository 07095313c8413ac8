"""A single run pauses the cyclic collector while it starts, and restarts it (with everything made so far frozen)
once connected or when the run ends before that; a collection paused by someone else is left alone."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from collector.cli.startup_gc import ReleaseWhenConnected, held, release


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    yield
    gc.enable()
    gc.unfreeze()


def test_paused_while_held_restarted_and_frozen_when_connected() -> None:
    with held():
        assert not gc.isenabled()
        ReleaseWhenConnected().connected({"transport": "ssh"})
        assert gc.isenabled() and gc.get_freeze_count() > 0
    assert gc.isenabled()


def test_restarted_when_the_block_ends_without_a_connection() -> None:
    with pytest.raises(RuntimeError), held():
        assert not gc.isenabled()
        raise RuntimeError("the login failed")
    assert gc.isenabled()


def test_a_pause_that_is_not_ours_is_left_alone() -> None:
    gc.disable()
    release()
    assert not gc.isenabled()
    with held():
        pass
    assert not gc.isenabled()


def test_a_run_restarts_collection_once_connected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The real `collector run` against the embedded simulator: collection is back on (and start-up frozen) by the
    time the first step runs."""
    code = f"""
        import gc, sys
        from collector.runner import steps
        seen = []
        real = steps.StepRunner.run
        def run(self, *a, **k):
            seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
            return real(self, *a, **k)
        steps.StepRunner.run = run
        from collector.sim.ssh_server import SimSSHServer
        from collector.sim.profile import DeviceProfile
        from collector.cli import prepare_process
        from collector.cli.main import app_for
        prepare_process()
        pb = {str(tmp_path / "pb.yaml")!r}
        open(pb, "w").write("name: gc\\nplatform: cisco_ios\\nsteps:\\n"
                            "  - command: show version\\n  - command: show clock\\n")
        with SimSSHServer(DeviceProfile.load("cisco_ios"), users={{"admin": "pw-gc-1"}}) as srv:
            import os
            os.environ["GC_PW"] = "pw-gc-1"
            argv = ["collector", "run", pb, "--target", f"ssh://admin@127.0.0.1:{{srv.port}}", "--password-env",
                    "GC_PW", "--accept-new-host-key", "--known-hosts", {str(tmp_path / "kh")!r}, "--no-ssh-config",
                    "--runs-dir", {str(tmp_path / "runs")!r}, "--json"]
            try:
                app_for(argv)(argv[1:], standalone_mode=False)
            except SystemExit:
                pass
        print(seen, gc.isenabled())
    """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[(True, True), (True, True)] True", done.stdout
