"""Every shipped playbook runs end to end against its platform's simulator profile: each show step's file has the
SHA-256 of the simulator's source, captures stop at the event they wait for, and the device is left as found."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from collector.playbook import load_playbook
from collector.playbook.library import SHIPPED
from collector.sim.profile import TRANSCRIPTS_ROOT
from tests.helpers.platform_rig import rig, run_playbook

PLAYBOOKS = sorted(SHIPPED.rglob("*.yaml"))


def rel(path: Path) -> str:
    return str(path.relative_to(SHIPPED))


@pytest.mark.parametrize("path", PLAYBOOKS, ids=rel)
def test_shipped_playbook_runs_against_its_profile(path: Path, tmp_path: Path) -> None:
    model = load_playbook(path).model
    assert (TRANSCRIPTS_ROOT / model.platform / "device.yaml").is_file(), f"no simulator profile for {model.platform}"
    # a debug capture waits for the event it is about; the simulator prints it one second after debug goes on
    with rig(model.platform, "ssh", flap_after=1.0, debug_rate=50) as r:
        outcome = run_playbook(path, r.url, tmp_path)
        assert outcome.status == "ok", (outcome.status, outcome.error, [(s.command, s.status) for s in outcome.steps])
        for rec in outcome.steps:
            if rec.kind != "show" or "|" in rec.command or "{{" in rec.command:
                continue
            data = (outcome.run_dir / rec.file).read_bytes() if rec.file else b""
            assert hashlib.sha256(data).hexdigest() == rec.sha256 == r.expected(rec.command), rec.command
        captures = [s for s in outcome.steps if s.kind == "capture"]
        assert all(c.capture_status in ("stopped-by-match", "stopped-by-trigger") for c in captures), captures
        kinds = [e["kind"] for e in r.events.events() if e["kind"] in ("debug-on", "debug-off")]
        assert not kinds or kinds[-1] == "debug-off"  # debug switched off again
        assert r.device.settings == r.profile.settings  # device settings set back
