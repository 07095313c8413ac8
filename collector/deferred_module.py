"""A stand-in for a module not imported yet: the first attribute anyone reads imports the real one, which then
replaces the stand-in in sys.modules (how collector defers third-party imports that cost start-up time).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


class DeferredModule(types.ModuleType):
    """Put one in sys.modules under the real module's name; subclasses may answer some names themselves."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system asks for `__path__` and the like: a plain module has none
            raise AttributeError(name)
        return getattr(self.real(), name)

    def real(self) -> types.ModuleType:
        """The real module, imported now if it was not yet (and the stand-in gone from sys.modules)."""
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return importlib.import_module(self.__name__)


__all__ = ["DeferredModule"]
