"""A real HTTP proxy (Debian's tinyproxy) on 127.0.0.1 in a temp dir, allowing CONNECT only to the given ports.

`start_tinyproxy(tmp, connect_ports=[...], auth=("user", "pw"))` returns a `TinyProxy` (url, port, log lines);
skipped only when tinyproxy is missing. It only ever accepts clients from 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers.ports import free_port, wait_listening

_CONF = """\
Port {port}
Listen 127.0.0.1
Timeout 60
LogFile "{d}/tinyproxy.log"
LogLevel Info
PidFile "{d}/tinyproxy.pid"
MaxClients 20
Allow 127.0.0.1
DisableViaHeader Yes
{connect_ports}
{auth}
"""


@dataclass
class TinyProxy:
    port: int
    workdir: Path
    auth: tuple[str, str] | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """http://[user:password@]127.0.0.1:PORT, as HTTPS_PROXY takes it."""
        cred = f"{self.auth[0]}:{self.auth[1]}@" if self.auth else ""
        return f"http://{cred}127.0.0.1:{self.port}"

    @property
    def shown(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        try:
            return (self.workdir / "tinyproxy.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def connects(self) -> list[str]:
        """host:port of every CONNECT request the proxy logged."""
        return re.findall(r"Request \(file descriptor \d+\): CONNECT (\S+) HTTP", self.log_text())

    def wait_log(self, pattern: str, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.log_text()):
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def start_tinyproxy(
    tmp_path: Path, *, connect_ports: list[int], auth: tuple[str, str] | None = None
) -> TinyProxy:
    binary = shutil.which("tinyproxy") or ("/usr/bin/tinyproxy" if os.path.exists("/usr/bin/tinyproxy") else None)
    if binary is None:
        pytest.skip("tinyproxy is not installed (apt install tinyproxy)")
    d = tmp_path / "tinyproxy"
    d.mkdir(parents=True)
    port = free_port()
    conf = d / "tinyproxy.conf"
    conf.write_text(
        _CONF.format(
            port=port,
            d=d,
            connect_ports="\n".join(f"ConnectPort {p}" for p in connect_ports),
            auth=f"BasicAuth {auth[0]} {auth[1]}" if auth else "",
        )
    )
    with (d / "stderr.log").open("wb") as err:
        proc = subprocess.Popen(
            [binary, "-d", "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    server = TinyProxy(port, d, auth, proc)
    try:
        wait_listening(port, timeout=15)
    except TimeoutError:
        server.stop()
        raise RuntimeError(f"tinyproxy did not start: {(d / 'stderr.log').read_text(errors='replace')}") from None
    return server
