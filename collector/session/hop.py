"""Jump-host shell mode: reach the jump host's shell prompt, type its ssh/telnet client command, hand over.

The jump host's client reports its own failures (refused, unknown host key); those become collector errors.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from ..errors import ConnectError, ConnectionLost, UnknownHostKey
from .normalize import strip_for_match
from .prompt import PromptMatcher

if TYPE_CHECKING:
    from .session import Session

SHELL_PROMPT = r"[\w.\-@~:/\[\] ()]{0,128}[$#%>]"
FAILURES: list[tuple[re.Pattern[bytes], type[Exception], str]] = [
    (re.compile(rb"host key verification failed|remote host identification has changed", re.I), UnknownHostKey,
     "the jump host's ssh client refused the device's host key (unknown or changed)"),
    (re.compile(rb"connection refused|unable to connect to remote host|could not resolve|name or service not "
                rb"known|no route to host|connection timed out|network is unreachable", re.I), ConnectError,
     "the jump host could not reach the device"),
]
CLOSED = re.compile(rb"connection closed by foreign host|connection to \S+ closed", re.I)


def shell_prompt_matcher() -> PromptMatcher:
    return PromptMatcher(SHELL_PROMPT)


def hop_through_shell(session: Session, command: str, timeout: float) -> PromptMatcher:
    """Wait for the jump host's prompt, run `command`; returns the matcher for that prompt (to spot a fall-back)."""
    matcher = shell_prompt_matcher()
    deadline = time.monotonic() + timeout
    tail = bytearray()
    woke = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ConnectError(f"no shell prompt on the jump host within {timeout:.0f}s",
                               hint="check that the jump host gives a POSIX shell to this account")
        data = session._read(min(left, session.wake_after))
        if not data:
            if not woke:
                woke = True
                session.write(session.return_char)
            continue
        tail += data
        found = matcher.find_at_end(tail)
        if found is not None:
            matcher.learn(found.text.encode())
            break
    session.write(command.encode() + session.return_char)
    # consume the echo of the command: any prompt after it belongs to the device (or to a failed client,
    # whose message check_hop_failure recognises)
    echo = bytearray()
    head = command.encode()[:24]
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ConnectError("the jump host did not echo the hop command", hint="check the jump host's shell")
        echo += session._read(left)
        at = echo.find(head)
        if at != -1 and echo.find(b"\n", at) != -1:
            return matcher


def check_hop_failure(tail: bytes) -> None:
    """Raise the right error when the jump host's client printed a failure."""
    text = strip_for_match(tail)
    for pattern, cls, message in FAILURES:
        m = pattern.search(text)
        if m:
            raise cls(f"{message}: {m.group(0).decode('utf-8', 'replace')}")
    check_hop_closed(tail)


def check_hop_closed(tail: bytes) -> None:
    """The lines just before a jump-host prompt say the device session ended: that is a drop."""
    lines = strip_for_match(tail).splitlines()[-3:]
    if any(CLOSED.search(line) for line in lines):
        raise ConnectionLost("the device closed the session (back at the jump host's shell)")
