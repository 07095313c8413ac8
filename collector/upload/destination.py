"""The `--to` URL and the case number: which scheme, which secret it takes, and the URL the state is kept under.

Bad input is a usage error (exit 2) naming the fix; a URL is never echoed with its credentials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from ..errors import UsageError
from .common import strip_credentials

CASE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HOST_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,252})|[0-9A-Fa-f:.]{2,45}")
SCHEMES = ("https", "sftp", "tus", "tus+https")
URL_HINT = "use https://HOST/home/ (one PUT per file), sftp://[USER@]HOST[:PORT]/DIR/ or tus+https://HOST/FILES/"
MIN_PART = 64 * 1024


@dataclass(frozen=True)
class Destination:
    scheme: str  # https | sftp | tus (tus+https folded in)
    url: str  # the directory URL, credentials stripped: the key of the upload state
    given: str  # the URL as given (sftp keeps its user part)


def check_case(case: str) -> None:
    if not CASE_RE.fullmatch(case or ""):
        raise UsageError(
            f"case number {case!r} is not valid", hint="use the case/SR number: letters, digits, '.', '-', '_'"
        )


def parse_destination(to: str, bundle_name: str) -> Destination:
    """Check `to` and fold `https://h/home/<bundle_name>` into its directory `https://h/home/`."""
    try:
        parts = urlsplit(to.strip())
        _ = parts.port
    except ValueError:  # its message may quote a mistyped token: not shown
        raise UsageError("the upload URL is not valid (bad host or port)", hint=URL_HINT) from None
    scheme = parts.scheme.lower()
    if scheme == "http":
        raise UsageError("plain http:// would send the case token in clear", hint="use https:// (TLS is verified)")
    host = parts.hostname or ""
    if scheme not in SCHEMES or not host:
        shown = strip_credentials(to) if scheme.isalnum() else "this URL"
        raise UsageError(f"unsupported upload URL {shown!r}", hint=URL_HINT)
    if not _HOST_RE.fullmatch(host):
        raise UsageError("the upload URL's host is not a plain host name or IP address",
                         hint="write an internationalised name in its xn-- (punycode) form")
    if parts.password is not None:
        raise UsageError(
            "the upload URL carries a password or token",
            hint="never put secrets in the URL (ps, shell history); use --token-env or --password-env",
        )
    if scheme == "tus+https":
        scheme = "tus"
    path = parts.path
    if scheme == "https":
        head, _, last = path.rpartition("/")
        if unquote(last) == bundle_name:
            path = head + "/"
        elif not path.endswith("/"):
            path += "/"
        if parts.query:
            raise UsageError("the https:// upload URL must not have a query (?...)", hint=URL_HINT)
    url = strip_credentials(urlunsplit((parts.scheme.lower(), parts.netloc, path, parts.query, "")))
    return Destination(scheme, url, to.strip())


def check_secrets(scheme: str, *, token: bool, password: bool) -> None:
    """https and tus take an upload token; sftp takes a password (for CXD, the token used as the password)."""
    if scheme == "sftp" and token:
        raise UsageError(
            "sftp:// logs in with a password, not a token option",
            hint="pass it with --password-env VAR (for CXD SFTP: the case's upload token as the password)",
        )
    if scheme != "sftp" and password:
        raise UsageError(
            f"{scheme}:// authenticates with the case's upload token, not a password option",
            hint="pass it with --token-env VAR (or --token-command / --ask-token)",
        )
    if scheme == "https" and not token:
        raise UsageError("an upload token is needed for https:// uploads", hint="pass --token-env VAR")


def check_part_size(scheme: str, part_size: int | None) -> None:
    if part_size is None:
        return
    if scheme == "sftp":
        raise UsageError(
            "--part-size does not apply to sftp:// (the file is appended and resumed from its remote size)",
            hint="leave --part-size out",
        )
    if part_size < MIN_PART:
        raise UsageError("part size must be at least 64 KiB", hint="e.g. --part-size 64MiB")

