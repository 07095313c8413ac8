"""`{{ name }}` variables in playbook commands: playbook `vars`, overridden by `--var k=v` on the CLI.

No Jinja: only plain names are supported; anything else (filters, dots, unclosed braces) is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import UsageError

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REF_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


@dataclass(frozen=True)
class VarProblem:
    """One bad or undefined reference found in a string."""

    name: str
    message: str


def render_value(value: object) -> str:
    """The text a variable value contributes to a command (bools as true/false, like YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def references(text: str) -> list[str]:
    """Names referenced as {{ name }} in text (in order, duplicates kept)."""
    return [m.group(1).strip() for m in _REF_RE.finditer(text)]


def problems(text: str, values: Mapping[str, object]) -> list[VarProblem]:
    """Undefined or malformed references in text; empty when `substitute` would succeed."""
    found: list[VarProblem] = []
    for m in _REF_RE.finditer(text):
        name = m.group(1).strip()
        if not NAME_RE.match(name):
            found.append(
                VarProblem(name, f"unsupported variable expression {m.group(0)!r}: only {{{{ name }}}} is supported")
            )
        elif name not in values:
            known = ", ".join(sorted(values)) or "none defined"
            found.append(VarProblem(name, f"undefined variable {name!r} (known: {known})"))
    rest = _REF_RE.sub("", text)
    if "{{" in rest:
        found.append(VarProblem("", f"unclosed '{{{{' in {text!r}"))
    return found


def substitute(text: str, values: Mapping[str, object]) -> str:
    """text with every {{ name }} replaced; KeyError for an undefined name (check `problems` first)."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1).strip()
        return render_value(values[name])

    return _REF_RE.sub(repl, text)


def merge_vars(playbook_vars: Mapping[str, object], overrides: Mapping[str, str] | None) -> dict[str, str]:
    """Effective variables as text: the playbook's, then CLI overrides on top."""
    merged = {str(k): render_value(v) for k, v in playbook_vars.items()}
    for k, v in (overrides or {}).items():
        merged[str(k)] = str(v)
    return merged


def parse_var_overrides(items: Iterable[str]) -> dict[str, str]:
    """CLI `--var k=v` items to a dict; UsageError names the bad item."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not NAME_RE.match(name):
            raise UsageError(
                f"bad --var {item!r}: expected NAME=VALUE with NAME made of letters, digits and _",
                hint="for example --var interface=GigabitEthernet0/1",
            )
        out[name] = value
    return out
