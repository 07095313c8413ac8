"""SSH user authentication on a started paramiko Transport: keys, agent, password, keyboard-interactive.

Secrets are sent once: a refused password or OTP ends the login at once (retries lock AAA accounts).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import paramiko

from ..credentials import Credentials
from ..errors import AuthenticationError, CollectorError, ConnectError

PASSWORD_PROMPT = re.compile(r"pass(word|code)", re.IGNORECASE)
OTP_PROMPT = re.compile(r"otp|one.time|token|verification|passcode|2fa|second factor", re.IGNORECASE)
DEFAULT_KEY_FILES = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
#: at most this many public keys are offered (OpenSSH servers allow 6 failures, devices fewer)
MAX_KEY_OFFERS = 5


def describe(exc: BaseException) -> str:
    """One line about a low-level exception (some, like EOFError(), have no text at all)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _HandlerAbort(EOFError):
    """Raised inside the keyboard-interactive handler to drop the login (EOFError: logged quietly)."""


@dataclass
class _Candidate:
    """A private key to try, and where it came from (for the error message)."""

    label: str
    key: paramiko.PKey


@dataclass
class AuthOutcome:
    """Which methods were tried (labels only, never secrets) and which ones succeeded."""

    tried: list[str] = field(default_factory=list)
    succeeded: list[str] = field(default_factory=list)


def _load_key(path: str, passphrase: str | None, *, required: bool) -> paramiko.PKey | None:
    try:
        secret = passphrase.encode() if passphrase else None
        return paramiko.PKey.from_path(os.path.expanduser(path), passphrase=secret)  # type: ignore[call-arg]
    except FileNotFoundError:
        if required:
            raise AuthenticationError(f"key file {path} does not exist", hint="check the --key path") from None
    except (paramiko.PasswordRequiredException, TypeError):  # cryptography raises TypeError for OpenSSH keys
        if required:
            raise AuthenticationError(
                f"key file {path} is encrypted and no passphrase was given",
                hint="give the passphrase with --key-passphrase-env VAR, --key-passphrase-command CMD or "
                     "--ask-key-passphrase, or load the key into ssh-agent and pass --use-agent",
            ) from None
    except (paramiko.SSHException, ValueError, OSError) as exc:
        if required:
            why = "wrong passphrase?" if passphrase else describe(exc)
            raise AuthenticationError(f"cannot load key file {path} ({why})", hint="check the key file") from None
    return None


def _key_candidates(
    credentials: Credentials, identity_files: Sequence[str], use_agent: bool, look_for_keys: bool
) -> list[_Candidate]:
    out: list[_Candidate] = []
    seen: set[bytes] = set()
    passphrase = credentials.key_passphrase.reveal() if credentials.key_passphrase else None

    def add(label: str, key: paramiko.PKey | None) -> None:
        if key is not None and key.asbytes() not in seen:
            seen.add(key.asbytes())
            out.append(_Candidate(label, key))

    if credentials.key_file:
        label = f"publickey({os.path.basename(credentials.key_file)})"
        add(label, _load_key(credentials.key_file, passphrase, required=True))
    for path in identity_files:
        add(f"publickey({os.path.basename(path)})", _load_key(path, passphrase, required=False))
    if use_agent:
        try:
            agent_keys = paramiko.Agent().get_keys()
        except paramiko.SSHException:
            agent_keys = ()
        for k in agent_keys:
            add(f"publickey(agent {k.get_name()})", k)
    if look_for_keys:
        for path in DEFAULT_KEY_FILES:
            if os.path.exists(os.path.expanduser(path)):
                add(f"publickey({os.path.basename(path)})", _load_key(path, passphrase, required=False))
    return out[:MAX_KEY_OFFERS]


