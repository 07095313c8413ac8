"""Bounded YAML reading for playbooks: the file size here, nesting, aliases, values and numbers by
collector/yaml_bounds.py, then the tree with the line and column of every key (libyaml, else ruamel round-trip).
"""

from __future__ import annotations

from typing import Any

from ..yaml_bounds import MAX_ALIASES, MAX_DEPTH, MAX_NODES, YamlLimit, check_bounds
from .issues import Loc
from .tree import collect_locations
from .yaml_nodes import load_with_locations

MAX_BYTES = 1024 * 1024  # a playbook is a page of commands; 1 MiB is far beyond any real one


def size_problem(raw: bytes) -> str | None:
    """Why the file is too large to be a playbook, or None."""
    if len(raw) > MAX_BYTES:
        return f"the playbook is {len(raw):,} bytes; the limit is {MAX_BYTES:,} (1 MiB)"
    return None


def load_bounded(text: str) -> tuple[Any, dict[Loc, tuple[int, int]]]:
    """The tree of a playbook and the (line, column) of every key and list item, after the bounds check
    (YamlLimit / YAMLError on bad input). libyaml reads the usual playbook (yaml_nodes.py); ruamel's round-trip
    reader everything else, and every error."""
    check_bounds(None, text)
    fast = load_with_locations(text)
    if fast is not None:
        return fast
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except YAMLError:
        raise
    except Exception as exc:  # ruamel's constructors fail in many ways on hostile tags (`!!int ""`: IndexError)
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise YamlLimit(line, f"cannot read the YAML: {type(exc).__name__}: {exc}"[:200], "simplify the YAML") from None
    locations: dict[Loc, tuple[int, int]] = {(): (1, 1)}
    collect_locations(data, (), locations)
    return data, locations


__all__ = ["MAX_ALIASES", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "YamlLimit", "check_bounds", "load_bounded",
           "size_problem"]
