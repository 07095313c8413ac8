"""paramiko imports `invoke` (a task runner) at start-up only to run ssh_config's `Match exec` lines; importing it
costs ~50-100 ms (it pulls in unittest.mock and asyncio). This defers it to its first real use.

`defer_invoke()` puts a stand-in module under the name `invoke`; the first attribute anyone reads from it imports
the real package, which then replaces the stand-in everywhere the name is looked up again.
"""

from __future__ import annotations

import importlib.util
import sys

from ..deferred_module import DeferredModule


def defer_invoke() -> bool:
    """Install the stand-in unless invoke or paramiko is already imported or invoke is not installed (then
    paramiko's own fallback applies). True when installed."""
    if "invoke" in sys.modules or "paramiko" in sys.modules:
        return False
    try:
        if importlib.util.find_spec("invoke") is None:
            return False
    except (ImportError, ValueError):
        return False
    sys.modules["invoke"] = DeferredModule("invoke")
    return True


__all__ = ["defer_invoke"]