class _InteractiveAnswers:
    """The keyboard-interactive handler: password and OTP prompts, each answered at most once."""

    def __init__(self, credentials: Credentials, state: dict[str, bool]) -> None:
        self.credentials = credentials
        self.state = state  # shared with the password method: {"password_sent": bool}
        self.otp_asked = False
        self.error: CollectorError | None = None

    def _fail(self, message: str, hint: str | None = None) -> _HandlerAbort:
        self.error = AuthenticationError(message, hint=hint)
        return _HandlerAbort(message)

    def __call__(self, title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
        answers: list[str] = []
        for prompt, _echo in prompts:
            text = prompt.strip()
            wants_otp = bool(OTP_PROMPT.search(text))
            wants_password = bool(PASSWORD_PROMPT.search(text))
            if wants_otp and (self.credentials.otp_provider is not None or not wants_password):
                if self.otp_asked:
                    raise self._fail(
                        f"the server asked for a one-time password again ({text!r}): the first one was refused",
                        hint="check the OTP source (--otp-command) and the clock of the token",
                    )
                self.otp_asked = True
                try:
                    answers.append(self.credentials.otp(text + " ").reveal())
                except CollectorError as exc:
                    self.error = exc
                    raise _HandlerAbort(exc.message) from None
                except Exception as exc:  # a failing OTP source must not kill the transport thread noisily
                    raise self._fail(f"the one-time password source failed ({type(exc).__name__})") from None
            elif wants_password:
                if self.credentials.password is None:
                    raise self._fail(f"the server asks {text!r} and no password was given")
                if self.state.get("password_sent"):
                    raise self._fail(
                        f"the server asked for the password again ({text!r}): it was refused; "
                        "stopping so the account is not locked"
                    )
                self.state["password_sent"] = True
                answers.append(self.credentials.password.reveal())
            else:
                raise self._fail(
                    f"the server asks {text!r} during keyboard-interactive login and collector has no answer for it",
                    hint="only password and one-time-password prompts can be answered",
                )
        return answers


def authenticate(
    transport: paramiko.Transport,
    username: str,
    credentials: Credentials,
    *,
    display: str,
    identity_files: Sequence[str] = (),
    use_agent: bool = False,
    look_for_keys: bool = False,
) -> AuthOutcome:
    """Log in on a transport whose key exchange is done. Raises AuthenticationError, never retries a secret.

    Order: explicit key file, ssh_config identity files, agent keys (only if asked), default key files
    (only if asked), then the password (method "password"), or keyboard-interactive (password and/or
    OTP prompts). With an OTP source, keyboard-interactive is preferred over "password".
    """
    outcome = AuthOutcome()
    state: dict[str, bool] = {"password_sent": False}
    who = f"{username}@{display}"

    def refused(detail: str = "") -> AuthenticationError:
        tried = ", ".join(outcome.tried) or "nothing"
        return AuthenticationError(f"authentication as {who} failed{detail} (tried: {tried})")

    try:
        allowed = list(transport.auth_none(username))
        if transport.is_authenticated():
            outcome.succeeded.append("none")
            return outcome
    except paramiko.BadAuthenticationType as exc:
        allowed = list(exc.allowed_types)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise ConnectError(f"{display}: the SSH server dropped the connection before login ({describe(exc)})") from None

    keys = _key_candidates(credentials, identity_files, use_agent, look_for_keys)
    used_methods: set[str] = set()
    while True:
        if "publickey" in allowed and keys:
            cand = keys.pop(0)
            outcome.tried.append(cand.label)
            try:
                allowed = list(transport.auth_publickey(username, cand.key))
            except paramiko.AuthenticationException:
                if not transport.is_active():
                    raise refused(": the server closed the connection") from None
                continue  # a refused key costs nothing secret: try the next method
            except (paramiko.SSHException, EOFError, OSError) as exc:
                raise ConnectError(f"{display}: connection lost during authentication ({describe(exc)})") from None
            if transport.is_authenticated():
                outcome.succeeded.append(cand.label)
                return outcome
            outcome.succeeded.append(cand.label + " (partial)")
            continue
        method = _next_secret_method(allowed, used_methods, credentials, state)
        if method is None:
            offered = ",".join(allowed) or "none"
            if not outcome.tried:
                raise AuthenticationError(
                    f"no way to log in as {who}: the server offers {offered} and no matching credential was given",
                    hint="give a password (--password-env / --ask-password) or a key (--key)",
                )
            raise refused(f"; the server offers {offered}")
        used_methods.add(method)
        outcome.tried.append(method)
        handler: _InteractiveAnswers | None = None
        try:
            if method == "password":
                assert credentials.password is not None
                state["password_sent"] = True
                allowed = list(transport.auth_password(username, credentials.password.reveal(), fallback=False))
            else:
                handler = _InteractiveAnswers(credentials, state)
                allowed = list(transport.auth_interactive(username, handler))
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if handler is not None and handler.error is not None:
                raise handler.error from None
            if isinstance(exc, paramiko.AuthenticationException):
                raise refused() from None
            raise ConnectError(f"{display}: connection lost during authentication ({describe(exc)})") from None
        if transport.is_authenticated():
            outcome.succeeded.append(method)
            return outcome
        outcome.succeeded.append(method + " (partial)")


def _next_secret_method(
    allowed: list[str], used: set[str], credentials: Credentials, state: dict[str, bool]
) -> str | None:
    kbd_ok = "keyboard-interactive" in allowed and "keyboard-interactive" not in used
    pw_ok = (
        "password" in allowed
        and "password" not in used
        and credentials.password is not None
        and not state.get("password_sent")
    )
    if kbd_ok and credentials.otp_provider is not None:
        return "keyboard-interactive"
    if pw_ok:
        return "password"
    if kbd_ok and (credentials.password is not None or credentials.otp_provider is not None):
        return "keyboard-interactive"
    return None
