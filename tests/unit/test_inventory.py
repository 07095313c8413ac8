"""Inventories in each format, parsed against fixtures written from the nornir and Ansible documentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.errors import InventoryError
from collector.fleet.inventory import load_inventory
from collector.fleet.model import Device, Inventory

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "inventories"


def by_name(inv: Inventory) -> dict[str, Device]:
    return {d.name: d for d in inv.devices}


def test_nornir_simple_inventory_inherits_host_then_groups_depth_first_then_defaults() -> None:
    inv = load_inventory(CORPUS / "nornir" / "hosts.yaml")
    assert inv.kind == "nornir" and len(inv.devices) == 12
    d = by_name(inv)
    # bma's parents are [eu, global]: eu answers before global, global before defaults
    h = d["host1.bma"]
    assert h.groups == ("bma", "eu", "global")
    assert h.data["asn"] == 65100 and h.data["domain"] == "global.local"
    assert h.jumps == ("ssh://ops@jump.bma.example",) and h.aaa == "tacacs-eu"
    assert h.credentials["password"].env == "BMA_PASSWORD" and h.credentials["enable"].env == "FLEET_ENABLE"
    assert h.target == "ssh://host1.bma"  # no hostname: the name is the address
    # a host's own value wins; defaults fill the rest
    leaf = d["leaf00.cmh"]
    assert leaf.data["asn"] == 65100 and leaf.data["domain"] == "acme.local"
    assert leaf.target == "ssh://vagrant@127.0.0.1:12443"
    assert leaf.platform == "arista_eos" and leaf.platform_given == "eos"
    assert d["spine01.cmh"].platform == "juniper_junos"
    assert d["host1.cmh"].credentials["password"].argv == ("pass", "show", "network/cmh")
    assert d["host1.cmh"].data["nested_data"]["a_dict"] == {"a": 1, "b": 2}


def test_ansible_yaml_inventory_groups_children_vars_and_connection_variables() -> None:
    inv = load_inventory(CORPUS / "ansible" / "hosts.yaml")
    assert inv.kind == "ansible-yaml"
    d = by_name(inv)
    assert set(d) >= {"mail.example.com", "foo.example.com", "rtr01.ams", "rtr02.ams", "rtr03.ams", "leaf01"}
    assert d["bar.example.com"].target == "ssh://admin@bar.example.com:2222"  # ansible_port
    assert d["three.example.com"].target == "ssh://admin@192.0.2.50"  # ansible_host
    assert set(d["foo.example.com"].groups) == {"webservers", "prod"}
    # a child group's vars win over its parent's: network says nxos, routers says ios; user from network
    rtr = d["rtr02.ams"]
    assert rtr.platform == "cisco_ios" and rtr.target == "ssh://netops@rtr02.ams"
    assert d["spine01"].platform == "cisco_nxos"
    assert rtr.credentials["password"].env == "AMS_PASSWORD"
    assert rtr.credentials["enable"].argv == ("pass", "show", "network/ams-enable")
    assert rtr.jumps == ("ssh://ops@bastion.ams.example",)  # -o ProxyJump=... in ansible_ssh_common_args
    assert rtr.data["site"] == "ams"
    assert d["leaf01"].platform is None and d["leaf01"].platform_given == "vyos.vyos.vyos"  # unknown: kept as given


def test_ansible_ini_inventory_sections_ranges_children_and_vars() -> None:
    inv = load_inventory(CORPUS / "ansible" / "hosts.ini")
    assert inv.kind == "ansible-ini"
    d = by_name(inv)
    assert [n for n in d if n.startswith("rtr")] == ["rtr01.ams", "rtr02.ams", "rtr03.ams"]
    assert d["bar.example.com"].target == "ssh://bar.example.com:2222"
    h1 = d["host1"]
    assert set(h1.groups) == {"atlanta", "southeast", "usa"}
    assert h1.data["http_port"] == 80 and h1.data["ntp_server"] == "ntp.atlanta.example.com"
    assert h1.data["escape_pods"] == 2  # from [southeast:vars] through [southeast:children]
    rtr = d["rtr03.ams"]
    assert rtr.platform == "cisco_ios" and rtr.aaa == "tacacs-ams" and rtr.target == "ssh://netops@rtr03.ams"
    assert rtr.credentials["password"].env == "AMS_PASSWORD"
    assert d["mail.example.com"].groups == ()


def test_csv_inventory_targets_groups_and_lines() -> None:
    inv = load_inventory(CORPUS / "devices.csv")
    d = by_name(inv)
    assert d["core2"].target == "ssh://admin@192.0.2.2:2222" and d["core2"].platform == "cisco_xe"
    assert d["dist1"].groups == ("dist", "ams") and d["dist1"].target == "telnet://192.0.2.11"
    assert d["fw1"].jumps == ("ssh://ops@jump.fra.example",)
    assert d["dialin1"].target == "modem:///dev/ttyS0?number=5551234"
    assert d["core1"].source.endswith("devices.csv:2") and d["fw1"].source.endswith("devices.csv:5")


def test_a_folder_with_hosts_yaml_is_a_nornir_inventory() -> None:
    assert load_inventory(CORPUS / "nornir").kind == "nornir"


@pytest.mark.parametrize("text, line, message", [
    ("r1:\n  hostname: a\n  groups: [nope]\n", 1, "group 'nope' is not defined"),
    ("r1:\n  hostname: a\n  port: http\n", 3, "port 'http' is not a number"),
    ("r1:\n  hostname: a\n   bad: indent\n", 3, ""),
    ("r1:\n  target: ftp://x\n", 2, "unknown target scheme"),
    ("r1:\n  hostname: a\nr1:\n  hostname: b\n", 3, ""),
])
def test_bad_inventories_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text(text)
    with pytest.raises(InventoryError) as err:
        load_inventory(path)
    assert f"{path}:{line}" in err.value.message or (line == 1 and str(path) in err.value.message)
    assert message in err.value.message


def test_ansible_group_cycle_and_empty_inventory_are_refused(tmp_path: Path) -> None:
    ini = tmp_path / "hosts"
    ini.write_text("[a:children]\nb\n[b:children]\na\n[a]\nh1\n")
    with pytest.raises(InventoryError, match="its own ancestor"):
        load_inventory(ini)
    empty = tmp_path / "empty.csv"
    empty.write_text("name,target\n")
    with pytest.raises(InventoryError, match="lists no device"):
        load_inventory(empty)


@pytest.mark.parametrize("kind", ["hosts.yaml", "inventory.yml"])
@pytest.mark.parametrize("fan", [9, 30])
def test_alias_bombs_and_deep_nesting_in_an_inventory_stop_at_once(tmp_path: Path, kind: str, fan: int) -> None:
    """An inventory is input like a playbook: aliases that expand exponentially or nesting past the limit end as
    a file:line error in well under a second, never as a walk over billions of values."""
    import time

    laughs = "a0: &a0 [x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]\n" for i in range(1, 9))
    for text in (laughs + "R1:\n  hostname: 192.0.2.1\n  data: *a8\n", "R1:\n  x: " + "[" * 200 + "]" * 200 + "\n"):
        path = tmp_path / kind
        path.write_text(text)
        started = time.monotonic()
        with pytest.raises(InventoryError) as err:
            load_inventory(path)
        assert time.monotonic() - started < 5
        assert f"{path}:" in err.value.message and ("values" in err.value.message or "nesting" in err.value.message
                                                   or "aliases" in err.value.message)
