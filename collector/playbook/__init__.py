"""Playbooks: the YAML schema, loading with file:line errors, {{ variables }}, and the read-only guard.

Typical use: `loaded = load_playbook(path, overrides)`, then `check_playbook(loaded, load_platform(...), flag)`.
"""

from ..units import format_duration, format_size, parse_duration, parse_size
from .checks import RecordedPlaybookRefused, ValidationReport, recheck_recorded, validate_with_guard
from .guard import (
    GuardRefusal,
    GuardVerdict,
    PlaybookRefused,
    StepCommand,
    changes_allowed,
    check_command,
    check_playbook,
    guard_refusals,
    iter_commands,
    slow_line_allowed,
)
from .loader import LoadedPlaybook, PlaybookInvalid, PlaybookIssue, check_overrides, load_playbook, validate_playbook
from .schema import (
    CaptureStep,
    Playbook,
    Precheck,
    RateGuard,
    Rotate,
    ShowStep,
    StepDefaults,
    Threshold,
    Trigger,
    Until,
    playbook_json_schema,
)
from .variables import merge_vars, parse_var_overrides, substitute

__all__ = [
    "CaptureStep",
    "GuardRefusal",
    "GuardVerdict",
    "LoadedPlaybook",
    "Playbook",
    "PlaybookInvalid",
    "PlaybookIssue",
    "PlaybookRefused",
    "Precheck",
    "RateGuard",
    "RecordedPlaybookRefused",
    "Rotate",
    "ShowStep",
    "StepCommand",
    "StepDefaults",
    "Threshold",
    "Trigger",
    "Until",
    "ValidationReport",
    "changes_allowed",
    "check_command",
    "check_overrides",
    "check_playbook",
    "format_duration",
    "format_size",
    "guard_refusals",
    "iter_commands",
    "load_playbook",
    "merge_vars",
    "parse_duration",
    "parse_size",
    "parse_var_overrides",
    "playbook_json_schema",
    "recheck_recorded",
    "slow_line_allowed",
    "substitute",
    "validate_playbook",
    "validate_with_guard",
]
