"""The SSH transport: an interactive pty shell on the device (directly or through direct-tcpip jump hosts).

Connection set-up lives in ssh_connect.py, the channel byte pipe in ssh_channel.py, exec mode in ssh_exec.py.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import paramiko

from ..errors import ConnectError, ConnectionLost
from ..target import Target
from .base import ConnectOptions, Transport
from .ssh_auth import describe
from .ssh_channel import ChannelPipe, bounded_close
from .ssh_config import identity_files_of, resolve_ssh_target
from .ssh_connect import (  # noqa: F401 - re-exported for callers that build their own connections
    CIPHER_PREFERENCE,
    MAX_PACKET_SIZE,
    WINDOW_SIZE,
    establish,
    tcp_connect,
)

if TYPE_CHECKING:
    from .ssh_exec import SSHExecRunner


class SSHTransport(Transport):
    """An interactive pty shell over SSH (optionally through jump hosts); also the base for exec mode."""

    def __init__(self, target: Target, options: ConnectOptions) -> None:
        super().__init__(target, options)
        self.info = {"transport": "ssh"}
        self._transport: paramiko.Transport | None = None
        self._hops: list[paramiko.Transport] = []
        self._pipe: ChannelPipe | None = None

    # -- connection -------------------------------------------------------------------------------
    def connect(self) -> paramiko.Transport:
        """Connect and log in without opening a shell (exec mode uses this); returns the paramiko Transport."""
        if self._transport is not None:
            return self._transport
        opts = self.options
        target, jumps, files = resolve_ssh_target(self.target, opts)
        if opts.credentials.key_file is None:
            files = files or identity_files_of(target)
        sock: socket.socket | paramiko.Channel
        if jumps:
            from .ssh_jump import open_jump_channel

            chan, hops = open_jump_channel(jumps, target.host, target.port or 22, opts, resolve=False)
            self._hops = hops
            self.info["jump_mode"] = "direct-tcpip"
            self.info["jumps"] = [getattr(h, "hop_info", {}) for h in hops]
            sock = chan
        else:
            sock = tcp_connect(target.host, target.port or 22, opts.connect_timeout, f"device {target.display()}")
        try:
            t, info = establish(sock, target, opts, credentials=opts.credentials, identity_files=files)
        except BaseException:
            sock.close()
            self._close_hops()
            raise
        self._transport = t
        self.info.update(info)
        return t

    def open(self) -> None:
        t = self.connect()
        try:
            chan = t.open_session(window_size=WINDOW_SIZE, max_packet_size=MAX_PACKET_SIZE)
            chan.get_pty(term=self.options.term, width=self.options.width, height=self.options.height)
            chan.invoke_shell()
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.close()
            raise ConnectError(f"device {self.target.display()}: cannot open a shell ({describe(exc)})") from None
        self._pipe = ChannelPipe(chan, f"ssh {self.target.display()}")

    def exec_runner(self) -> SSHExecRunner:
        """A runner for exec-channel steps on this (already authenticated) connection."""
        from .ssh_exec import SSHExecRunner

        return SSHExecRunner(self.connect())

    @property
    def paramiko_transport(self) -> paramiko.Transport | None:
        return self._transport

    @property
    def channel(self) -> paramiko.Channel | None:
        return self._pipe.chan if self._pipe is not None else None

    # -- byte pipe --------------------------------------------------------------------------------
    def _open_pipe(self) -> ChannelPipe:
        if self._pipe is None:
            raise ConnectionLost(f"ssh {self.target.display()}: not open")
        return self._pipe

    def read(self, timeout: float | None) -> bytes:
        return self._open_pipe().read(timeout)

    def write(self, data: bytes) -> None:
        self._open_pipe().write(data)

    def alive(self) -> bool:
        return self._pipe is not None and self._pipe.alive()

    def _close_hops(self) -> None:
        for hop in reversed(self._hops):
            hop.close()
        self._hops = []

    def close(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
        if self._transport is not None:
            bounded_close(self._transport.close, self._transport, "transport")
        self._close_hops()
