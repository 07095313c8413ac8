"""pydantic looks for plugins at its first model by importing importlib.metadata (~20-30 ms with the email package
it pulls in), even when PYDANTIC_DISABLE_PLUGINS says there are none to look for. This skips that import.

`skip_plugin_scan()` puts a stand-in under pydantic's plugin-loader name: `get_plugins()` answers "no plugins"
exactly when pydantic's own would (PYDANTIC_DISABLE_PLUGINS is `__all__`, `1` or `true`, read at each call);
otherwise, and for any other name, the real loader is imported and replaces the stand-in.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

from ..deferred_module import DeferredModule

LOADER = "pydantic.plugin._loader"
_DISABLED = ("__all__", "1", "true")  # the values pydantic's get_plugins() reads as "load no plugin"


class _PluginLoader(DeferredModule):
    def get_plugins(self) -> Iterable[Any]:
        if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in _DISABLED:
            return ()
        return self.real().get_plugins()  # type: ignore[no-any-return]


def skip_plugin_scan() -> bool:
    """Install the stand-in unless pydantic's loader is already imported. True when installed."""
    if LOADER in sys.modules:
        return False
    sys.modules[LOADER] = _PluginLoader(LOADER)
    return True


__all__ = ["LOADER", "skip_plugin_scan"]
