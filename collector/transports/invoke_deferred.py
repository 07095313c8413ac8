"""paramiko imports `invoke` (a task runner) at start-up only to run ssh_config's `Match exec` lines; importing it
costs ~50-100 ms (it pulls in unittest.mock and asyncio). This defers it to its first real use.

`defer_invoke()` puts a stand-in module under the name `invoke`; the first attribute anyone reads from it imports
the real package, which then replaces the stand-in everywhere the name is looked up again.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any


class _Deferred(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        return getattr(real, name)


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
    sys.modules["invoke"] = _Deferred("invoke")
    return True


__all__ = ["defer_invoke"]
