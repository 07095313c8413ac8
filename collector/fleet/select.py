"""Choosing devices: `--limit` (Ansible host patterns) and `--filter` (nornir F()-style conditions).

--limit PATTERN: terms separated by `,` or `:`. A name or group (glob: `rtr*`, `core`) or `~regex` ADDS devices
(none given: all); `&term` keeps only devices also matching it; `!term` removes; `key=value` (`key!=value`)
narrows like `&`, so `site=ams,role=core` is both. --filter COND[,COND]: every condition must hold; a condition
is `key=glob`, `key!=glob`, `key~=regex`, or nornir's `key__OP=value` with OP one of contains, in (a|b),
startswith, endswith, ge, gt, le, lt. A key is a device attribute (name, platform, groups, hostname, port,
username, scheme, jump, aaa, queue) or an inventory variable (nested with `__`). Devices keep inventory order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from ..errors import UsageError
from .model import Device

Match = Callable[[Device], bool]
OPS = ("contains", "in", "startswith", "endswith", "ge", "gt", "le", "lt")
_COND = re.compile(r"^\s*(?P<key>[A-Za-z_][A-Za-z0-9_.-]*?)(?:__(?P<op>[a-z]+))?\s*(?P<rel>!=|~=|=)(?P<value>.*)$")


@dataclass
class Selection:
    devices: list[Device]
    warnings: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple | set) else [value]


def _number(text: str, spec: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{spec!r}: {text!r} is not a number", hint="ge/gt/le/lt compare numbers") from None


def _compare(op: str | None, rel: str, want: str, got: Any, spec: str) -> bool:
    """Does one attribute value satisfy one condition? Lists satisfy it when any element does."""
    if rel == "~=":
        try:
            rx = re.compile(want)
        except re.error as exc:
            raise UsageError(f"{spec!r}: bad regular expression ({exc})") from None
        return any(rx.search(_text(v)) for v in _values(got) if v is not None)
    items = [v for v in _values(got) if v is not None]
    if op is None:
        return any(fnmatchcase(_text(v), want) for v in items)
    if op == "contains":
        return any(want == _text(v) for v in got) if isinstance(got, list | tuple) else want in _text(got)
    if op == "in":
        return any(_text(v) in want.split("|") for v in items)
    if op in ("startswith", "endswith"):
        return any(getattr(_text(v), op)(want) for v in items)
    limit = _number(want, spec)
    checks = {"ge": limit.__le__, "gt": limit.__lt__, "le": limit.__ge__, "lt": limit.__gt__}
    return any(checks[op](_number(_text(v), spec)) for v in items)


def condition(spec: str) -> Match:
    """`key=glob`, `key!=glob`, `key~=regex` or `key__OP=value` as a predicate on a device."""
    m = _COND.match(spec)
    if m is None:
        raise UsageError(f"{spec!r} is not a condition", hint="write key=value, key!=value, key~=regex or "
                         "key__contains=value (e.g. site=ams, groups__contains=core)")
    key, op, rel, want = m.group("key"), m.group("op"), m.group("rel"), m.group("value").strip()
    if op is not None and op not in OPS:
        key, op = f"{key}__{op}", None  # a nested variable (data__site), not an operator
    if op is not None and rel == "~=":
        raise UsageError(f"{spec!r}: ~= takes no __{op}")
    negate = rel == "!="
    rel = "=" if negate else rel
    return lambda d: negate != _compare(op, rel, want, d.attribute(key), spec)


def _name_or_group(term: str) -> Match:
    if term.startswith("~"):
        try:
            rx = re.compile(term[1:])
        except re.error as exc:
            raise UsageError(f"--limit {term!r}: bad regular expression ({exc})") from None
        return lambda d: bool(rx.match(d.name)) or any(rx.match(g) for g in d.groups)
    if term in ("all", "*"):
        return lambda d: True
    return lambda d: fnmatchcase(d.name, term) or any(fnmatchcase(g, term) for g in d.groups)


def _terms(pattern: str) -> list[str]:
    """Split on `,` and on `:`. After a term's `=`, a `:` belongs to the value (URLs, IPv6) unless `!` or `&`
    follows it; a `~regex` term keeps its colons (`(?:...)`). Separate key=value terms with `,`."""
    out: list[str] = []
    for piece in pattern.split(","):
        term = ""
        for i, ch in enumerate(piece):
            in_value = "=" in term or term.lstrip("!&").startswith("~")
            if ch == ":" and (not in_value or piece[i + 1 : i + 2] in ("!", "&")):
                out.append(term)
                term = ""
            else:
                term += ch
        out.append(term)
    return [t.strip() for t in out if t.strip()]


def limit(devices: list[Device], pattern: str) -> Selection:
    adds: list[Match] = []
    narrows: list[Match] = []
    removes: list[Match] = []
    warnings: list[str] = []
    for term in _terms(pattern):
        body = term.lstrip("!&")
        match = condition(body) if "=" in body and not body.startswith("~") else _name_or_group(body)
        if term.startswith("!"):
            removes.append(match)
        elif term.startswith("&") or "=" in body and not body.startswith("~"):
            narrows.append(match)
        else:
            adds.append(match)
            if not any(match(d) for d in devices):
                warnings.append(f"--limit {term!r} matches no device or group")
    chosen = [d for d in devices if (not adds or any(m(d) for m in adds)) and all(m(d) for m in narrows)
              and not any(m(d) for m in removes)]
    return Selection(chosen, warnings)


def select(devices: list[Device], limits: Iterable[str] = (), filters: Iterable[str] = ()) -> Selection:
    """Devices matching every --limit pattern and every --filter; UsageError when none is left."""
    chosen: list[Device] = list(devices)
    warnings: list[str] = []
    given = [("--limit", p) for p in limits if p.strip()] + [("--filter", f) for f in filters if f.strip()]
    for flag, spec in given:
        if flag == "--limit":
            sel = limit(chosen, spec)
            chosen, warnings = sel.devices, warnings + sel.warnings
        else:
            conds = [condition(c) for c in spec.split(",") if c.strip()]
            chosen = [d for d in chosen if all(c(d) for c in conds)]
    if not chosen:
        what = " ".join(f"{flag} {spec!r}" for flag, spec in given) or "the inventory"
        raise UsageError(f"{what} selects no device", hint="`collector run ... --dry-run` lists what is selected; "
                         "names and groups are globs (rtr*), key=value matches variables (site=ams)")
    return Selection(chosen, warnings)
