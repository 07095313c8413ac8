"""Streaming redactor: replaces secret tokens with stable `<redacted-secret-N>` placeholders, line structure kept.

Reads in bounded blocks, finds candidate lines with one combined trigger regex, and runs the rules only there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

from ...secrets import Secret
from .profiles import get_profile
from .rules import (
    BLOCK_TRIGGERS,
    IOS_CERT_BEGIN,
    IOS_CERT_BODY,
    IOS_CERT_END,
    PEM_BEGIN,
    PEM_BODY,
    PEM_END,
    RULE_CREDENTIAL,
    RULE_IOS_CERT,
    RULE_KNOWN,
    RULE_PEM_CERT,
    RULE_PEM_KEY,
    TRIGGER_LITERALS,
)

BLOCK_SIZE = 1 << 20  # bytes read at a time
MAX_PENDING = 1 << 20  # a line longer than this (no newline) is handled in pieces
MAX_LINE = 64 * 1024  # rules see at most this many bytes of one line at a time
MIN_LEARNED = 4  # shorter values found by a rule are not searched for elsewhere
PLACEHOLDER = re.compile(rb"<redacted-secret-\d+>")


def _alternation(values: Iterable[bytes]) -> bytes:
    return b"|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))


@dataclass
class _BlockState:
    kind: str = ""  # "" | "pem" | "ios"
    rule: str = ""
    key: bytes = b""


class Redactor:
    """Removes secrets from bytes, streams or text; one instance per bundle keeps placeholders consistent.

    `counts` holds how many replacements each rule made (values are never kept outside memory).
    """

    def __init__(self, profile: str = "default", extra_secrets: Iterable[Secret | str] = ()) -> None:
        self.profile = get_profile(profile)
        self.counts: Counter[str] = Counter()
        self._numbers: dict[bytes, int] = {}
        self._credentials: list[bytes] = []
        for s in extra_secrets:
            value = s.reveal() if isinstance(s, Secret) else s
            raw = value.encode("utf-8", "surrogateescape")
            if len(raw) >= 3 and raw not in self._credentials:
                self._credentials.append(raw)
        self._credentials.sort(key=len, reverse=True)
        self._known: list[bytes] = []
        self._literal_cache: dict[tuple[frozenset[bytes], frozenset[bytes]], re.Pattern[bytes]] = {}
        self._all_literals = sorted({lit for r in self.profile.rules for lit in r.literals})
        self._rule_literals = [(r, frozenset(r.literals)) for r in self.profile.rules]
        self._trigger_literals = (TRIGGER_LITERALS if self.profile.rules else ()) + (
            BLOCK_TRIGGERS if self.profile.blocks else ())
        regexes = [r.trigger.encode() for r in self.profile.rules if r.trigger]
        self._trigger_res = [re.compile(t, re.M) for t in regexes]

    # ---- placeholders -------------------------------------------------------------------
    @property
    def distinct_secrets(self) -> int:
        return len(self._numbers)

    def placeholder(self, value: bytes) -> bytes:
        n = self._numbers.get(value)
        if n is None:
            n = self._numbers[value] = len(self._numbers) + 1
        return b"<redacted-secret-%d>" % n

    def _learn(self, value: bytes) -> None:
        if (self.profile.learn and len(value) >= MIN_LEARNED and not value.isdigit()
                and value not in self._known and value not in self._credentials):
            self._known.append(value)
            self._known.sort(key=len, reverse=True)

    # ---- public API ---------------------------------------------------------------------
    def stream(self, src: BinaryIO, dst: BinaryIO | None = None,
               post: Callable[[bytes], bytes] | None = None) -> int:
        """Redact src into dst block by block (flat memory); dst None = learn only. Returns bytes written.

        `post` (e.g. the pseudonymiser) is applied to each redacted block, which always ends at a line end.
        """
        state = _BlockState()
        emit = dst is not None
        carry = b""
        written = 0
        while True:
            block = src.read(BLOCK_SIZE)
            if not block:
                break
            data = carry + block if carry else block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                if len(data) < MAX_PENDING:
                    carry = data
                    continue
                cut = len(data)  # one enormous line: handled in pieces
            out = self._process(data[:cut], state, emit)
            carry = data[cut:]
            if post is not None and emit:
                out = post(out)
            if dst is not None:
                dst.write(out)
                written += len(out)
        if carry:
            out = self._process(carry, state, emit)
            if post is not None and emit:
                out = post(out)
            if dst is not None:
                dst.write(out)
                written += len(out)
        return written

    def learn(self, src: BinaryIO) -> None:
        """First pass: find secrets so their every later occurrence is replaced too; counts nothing."""
        self.stream(src, None)

    def placeholder_for(self, value: bytes) -> bytes | None:
        """The placeholder of a value some rule already replaced (in any file so far), else None."""
        n = self._numbers.get(value)
        return None if n is None else b"<redacted-secret-%d>" % n

    def learn_value(self, value: bytes) -> None:
        """A secret found outside the text (a parsed field named like one): replaced wherever it appears."""
        self._learn(value)

    def redact_bytes(self, data: bytes) -> bytes:
        return self._process(data, _BlockState(), True)

    def redact_text(self, text: str) -> str:
        return self.redact_bytes(text.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")

    # ---- engine -------------------------------------------------------------------------
    def _candidates(self, data: bytes) -> list[int]:
        """Start offsets of the lines that may hold a secret (sorted)."""
        starts: set[int] = set()
        for lit in self._trigger_literals:
            i = data.find(lit)
            while i >= 0:
                starts.add(data.rfind(b"\n", 0, i) + 1)
                end = data.find(b"\n", i)
                if end < 0:
                    break
                i = data.find(lit, end + 1)
        for pat in self._trigger_res:
            for m in pat.finditer(data):
                i = m.start()
                if i < len(data) and data[i:i + 1] == b"\n":  # a ^-anchored match that began on an empty line
                    i += 1
                starts.add(data.rfind(b"\n", 0, i) + 1)
        return sorted(starts)

    def _process(self, data: bytes, st: _BlockState, emit: bool) -> bytes:
        out: list[bytes] = []
        pos, n = 0, len(data)
        for start in self._candidates(data):
            if start < pos:
                continue
            if st.kind:  # inside a multi-line block: line by line up to and including this candidate
                while st.kind and pos <= start and pos < n:
                    end = data.find(b"\n", pos)
                    end = n if end < 0 else end + 1
                    out.append(self._block_line(data[pos:end], st, emit))
                    pos = end
                if start < pos:
                    continue
            out.append(data[pos:start])
            end = data.find(b"\n", start)
            end = n if end < 0 else end + 1
            out.append(self._line(data[start:end], st, emit))
            pos = end
        while st.kind and pos < n:
            end = data.find(b"\n", pos)
            end = n if end < 0 else end + 1
            out.append(self._block_line(data[pos:end], st, emit))
            pos = end
        out.append(data[pos:])
        result = b"".join(out)
        return self._literals(result, emit) if emit else result

    def _line(self, line: bytes, st: _BlockState, emit: bool) -> bytes:
        if len(line) > MAX_LINE:
            return b"".join(self._line(line[i:i + MAX_LINE], st, emit) for i in range(0, len(line), MAX_LINE))
        if self.profile.blocks:
            pm = PEM_BEGIN.search(line)
            if pm:
                rule = RULE_PEM_KEY if b"PRIVATE" in pm.group(2) else RULE_PEM_CERT
                end = PEM_END.search(line, pm.end())
                body = line.rstrip(b"\r\n")
                inner = line[pm.end():end.start()] if end else body[pm.end():]
                if inner.strip(b" \t\"'\\n"):  # key material on the BEGIN line itself (e.g. "\n"-escaped)
                    if emit:
                        self.counts[rule] += 1
                    stop = end.start() if end else len(body)
                    line = line[:pm.end()] + self.placeholder(b"block:" + inner) + line[stop:]
                if end is None:
                    st.kind, st.key, st.rule = "pem", b"", rule
                return line
            if IOS_CERT_BEGIN.match(line):
                st.kind, st.key, st.rule = "ios", b"", RULE_IOS_CERT
                return line
        spans: list[tuple[int, int, str]] = []
        present = {lit for lit in self._all_literals if lit in line}
        for r, lits in self._rule_literals:
            if lits.isdisjoint(present):
                continue
            if r.generic and (spans or PLACEHOLDER.search(line)):
                continue
            for m in r.pattern.finditer(line):
                for g in r.groups:
                    s, e = m.span(g)
                    if s < 0 or s == e or PLACEHOLDER.fullmatch(line, s, e):
                        continue
                    if any(s < e2 and s2 < e for s2, e2, _ in spans):
                        continue
                    spans.append((s, e, r.name))
        if not spans:
            return line
        spans.sort()
        pieces: list[bytes] = []
        last = 0
        for s, e, name in spans:
            value = line[s:e]
            pieces.append(line[last:s])
            pieces.append(self.placeholder(value))
            self._learn(value)
            if emit:
                self.counts[name] += 1
            last = e
        pieces.append(line[last:])
        return b"".join(pieces)

    def _block_line(self, line: bytes, st: _BlockState, emit: bool) -> bytes:
        body = line.rstrip(b"\r\n")
        eol = line[len(body):]
        if not body.strip():
            return line
        if st.kind == "pem":
            if PEM_END.search(body):
                st.kind = ""
                return line
            m = PEM_BODY.match(body)
        else:
            if IOS_CERT_END.match(body):
                st.kind = ""
                return line
            m = IOS_CERT_BODY.match(body)
        if m is None:  # the block ended without its end marker (truncated output): back to normal lines
            st.kind = ""
            return self._line(line, st, emit)
        if not st.key:
            st.key = b"block:" + m.group(2)
            if emit:
                self.counts[st.rule] += 1
        return m.group(1) + self.placeholder(st.key) + m.group(3) + eol

    def _literals(self, data: bytes, emit: bool) -> bytes:
        """Exact credentials anywhere; secrets learned elsewhere as whole tokens. Placeholders are skipped."""
        if not self._credentials and not self._known:
            return data
        creds = frozenset(c for c in self._credentials if c in data)
        known = frozenset(k for k in self._known if k in data)
        if not creds and not known:
            return data
        key = (creds, known)
        pat = self._literal_cache.get(key)
        if pat is None:
            alts = [rb"(?P<ph><redacted-secret-\d+>)"]
            if creds:
                alts.append(b"(?P<cred>" + _alternation(creds) + b")")
            if known:
                alts.append(rb"(?<![\w-])(?P<known>" + _alternation(known) + rb")(?![\w-])")
            pat = re.compile(b"|".join(alts))
            if len(self._literal_cache) > 256:
                self._literal_cache.clear()
            self._literal_cache[key] = pat

        def sub(m: re.Match[bytes]) -> bytes:
            if m.group("ph") is not None:
                return m.group(0)
            if emit:
                self.counts[RULE_CREDENTIAL if m.lastgroup == "cred" else RULE_KNOWN] += 1
            return self.placeholder(m.group(0))

        return pat.sub(sub, data)


class LiveRedactor:
    """Incremental redaction for live streams: feed bytes as they arrive, get back redacted complete lines.

    A line is held back until its newline arrives (or MAX_PENDING bytes), so a secret is never split.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor or Redactor()
        self._state = _BlockState()
        self._carry = b""

    def feed(self, data: bytes) -> bytes:
        data = self._carry + data if self._carry else data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) < MAX_PENDING:
                self._carry = data
                return b""
            cut = len(data)
        self._carry = data[cut:]
        return self.redactor._process(data[:cut], self._state, True)

    def flush(self) -> bytes:
        """Everything still held back (end of stream)."""
        data, self._carry = self._carry, b""
        return self.redactor._process(data, self._state, True) if data else b""
