"""The simulated device's dialogs: console start-up, login (with questions), enable, and y/n confirmations.

Texts come from the profile (login prompts, questions, enable prompts, failure messages); values typed are never
recorded, only that an attempt was made and how it ended.
"""

from __future__ import annotations

import re

from .roles import SessionRole as SimSession
from .style import Question
from .terminal import SessionEnd

_HEIGHT = re.compile(r"(\d+)h")


def username_options(sess: SimSession, user: str) -> str:
    """RouterOS login options after `+` in the username: `4098h` sets the page height. The plain user name."""
    if not sess.p.login.username_options or "+" not in user:
        return user
    user, _, options = user.partition("+")
    height = _HEIGHT.search(options)
    if height is not None:
        sess.page_length = int(height.group(1))
    sess.dev.events.record("login-options", options=options)
    return user


def ask(sess: SimSession, q: Question) -> None:
    """Print a question and read its answer (a key or a line); a wrong answer ends the session."""
    sess.send(sess.text(q.text))
    if q.key:
        answer = chr(sess.read_key())
        sess.send(sess.text("\n"))
    else:
        answer = sess.read_line(echo=True).strip()
    ok = re.fullmatch(q.accept, answer, re.I) is not None
    sess.dev.events.record("question", answered="ok" if ok else "other")
    if not ok:
        raise SessionEnd()


def login(sess: SimSession) -> None:
    lg = sess.p.login
    if lg.initial_config_dialog:
        sess.send(sess.text("\n         --- System Configuration Dialog ---\n\n"))
        while True:
            sess.send(b"Would you like to enter the initial configuration dialog? [yes/no]: ")
            ans = sess.read_line(echo=True).strip().lower()
            if ans in ("n", "no"):
                break
            sess.send(sess.text("% Please answer 'no': the simulator has no setup dialog.\n"))
    if lg.press_return:
        sess.send(sess.text(f"\n\n{lg.press_return_text}\n\n\n"))
        sess.read_line(echo=False)
    if lg.banner:
        sess.send(sess.text("\n" + lg.banner.rstrip("\n") + "\n"))
    for q in lg.questions:
        if q.when == "before":
            ask(sess, q)
    if lg.mode == "none":
        _after(sess)
        return
    sess.send(sess.text(sess.style.intro))
    if _authenticate(sess):
        _after(sess)
        return
    raise SessionEnd()


def _after(sess: SimSession) -> None:
    for q in sess.p.login.questions:
        if q.when == "after":
            ask(sess, q)


def _authenticate(sess: SimSession) -> bool:
    lg = sess.p.login
    fmt = {"hostname": sess.p.hostname}
    ev = sess.dev.events
    for _ in range(max(1, lg.max_attempts)):
        user = sess.username
        if lg.mode != "password":
            sess.send(lg.username_prompt.format(**fmt).encode())
            user = username_options(sess, sess.read_line(echo=True).strip())
        sess.send(lg.password_prompt.format(**fmt).encode())
        pw = sess.read_line(echo=False)
        sess.send(b"\r\n")
        otp_ok = True
        if lg.mode == "username-password-otp":
            sess.send(lg.otp_prompt.format(**fmt).encode())
            otp = sess.read_line(echo=False)
            sess.send(b"\r\n")
            otp_ok = lg.otp is None or otp == lg.otp
        ev.record("auth-attempt", user=user, method="login")
        user_ok = lg.mode == "password" or user == lg.username
        if user_ok and pw == lg.password and otp_ok:
            ev.record("auth-ok", user=user, method="login")
            sess.username = user
            return True
        ev.record("auth-fail", user=user, method="login")
        msg = "% Bad passwords" if lg.mode == "password" and not sess.dev.linux else lg.fail_message
        sess.send(sess.text(msg + "\n\n"))
    return False


def enable(sess: SimSession) -> None:
    spec = sess.style.enable
    secret = sess.p.enable_secret
    if spec is None or secret is None or sess.mode == "priv":
        sess.mode = "priv"
        return
    for _ in range(3):
        if spec.username_prompt:
            sess.send(spec.username_prompt.encode())
            sess.read_line(echo=True)
        sess.send(spec.password_prompt.encode())
        given = sess.read_line(echo=False)
        sess.send(b"\r\n")
        sess.dev.events.record("auth-attempt", user="enable", method="enable")
        if given == secret:
            sess.dev.events.record("auth-ok", user="enable", method="enable")
            sess.mode = "priv"
            return
        sess.dev.events.record("auth-fail", user="enable", method="enable")
    sess.send(sess.text(spec.failure + "\n\n"))


def confirm(sess: SimSession, question: str) -> bool:
    """The device asks before a change: y or Return goes ahead, anything else (Ctrl-C, n) aborts."""
    sess.send(sess.text(question))
    key = sess.read_key()
    done = key in (ord("y"), ord("Y"), 13, 10)
    sess.dev.events.record("confirm", answer="yes" if done else "no")
    sess.send(sess.text("\n" if done else "^C\n"))
    return done


__all__ = ["ask", "confirm", "enable", "login"]
