"""Jump hosts: SSH hops chained through direct-tcpip channels (no local listening port), or a hop's shell.

Every hop's host key is verified with the device policy, and each hop logs in with its own credentials.

Use from another transport (e.g. Telnet through a DMZ host)::

    chan, hops = open_jump_channel(options.jumps, "10.0.0.1", 23, options)
    # `chan` is a paramiko.Channel: a socket-like byte pipe to 10.0.0.1:23 as seen from the last hop.
    # chan.sendall(b); chan.settimeout(s); chan.recv(65536) -> b"" at EOF, raises socket.timeout (TimeoutError);
    # chan.close(). chan.fileno() only signals readiness (select/poll), it cannot be read with os.read.
    ...
    close_jump_chain(chan, hops)
"""

from __future__ import annotations

import shlex
import socket
import weakref

import paramiko

from ..credentials import Credentials
from ..errors import ConnectError, UsageError
from ..secrets import Secret
from ..target import Target
from .base import ConnectOptions
from .ssh_auth import describe
from .ssh_config import identity_files_of, resolve_jumps
from .ssh_connect import MAX_PACKET_SIZE, WINDOW_SIZE, establish, tcp_connect
from .ssh_hostkeys import HostKeyVerifier

ADMINISTRATIVELY_PROHIBITED = 1
FORWARDING_HINT = "the jump host forbids TCP forwarding; use --jump-mode shell"


class ForwardingRefused(ConnectError):
    """A jump host forbids direct-tcpip (AllowTcpForwarding no); retrying cannot help, shell mode can."""

    retryable = False
    hint = FORWARDING_HINT


_CHAINS: weakref.WeakKeyDictionary[paramiko.Channel, list[paramiko.Transport]] = weakref.WeakKeyDictionary()


def hop_credentials(hop: Target, options: ConnectOptions) -> Credentials:
    """The credentials for one hop.

    options.hop_credentials maps a hop (its display ``ssh://user@host[:port]``, host, ``host:port`` or
    ssh_config alias) to Credentials or to a Secret (a password only); otherwise the device's credentials
    are used with the hop's user.
    """
    table = options.hop_credentials
    keys = [hop.display(), hop.host, f"{hop.host}:{hop.port}"]
    alias = hop.option("alias")
    if alias:
        keys += [alias, Target(scheme="ssh", host=alias, port=hop.port, user=hop.user).display()]
    for key in keys:
        found = table.get(key)
        if isinstance(found, Credentials):
            return found
        if isinstance(found, Secret):  # just a password for this hop
            base = options.credentials
            return Credentials(username=hop.user or base.username, password=found, masker=base.masker)
    return options.credentials.for_hop(hop.user)


def _forward(via: paramiko.Transport, via_target: Target, host: str, port: int, timeout: float) -> paramiko.Channel:
    try:
        return via.open_channel(
            "direct-tcpip",
            dest_addr=(host, port),
            src_addr=("127.0.0.1", 0),
            window_size=WINDOW_SIZE,
            max_packet_size=MAX_PACKET_SIZE,
            timeout=timeout,
        )
    except paramiko.ChannelException as exc:
        if exc.code == ADMINISTRATIVELY_PROHIBITED:
            raise ForwardingRefused(
                f"jump host {via_target.display()} refused to forward to {host}:{port} ({exc.text})",
                hint=FORWARDING_HINT,
            ) from None
        raise ConnectError(
            f"jump host {via_target.display()} could not connect to {host}:{port} ({exc.text})",
            hint="check that the device is reachable from the jump host",
        ) from None
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise ConnectError(
            f"jump host {via_target.display()}: forwarding to {host}:{port} failed ({describe(exc)})"
        ) from None


def _login_hop(
    sock: socket.socket | paramiko.Channel, hop: Target, options: ConnectOptions, verifier: HostKeyVerifier
) -> paramiko.Transport:
    t, _info = establish(
        sock,
        hop,
        options,
        credentials=hop_credentials(hop, options),
        identity_files=identity_files_of(hop),
        verifier=verifier,
        role="jump host",
    )
    return t


