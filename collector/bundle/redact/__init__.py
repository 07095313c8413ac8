"""Secret redaction: the rule table, profiles and the streaming line redactor.

`Redactor(profile, extra_secrets)` is usable on its own (bundle builder, or the runner live).
"""

from .engine import LiveRedactor, Redactor
from .profiles import PROFILES, get_profile
from .rules import ALL_RULE_NAMES, RULES

__all__ = ["Redactor", "LiveRedactor", "PROFILES", "get_profile", "RULES", "ALL_RULE_NAMES"]
