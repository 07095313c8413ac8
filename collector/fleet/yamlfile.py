"""YAML inventory files read with their positions: plain data for the loaders, `file:line` for every key.

Every mapping key in the file is checked for a secret value (refs.check_key) before anything else reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ..errors import InventoryError
from .refs import check_key, ref_key, secret_key

MAX_BYTES = 64 << 20  # an inventory larger than this is refused (bounded memory)
MAX_NODES = 5_000_000  # values once aliases are expanded (100,000 hosts with 50 values each)


def read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InventoryError(f"{path}: larger than {MAX_BYTES >> 20} MiB", hint="split the inventory")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InventoryError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InventoryError(f"cannot read the inventory {path}: {exc.strerror}",
                             hint="check the path given to --inventory") from None


def load(path: Path) -> Any:
    """The round-trip tree of a YAML file (positions kept); InventoryError with file:line when it does not parse."""
    from ..yaml_bounds import YamlLimit, check_bounds

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    text = read_text(path)
    try:
        check_bounds(yaml, text, max_nodes=MAX_NODES)  # nesting, aliases ("billion laughs"), numbers: bounded
    except YamlLimit as exc:
        raise InventoryError(f"{path}:{exc.line}: {exc}", hint=exc.hint) from None
    except YAMLError:
        pass  # the load below reports it with its line
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise InventoryError(f"{path}:{line}: {exc.problem or exc.context or 'invalid YAML'}",
                             hint="check the indentation and quoting on that line") from None
    except YAMLError as exc:
        raise InventoryError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    scan(tree, str(path))
    return tree


def where(node: Any, key: Any, file: str) -> str:
    """`file:line` of a key in a mapping (or of an item in a list)."""
    try:
        line = node.lc.key(key)[0] if isinstance(node, CommentedMap) else node.lc.item(key)[0]
    except (AttributeError, KeyError, TypeError, IndexError):
        line = getattr(getattr(node, "lc", None), "line", -1)
    return f"{file}:{line + 1}"


def items(node: Any, file: str) -> Iterator[tuple[str, Any, str]]:
    """(key, value, file:line) of a mapping, keys as strings."""
    if isinstance(node, CommentedMap):
        for key, value in node.items():
            yield str(key), value, where(node, key, file)


def scan(node: Any, file: str) -> None:
    """Refuse a secret value anywhere in the tree (deny by default: every key of every mapping is checked)."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, CommentedMap):
            for key, value in cur.items():
                if secret_key(str(key)) or ref_key(str(key)):
                    check_key(str(key), plain(value), where(cur, key, file))
                stack.append(value)
        elif isinstance(cur, CommentedSeq):
            stack.extend(cur)


def plain(node: Any) -> Any:
    """Plain Python data (dict, list, str, int, float, bool, None) of a round-trip node."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, TaggedScalar):  # e.g. `!vault |` ciphertext: kept as text, never decrypted
        return _Tagged(str(node.value), str(node.tag.value if hasattr(node.tag, "value") else node.tag))
    if isinstance(node, bool | int | float) or node is None:
        return node
    return str(node)


class _Tagged(str):
    """A scalar with a YAML tag (Ansible's `!vault`): text that a reference check never accepts."""

    tag: str

    def __new__(cls, value: str, tag: str) -> _Tagged:
        obj = super().__new__(cls, value)
        obj.tag = tag
        return obj
