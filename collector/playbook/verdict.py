"""The guard's answer for one command (GuardVerdict) and the callback type sub-checks use for nested commands.

Shared by the CLI and shell checkers so neither imports the other's module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..platforms import Platform


@dataclass(frozen=True)
class GuardVerdict:
    """The guard's answer for one command: allowed or not, which rule decided, and why (one line)."""

    allowed: bool
    rule: str
    reason: str
    overridable: bool = True


def refused(rule: str, reason: str, overridable: bool = True) -> GuardVerdict:
    return GuardVerdict(False, rule, reason, overridable)


def allowed(rule: str, reason: str) -> GuardVerdict:
    return GuardVerdict(True, rule, reason)


# check_command(command, platform) without allow_changes: how a shell stage checks `vtysh -c CMD` with frr's rules
NestedCheck = Callable[[str, "Platform"], GuardVerdict]

__all__ = ["GuardVerdict", "NestedCheck", "allowed", "refused"]
