"""Printing for people: text from devices, playbooks and inventories is data, never markup or terminal control.

`safe()` turns any untrusted string into a rich Text with control sequences removed; `fail()` prints one error
line and a hint and exits with the error's code. Consoles are created on first use (fast start-up).
"""

from __future__ import annotations

import functools
import json
import re
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import CollectorError
from ..jsonfmt import listing_json

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

#: ESC sequences (CSI, OSC up to BEL/ST, two-byte), C0 controls but TAB/LF, DEL and the C1 block
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]"
)


def clean(text: object, *, keep_newlines: bool = True) -> str:
    """A string with every terminal control sequence removed (newlines kept unless asked)."""
    out = _CONTROL.sub("", str(text))
    return out if keep_newlines else out.replace("\n", " ")


def safe(text: object, style: str | None = None) -> Text:
    """Untrusted text as a rich Text: printed literally, styled as a whole, no markup parsed."""
    from rich.text import Text

    return Text(clean(text), style=style or "")


@functools.cache
def err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


@functools.cache
def out() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def say(*parts: object, stderr: bool = False) -> None:
    """Print trusted labels and untrusted values side by side; (text, style) tuples are styled pieces."""
    from rich.text import Text

    line = Text()
    for part in parts:
        if isinstance(part, tuple):
            line.append(clean(part[0]), style=part[1])
        else:
            line.append(clean(part))
    (err() if stderr else out()).print(line)


def error_lines(exc: CollectorError) -> None:
    say(("error: ", "bold red"), exc.message, stderr=True)
    if exc.hint:
        say(("hint: ", "dim"), exc.hint, stderr=True)


def fail(exc: CollectorError) -> NoReturn:
    """One line naming the cause, one line with the fix, and the error's exit code."""
    error_lines(exc)
    raise SystemExit(exc.exit_code)


def print_json(doc: Any) -> None:
    """One JSON document on stdout (machine output is never styled or wrapped)."""
    text = listing_json(doc, default=str) if isinstance(doc, dict) else json.dumps(doc, indent=2, default=str) + "\n"
    sys.stdout.write(text)
    sys.stdout.flush()
