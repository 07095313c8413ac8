"""Adapters for the tools collector is compared with: the OpenSSH client (the physical limit), netmiko, scrapli.

Same interface as tools.py's collector adapters (tool_base.Tool); run inside benchmarks.tools' child process.
"""

from __future__ import annotations

import subprocess
import time

from .sshd_host import BenchHost
from .tool_base import Capture, Tool, _hash_text


# -- OpenSSH client (the physical limit) ---------------------------------------------------------------------------
class OpenSSH(Tool):
    """`ssh host cmd > /dev/null` without a pty. The timed command runs over a ControlMaster connection made
    beforehand, so its time is the transfer, not the handshake (the master writes straight to /dev/null)."""

    name = "openssh"
    cases = ("big", "connect")

    def connect(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ctl = str(self.workdir / "ctl")
        base = ["ssh", *self.host.ssh_args(), "-S", self.ctl]
        self.base = base
        dest = f"{self.host.user}@{self.host.host}"
        self.dest = dest
        self.master = subprocess.Popen(
            [*base, "-M", "-N", dest], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 15
        while subprocess.run([*base, "-O", "check", dest], capture_output=True).returncode != 0:
            if self.master.poll() is not None or time.monotonic() > deadline:
                err = self.master.stderr.read().decode() if self.master.stderr else ""
                raise RuntimeError(f"ssh master did not come up: {err.strip()}")
            time.sleep(0.005)

    def run(self, command: str, timeout: float) -> Capture:
        subprocess.run([*self.base, self.dest, command], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       check=True, timeout=timeout)
        return Capture(-1, "")  # not read back: /dev/null is the point

    def close(self) -> None:
        subprocess.run([*self.base, "-O", "exit", self.dest], capture_output=True)
        try:
            self.master.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.master.kill()
            self.master.wait()


def openssh_connect_once(host: BenchHost) -> float:
    """Connect + first command with the plain OpenSSH client (a fresh connection, no multiplexing)."""
    t0 = time.monotonic()
    subprocess.run(["ssh", *host.ssh_args(), f"{host.user}@{host.host}", "echo 1"], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, check=True, timeout=30)
    return time.monotonic() - t0


# -- peers ---------------------------------------------------------------------------------------------------------
class Netmiko(Tool):
    """netmiko 4.x ConnectHandler(device_type="linux").send_command."""

    name = "netmiko"

    def connect(self) -> None:
        from netmiko import ConnectHandler

        self.conn = ConnectHandler(
            device_type="linux", host=self.host.host, port=self.host.port, username=self.host.user,
            use_keys=True, key_file=self.host.key_path, allow_agent=False, system_host_keys=False,
        )

    def run(self, command: str, timeout: float) -> Capture:
        out = self.conn.send_command(command, read_timeout=timeout)
        return _hash_text(str(out))

    def close(self) -> None:
        self.conn.disconnect()


class Scrapli(Tool):
    """scrapli (current release, 2.x: `Cli` with the default definition and the default transport, system ssh)."""

    name = "scrapli"

    def connect(self) -> None:
        from scrapli import AuthOptions, Cli, SessionOptions, TransportBinOptions

        self.conn = Cli(
            self.host.host, port=self.host.port, definition_file_or_name="default",
            auth_options=AuthOptions(username=self.host.user, private_key_path=self.host.key_path),
            transport_options=TransportBinOptions(
                known_hosts_path=self.host.known_hosts, enable_strict_key=True, extra_open_args=["-F", "/dev/null"]
            ),
            session_options=SessionOptions(operation_timeout_s=3600),
        )
        self.conn.open()

    def run(self, command: str, timeout: float) -> Capture:
        result = self.conn.send_input(command)
        return _hash_text(str(result.result))

    def close(self) -> None:
        self.conn.close()


