"""Local paths of the collecting machine (home, working directory, run and runs dirs) scrubbed from bundle text.

A support engineer needs file names, not where they sat on the customer's laptop; `~` and `.` keep them readable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

_AFTER = r"(?![A-Za-z0-9._~+@-])"  # a whole path component ends here: /root is not /rootfs


class LocalPaths:
    """Replaces each known local directory (as given and resolved) with a short token, longest first."""

    def __init__(self, extra: Iterable[tuple[Path, str]] = ()) -> None:
        pairs: list[tuple[Path, str]] = [(Path.home(), "~"), (Path.cwd(), "."), *extra]
        table: dict[str, str] = {}
        for path, token in pairs:
            for spelling in {str(path), str(path.expanduser().resolve())}:
                if spelling.strip("/") and spelling not in table:
                    table[spelling.rstrip("/")] = token
        self.table = table
        keys = sorted(table, key=len, reverse=True)
        self._re = re.compile("(?:" + "|".join(re.escape(k) for k in keys) + ")" + _AFTER) if keys else None

    def scrub(self, text: str) -> str:
        if self._re is None or "/" not in text:
            return text
        return self._re.sub(lambda m: self.table[m.group(0)], text)
