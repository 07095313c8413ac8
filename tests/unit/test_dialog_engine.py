"""The dialog engine on its own: the matching rule, the loop, timeouts, wake-ups, answer loops.

Fed from a scripted byte source, also one byte at a time, so read boundaries never change the outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.expect.dialog import Dialog, DialogContext, DialogTimeout, Quiet, Statement, TooManyMatches


class Script:
    """A ByteIO that replays chunks (optionally re-cut into pieces) and records what was written."""

    def __init__(self, *chunks: bytes, piece: int = 0, replies: dict[bytes, bytes] | None = None) -> None:
        data = b"".join(chunks)
        if piece:
            self.queue = [data[i : i + piece] for i in range(0, len(data), piece)]
        else:
            self.queue = [c for c in chunks if c]
        self.written: list[bytes] = []
        self.replies = replies or {}

    def read(self, timeout: float) -> bytes:
        if self.queue:
            return self.queue.pop(0)
        time.sleep(min(timeout, 0.01))
        return b""

    def write(self, data: bytes) -> None:
        self.written.append(data)
        for key, answer in self.replies.items():
            if data == key:
                self.queue.append(answer)


def const(data: bytes) -> Callable[[DialogContext], bytes]:
    return lambda ctx: data


def test_earliest_start_wins_over_table_order() -> None:
    failed = Statement.of("failed", r"login incorrect[\s\S]*", const(b"F"))
    username = Statement.of("username", r"login:", const(b"U"))
    ctx = DialogContext()
    for order in ([username, failed], [failed, username]):
        assert Dialog(order).match(b"Login incorrect\r\n\r\nlogin: ", ctx) is failed
    assert Dialog([username, failed]).match(b"\r\nlogin: ", ctx) is username


def test_equal_starts_are_decided_by_priority_then_order() -> None:
    password = Statement.of("password", r"pass(word|code)\s*:")
    otp = Statement.of("otp", r"passcode\s*:", priority=1)
    assert Dialog([password, otp]).match(b"Enter passcode: ", DialogContext()) is otp
    plain = Statement.of("otp", r"passcode\s*:")
    assert Dialog([password, plain]).match(b"Enter passcode: ", DialogContext()) is password


def test_a_match_must_reach_the_end_of_the_tail() -> None:
    password = Statement.of("password", r"password:")
    assert Dialog([password]).match(b"password: \r\nR1>", DialogContext()) is None
    # an earlier occurrence does not hide one at the very end (the old first-match search missed it)
    assert Dialog([password]).match(b"password:\r\n% bad\r\npassword: ", DialogContext()) is password


def test_applies_switches_a_statement_off() -> None:
    failed = Statement.of("failed", r"access denied[\s\S]*", applies=lambda c: bool(c.notes.get("answered")))
    ctx = DialogContext()
    assert Dialog([failed]).match(b"Unauthorised access denied!\r\nUsername: ", ctx) is None
    ctx.notes["answered"] = True
    assert Dialog([failed]).match(b"Unauthorised access denied!\r\nUsername: ", ctx) is failed


@given(st.integers(min_value=1, max_value=40))
def test_process_answers_in_any_read_size(piece: int) -> None:
    io = Script(b"banner\r\nUsername: ", piece=piece,
                replies={b"admin\n": b"\r\nPassword: ", b"pw\n": b"\r\nR1>"})
    dialog = Dialog([Statement.of("user", r"username:\s*", const(b"admin\n")),
                     Statement.of("pass", r"password:\s*", const(b"pw\n"))])
    out = dialog.process(io, timeout=5, until=lambda tail: b"R1>" if tail.endswith(b"R1>") else None)
    assert out.value == b"R1>" and io.written == [b"admin\n", b"pw\n"]


def test_loop_continue_false_ends_the_dialog_with_the_statement() -> None:
    bye = Statement.of("bye", r"logged out", loop_continue=False)
    out = Dialog([bye]).process(Script(b"you are logged out"), timeout=5)
    assert out.statement is bye and out.value is None


def test_an_answer_loop_is_stopped() -> None:
    io = Script(b"Password: ", replies={b"x\n": b"\r\nPassword: "})
    with pytest.raises(TooManyMatches) as info:
        Dialog([Statement.of("pass", r"password:", const(b"x\n"), max_count=2)]).process(io, timeout=5)
    assert info.value.statement.name == "pass" and io.written == [b"x\n", b"x\n"]


def test_idle_and_overall_timeouts_are_told_apart() -> None:
    with pytest.raises(DialogTimeout) as idle:
        Dialog([]).process(Script(b"some output"), timeout=5, idle_timeout=0.1)
    assert idle.value.idle and idle.value.tail == b"some output"

    class Chatty(Script):
        def read(self, timeout: float) -> bytes:
            time.sleep(min(timeout, 0.01))
            return b"."

    t0 = time.monotonic()
    with pytest.raises(DialogTimeout) as overall:
        Dialog([]).process(Chatty(), timeout=0.2, idle_timeout=5)
    assert not overall.value.idle and time.monotonic() - t0 < 2


def test_quiet_line_is_woken_a_bounded_number_of_times() -> None:
    io = Script()
    with pytest.raises(DialogTimeout):
        Dialog([]).process(io, timeout=0.5, quiet=Quiet(0.05, const(b"\r"), max_times=3))
    assert io.written == [b"\r", b"\r", b"\r"]


def test_until_may_clear_the_tail_and_ask_again() -> None:
    seen: list[bytes] = []

    def twice(tail: bytearray) -> bytes | None:
        if tail.endswith(b"R1#"):
            seen.append(bytes(tail))
            if len(seen) == 2:
                return b"R1#"
            tail.clear()
        return None

    out = Dialog([]).process(Script(b"R1#", b"\r\nR1#", piece=3), timeout=5, until=twice)
    assert out.value == b"R1#" and seen == [b"R1#", b"\r\nR1#"]


def test_after_an_answer_the_same_text_never_answers_twice() -> None:
    io = Script(b"--More-- ", b"more text")
    answers: list[int] = []

    def page(ctx: DialogContext) -> bytes:
        answers.append(1)
        return b" "

    more = Statement.of("more", r"--More--", page)
    with pytest.raises(DialogTimeout):
        Dialog([more]).process(io, timeout=5, idle_timeout=0.1)
    assert answers == [1]


def test_ansi_and_cr_do_not_hide_a_prompt() -> None:
    st_ = Statement.of("password", r"password:")
    assert Dialog([st_]).match(b"\x1b[1mPassword:\x1b[0m \r", DialogContext()) is st_
