"""The one error hierarchy of collector, each class with its exit code and a hint.

The CLI turns any CollectorError into a one-line message plus hint and exits with its code.
"""

from __future__ import annotations


class CollectorError(Exception):
    """Base of every error collector reports to a user."""

    exit_code = 1
    hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class UsageError(CollectorError):
    """Bad flags or arguments on the command line."""

    exit_code = 2
    hint = "see `collector --help`"


class PlaybookError(CollectorError):
    """A playbook that does not load or validate; the message names file and line."""

    exit_code = 3
    hint = "fix the playbook, then check it with `collector validate PLAYBOOK`"


class InventoryError(UsageError):
    """An inventory file that does not load, or holds a secret value; the message names file and line."""

    hint = "fix the inventory (credentials are given as references: password_env: VAR or password_command: [...])"


class GuardRefused(CollectorError):
    """The read-only guard refused a command that could change the device."""

    exit_code = 4
    hint = "remove the step, or allow changes in the playbook (allow_changes: true) and pass --allow-changes"


class FleetPartial(CollectorError):
    """A fleet run where some devices completed and others failed (each failure is named)."""

    exit_code = 6
    hint = "`collector resume FLEET_DIR` retries only the devices that did not finish"


class FleetFailed(CollectorError):
    """A fleet run where no device completed."""

    exit_code = 7
    hint = "check the reasons listed per device; `collector resume FLEET_DIR` retries them"


class RemoteError(CollectorError):
    """A distributed fleet (`--via`): the broker cannot be reached, or a device's job was not served in time."""

    exit_code = 24
    hint = "check the broker URL and that `collector worker`s serve the fleet's queues (`collector fleet status`)"


class ConnectError(CollectorError):
    """The target could not be reached (DNS, refused, timeout, no route)."""

    exit_code = 10
    retryable = True  # False where retrying cannot help (no common algorithm, forwarding forbidden)
    hint = "check the target address and port, and that the device is reachable from here"


class HostKeyError(ConnectError):
    """Base for host-key refusals; never retried."""

    exit_code = 11


class UnknownHostKey(HostKeyError):
    """The host presented a key we have never seen."""

    exit_code = 11
    hint = "verify the fingerprint out of band, then re-run with --accept-new-host-key"


class ChangedHostKey(HostKeyError):
    """The host presented a key different from the one on record: possible man in the middle."""

    exit_code = 12
    hint = (
        "the key on record differs; if the device was legitimately replaced, "
        "remove its old entry from the known_hosts file named above"
    )


class AuthenticationError(CollectorError):
    """Credentials were refused; never retried (retries lock AAA accounts)."""

    exit_code = 13
    hint = "check the username and password (--password-env / --ask-password) or key (--key)"


class DialError(ConnectError):
    """A modem dial failed; carries the modem's result code."""

    exit_code = 14

    def __init__(self, message: str, *, result: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.result = result


class ConnectionLost(CollectorError):
    """The transport ended (end of stream, reset, carrier lost) while in use."""

    exit_code = 15
    hint = "the link dropped; re-run, or `collector resume RUN_DIR` to continue where it stopped"


class CommandTimeout(CollectorError):
    """A step produced no byte for its idle timeout, or passed its overall cap."""

    exit_code = 16
    hint = "raise the step's idle_timeout / max_time in the playbook if the device is just slow"


class DeviceError(CollectorError):
    """The device answered in a way we cannot work with (no prompt, ROMMON, garbage)."""

    exit_code = 17
    hint = "check the platform (--platform) and that the device is at a usable CLI"


class StoreError(CollectorError):
    """The run directory cannot be written (disk full, permissions)."""

    exit_code = 20
    hint = "free disk space or choose another --runs-dir; data already collected is kept"


class BundleError(CollectorError):
    """A bundle could not be built or failed verification."""

    exit_code = 21
    hint = "re-create the bundle from its run directory with `collector bundle RUN_DIR`"


class UploadError(CollectorError):
    """An upload failed; state is kept so `collector upload` resumes."""

    exit_code = 22
    hint = "re-run the same `collector upload` command: it resumes with the missing parts"


class CleanupPending(CollectorError):
    """Cleanup (undebug all ...) could not be sent to the device."""

    exit_code = 23
    hint = "run `collector resume RUN_DIR` as soon as the device is reachable: it switches debug off first"


class Interrupted(CollectorError):
    """The user or the system stopped the run (Ctrl-C, SIGTERM)."""

    exit_code = 130
    hint = "continue with `collector resume RUN_DIR`"
