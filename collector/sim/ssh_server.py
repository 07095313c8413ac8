"""SSH front end of the simulator: a threaded paramiko server that serves SimDevice shells and exec requests.

Password, keyboard-interactive (password then optional OTP) and public-key auth; every attempt is counted.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import struct
import threading
from pathlib import Path
from typing import Any

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)
from paramiko.server import InteractiveQuery

from .device import SimDevice
from .events import EventLog
from .profile import DeviceProfile

WINDOW = 16 << 20
MAX_PACKET = 32 << 10
LEGACY_KEX = ("diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1")


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style "SHA256:<base64 without padding>" fingerprint of a public key."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def _load_or_make_key(path: str | None, legacy: bool) -> paramiko.PKey:
    if path is not None and Path(path).is_file():
        return paramiko.PKey.from_path(path)
    key: paramiko.PKey = paramiko.RSAKey.generate(2048) if legacy else paramiko.ECDSAKey.generate()
    if path is not None:
        key.write_private_key_file(path)
    return key


class _Server(paramiko.ServerInterface):
    """Per-connection policy: auth state, channel requests."""

    def __init__(self, owner: SimSSHServer, transport: paramiko.Transport, peer: str) -> None:
        self.o = owner
        self.t = transport
        self.peer = peer
        self.kbd_user = ""
        self.kbd_stage = 0
        self.pty: dict[int, bool] = {}
        self.seen_keys: set[tuple[str, str]] = set()
        self.forward: dict[int, tuple[str, int]] = {}
        self.replied: dict[int, threading.Event] = {}
        self._hook_replies()

    def _hook_replies(self) -> None:
        """Know when paramiko has sent the reply to a shell/exec request (private API; paramiko is pinned <5).

        A worker that finishes fast (an unknown exec command) must not close its channel before that reply
        is on the wire, or the client sees "Channel closed" instead of the exit status.
        """
        orig = self.t._send_user_message  # type: ignore[attr-defined]

        def send(m: paramiko.Message) -> None:
            orig(m)
            raw = m.asbytes()
            if len(raw) >= 5 and raw[0] in (99, 100):  # MSG_CHANNEL_SUCCESS / MSG_CHANNEL_FAILURE
                self._event(struct.unpack(">I", raw[1:5])[0]).set()

        self.t._send_user_message = send  # type: ignore[attr-defined]

    def _event(self, remote_chanid: int) -> threading.Event:
        return self.replied.setdefault(remote_chanid, threading.Event())

    def _await_reply(self, chan: paramiko.Channel) -> None:
        self._event(chan.remote_chanid).wait(5)  # type: ignore[attr-defined]

    # ---- auth -------------------------------------------------------------------------------------------
    def _attempt(self, user: str, method: str, ok: bool) -> int:
        ev = self.o.events
        ev.record("auth-attempt", user=user, method=method, peer=self.peer)
        ev.record("auth-ok" if ok else "auth-fail", user=user, method=method, peer=self.peer)
        return AUTH_SUCCESSFUL if ok else AUTH_FAILED

    def get_allowed_auths(self, username: str) -> str:
        methods = ["publickey"] if self.o.authorized_keys else []
        if self.o.otp is None:
            methods.append("password")
        methods.append("keyboard-interactive")
        return ",".join(methods)

    def check_auth_none(self, username: str) -> int:
        return AUTH_FAILED

    def _user(self, username: str) -> str:
        """The account name: RouterOS-style profiles take terminal options after `+` (admin+ct511w4098h)."""
        if self.o.device.profile.login.username_options:
            return username.partition("+")[0]
        return username

    def check_auth_password(self, username: str, password: str) -> int:
        # With an OTP configured a password alone never suffices: that is what 2FA means.
        ok = self.o.otp is None and self.o.users.get(self._user(username)) == password
        return self._attempt(username, "password", ok)

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        ok = self._user(username) in self.o.users and any(k.asbytes() == key.asbytes() for k in self.o.authorized_keys)
        probe = (username, fingerprint(key))
        if probe in self.seen_keys:  # the signed request after a probe counts once
            return AUTH_SUCCESSFUL if ok else AUTH_FAILED
        self.seen_keys.add(probe)
        return self._attempt(username, "publickey", ok)

    def check_auth_interactive(self, username: str, submethods: str) -> Any:
        self.kbd_user = self._user(username)
        self.kbd_stage = 1
        prompts: list[tuple[str, bool]] = [("Password: ", False)]
        if self.o.otp is not None and not self.o.otp_separate_round:
            prompts.append(("OTP: ", False))
        return InteractiveQuery("", "", *prompts)

    def check_auth_interactive_response(self, responses: list[str]) -> Any:
        user = self.kbd_user
        otp = self.o.otp
        if self.kbd_stage == 1:
            pw_ok = len(responses) >= 1 and self.o.users.get(user) == responses[0]
            if otp is None:
                return self._attempt(user, "keyboard-interactive", pw_ok and len(responses) == 1)
            if not self.o.otp_separate_round:
                ok = pw_ok and len(responses) == 2 and responses[1] == otp
                return self._attempt(user, "keyboard-interactive", ok)
            if not pw_ok:
                return self._attempt(user, "keyboard-interactive", False)
            self.kbd_stage = 2
            return InteractiveQuery("", "Enter the one-time password", ("OTP: ", False))
        ok = self.kbd_stage == 2 and len(responses) == 1 and responses[0] == otp
        self.kbd_stage = 0
        return self._attempt(user, "keyboard-interactive", ok)

    # ---- channels ---------------------------------------------------------------------------------------
    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_direct_tcpip_request(
        self, chanid: int, origin: tuple[str, int], destination: tuple[str, int]
    ) -> int:
        if not self.o.allow_tcpip_forward or destination[0] not in ("127.0.0.1", "localhost", "::1"):
            return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        self.forward[chanid] = (destination[0], int(destination[1]))
        return OPEN_SUCCEEDED

    def check_channel_pty_request(self, channel: Any, term: bytes, width: int, height: int, *a: Any) -> bool:
        self.pty[channel.get_id()] = True
        return True

    def check_channel_window_change_request(self, channel: Any, *a: Any) -> bool:
        return True

    def check_channel_env_request(self, channel: Any, name: bytes, value: bytes) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        user = self.t.get_username() or "admin"
        self.o._spawn(self._shell, channel, user)
        return True

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        if not self.o.allow_exec:
            return False
        cmd = command.decode("utf-8", "replace")
        self.o._spawn(self._exec, channel, cmd)
        return True

    def _shell(self, chan: paramiko.Channel, user: str) -> None:
        try:
            self.o.device.serve(chan, username=user, record_session=False)
            self._await_reply(chan)
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                chan.send_exit_status(0)
        finally:
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                chan.close()

    def _exec(self, chan: paramiko.Channel, cmd: str) -> None:
        le = b"\r\n" if self.pty.get(chan.get_id()) else b"\n"
        try:
            status = self.o.device.exec_command(chan, cmd, line_ending=le)
            self._await_reply(chan)
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                chan.send_exit_status(status)
        finally:
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                chan.close()


def _pump(a: paramiko.Channel | socket.socket, b: paramiko.Channel | socket.socket) -> None:
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except (OSError, EOFError, paramiko.SSHException):
        pass
    finally:
        for x in (a, b):
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                x.close()


class SimSSHServer:
    """A listening simulator. `with SimSSHServer(profile) as s: ... s.port ...`"""

    def __init__(
        self,
        profile: DeviceProfile | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        users: dict[str, str] | None = None,
        otp: str | None = None,
        authorized_keys: list[paramiko.PKey] | None = None,
        host_key: paramiko.PKey | None = None,
        host_key_path: str | None = None,
        legacy: bool = False,
        events: EventLog | None = None,
        allow_exec: bool = True,
        allow_tcpip_forward: bool = False,
        otp_separate_round: bool = True,
        device: SimDevice | None = None,
    ) -> None:
        self.profile = profile or DeviceProfile()
        self.host = host
        self.requested_port = port
        self.users = dict(users) if users is not None else {"admin": "cisco123"}
        self.otp = otp
        self.authorized_keys = list(authorized_keys or [])
        self.legacy = legacy
        self.events = events if events is not None else EventLog()
        self.allow_exec = allow_exec
        self.allow_tcpip_forward = allow_tcpip_forward
        self.otp_separate_round = otp_separate_round
        self._given_key = host_key
        self._key_path = host_key_path
        self.host_key: paramiko.PKey | None = host_key
        self.device = device if device is not None else SimDevice(self.profile, self.events)
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._transports: list[paramiko.Transport] = []
        self._lock = threading.Lock()
        self.port = 0

    @property
    def fingerprint(self) -> str:
        if self.host_key is None:
            raise RuntimeError("the server is not started")
        return fingerprint(self.host_key)

    def start(self) -> SimSSHServer:
        self.bind()
        t = threading.Thread(target=self._accept_loop, name=f"sim-ssh-accept-{self.port}", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def bind(self) -> socket.socket:
        """Listen (host key ready, port known) without an accept thread: SimFleet accepts for many servers."""
        if self._given_key is not None:
            self.host_key = self._given_key
        else:
            self.host_key = _load_or_make_key(self._key_path, self.legacy)
        if self.legacy and self.host_key.get_name() != "ssh-rsa":
            raise ValueError("legacy mode needs an RSA host key")
        self._stop.clear()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.requested_port))
        sock.listen(64)
        sock.settimeout(0.2)
        self._sock = sock
        self.port = int(sock.getsockname()[1])
        return sock

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        with self._lock:
            transports = list(self._transports)
        for tr in transports:
            tr.close()
        for t in list(self._threads):
            if t is not threading.current_thread():
                t.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> SimSSHServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, fn: Any, *args: Any) -> None:
        t = threading.Thread(target=fn, args=args, daemon=True)
        with self._lock:
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
        t.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            sock = self._sock
            if sock is None:
                return
            try:
                conn, addr = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.serve_connection(conn, addr)

    def serve_connection(self, conn: socket.socket, addr: Any) -> None:
        """Serve one accepted TCP connection (in its own thread)."""
        conn.settimeout(None)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._spawn(self._handle, conn, f"{addr[0]}:{addr[1]}")

    def _transport(self, conn: socket.socket) -> paramiko.Transport:
        disabled: dict[str, list[str]] = {}
        if self.legacy:
            tr: Any = paramiko.Transport
            disabled["kex"] = [k for k in tr._preferred_kex if k not in LEGACY_KEX]
            disabled["keys"] = [k for k in tr._preferred_keys if k != "ssh-rsa"]
        t = paramiko.Transport(
            conn, default_window_size=WINDOW, default_max_packet_size=MAX_PACKET, disabled_algorithms=disabled
        )
        assert self.host_key is not None
        t.add_server_key(self.host_key)
        return t

    def _handle(self, conn: socket.socket, peer: str) -> None:
        self.events.record("connect", peer=peer, via="ssh")
        t = self._transport(conn)
        with self._lock:
            self._transports.append(t)
        server = _Server(self, t, peer)
        try:
            t.start_server(server=server)
            while t.is_active() and not self._stop.is_set():
                chan = t.accept(0.5)
                if chan is None:
                    continue
                dest = server.forward.pop(chan.get_id(), None)
                if dest is not None:
                    self._spawn(self._forward, chan, dest)
        except (paramiko.SSHException, OSError, EOFError):
            pass
        finally:
            t.close()
            with self._lock:
                if t in self._transports:
                    self._transports.remove(t)
            self.events.record("disconnect", peer=peer, via="ssh")

    def _forward(self, chan: paramiko.Channel, dest: tuple[str, int]) -> None:
        try:
            sock = socket.create_connection(dest, timeout=10)
        except OSError:
            chan.close()
            return
        sock.settimeout(None)
        self._spawn(_pump, sock, chan)
        _pump(chan, sock)
