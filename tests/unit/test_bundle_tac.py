"""The bundle a TAC engineer opens: device hostname, the playbook itself, no local paths, counts that add up,
the recorded case, the bytes an interrupted step kept, refusals and warnings, and no step byte carried twice."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import tarfile
from pathlib import Path

import pytest

from collector.bundle import build_bundle, verify_bundle
from collector.bundle.runfacts import hostname_from_prompt
from collector.errors import BundleError
from collector.sim.showtech import show_tech
from tests.corpus.make_run import RunSpec, StepSpec, make_run


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers() if m.isfile()}


def names(path: Path) -> list[str]:
    with tarfile.open(path) as tar:
        return tar.getnames()


@pytest.mark.parametrize(("prompt", "host"), [
    ("R1#", "R1"), ("R1>", "R1"), ("R1(config-if)#", "R1"), ("admin@sw-core-1> ", "sw-core-1"),
    ("netops@linux-vm01:~$ ", "linux-vm01"), ("RP/0/RSP0/CPU0:xr-edge1#", "xr-edge1"),
    ("\r\n*** banner ***\r\nBR-RTR-01#", "BR-RTR-01"), ("[/]#", None), ("", None), ("#", None),
])
def test_hostname_from_prompt(prompt: str, host: str | None) -> None:
    assert hostname_from_prompt(prompt) == host


def test_device_hostname_beside_the_target(tmp_path: Path) -> None:
    rd = make_run(tmp_path / "runs", RunSpec(target="ssh://netops@10.9.8.7:22", prompt="core-sw-02#",
                                             steps=[StepSpec("show clock", b"10:00\n")]))
    res = build_bundle([rd], tmp_path / "out")
    run = res.manifest["runs"][0]
    assert run["target"] == "ssh://netops@10.9.8.7:22" and run["device_hostname"] == "core-sw-02"
    readme = members(res.path)["README.txt"].decode()
    assert "Device 01-10.9.8.7: ssh://netops@10.9.8.7:22 (device hostname core-sw-02)" in readme
    anon = build_bundle([rd], tmp_path / "anon", anonymize={"hostnames"}, map_dir=tmp_path / "maps")
    pmap = json.loads(anon.map_path.read_text())  # type: ignore[union-attr]
    assert anon.manifest["runs"][0]["device_hostname"] == pmap["hostnames"]["core-sw-02"]
    assert b"core-sw-02" not in b"".join(members(anon.path).values()).lower()


def test_the_playbook_file_is_in_the_bundle_when_its_hash_matches(tmp_path: Path) -> None:
    pb = tmp_path / "pb" / "tac-baseline.yaml"
    pb.parent.mkdir()
    body = b"name: tac-baseline\nplatform: cisco_ios\nsteps:\n  - command: show clock\n"
    pb.write_bytes(body)
    spec = RunSpec(playbook_path=str(pb), playbook_sha256=hashlib.sha256(body).hexdigest(),
                   steps=[StepSpec("show clock", b"10:00\n")])
    rd = make_run(tmp_path / "runs", spec)
    res = build_bundle([rd], tmp_path / "out")
    got = members(res.path)
    playbook = res.manifest["runs"][0]["playbook"]
    assert playbook["file"] == "runs/01-br-rtr-01/playbook.yaml" and got[playbook["file"]] == body
    assert playbook["sha256"] == hashlib.sha256(body).hexdigest() == res.manifest["members"][playbook["file"]]["sha256"]
    assert playbook["file_name"] == "tac-baseline.yaml" and playbook["note"] is None
    assert verify_bundle(res.path).ok
    pb.write_bytes(body + b"  - command: show version\n")  # edited after the run: not the playbook that ran
    changed = build_bundle([rd], tmp_path / "out2").manifest["runs"][0]["playbook"]
    assert changed["file"] is None and "changed since the run" in changed["note"]
    pb.unlink()
    gone = build_bundle([rd], tmp_path / "out3")
    assert gone.manifest["runs"][0]["playbook"]["file"] is None
    readme = members(gone.path)["README.txt"].decode()
    assert "not included: the playbook file is no longer where the run read it" in readme


def test_no_local_path_of_the_collecting_machine_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home, work = tmp_path / "home-of-jdoe", tmp_path / "work-of-jdoe"
    (home / ".ssh").mkdir(parents=True)
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    pb = home / "playbooks" / "tac.yaml"
    pb.parent.mkdir()
    pb.write_bytes(b"name: tac\n")
    spec = RunSpec(playbook_path=str(pb), playbook_sha256=hashlib.sha256(b"name: tac\n").hexdigest(),
                   link={"host_key_source": str(home / ".ssh" / "known_hosts"), "key_file": f"{home}/.ssh/id_ed25519",
                         "log": f"{work}/runs/x.log"},
                   steps=[StepSpec("show clock", b"10:00\n", interrupted_first=True)])
    rd = make_run(work / "runs", spec)
    res = build_bundle([rd], work / "bundles", include_raw=True)
    blob = "\n".join(names(res.path)) + "\n" + b"".join(members(res.path).values()).decode()
    for local in (str(home), str(work), str(tmp_path), "home-of-jdoe", "work-of-jdoe"):
        assert local not in blob, local
    link = res.manifest["runs"][0]["link"]
    assert link["host_key_source"] == "~/.ssh/known_hosts" and link["log"] == "<runs-dir>/x.log"
    assert link["key_file"] == "~/.ssh/id_ed25519"


def table_rows(readme: str) -> list[tuple[str, str]]:
    """(kind, status) of each row of every step table."""
    rows = []
    for line in readme.splitlines():
        m = re.match(r"\s+\d+\s+(\S+)\s+\S+(?: \S+)?\s+\S+\s+(cleanup )?", line)
        if m and not line.strip().startswith(("step", "-")) and re.match(r"\s+\d+\s", line):
            rows.append(("cleanup" if m.group(2) else "main", m.group(1)))
    return rows


def counts(line: str) -> dict[str, int]:
    inner = re.search(r"\d+ \(([^)]*)\)", line)
    assert inner is not None, line
    return {w.split(" ", 1)[1]: int(w.split(" ", 1)[0]) for w in inner.group(1).split(", ") if w != "none"}


def test_readme_counts_match_its_table(tmp_path: Path) -> None:
    rd = make_run(tmp_path / "runs", RunSpec(steps=[
        StepSpec("show version", b"IOS\n"),
        StepSpec("show running-config", b"hostname R1\n", interrupted_first=True),
        StepSpec("show bogus", b"% Invalid input\n", status="error", error_marker="% Invalid input"),
        StepSpec("show tech-support", b"tech\n" * 9, status="timeout", timed_out=True),
        StepSpec("show logging", b"log\n" * 9, interrupted_first=True, status="interrupted"),
        StepSpec("terminal no monitor", b"", kind="cleanup"),
        StepSpec("undebug all", b"% error\n", kind="cleanup", status="error"),
    ]))
    readme = members(build_bundle([rd], tmp_path / "out").path)["README.txt"].decode()
    rows = table_rows(readme)
    assert len(rows) == 7
    main_line = next(line for line in readme.splitlines() if line.strip().startswith("steps:"))
    cleanup_line = next(line for line in readme.splitlines() if line.strip().startswith("cleanup steps:"))
    for kind, line in (("main", main_line), ("cleanup", cleanup_line)):
        want: dict[str, int] = {}
        for k, status in rows:
            if k == kind:
                want[status] = want.get(status, 0) + 1
        assert counts(line) == want, (line, rows)
    assert main_line.strip().startswith("steps: 5 (") and cleanup_line.strip().startswith("cleanup steps: 2 (")


def test_an_interrupted_step_shows_the_bytes_it_kept(tmp_path: Path) -> None:
    out = b"%LINK-3-UPDOWN: Interface Gi0/1, changed state to down\n" * 20
    rd = make_run(tmp_path / "runs", RunSpec(steps=[
        StepSpec("show logging", out, interrupted_first=True, status="interrupted")]))
    res = build_bundle([rd], tmp_path / "out")
    step = res.manifest["runs"][0]["steps"][0]
    kept = out[:200]
    assert step["status"] == "interrupted" and step["partial"] is True
    assert step["file"] == "runs/01-br-rtr-01/steps/001-show-logging.txt.partial.1"
    assert step["bytes"] == len(kept) == step["source_bytes"] == step["attempts"][0]["bytes"]
    assert members(res.path)[step["file"]] == kept
    assert res.manifest["runs"][0]["summary"]["bytes"] == len(kept)
    row = next(line for line in members(res.path)["README.txt"].decode().splitlines() if "show logging" in line
               and "interrupted" in line)
    assert "200 B" in row and "kept what arrived" in row


def test_rebundling_keeps_the_recorded_case_unless_overridden(tmp_path: Path) -> None:
    rd = make_run(tmp_path / "runs", RunSpec(case="698765432", steps=[StepSpec("show clock", b"10:00\n")]))
    res = build_bundle([rd], tmp_path / "out")
    assert res.path.name.startswith("collector-698765432-") and res.manifest["case"] == "698765432"
    assert "Case:      698765432" in members(res.path)["README.txt"].decode()
    other = build_bundle([rd], tmp_path / "out", case="SR-1")
    assert other.path.name.startswith("collector-SR-1-") and other.manifest["case"] == "SR-1"
    plain = make_run(tmp_path / "runs", RunSpec(steps=[StepSpec("show clock", b"10:00\n")]))
    assert build_bundle([plain], tmp_path / "out").path.name.startswith("collector-nocase-")


def test_warns_on_no_output_and_refuses_failed_before_start(tmp_path: Path) -> None:
    empty = make_run(tmp_path / "runs", RunSpec(steps=[]))
    res = build_bundle([empty], tmp_path / "out")
    assert any("no step output" in w for w in res.warnings)
    failed = make_run(tmp_path / "runs", RunSpec(steps=[], status="failed-before-start"))
    with pytest.raises(BundleError, match="failed before its first step") as info:
        build_bundle([failed], tmp_path / "out")
    assert "--force" in (info.value.hint or "")
    assert len(list((tmp_path / "out").glob("*.tar.gz"))) == 1
    forced = build_bundle([failed], tmp_path / "out", force=True)
    assert verify_bundle(forced.path).ok and any("no step output" in w for w in forced.warnings)
    full = make_run(tmp_path / "runs", RunSpec(steps=[StepSpec("show clock", b"10:00\n")]))
    assert build_bundle([full], tmp_path / "out").warnings == []


def test_no_byte_carried_twice(tmp_path: Path) -> None:
    src = tmp_path / "tech.txt"
    with src.open("wb") as fh:
        for piece in show_tech(6_000_000):
            fh.write(piece)
    rd = make_run(tmp_path / "runs", RunSpec(steps=[StepSpec("show version", b"IOS XE\n" * 40),
                                                    StepSpec("show tech-support", src)], chunk_size=1 << 20))
    steps = b"".join(p.read_bytes() for p in sorted((rd / "steps").iterdir()))
    compressed = len(gzip.compress(steps, compresslevel=6))
    res = build_bundle([rd], tmp_path / "out")
    ratio = res.path.stat().st_size / compressed
    print(f"bundle / compressed step bytes: {ratio:.4f}")
    assert ratio <= 1.05, ratio
    assert not any(n.endswith("transcript.raw") for n in names(res.path))
    raw = res.manifest["runs"][0]["raw"]
    assert raw["included"] is False and raw["problems"] == [] and raw["chunks"] >= 6
    with_raw = build_bundle([rd], tmp_path / "out", include_raw=True)
    assert with_raw.path.stat().st_size / compressed > 1.8  # the transcript repeats every step byte
    assert with_raw.manifest["runs"][0]["raw"]["included"] is True
    assert verify_bundle(res.path).ok and verify_bundle(with_raw.path).ok
