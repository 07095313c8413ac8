"""One SSH hop's connection on paramiko's Transport API: TCP, key exchange, host-key check, login.

Shared by the device transport, exec mode and the jump-host chain; no shells and no channels here.
"""

from __future__ import annotations

import getpass
import logging
import socket
import threading
from collections.abc import Sequence
from typing import Any

import paramiko
from paramiko.common import cMSG_IGNORE
from paramiko.ssh_exception import IncompatiblePeer  # type: ignore[attr-defined]

from ..credentials import Credentials
from ..errors import CollectorError, ConnectError
from ..target import Target
from .base import ConnectOptions
from .ssh_auth import authenticate, describe
from .ssh_hostkeys import HostKeyVerifier

WINDOW_SIZE = 2 << 20  # bytes in flight; larger windows only grow RSS on loopback and LANs
MAX_PACKET_SIZE = 32 << 10
KEEPALIVE_INTERVAL = 30
LEGACY_HINT = (
    "the device only speaks legacy SSH algorithms; re-run with --legacy-algorithms (or ?legacy=1 on the target)"
)

#: algorithms paramiko 4 still offers that are off unless the target opts in (SHA-1 kex/signatures, CBC, MD5)
LEGACY_ALGORITHMS: dict[str, list[str]] = {
    "kex": ["diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1", "diffie-hellman-group1-sha1"],
    "keys": ["ssh-rsa"],
    "pubkeys": ["ssh-rsa"],
    "ciphers": ["aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc"],
    "macs": ["hmac-md5", "hmac-md5-96", "hmac-sha1-96"],
}


# paramiko logs every failed handshake/auth from its thread at ERROR with a traceback; collector raises its own
# one-line errors instead. Left alone when someone configured the "paramiko" logger explicitly.
if logging.getLogger("paramiko").level == logging.NOTSET:
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)

#: AES-GCM first: with paramiko it costs about half the CPU per byte of AES-CTR + HMAC (measured on loopback)
CIPHER_PREFERENCE = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr")


class NoCommonAlgorithm(ConnectError):
    """Key exchange impossible (e.g. a SHA-1-only device without the legacy opt-in); retrying cannot help."""

    retryable = False


def legacy_enabled(target: Target, options: ConnectOptions) -> bool:
    return bool(options.legacy_algorithms) or (target.option("legacy") or "").lower() in ("1", "yes", "true", "on")


def disabled_algorithms(legacy: bool) -> dict[str, list[str]]:
    return {} if legacy else {k: list(v) for k, v in LEGACY_ALGORITHMS.items()}


class _Transport(paramiko.Transport):
    """paramiko.Transport that remembers the negotiated key exchange (paramiko drops its engine after kex)."""

    agreed_kex: str = ""
    hop_info: dict[str, Any] = {}  # noqa: RUF012 - replaced per instance by establish()
    _KEX_NAMES = {cls: name for name, cls in getattr(paramiko.Transport, "_kex_info", {}).items()}

    def prefer_ciphers(self, first: tuple[str, ...]) -> None:
        """Move `first` (those paramiko knows) to the front of the cipher offer."""
        known = tuple(self._preferred_ciphers)  # type: ignore[attr-defined]
        front = [c for c in first if c in known]
        self.get_security_options().ciphers = tuple(front + [c for c in known if c not in front])

    def offered_host_key_types(self) -> tuple[str, ...]:
        """Host-key algorithms we offer (defaults minus disabled ones), before known types are moved first."""
        return tuple(self._filter_algorithm("keys"))  # type: ignore[attr-defined]

    def _parse_kex_init(self, m: paramiko.Message) -> None:
        super()._parse_kex_init(m)  # type: ignore[misc]
        engine = getattr(self, "kex_engine", None)
        self.agreed_kex = self._KEX_NAMES.get(type(engine), type(engine).__name__)

    def _parse_global_request(self, m: paramiko.Message) -> None:
        """Answer as paramiko does, then send SSH_MSG_IGNORE (which every peer must ignore) so the request's TCP
        acknowledgement leaves at once. An OpenSSH server sends `hostkeys-00@openssh.com` right after the login,
        while Nagle is still on at its end: its next packet, the session channel's confirmation, then waited for
        our kernel's delayed ACK, 40 ms on every login and reconnect."""
        super()._parse_global_request(m)  # type: ignore[misc]
        ignore = paramiko.Message()
        ignore.add_byte(cMSG_IGNORE)
        ignore.add_string(b"")
        self._send_message(ignore)  # type: ignore[attr-defined]


