"""--limit (Ansible patterns plus key=value) and --filter (nornir F()-style), with generated inventories; and
the plan: platforms, left-out devices, playbook variables from the inventory, exclusive lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.errors import UsageError
from collector.fleet.inventory import load_inventory
from collector.fleet.model import Device
from collector.fleet.plan import PlanInputs, make_plan
from collector.fleet.select import limit, select
from collector.playbook import load_playbook

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "inventories"
PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def names(devices: list[Device]) -> list[str]:
    return [d.name for d in devices]


@pytest.fixture(scope="module")
def nornir() -> list[Device]:
    return load_inventory(CORPUS / "nornir" / "hosts.yaml").devices


@pytest.mark.parametrize("pattern, expected", [
    ("bma", ["host1.bma", "host2.bma", "spine00.bma", "spine01.bma", "leaf00.bma", "leaf01.bma"]),
    ("eu", ["host1.bma", "host2.bma", "spine00.bma", "spine01.bma", "leaf00.bma", "leaf01.bma"]),  # a parent
    ("spine*", ["spine00.cmh", "spine01.cmh", "spine00.bma", "spine01.bma"]),
    ("spine*:&bma", ["spine00.bma", "spine01.bma"]),
    ("cmh:!leaf*:!host*", ["spine00.cmh", "spine01.cmh"]),
    ("host1.cmh,leaf01.bma", ["host1.cmh", "leaf01.bma"]),
    ("~^leaf0[01]\\.cmh$", ["leaf00.cmh", "leaf01.cmh"]),
    ("site=bma,role=spine", ["spine00.bma", "spine01.bma"]),  # key=value terms narrow (both hold)
    ("leaf*,site=cmh", ["leaf00.cmh", "leaf01.cmh"]),
    ("all:!cmh:!eu", []),
    ("role!=host,site=cmh,asn=65100", ["leaf00.cmh"]),
    ("platform=juniper_junos,bma", ["spine01.bma", "leaf01.bma"]),
    ("port=12444", ["spine00.cmh", "spine00.bma"]),
    ("site=cmh:!leaf*:!host*", ["spine00.cmh", "spine01.cmh"]),  # `:!` after a value starts a new term
    ("jump=ssh://ops@jump.bma.example:&leaf*", ["leaf00.bma", "leaf01.bma"]),  # the URL keeps its colons
])
def test_limit_patterns(nornir: list[Device], pattern: str, expected: list[str]) -> None:
    assert names(limit(nornir, pattern).devices) == expected


@pytest.mark.parametrize("spec, expected", [
    ("site=bma,role=leaf", ["leaf00.bma", "leaf01.bma"]),
    ("groups__contains=global,type=host", ["host1.bma", "host2.bma"]),
    ("asn__ge=65100,site=cmh", ["leaf00.cmh", "leaf01.cmh"]),
    ("name~=^host[12]\\.c", ["host1.cmh", "host2.cmh"]),
    ("role__in=spine|leaf,site=cmh,platform!=arista_eos", ["spine01.cmh", "leaf01.cmh"]),
    ("nested_data__a_dict__a=1", ["host1.cmh"]),
    ("jump=ssh://ops@jump.bma.example,role=host", ["host1.bma", "host2.bma"]),
])
def test_filter_conditions(nornir: list[Device], spec: str, expected: list[str]) -> None:
    assert names(select(nornir, filters=[spec]).devices) == expected


def test_nothing_selected_is_a_usage_error(nornir: list[Device]) -> None:
    with pytest.raises(UsageError, match="selects no device"):
        select(nornir, limits=["nosuch*"])
    with pytest.raises(UsageError, match="not a condition"):
        select(nornir, filters=["=x"])
    assert select(nornir, limits=["nosuch:cmh"]).warnings == ["--limit 'nosuch' matches no device or group"]


NAMES = st.text(alphabet="abcxyz019-.", min_size=1, max_size=6)


@st.composite
def inventories(draw: st.DrawFn) -> list[Device]:
    count = draw(st.integers(1, 12))
    hosts = draw(st.lists(NAMES, min_size=count, max_size=count, unique=True))
    group_names = ["g1", "g2", "g3", "core"]
    out = []
    for h in hosts:
        groups = tuple(draw(st.lists(st.sampled_from(group_names), unique=True, max_size=3)))
        site = draw(st.sampled_from(["ams", "fra", "lon"]))
        out.append(Device(name=h, target=f"ssh://{h.strip('.-') or 'x'}", source="gen:1", groups=groups,
                          data={"site": site}))
    return out


TERMS = st.one_of(NAMES, st.sampled_from(["g1", "g2", "g3", "core", "*", "all", "site=ams", "site=fra", "[ax]*"]))


@given(inventories(), st.lists(TERMS, min_size=1, max_size=4), st.lists(TERMS, max_size=2),
       st.lists(TERMS, max_size=2), st.sampled_from([":", ","]))
def test_limit_algebra(devices: list[Device], adds: list[str], ands: list[str], nots: list[str], sep: str) -> None:
    """Names and groups add up, & narrows, ! removes; key=value narrows; inventory order is kept."""
    pattern = sep.join(adds + [f"&{t}" for t in ands] + [f"!{t}" for t in nots])
    if sep == ":" and any("=" in t for t in adds):
        pattern = ",".join(adds) + "".join(f":&{t}" for t in ands) + "".join(f":!{t}" for t in nots)
    chosen = names(limit(devices, pattern).devices)
    assert chosen == [d.name for d in devices if d.name in chosen]  # inventory order
    for t in nots:
        assert not set(chosen) & set(names(limit(devices, t).devices))
    for t in ands:
        assert set(chosen) <= set(names(limit(devices, t).devices))
    positives = [t for t in adds if "=" not in t]
    union = {n for t in positives for n in names(limit(devices, t).devices)} if positives else set(names(devices))
    assert set(chosen) <= union
    for t in [t for t in adds if "=" in t]:
        assert set(chosen) <= set(names(limit(devices, t).devices))


def test_plan_platforms_variables_lines_and_left_out(tmp_path: Path) -> None:
    inv = load_inventory(CORPUS / "devices.csv")
    loaded = load_playbook(PLAYBOOKS / "cisco_ios" / "tac-baseline.yaml", {})
    devices = inv.devices + [Device(name="r9", target="ssh://r9", source="x:1", data={"interface": "Gi0/9"}),
                             Device(name="odd", target="ssh://odd", source="x:2", platform_given="fortios")]
    plan = make_plan(devices, PlanInputs(fleet_id="f1", loaded=loaded, overrides={}))
    jobs = {j.device: j for j in plan.jobs}
    assert set(jobs) == {"core1", "core2", "dist1", "console1", "dialin1", "r9"}
    assert jobs["core2"].platform == "cisco_xe"  # same CLI family as the playbook's cisco_ios
    assert jobs["dialin1"].line == "/dev/ttyS0" and jobs["console1"].line == "/dev/ttyUSB0" and not jobs["core1"].line
    assert jobs["r9"].vars == {"interface": "Gi0/9"}  # a declared playbook variable set by the inventory
    assert jobs["core1"].vars == {}
    left = {d.name: why for d, why in plan.left_out}
    assert "linux does not run a cisco_ios playbook" in left["fw1"] and "fortios" in left["odd"]
    assert plan.refused == {}
    forced = make_plan(devices[:1], PlanInputs(fleet_id="f1", loaded=loaded, overrides={"interface": "Gi0/2"}))
    assert forced.jobs[0].vars == {"interface": "Gi0/2"}


def test_guard_refusal_is_per_device(tmp_path: Path) -> None:
    loaded = load_playbook(PLAYBOOKS / "cisco_ios" / "tac-baseline.yaml", {})
    devices = [Device(name="good", target="ssh://a", source="x:1", data={"interface": "Gi0/1"}),
               Device(name="bad", target="ssh://b", source="x:2",
                      data={"interface": "Gi0/1 | redirect flash:x"})]
    plan = make_plan(devices, PlanInputs(fleet_id="f1", loaded=loaded))
    assert set(plan.refused) == {"bad"} and "redirect" in plan.refused["bad"]
