"""A server's global request (OpenSSH sends `hostkeys-00@openssh.com` right after the login) is answered at once
with SSH_MSG_IGNORE, so its TCP acknowledgement is not left to the kernel's delayed ACK, which held the session
channel's confirmation back 40 ms on every login. Plain paramiko sends nothing, which the control case shows."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import paramiko
import pytest
from paramiko.common import MSG_IGNORE

from collector.transports.ssh_connect import _Transport


class _Server(paramiko.ServerInterface):
    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        return paramiko.AUTH_SUCCESSFUL


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


def _pair(client_class: type[paramiko.Transport], host_key: paramiko.PKey
          ) -> Iterator[tuple[paramiko.Transport, paramiko.Transport, threading.Event]]:
    server_sock, client_sock = socket.socketpair()
    server = paramiko.Transport(server_sock)
    server.add_server_key(host_key)
    ignored = threading.Event()
    read = server.packetizer.read_message

    def recording() -> tuple[int, paramiko.Message]:
        ptype, m = read()
        if ptype == MSG_IGNORE:
            ignored.set()
        return ptype, m

    server.packetizer.read_message = recording  # type: ignore[method-assign]
    server.start_server(event=threading.Event(), server=_Server())  # returns at once; the client negotiates
    client = client_class(client_sock)
    try:
        client.start_client(timeout=10)
        client.auth_password("admin", "pw")
        yield server, client, ignored
    finally:
        client.close()
        server.close()


def test_a_global_request_is_acknowledged_by_a_packet_at_once(host_key: paramiko.PKey) -> None:
    for server, _client, ignored in _pair(_Transport, host_key):
        assert not ignored.is_set()
        server.global_request("hostkeys-00@openssh.com", wait=False)
        assert ignored.wait(10)


def test_plain_paramiko_sends_nothing_back(host_key: paramiko.PKey) -> None:
    for server, client, ignored in _pair(paramiko.Transport, host_key):
        server.global_request("hostkeys-00@openssh.com", wait=False)
        client.global_request("keepalive@openssh.com", wait=True)  # a round trip after the request
        assert not ignored.is_set()
