"""`--inventory PATH`: which format a file or folder is (nornir, Ansible YAML or INI, CSV), loaded into devices.

A folder holding hosts.yaml is a nornir SimpleInventory; a .csv file is CSV; a YAML file whose top level is
groups with hosts/vars/children is Ansible's; any other YAML mapping of hosts is nornir's hosts.yaml; other
text is Ansible INI. Device names must be unique (Ansible merges a host listed twice; so do we).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InventoryError
from . import yamlfile
from .model import Inventory

YAML_SUFFIXES = (".yaml", ".yml", ".json")


def load_inventory(path: Path | str) -> Inventory:
    p = Path(path).expanduser()
    if p.is_dir():
        for name in ("hosts.yaml", "hosts.yml"):
            if (p / name).is_file():
                from .nornir_inventory import load_nornir

                return _checked(load_nornir(p / name))
        for name in ("hosts", "inventory", "hosts.ini", "inventory.ini"):
            if (p / name).is_file():
                return load_inventory(p / name)
        raise InventoryError(f"{p}: no hosts.yaml (nornir) or hosts/inventory file (Ansible) in this folder")
    if not p.is_file():
        raise InventoryError(f"inventory {p} does not exist", hint="give a hosts.yaml, an Ansible inventory or a CSV")
    if p.suffix.lower() == ".csv":
        from .csv_inventory import load_csv

        return _checked(load_csv(p))
    if p.suffix.lower() in YAML_SUFFIXES:
        from .ansible_inventory import load_ansible_yaml, looks_like_ansible_yaml
        from .nornir_inventory import load_nornir

        tree = yamlfile.load(p)
        if looks_like_ansible_yaml(tree):
            return _checked(load_ansible_yaml(p, tree))
        return _checked(load_nornir(p))
    from .ansible_inventory import load_ansible_ini

    return _checked(load_ansible_ini(p))


def _checked(inv: Inventory) -> Inventory:
    seen: dict[str, str] = {}
    for d in inv.devices:
        if d.name in seen:
            raise InventoryError(f"{d.source}: device {d.name!r} is defined twice (first at {seen[d.name]})")
        seen[d.name] = d.source
    if not inv.devices:
        raise InventoryError(f"{inv.source}: the inventory lists no device")
    return inv
