"""A program on a pexpect pty as a byte pipe: exact bytes in raw mode, the exit status, no zombie, no secret leak."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.credentials import Credentials
from collector.secrets import Secret
from collector.transports.pty_process import (
    ProcessEnded,
    ProgramNotFound,
    PtyProcess,
    child_environment,
    resolve_program,
)

WRITE_HEX = "import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1])); sys.stdout.flush(); sys.stdin.read(1)"


def spawn(*argv: str, raw: bool = True, env: dict[str, str] | None = None) -> PtyProcess:
    proc = PtyProcess(list(argv), env=env or child_environment(None), rows=0, cols=511, raw=raw)
    proc.spawn()
    return proc


def read_all(proc: PtyProcess, want: int, timeout: float = 10.0) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        got += proc.read(0.5)
    return got


@settings(max_examples=15, deadline=None)
@given(st.binary(min_size=1, max_size=2000))
def test_raw_mode_passes_any_bytes_unchanged(data: bytes) -> None:
    """Escape sequences, CR, NUL, ^C: the program's output is data, byte for byte."""
    proc = spawn(sys.executable, "-c", WRITE_HEX, data.hex())
    try:
        assert read_all(proc, len(data)) == data
    finally:
        proc.close()


def test_exit_status_tail_and_whether_we_spoke() -> None:
    proc = spawn("sh", "-c", "read x; printf 'got %s\\n' \"$x\"; exit 5")
    proc.write(b"hello\n")
    out = b""
    with pytest.raises(ProcessEnded) as end:
        for _ in range(100):
            out += proc.read(0.1)
    assert out == b"got hello\n" and end.value.tail == b"got hello\n" and end.value.wrote
    assert end.value.end.status == 5 and end.value.end.info() == {"exit_status": 5, "ended_by": "itself"}
    with pytest.raises(ProcessEnded):  # and it stays ended
        proc.read(0.1)


def _zombies_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2 :].split()
        if int(rest[1]) == parent and rest[0] == "Z":
            found.append(int(entry))
    return found


def test_close_ends_the_whole_process_group_and_reaps_it() -> None:
    # a program that ignores the hang-up and SIGTERM, with a child of its own
    proc = spawn("sh", "-c", "trap '' HUP TERM; sleep 6021 & echo ready; wait")
    assert b"ready" in read_all(proc, 5)
    pid = proc.pid
    assert pid is not None
    started = time.monotonic()
    end = proc.close()
    assert end is not None and end.signal == 9 and end.hung_up
    assert time.monotonic() - started < 5
    assert not os.path.exists(f"/proc/{pid}")  # reaped, not a zombie
    assert _zombies_of(os.getpid()) == []
    assert not any(b"6021" in Path(f"/proc/{p}/cmdline").read_bytes() for p in os.listdir("/proc")
                   if p.isdigit() and os.path.exists(f"/proc/{p}/cmdline"))
    assert proc.close() is end  # twice is safe


def test_a_hung_up_program_ends_with_its_hangup() -> None:
    proc = spawn("sleep", "6022")
    end = proc.close()
    assert end is not None and end.signal == 1 and end.info()["ended_by"] == "collector"


def test_the_child_environment_holds_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVICE_PW", "s3cret-Pw-1")
    monkeypatch.setenv("WRAPPED", "x-s3cret-Pw-1-y")
    monkeypatch.setenv("SHORT_ENABLE", "e1")  # too short for the masker, still a secret
    monkeypatch.setenv("HARMLESS", "value")
    creds = Credentials(password=Secret("s3cret-Pw-1"), enable=Secret("e1"))
    env = child_environment(creds, {"TERM": "vt100"})
    assert "DEVICE_PW" not in env and "WRAPPED" not in env and "SHORT_ENABLE" not in env
    assert env["HARMLESS"] == "value" and env["TERM"] == "vt100"
    proc = spawn("sleep", "30", env=env)
    try:
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
        assert b"s3cret-Pw-1" not in environ and b"HARMLESS=value" in environ
    finally:
        proc.close()


def test_a_missing_program() -> None:
    with pytest.raises(ProgramNotFound):
        resolve_program("no-such-program-4711", {"PATH": "/usr/bin:/bin"})
    with pytest.raises(ProgramNotFound):
        spawn("/nonexistent/prog")


def test_sane_mode_is_a_terminal_as_usual() -> None:
    """Without raw, the line discipline works as in a terminal: echo, and LF shown as CR LF."""
    proc = spawn("sh", "-c", "read x; echo \"[$x]\"", raw=False)
    try:
        proc.write(b"abc\n")
        assert read_all(proc, 12) == b"abc\r\n[abc]\r\n"
    finally:
        proc.close()
