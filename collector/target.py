"""Targets written as URLs (ssh://, telnet://, serial://, rfc2217://, socket://, modem://, openssh://, cmd://).

A Target never holds a secret: passwords in a URL are refused, credentials travel separately.
`openssh://[user@]host[:port][?config=FILE]` is the system ssh client; `cmd://?argv=WORDS&arg=ONE ARG` any program
(`&tty=raw` for plain byte relays, `&line_rate=BPS` declares a slow console line behind it).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit

from .errors import UsageError

DEFAULT_PORTS = {"ssh": 22, "telnet": 23}
SCHEMES = ("ssh", "telnet", "serial", "rfc2217", "socket", "modem", "openssh", "cmd")
#: the query options each of the new schemes accepts (anything else is refused, never ignored)
OPENSSH_OPTIONS = ("config",)
#: characters kept readable in a cmd:// query (everything else is percent-encoded)
_QUERY_SAFE = "/,:=@~"
#: an openssh:// host and user: plain names, never an option (`-o...`) or a shell word
_SSH_HOST = re.compile(r"[A-Za-z0-9_.%:][A-Za-z0-9_.%:\-]*")
_SSH_USER = re.compile(r"[A-Za-z0-9_.@+=,%][A-Za-z0-9_.@+=,%\-]*")
_HOST = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252}[A-Za-z0-9_])?$")


@dataclass(frozen=True)
class Target:
    """One hop or the device: scheme, user, host, port, device path and query options."""

    scheme: str
    host: str = ""
    port: int | None = None
    user: str | None = None
    path: str = ""
    options: dict[str, str] = field(default_factory=dict)
    argv: tuple[str, ...] = ()  # cmd:// only: the program and its arguments

    @property
    def address(self) -> str:
        """host:port or the device path, for messages and file names."""
        if self.scheme in ("serial", "modem"):
            return self.path
        if self.scheme == "cmd":
            return " ".join(self.argv)
        return f"{self.host}:{self.port}" if self.port else self.host

    def display(self) -> str:
        """The URL without secrets (there are none) and without default ports."""
        if self.scheme == "cmd":
            return "cmd://?" + urlencode(argv_query(self.argv) + sorted(self.options.items()), safe=_QUERY_SAFE)
        if self.scheme in ("serial", "modem"):
            q = "&".join(f"{k}={v}" for k, v in self.options.items() if k not in ("password",))
            return f"{self.scheme}://{self.path}" + (f"?{q}" if q else "")
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port and self.port != DEFAULT_PORTS.get(self.scheme) else ""
        return f"{self.scheme}://{user}{host}{port}"

    def slug(self) -> str:
        """A short file-name-safe form, e.g. ``router1`` or ``ttyUSB0``."""
        if self.scheme == "cmd":
            words = [self.argv[0].rsplit("/", 1)[-1], *self.argv[1:]]
            safe = "".join(c if c.isalnum() or c in "-._" else "-" for c in "-".join(words)[:48])
            return safe.lstrip(".-") or "cmd"
        base = self.path.rsplit("/", 1)[-1] if self.scheme in ("serial", "modem") else self.host
        if self.port and self.port != DEFAULT_PORTS.get(self.scheme):
            base = f"{base}-{self.port}"
        return "".join(c if c.isalnum() or c in "-._" else "-" for c in base) or self.scheme

    def option(self, name: str, default: str | None = None) -> str | None:
        return self.options.get(name, default)


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _malformed(url: str, why: str, hint: str = "write it as ssh://user@host[:port]") -> UsageError:
    return UsageError(f"malformed target URL {url!r}: {why}", hint=hint)


def _split(url: str, default_scheme: str) -> tuple[str, SplitResult]:
    if _CONTROL.search(url):
        raise _malformed(url, "it contains control characters")
    head = url.split(":", 1)[0].lower()
    if "://" not in url:
        if head in SCHEMES and ":" in url:  # ssh:/host, ssh:host
            raise _malformed(url, f"{head}: must be followed by //", hint=f"write it as {head}://host")
        url = f"{default_scheme}://{url}"
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed [ of an IPv6 address
        raise _malformed(url, str(exc)) from None
    return url, parts


def _host(url: str, parts: SplitResult) -> str:
    host = parts.hostname or ""
    if not host:
        raise UsageError(f"no host in {url!r}", hint=f"write it as {parts.scheme}://host:port")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise _malformed(url, f"{host!r} is not an IPv6 address") from None
    elif not _HOST.match(host):
        raise _malformed(url, f"{host!r} is not a host name or address")
    return host


def parse_target(url: str, *, default_scheme: str = "ssh") -> Target:
    """Parse a target URL; a bare ``host`` or ``user@host`` means ssh://. Malformed URLs are usage errors."""
    url, parts = _split(url, default_scheme)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UsageError(
            f"unknown target scheme {scheme!r} in {url!r}",
            hint="use one of " + ", ".join(f"{s}://" for s in SCHEMES),
        )
    if parts.password is not None:
        raise UsageError(
            "a password in the target URL is refused (it would end up in shell history and logs)",
            hint="give it with --password-env VAR, --password-command CMD or --ask-password",
        )
    if parts.username is not None and not parts.username:
        raise _malformed(url, "the user name before @ is empty", hint=f"write {scheme}://USER@host, or leave out @")
    if scheme == "cmd":
        return _parse_cmd(parts, url)
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    if scheme == "openssh":
        _check_openssh(parts, options, url)
    if scheme in ("serial", "modem"):
        path = unquote(parts.path) or unquote(parts.netloc)
        if parts.netloc and parts.path:
            path = "/" + parts.netloc + unquote(parts.path) if not parts.path.startswith("/") else unquote(parts.path)
        if not path:
            raise UsageError(f"no device path in {url!r}", hint=f"write it as {scheme}:///dev/ttyUSB0")
        return Target(scheme=scheme, path=path, options=options, user=parts.username)
    host = _host(url, parts)
    if parts.path not in ("", "/"):
        raise _malformed(url, f"{scheme}:// takes no path ({parts.path!r})", hint=f"write it as {scheme}://host:port")
    try:
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"bad port in {url!r}", hint="the port must be a number 1-65535") from exc
    return Target(
        scheme=scheme,
        host=host,
        port=port or DEFAULT_PORTS.get(scheme),
        user=unquote(parts.username) if parts.username else None,
        path="",
        options=options,
    )


