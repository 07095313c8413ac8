"""The login dialog answers a local ssh client's key-passphrase prompt once, with the key passphrase only."""

from __future__ import annotations

import pytest

from collector.credentials import Credentials
from collector.errors import AuthenticationError
from collector.platforms import list_platforms, load_platform
from collector.secrets import Secret
from collector.session.login import login_dialog

PROMPT = b"Enter passphrase for key '/home/ops/.ssh/id_ed25519': "


class Script:
    """A ByteIO that plays its chunks one per read and keeps what was sent."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.sent: list[bytes] = []

    def read(self, timeout: float) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def write(self, data: bytes) -> None:
        self.sent.append(data)


def run(creds: Credentials, *chunks: bytes, platform: str = "linux") -> Script:
    io = Script(*chunks)
    dialog = login_dialog(load_platform(platform), creds, lambda: b"\n")
    dialog.process(io, timeout=2, until=lambda tail: True if tail.endswith(b"$ ") else None)
    return io


@pytest.mark.parametrize("platform", list_platforms())
def test_every_platform_answers_the_passphrase_prompt_with_the_passphrase(platform: str) -> None:
    creds = Credentials(password=Secret("the-password"), key_passphrase=Secret("the-phrase"))
    io = run(creds, PROMPT, b"\r\nLast login: today\r\nops@host:~$ ", platform=platform)
    assert io.sent == [b"the-phrase\n"]


def test_a_second_ask_is_a_refusal_never_a_retry() -> None:
    creds = Credentials(key_passphrase=Secret("wrong-phrase"))
    with pytest.raises(AuthenticationError, match="passphrase again"):
        run(creds, PROMPT, b"\r\n" + PROMPT, b"ops@host:~$ ")


def test_no_passphrase_to_give_fails_at_once() -> None:
    with pytest.raises(AuthenticationError, match="none was given"):
        run(Credentials(password=Secret("pw-only")), PROMPT)


def test_the_pattern_is_not_a_password_prompt() -> None:
    """A key file named like a password prompt still gets the passphrase (and only once)."""
    creds = Credentials(password=Secret("the-password"), key_passphrase=Secret("the-phrase"))
    io = run(creds, b"Enter passphrase for key '/keys/password': ", b"\r\nops@host:~$ ")
    assert io.sent == [b"the-phrase\n"]