def tcp_connect(host: str, port: int, timeout: float, label: str) -> socket.socket:
    """A connected TCP socket with keepalive probes, or ConnectError with a one-line cause."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        raise ConnectError(f"{label}: cannot resolve {host!r} ({exc.strerror})") from None
    except ConnectionRefusedError:
        raise ConnectError(f"{label}: connection refused by {host}:{port}") from None
    except TimeoutError:
        raise ConnectError(f"{label}: no answer from {host}:{port} within {timeout:g} s") from None
    except OSError as exc:
        raise ConnectError(f"{label}: cannot connect to {host}:{port} ({exc.strerror or exc})") from None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for opt, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 6), ("TCP_NODELAY", 1)):
        if hasattr(socket, opt):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, opt), value)
    sock.settimeout(None)
    return sock


def username_for(target: Target, credentials: Credentials) -> str:
    return target.user or credentials.username or getpass.getuser()


def establish(
    sock: socket.socket | paramiko.Channel,
    target: Target,
    options: ConnectOptions,
    *,
    credentials: Credentials,
    identity_files: Sequence[str] = (),
    verifier: HostKeyVerifier | None = None,
    role: str = "device",
) -> tuple[paramiko.Transport, dict[str, Any]]:
    """Key exchange, host-key check and login over `sock`; returns the authenticated transport and its info.

    `sock` is a TCP socket or a direct-tcpip channel of the previous hop. On failure the transport is
    closed and a CollectorError raised (ConnectError, UnknownHostKey, ChangedHostKey, AuthenticationError).
    """
    label = f"{role} {target.display()}"
    legacy = legacy_enabled(target, options)
    t = _Transport(sock, disabled_algorithms=disabled_algorithms(legacy))
    verifier = verifier or HostKeyVerifier.from_options(options)
    try:
        t.banner_timeout = options.connect_timeout
        t.handshake_timeout = options.connect_timeout
        t.auth_timeout = 600.0 if credentials.otp_provider is not None else max(30.0, options.connect_timeout)
        t.prefer_ciphers(CIPHER_PREFERENCE)
        sec = t.get_security_options()
        sec.key_types = verifier.preferred_key_types(target.host, target.port, t.offered_host_key_types())
        done = threading.Event()
        t.start_client(event=done)
        done.wait(options.connect_timeout)
        if not t.is_active():
            exc = t.get_exception()
            if isinstance(exc, IncompatiblePeer):
                hint = LEGACY_HINT if not legacy else "the server and paramiko share no algorithm"
                raise NoCommonAlgorithm(f"{label}: {describe(exc)}", hint=hint)
            why = describe(exc) if exc is not None else "connection closed"
            raise ConnectError(f"{label}: SSH handshake failed ({why})")
        if not done.is_set() or t.host_key is None:
            raise ConnectError(f"{label}: SSH handshake did not finish within {options.connect_timeout:g} s")
        key = t.get_remote_server_key()
        checked = verifier.verify(target.host, target.port, key, role=role)
        user = username_for(target, credentials)
        outcome = authenticate(
            t,
            user,
            credentials,
            display=target.display(),
            identity_files=identity_files,
            use_agent=options.use_agent,
            look_for_keys=options.look_for_keys,
        )
        t.set_keepalive(KEEPALIVE_INTERVAL)
    except CollectorError:
        t.close()
        raise
    except (paramiko.SSHException, EOFError, OSError) as exc:
        t.close()
        raise ConnectError(f"{label}: {describe(exc)}") from None
    except BaseException:
        t.close()
        raise
    info: dict[str, Any] = {
        "target": target.display(),
        "user": user,
        "remote_version": t.remote_version,
        "kex": t.agreed_kex,
        "cipher": t.local_cipher,
        "mac": t.local_mac,
        "legacy_algorithms": legacy,
        "auth": outcome.succeeded,
        **checked.as_info(),
    }
    t.hop_info = info
    return t, info