def _connect_chain(hops: list[Target], options: ConnectOptions) -> list[paramiko.Transport]:
    """Log in to every hop in order; hop n+1 is reached through hop n's direct-tcpip channel."""
    verifier = HostKeyVerifier.from_options(options)
    transports: list[paramiko.Transport] = []
    try:
        for i, hop in enumerate(hops):
            if i == 0:
                sock: socket.socket | paramiko.Channel = tcp_connect(
                    hop.host, hop.port or 22, options.connect_timeout, f"jump host {hop.display()}"
                )
            else:
                sock = _forward(transports[-1], hops[i - 1], hop.host, hop.port or 22, options.connect_timeout)
            transports.append(_login_hop(sock, hop, options, verifier))
    except BaseException:
        close_jump_chain(None, transports)
        raise
    return transports


def open_jump_channel(
    jumps: list[Target], dest_host: str, dest_port: int, options: ConnectOptions, *, resolve: bool = True
) -> tuple[paramiko.Channel, list[paramiko.Transport]]:
    """A direct-tcpip channel to dest_host:dest_port through `jumps` (nearest first), and the hop transports.

    `resolve` applies ~/.ssh/config (options.ssh_config) to the hops; pass False when already resolved.
    Raises ConnectError (FORWARDING_HINT when a hop forbids forwarding), UnknownHostKey, ChangedHostKey,
    AuthenticationError. Close with close_jump_chain(chan, transports).
    """
    if not jumps:
        raise UsageError("open_jump_channel needs at least one jump host")
    hops = resolve_jumps(jumps, options.ssh_config) if resolve else list(jumps)
    transports = _connect_chain(hops, options)
    try:
        chan = _forward(transports[-1], hops[-1], dest_host, dest_port, options.connect_timeout)
    except BaseException:
        close_jump_chain(None, transports)
        raise
    return chan, transports


def open_jump_shell_chain(
    jumps: list[Target], options: ConnectOptions, *, resolve: bool = True
) -> tuple[paramiko.Channel, list[paramiko.Transport]]:
    """A pty shell on the last hop (reached through the earlier ones), and all hop transports."""
    if not jumps:
        raise UsageError("a jump shell needs at least one jump host")
    hops = resolve_jumps(jumps, options.ssh_config) if resolve else list(jumps)
    transports = _connect_chain(hops, options)
    try:
        chan = transports[-1].open_session(window_size=WINDOW_SIZE, max_packet_size=MAX_PACKET_SIZE)
        chan.get_pty(term=options.term, width=options.width, height=options.height)
        chan.invoke_shell()
    except (paramiko.SSHException, EOFError, OSError) as exc:
        close_jump_chain(None, transports)
        raise ConnectError(f"jump host {hops[-1].display()}: cannot open a shell ({describe(exc)})") from None
    _CHAINS[chan] = transports
    return chan, transports


def close_jump_chain(chan: paramiko.Channel | None, transports: list[paramiko.Transport] | None = None) -> None:
    """Close a channel and its hop transports, innermost first; safe to call twice."""
    if chan is not None:
        chan.close()
        transports = transports if transports is not None else _CHAINS.pop(chan, [])
    for t in reversed(transports or []):
        t.close()


def hop_command(
    target: Target, credentials: Credentials | None = None, *, accept_new: bool = False, legacy: bool = False
) -> str:
    """The command to type in a jump host's shell to reach `target` (OpenSSH or telnet client there).

    For SSH the jump host's client enforces the same policy as collector: unknown host keys refused
    (accepted only with `accept_new`), one password prompt only (a second try could lock the account),
    and the legacy SHA-1 algorithms only when the target opted in.
    """
    host = shlex.quote(target.host)
    if target.scheme == "telnet":
        return f"telnet {host} {target.port or 23}"
    user = target.user or (credentials.username if credentials else None)
    dest = f"{shlex.quote(user)}@{host}" if user else host
    opts = [
        f"-o StrictHostKeyChecking={'accept-new' if accept_new else 'yes'}",
        "-o NumberOfPasswordPrompts=1",
    ]
    if legacy:
        opts += [
            "-o KexAlgorithms=+diffie-hellman-group14-sha1,diffie-hellman-group1-sha1",
            "-o HostKeyAlgorithms=+ssh-rsa",
            "-o PubkeyAcceptedAlgorithms=+ssh-rsa",
        ]
    if target.port and target.port != 22:
        opts.append(f"-p {target.port}")
    return " ".join(["ssh", *opts, dest])


__all__ = [
    "FORWARDING_HINT",
    "ForwardingRefused",
    "close_jump_chain",
    "hop_command",
    "hop_credentials",
    "open_jump_channel",
    "open_jump_shell_chain",
]
