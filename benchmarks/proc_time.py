"""`/usr/bin/time` for the whole-process benchmarks: fork + exec one command, wait4 for its tree's rusage.

Run as `python -I -S benchmarks/proc_time.py RESULT.json ARGV...` (stdlib only, so the launcher stays ~10 MiB).
The launcher is tiny and forks (no vfork), so the child's ru_maxrss is its own tree's peak, not the caller's RSS.
"""

from __future__ import annotations

import json
import os
import sys
import time


def measure(argv: list[str]) -> dict[str, float | int]:
    """Run argv to its end; wall seconds, CPU of the whole tree (user + sys), peak RSS of its largest process."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only execs
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _pid, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    return {"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
            "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss,
            "exit": os.waitstatus_to_exitcode(status)}


def main(args: list[str]) -> int:
    if len(args) < 2:
        print("usage: proc_time.py RESULT.json ARGV...", file=sys.stderr)
        return 2
    result = measure(args[1:])
    with open(args[0], "w") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
