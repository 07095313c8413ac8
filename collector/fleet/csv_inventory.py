"""A CSV inventory: one device per row under a header (name, target or host/port/scheme, platform, groups ...).

`groups` holds names separated by `;`, `|` or spaces; any other column is a variable (filters, playbook vars).
A column that names a secret may hold only references, checked cell by cell with the row's line number.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..errors import InventoryError
from .hostvars import Vars, build_device
from .model import Device, Inventory
from .refs import check_key, ref_key, secret_key
from .yamlfile import read_text

GROUP_SPLIT = re.compile(r"[;|\s]+")


def load_csv(path: Path) -> Inventory:
    file = str(path)
    text = read_text(path)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    reader = csv.reader(io.StringIO(text), dialect)
    header: list[str] = []
    devices: list[Device] = []
    groups: set[str] = set()
    seen: dict[str, str] = {}
    start = 1
    try:
        for row in reader:
            where = f"{file}:{start}"
            start = reader.line_num + 1
            if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                continue
            if not header:
                header = [c.strip().lower() for c in row]
                if "name" not in header:
                    raise InventoryError(f"{where}: the header has no `name` column",
                                         hint="first row: name,target,platform,groups (one device per row after it)")
                continue
            device = _row(header, row, where, seen)
            groups.update(device.groups)
            devices.append(device)
    except csv.Error as exc:
        raise InventoryError(f"{file}:{reader.line_num}: {exc}") from None
    return Inventory(devices, groups, file, "csv")


def _row(header: list[str], row: list[str], where: str, seen: dict[str, str]) -> Device:
    if len(row) > len(header):
        raise InventoryError(f"{where}: {len(row)} cells but the header names {len(header)} columns",
                             hint="quote a cell that contains the separator")
    values: Vars = {}
    for key, cell in zip(header, row, strict=False):
        cell = cell.strip()
        if secret_key(key) or ref_key(key):
            check_key(key, cell, where)
        if cell:
            values[key] = (cell, where)
    name = values.pop("name", ("", where))[0]
    if not name:
        raise InventoryError(f"{where}: the device has no name")
    if name in seen:
        raise InventoryError(f"{where}: device {name!r} is listed twice (first at {seen[name]})")
    seen[name] = where
    group_cell = str(values.pop("groups", values.pop("group", ("", where)))[0])
    names = [g for g in GROUP_SPLIT.split(group_cell) if g]
    return build_device(str(name), values, names, where)
