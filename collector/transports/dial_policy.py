"""THE dialer policy table: every Hayes/V.250 result code, its forms, meaning, action and exception.

Also parses result lines (verbose, numeric V0, CONNECT rate/suffix, intermediate CARRIER/PROTOCOL lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from ..errors import DialError


class LineFault(DialError):
    """The local phone line is unusable (no dial tone, line in use): redialing will not help."""

    hint = "check the phone line on the modem (cable, dial tone, extension in use); retrying now will not help"


class DialRefused(DialError):
    """The modem refuses to dial the number (regulatory DELAYED / BLACKLISTED): never redialed automatically."""

    hint = "the modem locked this number after failed calls (regulatory redial limits); wait, or reset the modem"


class ModemConfigError(DialError):
    """The modem rejects our commands (ERROR), or does not answer at all."""

    hint = "check the modem profile (?profile=...), the port, baud rate and cable; try the modem with a terminal"


class DialFailed(DialError):
    """A call attempt failed in a way worth retrying (BUSY, NO ANSWER, NO CARRIER): raised after the retry budget."""

    hint = "the remote did not answer; check the number, that the remote modem auto-answers (ATS0=1), and retry later"


class Action(StrEnum):
    OK = "ok"  # command accepted
    CONNECTED = "connected"  # the call is up: data mode
    RETRY = "retry"  # worth redialing (within the budget)
    STOP = "stop"  # final for this number: never redial
    LOCAL_FAULT = "local-fault"  # our line is broken: report, do not redial
    CONFIG_FAULT = "config-fault"  # the modem rejected a command
    IGNORE = "ignore"  # unsolicited (RING): log and keep waiting
    INFO = "info"  # intermediate line before CONNECT (CARRIER, PROTOCOL, COMPRESSION)


@dataclass(frozen=True)
class ResultRule:
    """One row of the policy table."""

    code: str  # canonical verbose form
    numeric: tuple[int, ...]  # V0 forms (vendor codes beyond 8 vary)
    aliases: tuple[str, ...]  # other verbose spellings
    meaning: str
    action: Action
    error: type[DialError] | None  # raised when the dial ends with this result


# fmt: off
TABLE: tuple[ResultRule, ...] = (
    ResultRule("OK", (0,), (), "command accepted", Action.OK, None),
    ResultRule("CONNECT", (1,), (), "call up; optional rate and protocol suffix", Action.CONNECTED, None),
    ResultRule("RING", (2,), (), "incoming ring (outbound-only line)", Action.IGNORE, None),
    ResultRule("NO CARRIER", (3,), (), "no carrier while dialing / carrier lost", Action.RETRY, DialFailed),
    ResultRule("ERROR", (4,), (), "command rejected", Action.CONFIG_FAULT, ModemConfigError),
    ResultRule("NO DIALTONE", (6,), ("NO DIAL TONE",), "no dial tone on the local line", Action.LOCAL_FAULT, LineFault),
    ResultRule("BUSY", (7,), (), "remote busy", Action.RETRY, DialFailed),
    ResultRule("NO ANSWER", (8,), (), "remote did not answer (@ quiet answer)", Action.RETRY, DialFailed),
    ResultRule("DELAYED", (), (), "regulatory redial delay in force for this number", Action.STOP, DialRefused),
    ResultRule("BLACKLISTED", (), (), "number blacklisted after failed calls", Action.STOP, DialRefused),
    ResultRule("BLACKLIST FULL", (), (), "blacklist memory full: no dialing", Action.STOP, DialRefused),
    ResultRule("NO LINE", (), (), "no phone line connected", Action.LOCAL_FAULT, LineFault),
    ResultRule("LINE IN USE", (), (), "an extension is off hook", Action.LOCAL_FAULT, LineFault),
    ResultRule("RINGING", (), (), "remote is ringing (progress report)", Action.IGNORE, None),
    ResultRule("TIMEOUT", (), (), "no result from the modem within the dial timeout", Action.RETRY, DialFailed),
)
# fmt: on

#: Numeric CONNECT codes with a rate (Rockwell/Conexant style; vendors differ, profiles may override).
NUMERIC_CONNECT: dict[int, int] = {
    5: 1200, 9: 600, 10: 2400, 11: 4800, 12: 9600, 13: 7200, 14: 12000, 15: 14400, 16: 19200,
    17: 38400, 18: 57600, 19: 115200, 20: 230400, 24: 7200, 25: 14400, 28: 38400, 33: 21600,
    34: 24000, 35: 26400, 36: 28800, 37: 31200, 38: 33600,
}  # fmt: skip

_BY_TEXT: dict[str, ResultRule] = {}
_BY_NUMBER: dict[int, ResultRule] = {}
for _rule in TABLE:
    for _text in (_rule.code, *_rule.aliases):
        _BY_TEXT[_text] = _rule
    for _n in _rule.numeric:
        _BY_NUMBER[_n] = _rule
CONNECT_RULE = _BY_TEXT["CONNECT"]

_CONNECT_RE = re.compile(r"^CONNECT(?:\s+(\d+))?(.*)$", re.IGNORECASE)
_INTERMEDIATE_RE = re.compile(
    r"^(?:(?P<carrier>CARRIER)\s+(?P<crate>\d+)(?P<crest>.*)"
    r"|(?P<key>PROTOCOL|COMPRESSION)\s*:\s*(?P<value>.*)"
    r"|\+(?P<v250>MCR|MRR|ER|DR|ILRR)\s*:\s*(?P<v250value>.*))$",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def rule_for(code: str) -> ResultRule:
    """The table row for a verbose code (KeyError if unknown)."""
    return _BY_TEXT[_SPACES.sub(" ", code.strip().upper())]


@dataclass(frozen=True)
class ParsedLine:
    """One line from the modem, classified."""

    text: str
    kind: str  # "final" | "intermediate" | "echo" | "unknown"
    rule: ResultRule | None = None
    rate: int | None = None  # CONNECT rate (bps), or CARRIER rate for intermediate lines
    protocol: str | None = None  # CONNECT suffix, e.g. "ARQ/V42BIS" or "EC"
    info: dict[str, str] = field(default_factory=dict)  # intermediate facts: carrier, protocol, compression

    @property
    def action(self) -> Action | None:
        return self.rule.action if self.rule else None


def _connect(text: str, rate: int | None, suffix: str) -> ParsedLine:
    proto = suffix.strip().lstrip("/").strip() or None
    return ParsedLine(text, "final", CONNECT_RULE, rate=rate, protocol=proto)


def parse_line(line: str, numeric_connect: dict[int, int] | None = None) -> ParsedLine:
    """Classify one modem line (without its CR/LF): a final result, an intermediate report, an echo, or unknown."""
    text = line.strip()
    upper = _SPACES.sub(" ", text.upper())
    if not upper:
        return ParsedLine(text, "unknown")
    if upper.startswith("AT") or upper.startswith("A/"):
        return ParsedLine(text, "echo")
    if upper.isdigit():
        n = int(upper)
        rates = NUMERIC_CONNECT if numeric_connect is None else numeric_connect
        if n in rates:
            return _connect(text, rates[n], "")
        rule = _BY_NUMBER.get(n)
        return ParsedLine(text, "final", rule) if rule else ParsedLine(text, "unknown")
    m = _CONNECT_RE.match(upper)
    if m:
        rate = int(m.group(1)) if m.group(1) else None
        raw_suffix = text[m.start(2) :] if m.group(2) else ""
        return _connect(text, rate, raw_suffix)
    rule = _BY_TEXT.get(upper)
    if rule is not None:
        return ParsedLine(text, "final", rule)
    m2 = _INTERMEDIATE_RE.match(text)
    if m2:
        if m2.group("carrier"):
            rest = m2.group("crest").strip().lstrip("/").strip()
            info = {"carrier": m2.group("crate") + (f"/{rest}" if rest else "")}
            return ParsedLine(text, "intermediate", rate=int(m2.group("crate")), info=info)
        if m2.group("key"):
            return ParsedLine(text, "intermediate", info={m2.group("key").lower(): m2.group("value").strip()})
        return ParsedLine(text, "intermediate", info={m2.group("v250").lower(): m2.group("v250value").strip()})
    return ParsedLine(text, "unknown")


def error_for(parsed: ParsedLine, number_hint: str = "") -> DialError:
    """The exception a dial ending with `parsed` raises (its `.result` is the modem's code as sent)."""
    rule = parsed.rule
    if rule is None or rule.error is None:
        return ModemConfigError(f"unexpected modem reply {parsed.text!r}", result=parsed.text)
    where = f" dialing {number_hint}" if number_hint else ""
    return rule.error(f"modem said {rule.code}{where}: {rule.meaning}", result=rule.code)


def is_retryable(exc: BaseException) -> bool:
    """tenacity predicate: only DialFailed (BUSY, NO ANSWER, NO CARRIER while dialing, timeout) is redialed."""
    return isinstance(exc, DialFailed)
