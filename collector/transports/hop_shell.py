"""Jump host in shell mode: log in to the last hop's shell, type its own ssh/telnet client command, pass bytes on.

The session above sees only the device. When the jump host's prompt comes back, the hop ended: the lines
before it say why (refused, unknown host key, closed), and the next read raises the matching error.
"""

from __future__ import annotations

import paramiko

from ..errors import (
    AuthenticationError,
    ChangedHostKey,
    CollectorError,
    ConnectError,
    ConnectionLost,
    UnknownHostKey,
    UsageError,
)
from ..expect.dialog import Dialog, DialogTimeout, Quiet
from ..expect.echo import find_echo
from ..expect.prompt import PromptMatcher, quoted_split, random_prompt
from ..expect.text import last_line, strip_for_match
from ..target import Target
from .base import ConnectOptions, Transport
from .client_failures import classify_client_text
from .ssh_channel import ChannelPipe
from .ssh_config import resolve_ssh_target
from .ssh_connect import legacy_enabled
from .ssh_jump import close_jump_chain, hop_command, open_jump_shell_chain

SHELL_PROMPT = r"[\w.\-@~:/\[\] ()]{0,128}[$#%>]"
HOP_TIMEOUT = 30.0
UNIQUE_WAIT = 10.0
WATCH = 4096  # bytes of the passed-on stream kept to recognise the jump host's prompt coming back
#: what the hop client's failure means here (the kinds come from client_failures.py)
HOP_FAILURES: dict[str, tuple[type[CollectorError], str]] = {
    "host_key_changed": (ChangedHostKey, "the jump host's ssh client refused the device's changed host key"),
    "host_key_unknown": (UnknownHostKey, "the jump host's ssh client refused the device's host key (unknown)"),
    "auth": (AuthenticationError, "the device refused the login made from the jump host"),
    "config": (ConnectError, "the jump host's client could not use its configuration"),
    "negotiation": (ConnectError, "the jump host's client and the device share no algorithm"),
    "unreachable": (ConnectError, "the jump host could not reach the device"),
}


def classify_hop_end(tail: bytes) -> CollectorError:
    """The error for a hop whose client exited: what it printed just before the jump host's prompt."""
    lines = strip_for_match(tail).splitlines()[-6:-1]
    failure = classify_client_text(b"\n".join(lines))
    if failure is not None and failure.kind in HOP_FAILURES:
        cls, message = HOP_FAILURES[failure.kind]
        return cls(f"{message}: {failure.line}")
    return ConnectionLost("the device closed the session (back at the jump host's shell)")


class HopShellTransport(Transport):
    """The device's byte stream as seen through a client started in the last jump host's shell."""

    def __init__(self, target: Target, options: ConnectOptions) -> None:
        super().__init__(target, options)
        self.info = {"transport": target.scheme, "jump_mode": "shell"}
        self._pipe: ChannelPipe | None = None
        self._hops: list[paramiko.Transport] = []
        self._jump_prompt: bytes | None = None
        self._watch = bytearray()
        self._pending: CollectorError | None = None
        self._carry = b""  # bytes read with the hop command's echo that belong to the device

    def open(self) -> None:
        target, jumps, _files = resolve_ssh_target(self.target, self.options)
        if not jumps:
            raise UsageError("--jump-mode shell needs a jump host (--jump or a ProxyJump in ~/.ssh/config)")
        chan, hops = open_jump_shell_chain(jumps, self.options, resolve=False)
        self._pipe = ChannelPipe(chan, f"jump host {jumps[-1].display()}")
        self._hops = hops
        try:
            command = hop_command(target, self.options.credentials, accept_new=self.options.accept_new_host_key,
                                  legacy=legacy_enabled(target, self.options))
            self._jump_prompt = self._shell_prompt()
            self._pipe.write(command.encode() + b"\n")
            # the echo of the command: what follows belongs to the device (or to a failing client)
            Dialog([]).process(self._pipe, timeout=HOP_TIMEOUT, until=lambda tail: self._after_echo(tail, command))
        except DialogTimeout:
            self.close()
            raise ConnectError(f"no shell prompt or echo on the jump host within {HOP_TIMEOUT:.0f}s",
                               hint="check that the jump host gives a POSIX shell to this account") from None
        except BaseException:
            self.close()
            raise
        self.info.update({"jumps": [getattr(h, "hop_info", {}) for h in hops], "hop_command": command})

    def _shell_prompt(self) -> bytes:
        """Wait for the jump host's prompt, then make it unique (so no device prompt can look like it)."""
        assert self._pipe is not None
        matcher = PromptMatcher(SHELL_PROMPT)
        found = Dialog([]).process(self._pipe, timeout=HOP_TIMEOUT, until=matcher.find_at_end,
                                   quiet=Quiet(2.0, lambda c: b"\n", max_times=1)).value
        assert found is not None
        unique = random_prompt("collector-hop")
        matcher.make_unique(unique.encode())
        self._pipe.write(f"PS1={quoted_split(unique)}; PS2=''; unset PROMPT_COMMAND\n".encode())
        try:
            Dialog([]).process(self._pipe, timeout=UNIQUE_WAIT, until=matcher.find_at_end)
        except DialogTimeout:  # not a POSIX shell: the learned prompt has to do
            return found.text.encode()
        return unique.rstrip().encode()

    def _after_echo(self, tail: bytearray, command: str) -> bool | None:
        """The hop command's echo line is complete; what followed it in the same read is the device's."""
        span = find_echo(tail, command)
        if span is None:
            return None
        self._carry = bytes(tail[span[1] :])
        return True

    def read(self, timeout: float | None) -> bytes:
        if self._pending is not None:
            raise self._pending
        if self._pipe is None:
            raise ConnectionLost("jump host shell: not open")
        data, self._carry = (self._carry, b"") if self._carry else (self._pipe.read(timeout), b"")
        if data and self._jump_prompt is not None:
            self._watch += data
            del self._watch[:-WATCH]
            if strip_for_match(last_line(self._watch)) == self._jump_prompt:
                self._pending = classify_hop_end(bytes(self._watch))
        return data

    def write(self, data: bytes) -> None:
        if self._pipe is None:
            raise ConnectionLost("jump host shell: not open")
        self._pipe.write(data)

    def alive(self) -> bool:
        return self._pending is None and self._pipe is not None and self._pipe.alive()

    def close(self) -> None:
        close_jump_chain(self._pipe.chan if self._pipe is not None else None, self._hops)
        self._hops = []
