"""The shipped playbook library: every playbook validates, passes the guard, describes itself by the convention, and
is found by name (`tac/high-cpu` per platform, through `extends`); `collector playbooks` lists them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collector.cli.main import app
from collector.errors import PlaybookError
from collector.platforms import device_platforms, load_platform, platform_lineage
from collector.playbook import guard_refusals, load_playbook, validate_with_guard
from collector.playbook.library import SHIPPED, find_playbook, is_family, library_entries, platforms_with
from collector.playbook.summary import LEAVES, summarise, switches_debug_on

PLAYBOOKS = sorted(SHIPPED.rglob("*.yaml"))
PROBLEMS = ["baseline", "high-cpu", "memory", "interface-errors", "crash", "hardware"]
ROUTING = {"cisco_ios", "cisco_xr", "cisco_asa", "paloalto_panos", "fortinet", "hp_procurve", "aruba_aoscx", "huawei",
           "dell_os10", "mikrotik_routeros", "extreme_exos", "frr", "cisco_nxos", "juniper_junos", "arista_eos"}
NEW = ["cisco_xr", "cisco_asa", "cisco_wlc", "paloalto_panos", "fortinet", "hp_procurve", "aruba_aoscx", "huawei",
       "dell_os10", "mikrotik_routeros", "extreme_exos", "cisco_nxos", "juniper_junos", "arista_eos"]


def rel(path: Path) -> str:
    return str(path.relative_to(SHIPPED))


@pytest.mark.parametrize("path", PLAYBOOKS, ids=rel)
def test_every_shipped_playbook_validates_and_passes_the_guard(path: Path) -> None:
    report = validate_with_guard(path)
    assert report.exit_code == 0, report.lines()
    loaded = load_playbook(path)
    assert guard_refusals(loaded, load_platform(loaded.model.platform)) == []
    assert not loaded.model.allow_changes and not any(getattr(s, "allow_changes", False) for s in loaded.model.steps)
    folder = path.relative_to(SHIPPED).parts[0]
    assert loaded.model.platform in platform_lineage(folder)  # it sits in its platform's folder


@pytest.mark.parametrize("path", PLAYBOOKS, ids=rel)
def test_every_shipped_playbook_says_what_it_is_for_how_long_and_what_it_leaves(path: Path) -> None:
    model = load_playbook(path).model
    summary = summarise(model.description)
    assert summary is not None, f"{rel(path)}: description must read '<purpose>. Takes ... Leaves ...'"
    assert summary.leaves in LEAVES and summary.purpose and summary.takes
    debug = switches_debug_on(model, load_platform(model.platform))
    assert (summary.leaves == "debug switched off again") is debug, rel(path)


@pytest.mark.parametrize("name", NEW + ["cisco_ios", "linux"])
def test_each_platform_has_the_problem_playbooks(name: str) -> None:
    names = {e.name for e in library_entries(name)}
    wanted = {f"tac/{p}" for p in PROBLEMS}
    if name in ROUTING:
        wanted.add("tac/routing-flap")
    if name == "cisco_wlc":
        wanted.add("tac/wireless-client")
    if name in ("cisco_asa", "paloalto_panos", "fortinet"):
        wanted.add("tac/vpn-tunnel")
    assert wanted <= names, wanted - names


def test_library_names_resolve_per_platform_through_extends() -> None:
    assert find_playbook("tac/high-cpu", "fortinet") == SHIPPED / "fortinet" / "tac" / "high-cpu.yaml"
    # cisco_xe has no folder of its own: it runs cisco_ios's (it extends cisco_ios)
    assert find_playbook("tac/high-cpu", "cisco_xe") == SHIPPED / "cisco_ios" / "tac" / "high-cpu.yaml"
    assert find_playbook("cisco_ios/tac-baseline") == SHIPPED / "cisco_ios" / "tac-baseline.yaml"
    assert is_family("tac/high-cpu") and not is_family("cisco_ios/tac-baseline")
    assert set(platforms_with("tac/vpn-tunnel")) == {"cisco_asa", "paloalto_panos", "fortinet"}
    with pytest.raises(PlaybookError, match="which one") as info:
        find_playbook("tac/high-cpu")
    assert "--platform" in info.value.hint
    with pytest.raises(PlaybookError, match="no 'tac/vpn-tunnel' for platform 'huawei'"):
        find_playbook("tac/vpn-tunnel", "huawei")
    for bad in ("../etc/passwd", "tac/../../x", "a b", "tac/high-cpu;x"):
        with pytest.raises(PlaybookError):
            find_playbook(bad, "cisco_ios")


def test_your_own_library_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "lib" / "fortinet" / "tac"
    mine.mkdir(parents=True)
    text = (SHIPPED / "fortinet" / "tac" / "high-cpu.yaml").read_text().replace("name: tac-high-cpu", "name: mine")
    (mine / "high-cpu.yaml").write_text(text)
    monkeypatch.setenv("COLLECTOR_PLAYBOOKS", str(tmp_path / "lib"))
    assert find_playbook("tac/high-cpu", "fortinet") == mine / "high-cpu.yaml"
    entry = next(e for e in library_entries("fortinet") if e.name == "tac/high-cpu")
    assert entry.source == "yours"


def test_collector_playbooks_lists_the_library(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    from collector.ui import console

    monkeypatch.setitem(os.environ, "COLUMNS", "200")
    for made in (console.out, console.err):  # a console made by an earlier test in this process keeps its width
        made.cache_clear()
        request.addfinalizer(made.cache_clear)
    result = CliRunner().invoke(app, ["playbooks", "--platform", "cisco_asa", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    names = {r["name"] for r in rows}
    assert {"tac/vpn-tunnel", "tac/high-cpu"} <= names and all(r["platform"] == "cisco_asa" for r in rows)
    vpn = next(r for r in rows if r["name"] == "tac/vpn-tunnel")
    assert vpn["leaves"] == "debug switched off again" and vpn["takes"].startswith("up to")
    everything = json.loads(CliRunner().invoke(app, ["playbooks", "--json"]).output)
    assert {r["platform"] for r in everything} >= set(NEW)
    table = CliRunner().invoke(app, ["playbooks", "--platform", "huawei"])
    assert table.exit_code == 0 and "tac/routing-flap" in table.output
    unknown = CliRunner().invoke(app, ["playbooks", "--platform", "cisco_io"])
    assert unknown.exit_code == 3 and "did you mean 'cisco_ios'" in unknown.output


def test_every_platform_folder_is_a_platform() -> None:
    folders = {p.name for p in SHIPPED.iterdir() if p.is_dir()}
    assert folders <= set(device_platforms())
