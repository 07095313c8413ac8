"""The simulated debug stream: lines printed while debugging is on (and, where needed, the monitor), at a rate.

Lines are printed only while the CLI idles at an empty prompt (like `logging synchronous`), so outputs stay exact.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from .roles import SessionRole as SimSession
from .style import DebugStyle

FLAP_LINE = DebugStyle().flap_line  # the IOS default
BACKLOG = 100  # lines that fell due while a command ran are capped at this many


def debug_text(texts: dict[str, str], name: str, seq_no: int) -> str:
    for key, text in texts.items():
        if name.startswith(key):
            return text
    return f"{name.upper()}: event {seq_no}"


def _line(sess: SimSession, seq_no: int, text: str) -> str:
    stamp = datetime.now(UTC).strftime("%b %d %H:%M:%S.%f")[:-3]
    template = sess.style.debug.line if sess.style.debug else "{text}"
    return template.format(seq=seq_no, stamp=stamp, text=text)


def debug_loop(sess: SimSession) -> None:
    """Emit debug lines while debug (and the monitor, if needed) are on, only at an idle empty prompt."""
    p = sess.p
    style = sess.style.debug or DebugStyle()
    rate = max(p.debug_rate, 0.001)
    with sess.lock:
        while not sess.closed:
            if not (sess.monitor and sess.debugs):
                sess.wake.wait()
                continue
            elapsed = time.monotonic() - sess.debug_started
            due = int(elapsed * rate) + 1
            flap_due = p.flap_after is not None and not sess.flap_done and elapsed >= p.flap_after
            if (due > sess.debug_seq or flap_due) and sess.at_prompt and not sess.linebuf:
                first = max(sess.debug_seq, due - BACKLOG)
                lines = [_line(sess, s + 1, debug_text(style.texts, sess.debugs[s % len(sess.debugs)], s))
                         for s in range(first, due)]
                if flap_due:
                    lines.append(_line(sess, due, style.flap_line))
                    sess.flap_done = True
                    sess.dev.events.record("flap")
                sess.debug_seq = due
                try:
                    sess.send(b"\r\n" + "\r\n".join(lines).encode() + b"\r\n" + sess.prompt().encode())
                except OSError:
                    return
                continue
            nxt = (sess.debug_seq / rate) - elapsed if due <= sess.debug_seq else 0.05
            sess.wake.wait(max(0.005, min(nxt, 0.5)))


__all__ = ["FLAP_LINE", "debug_loop", "debug_text"]
