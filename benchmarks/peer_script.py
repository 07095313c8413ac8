"""The peers' whole process for the whole-process benchmarks: the smallest script a user would write to collect.

`python benchmarks/peer_script.py scrapli|netmiko HOST.json COMMANDS.txt OUT_DIR`: log in (same key, same sshd as
collector), run every command of COMMANDS.txt (one a line) in one session, save each output as OUT_DIR/NNNN.txt,
print one line. Imports only the peer library and the standard library (no benchmarks, no collector).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Send = Callable[[str], str]


@contextmanager
def scrapli_session(host: dict[str, Any]) -> Iterator[Send]:
    """scrapli 2.x `Cli` with the default definition and its default transport (the system ssh client)."""
    from scrapli import AuthOptions, Cli, SessionOptions, TransportBinOptions

    conn = Cli(
        host["host"], port=host["port"], definition_file_or_name="default",
        auth_options=AuthOptions(username=host["user"], private_key_path=host["key_path"]),
        transport_options=TransportBinOptions(known_hosts_path=host["known_hosts"], enable_strict_key=True,
                                              extra_open_args=["-F", "/dev/null"]),
        session_options=SessionOptions(operation_timeout_s=3600),
    )
    conn.open()
    try:
        yield lambda command: str(conn.send_input(command).result)
    finally:
        conn.close()


@contextmanager
def netmiko_session(host: dict[str, Any]) -> Iterator[Send]:
    """netmiko 4.x `ConnectHandler(device_type="linux")` with the same key, no agent, no system host keys."""
    from netmiko import ConnectHandler

    conn = ConnectHandler(device_type="linux", host=host["host"], port=host["port"], username=host["user"],
                          use_keys=True, key_file=host["key_path"], allow_agent=False, system_host_keys=False)
    try:
        yield lambda command: str(conn.send_command(command, read_timeout=3600))
    finally:
        conn.disconnect()


SESSIONS = {"scrapli": scrapli_session, "netmiko": netmiko_session}


def main(args: list[str]) -> int:
    tool, host_file, commands_file, out_dir = args
    host = json.loads(Path(host_file).read_text())
    commands = [c for c in Path(commands_file).read_text().splitlines() if c]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    with SESSIONS[tool](host) as send:
        for n, command in enumerate(commands, 1):
            text = send(command)
            (out / f"{n:04d}.txt").write_text(text, encoding="utf-8", errors="surrogateescape")
            total += len(text)
    print(f"{tool}: {len(commands)} commands, {total} characters saved in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
