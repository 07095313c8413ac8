"""`collector upload`: verify a bundle and deliver it to the case, resumably; `--status` says what arrived.

HTTPS and tus go through the proxy in HTTPS_PROXY unless NO_PROXY names the host; one JSON document with --json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import CollectorError, UploadError, UsageError
from ..ui.console import fail, print_json, say
from . import logs
from . import options as o


def upload(
    bundle_path: Annotated[Path, typer.Argument(metavar="BUNDLE", help="bundle archive to send")],
    case: Annotated[str | None, typer.Option("--case", metavar="NUMBER", help="case / SR number")] = None,
    to: Annotated[str | None, typer.Option("--to", metavar="URL",
                                           help="https://host/home/, sftp://host/dir, tus+https://")] = None,
    token_env: Annotated[str | None, typer.Option("--token-env", metavar="VAR",
                                                  help="https/tus: upload token from env VAR")] = None,
    token_command: Annotated[str | None, typer.Option("--token-command", metavar="CMD",
                                                      help="https/tus: token printed by CMD")] = None,
    ask_token: Annotated[bool, typer.Option("--ask-token", help="https/tus: prompt for the token")] = False,
    password_env: Annotated[str | None, typer.Option("--password-env", metavar="VAR",
                                                     help="sftp: password from env VAR")] = None,
    password_command: o.PwCmd = None,
    ask_password: o.AskPw = False,
    part_size: Annotated[str | None, typer.Option("--part-size", metavar="SIZE",
                                                  help="https: numbered parts instead of one PUT")] = None,
    ca_bundle: Annotated[Path | None, typer.Option("--ca-bundle", metavar="FILE",
                                                   help="CA certificates to trust")] = None,
    accept_new_host_key: o.Accept = False,
    known_hosts: o.Known = None,
    status: Annotated[bool, typer.Option("--status", help="show what the case has received")] = False,
    as_json: o.Json = False, verbose: o.Verbose = 0, log_file: o.LogFile = None,
) -> None:
    """Verify a bundle and upload it to the case (re-run the same command to continue)."""
    from ..ui.credentials import one_source
    from ..upload import check_secrets, format_status, parse_destination, upload_bundle, upload_status

    try:
        logs.setup(verbose, log_file)
        if status:
            report = upload_status(bundle_path)
            _print(as_json, report, format_status(report))
            return
        if not to or not case:
            raise UsageError("--to and --case are required", hint="e.g. --to https://cxd.cisco.com/home/ --case 6999")
        scheme = parse_destination(to, bundle_path.name).scheme
        check_secrets(scheme, token=bool(token_env or token_command or ask_token),
                      password=bool(password_env or password_command or ask_password))
        result = upload_bundle(bundle_path, to=to, case=case,
                               token=one_source("token", token_env, token_command, ask_token),
                               password=one_source("password", password_env, password_command, ask_password),
                               part_size=_size(part_size), ca_bundle=ca_bundle, progress=not as_json,
                               accept_new_host_key=accept_new_host_key,
                               known_hosts=Path(known_hosts) if known_hosts else None)
    except CollectorError as exc:
        if as_json and not status:
            _print(True, {"ok": False, "complete": False, "exit_code": exc.exit_code, "error": exc.message,
                          "hint": exc.hint, "status": _status_or_none(bundle_path)}, "")
        fail(exc)
    doc = {"ok": result.complete, "case": case, **result.to_json()}
    _print(as_json, doc, f"case {case}: {result.summary()}")
    if not result.complete:
        fail(UploadError("the upload is incomplete", hint="re-run the same command: it sends only what is missing"))


def _size(text: str | None) -> int | None:
    from ..units import parse_size

    try:
        return None if text is None else parse_size(text)
    except ValueError as exc:
        raise UsageError(f"--part-size: {exc}", hint="e.g. --part-size 64MiB") from None


def _status_or_none(bundle_path: Path) -> dict[str, Any] | None:
    from ..upload import upload_status

    try:
        return upload_status(bundle_path)
    except CollectorError:
        return None


def _print(as_json: bool, doc: dict[str, Any], text: str) -> None:
    if as_json:
        print_json(doc)
    elif text:
        say(text)
