"""Generated hostile playbooks for the loader fuzz test: random YAML structures, keys, values, markup and bytes.

`fuzz_playbook(rng)` returns the bytes of one playbook file; `run_one(path)` loads it and says how it ended.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

KEYS = [
    "name", "platform", "description", "vars", "allow_changes", "defaults", "steps", "cleanup", "command", "comand",
    "name ", "idle_timeout", "idle_timout", "max_time", "mode", "resume", "offset_command", "expect_error",
    "session_state", "tags", "capture", "start", "stop", "until", "duration", "bytes", "match", "stop_file",
    "rotate", "size", "interval", "on_match", "run", "debounce", "max_runs", "then", "keepalive", "precheck",
    "fail_if_match", "threshold", "regex", "max", "rate_guard", "max_bytes_per_s", "for", "slow_line", "[/]",
    "[link=https://evil.example/x]k", "[bold]x[/bold]", "\x1b[31mred", "", "0", "{{ x }}", "ключ",
]
PLATFORMS = ["cisco_ios", "linux", "frr", "cisco_nxos", "arista_eos", "juniper_junos", "nope", "[/]", ""]
WORDS = ["show version", "show run | include x", "configure terminal", "uname -a", "{{ x }}", "{{ intf }}", "{{",
         "}}", "[/]", "[link=x]y[/link]", "\x1b]8;;http://e/\x07", "\x9b31m", "\x00", "\r\n", "\t", "%s %d {0}",
         "120s", "2h30m", "1d", "500ms", "64MiB", "500MB", "-1s", "1e999", "nan", "inf", "9" * 40 + "h",
         "9" * 400 + "s", "99999999999999999999TiB", "0", "", " ", "'", '"', "\\", "é" * 50, "\ufeff", "\u202e"]
INSERTS = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ufeff", "\t", "\n", "\r", ": ", "- ", "[", "]", "{", "}", "&a ",
           "*a", "!!binary ", "!!python/object:os.system ", "%YAML 1.1\n", "---\n", "...\n", "? ", "|", ">", "#",
           "'", '"', "\\", "@", "`", "{{", "[/]", "[link=x]", "~", "<<: *a\n", "\xff", "? [a, b]\n: c\n",
           "!!set ", "!!binary aGVsbG8=", "2020-01-01 ", ".nan ", "!!float 1e400 ", "%TAG ! tag:x,2000:\n---\n",
           "!foo ", "!!python/name:os.system ", "!!int ", "9" * 5000, "<<: [*a, *b]\n", "&b ", "*b"]


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.35:
        return rng.choice(WORDS)
    if roll < 0.45:
        return rng.choice([0, 1, -1, 2**31, 2**63, 10 ** rng.randint(1, 4000), -(10 ** rng.randint(1, 50))])
    if roll < 0.5:
        return rng.choice([0.5, 1e308, float("inf"), float("nan"), -0.0, 1e-300])
    if roll < 0.55:
        return rng.choice([True, False, None])
    if roll < 0.75:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


COMMANDS = ["show version", "show run | include x", "configure terminal", "uname -a", "ps aux | grep sshd",
            "sort -o /tmp/x /etc/hosts", "show run>flash:x", "debu ip packet", "show interfaces {{ x }}",
            "true; echo S"]


def _valid_ish(rng: random.Random) -> dict[str, Any]:
    """A playbook that loads: the guard then checks its (hostile) commands."""
    steps: list[Any] = [rng.choice(COMMANDS) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.5:
        steps.append({"capture": "c", "start": [rng.choice(COMMANDS)], "stop": [rng.choice(COMMANDS)],
                      "until": {"duration": rng.choice(["1h", "30s"])}})
    return {"name": "fuzz", "platform": rng.choice(PLATFORMS[:6]), "vars": {"x": rng.choice(WORDS[:8])},
            "steps": steps, "cleanup": [rng.choice(COMMANDS)]}


def _structure(rng: random.Random) -> Any:
    if rng.random() < 0.2:
        return _valid_ish(rng)
    if rng.random() < 0.1:
        return _value(rng, 0)
    doc: dict[str, Any] = {"name": rng.choice(WORDS), "platform": rng.choice(PLATFORMS)}
    steps = []
    for _ in range(rng.randint(0, 4)):
        if rng.random() < 0.3:
            steps.append(rng.choice(WORDS))
        else:
            steps.append({rng.choice(KEYS): _value(rng, 2) for _ in range(rng.randint(1, 6))})
    doc["steps"] = steps
    for _ in range(rng.randint(0, 4)):
        doc[rng.choice(KEYS)] = _value(rng, 1)
    return doc


def _dump(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _mutate(rng: random.Random, text: str) -> bytes:
    for _ in range(rng.choice([0, 0, 1, 2, 5])):
        pos = rng.randint(0, len(text))
        text = text[:pos] + rng.choice(INSERTS) + text[pos:]
    if rng.random() < 0.05:
        text = text[: rng.randint(0, len(text))]
    if rng.random() < 0.05:
        text += "deep: " + "[" * rng.randint(50, 3000) + "]" * rng.randint(0, 3000) + "\n"
    if rng.random() < 0.05:
        text += "x: &a [a, a, a, a, a, a, a, a, a]\n" + "".join(
            f"x{i}: &a{i} [{', '.join(['*a' if i == 0 else f'*a{i - 1}'] * 9)}]\n" for i in range(rng.randint(1, 9))
        )
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.03:
        data = data.replace(b"\xc3\xbf", b"\xff")
    return data


def fuzz_playbook(rng: random.Random) -> bytes:
    """One generated playbook file (bytes): a random structure dumped as YAML, then sometimes damaged as text."""
    try:
        text = _dump(_structure(rng))
    except Exception:  # the dumper refuses some values (e.g. lone surrogates): fall back to plain text
        text = "name: x\nplatform: cisco_ios\nsteps: [show version]\n"
    return _mutate(rng, text)


def fuzz_overrides(rng: random.Random) -> dict[str, str] | None:
    """Sometimes --var overrides: declared-looking names, typos and hostile values."""
    if rng.random() < 0.6:
        return None
    names = ["x", "intf", "interface", "intrface", "name", "a", "{{"]
    return {rng.choice(names): rng.choice(WORDS) for _ in range(rng.randint(1, 3))}


def run_one(path: Path, overrides: dict[str, str] | None = None) -> str:
    """'ok', 'clean' (a CollectorError) or 'exception: <type>' for loading, validating and guarding one file."""
    from collector.errors import CollectorError
    from collector.platforms import load_platform
    from collector.playbook import check_playbook, load_playbook, validate_playbook

    try:
        validate_playbook(path, overrides)
        loaded = load_playbook(path, overrides)
        check_playbook(loaded, load_platform(loaded.model.platform), False)
        return "ok"
    except CollectorError:
        return "clean"
    except Exception as exc:  # what the fuzz test counts: every uncaught exception is a bug
        return f"exception: {type(exc).__name__}: {exc}"[:300]