def argv_query(argv: tuple[str, ...]) -> list[tuple[str, str]]:
    """The query pairs of a cmd:// URL: runs of plain words as one `argv=`, any other argument as `arg=`."""
    pairs: list[tuple[str, str]] = []
    words: list[str] = []
    for arg in argv:
        if arg and arg.split() == [arg]:
            words.append(arg)
            continue
        if words:
            pairs.append(("argv", " ".join(words)))
            words = []
        pairs.append(("arg", arg))
    if words:
        pairs.append(("argv", " ".join(words)))
    return pairs


def _parse_cmd(parts: SplitResult, url: str) -> Target:
    """``cmd://?argv=virsh+console+vm-r1`` (words split on blanks) plus ``&arg=one argument`` (kept whole)."""
    form = "cmd://?argv=virsh+console+vm-r1 (add &arg=... for an argument with spaces)"
    if parts.netloc or parts.path not in ("", "/") or parts.fragment:
        raise UsageError(f"cmd:// takes the command only in its query, not in {url!r}",
                         hint=f"write it as {form}; encode # as %23")
    argv: list[str] = []
    options: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "argv":
            argv += value.split()
        elif key == "arg":
            argv.append(value)
        elif key == "tty":
            if value not in ("sane", "raw"):
                raise UsageError(f"cmd:// tty={value!r}: use tty=sane (a terminal as usual) or tty=raw (bytes "
                                 "pass unchanged, for relays such as plain `socat -`)")
            options[key] = value
        elif key == "line_rate":
            if not value.isdigit() or not 0 < int(value) <= 10_000_000:
                raise UsageError(f"cmd:// line_rate={value!r} is not a speed in bits per second",
                                 hint="e.g. &line_rate=9600 for a 9600-baud console behind the command")
            options[key] = str(int(value))
        else:
            raise UsageError(f"unknown cmd:// option {key!r}", hint=f"write it as {form}")
    if not argv:
        raise UsageError(f"no command in {url!r}", hint=f"write it as {form}")
    if any("\x00" in a for a in argv):
        raise UsageError("a NUL byte cannot be part of a command's argument", hint=f"write it as {form}")
    return Target(scheme="cmd", argv=tuple(argv), options=options)


def _check_openssh(parts: SplitResult, options: dict[str, str], url: str) -> None:
    """Refuse what `ssh` would read as an option or a shell word, and options it does not know."""
    unknown = sorted(set(options) - set(OPENSSH_OPTIONS))
    if unknown:
        raise UsageError(f"unknown openssh:// option {unknown[0]!r}",
                         hint="openssh:// knows ?config=FILE (an ssh_config for `ssh -F`); the rest goes in that file")
    if parts.path not in ("", "/") or parts.fragment:
        raise UsageError(f"openssh:// takes no path in {url!r}", hint="write it as openssh://[user@]host[:port]")
    checks = (("host", parts.hostname, _SSH_HOST), ("user", unquote(parts.username or "") or None, _SSH_USER))
    for what, value, pattern in checks:
        if value is not None and not pattern.fullmatch(value):
            raise UsageError(f"openssh:// {what} {value!r} is not a plain name",
                             hint="letters, digits and . _ - (never first: -); an ssh_config alias works too")


def parse_jumps(spec: str | None) -> list[Target]:
    """``--jump ssh://a,ssh://b`` → hops in order (first is nearest to us)."""
    if not spec:
        return []
    hops = [parse_target(s.strip()) for s in spec.split(",") if s.strip()]
    for hop in hops:
        if hop.scheme != "ssh":
            raise UsageError(f"jump host {hop.display()} must be ssh://", hint="only SSH hosts can carry a jump")
    return hops
