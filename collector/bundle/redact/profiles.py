"""Redaction profiles: which rules of the table run (`default`, `strict`, `credentials`).

`default` is every precise rule plus key/certificate blocks; `strict` adds generic forms that may over-redact.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import UsageError
from .rules import RULES, Rule


@dataclass(frozen=True)
class Profile:
    name: str
    rules: tuple[Rule, ...]
    blocks: bool  # PEM keys/certificates and IOS certificate hex blocks
    learn: bool  # a secret found once is removed wherever else it appears in the bundle


PROFILES: dict[str, Profile] = {
    "default": Profile("default", tuple(r for r in RULES if not r.strict_only), True, True),
    "strict": Profile("strict", tuple(RULES), True, True),
    "credentials": Profile("credentials", (), False, False),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(
            f"unknown redaction profile {name!r}", hint=f"choose one of: {', '.join(PROFILES)}"
        ) from None
