"""Per-modem command profiles (reset, init, dial prefix, hang-up method), as C-Kermit's SET MODEM TYPE.

`generic` is a plain Hayes/V.250 modem; vendor profiles only add their flow-control commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..errors import UsageError


@dataclass(frozen=True)
class ModemProfile:
    """The commands one modem type needs; every string is sent as-is followed by CR."""

    name: str
    reset: str = "ATZ"
    fallback_reset: str = "AT&F"
    init: tuple[str, ...] = ("ATE0 V1 Q0 X4 &C1 &D2 S0=0 S7=60",)
    minimal_init: str = "ATE0V1Q0"
    dial_tone: str = "ATDT"
    dial_pulse: str = "ATDP"
    hangup: tuple[str, ...] = ("dtr", "escape")  # tried in order: DTR drop, then +++ / ATH0
    escape: str = "+++"
    hangup_command: str = "ATH0"
    guard_time: float = 1.0  # S12 = 50 (1/50 s units)
    dtr_hold: float = 1.0  # keep DTR low this long (USR S25)
    command_timeout: float = 3.0  # wait for OK/ERROR to a command
    dial_timeout: float = 75.0  # S7=60 plus margin for dialing and training
    numeric_connect: dict[int, int] | None = field(default=None)  # None: dial_policy.NUMERIC_CONNECT


GENERIC = ModemProfile(name="generic")

PROFILES: dict[str, ModemProfile] = {
    "generic": GENERIC,
    # Rockwell/Conexant chipsets: hardware flow control is &K3.
    "conexant": replace(GENERIC, name="conexant", init=("ATE0 V1 Q0 X4 &C1 &D2 &K3 S0=0 S7=50",)),
    # US Robotics Courier/Sportster: &H1&R2 hardware flow control, S7 defaults to 60.
    "usr": replace(GENERIC, name="usr", init=("ATE0 V1 Q0 X4 &C1 &D2 &H1 &R2 S0=0 S7=60",)),
    # No flow control and no stored profile (ATZ may be refused): start from factory defaults.
    "factory": replace(GENERIC, name="factory", reset="AT&F", fallback_reset="ATZ"),
}


def get_profile(name: str | None) -> ModemProfile:
    """The profile called `name` (default generic); UsageError names the known ones."""
    key = (name or "generic").lower()
    try:
        return PROFILES[key]
    except KeyError:
        raise UsageError(f"unknown modem profile {name!r}", hint="use one of: " + ", ".join(sorted(PROFILES))) from None
