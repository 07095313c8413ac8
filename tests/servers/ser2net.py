"""A real ser2net 4 exposing a serial device over RFC 2217 (telnet(rfc2217)) on 127.0.0.1:<free port>.

Used with tests/servers/agetty.py: the same real console reached as serial:// and as rfc2217://.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from .ports import free_port, wait_listening


@dataclass(frozen=True)
class Ser2net:
    port: int
    device: str
    url: str  # rfc2217://127.0.0.1:PORT


def _binary() -> str:
    path = shutil.which("ser2net") or ("/usr/sbin/ser2net" if os.path.exists("/usr/sbin/ser2net") else None)
    if path is None:
        pytest.skip("ser2net is not installed (apt-get install ser2net); the RFC 2217 test needs it")
    return path


CONFIG = """\
%YAML 1.1
---
connection: &collector-test
  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}
  connector: serialdev,{device},{baud}n81,local
  options:
    kickolduser: true
    mdns: false
"""


@contextlib.contextmanager
def ser2net_rfc2217(device: str, baud: int = 9600) -> Iterator[Ser2net]:
    """Run ser2net in the foreground (-n) with its own YAML config and pid file; always stopped afterwards."""
    binary = _binary()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="collector-ser2net-") as tmp:
        cfg = os.path.join(tmp, "ser2net.yaml")
        pidfile = os.path.join(tmp, "ser2net.pid")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(port=port, device=os.path.realpath(device), baud=baud))
        log = open(os.path.join(tmp, "ser2net.log"), "wb")  # noqa: SIM115 - closed in finally
        proc = subprocess.Popen([binary, "-n", "-d", "-c", cfg, "-P", pidfile], stdout=log, stderr=log)
        try:
            try:
                wait_listening(port, timeout=10)
            except TimeoutError:
                proc.poll()
                with open(os.path.join(tmp, "ser2net.log"), "rb") as f:
                    raise RuntimeError(f"ser2net did not start: {f.read().decode(errors='replace')}") from None
            yield Ser2net(port=port, device=device, url=f"rfc2217://127.0.0.1:{port}")
        finally:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            log.close()
