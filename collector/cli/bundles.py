"""`collector bundle` and `collector verify`: build one verified, redacted case bundle; check a bundle.

Bundle problems and member names are printed as data (a crafted archive cannot drive the terminal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import BundleError, CollectorError, UsageError
from ..secrets import Secret
from ..ui.console import err, fail, print_json, say
from . import logs
from . import options as o


def bundle(
    run_dirs: Annotated[list[Path], typer.Argument(metavar="RUN_DIR...|FLEET_DIR",
                                                   help="run directories to bundle, or one fleet directory")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="where the bundle goes")]
    = Path("bundles"),
    case: Annotated[str | None, typer.Option("--case", metavar="NUMBER",
                                             help="case number (default: the run's own)")] = None,
    redact: Annotated[str, typer.Option("--redact", metavar="PROFILE", help="redaction profile, or none")]
    = "default",
    anonymize: Annotated[str | None, typer.Option("--anonymize", metavar="KINDS",
                                                  help="ips,hostnames,users[,words=FILE]")] = None,
    map_dir: Annotated[Path | None, typer.Option("--map-dir", metavar="DIR",
                                                 help="where the private map goes")] = None,
    compression: Annotated[str, typer.Option("--compression", metavar="gz|xz", help="archive compression")]
    = "gz",
    encrypt_to: Annotated[list[str] | None, typer.Option("--encrypt-to", metavar="KEY",
                                                         help="age recipient public key")] = None,
    include_raw: Annotated[bool, typer.Option("--include-raw", help="also carry the raw session transcript")]
    = False,
    force: Annotated[bool, typer.Option("--force", help="bundle a run that failed before it started")] = False,
    as_json: o.Json = False, verbose: o.Verbose = 0, log_file: o.LogFile = None,
) -> None:
    """Build a verified, redacted case bundle from run directories (or every device of a fleet)."""
    try:
        logs.setup(verbose, log_file)
        common: dict[str, Any] = dict(case=case, redact=redact, anonymize=anonymize, map_dir=map_dir,
                                      compression=compression, encrypt_to=encrypt_to, as_json=as_json,
                                      include_raw=include_raw, force=force)
        if any((Path(p) / "fleet.json").is_file() for p in run_dirs):
            if len(run_dirs) != 1:
                raise UsageError("bundle one fleet directory at a time (it already holds every device's run)")
            bundle_fleet(run_dirs[0], out_dir, **common)
        else:
            build(run_dirs, out_dir, **common)
    except CollectorError as exc:
        fail(exc)


def bundle_fleet(path: Path, out_dir: Path, **kwargs: Any) -> Any:
    """One bundle for every device of a fleet that reached its device (the others listed with why)."""
    from ..fleet.bundle import fleet_section
    from ..fleet.fleetdir import FleetDir

    run_dirs, section = fleet_section(FleetDir.open(path))
    if not run_dirs:
        raise BundleError(f"no device of {path} was reached: there is nothing of a device to bundle",
                          hint="`collector fleet status FLEET_DIR` shows why; `collector resume FLEET_DIR` retries")
    return build(run_dirs, out_dir, fleet=section, **kwargs)


def _kinds(anonymize: str | None) -> tuple[set[str], Path | None]:
    kinds: set[str] = set()
    words: Path | None = None
    for item in (anonymize or "").split(","):
        item = item.strip()
        if item.startswith("words="):
            words = Path(item.split("=", 1)[1])
            kinds.add("words")
        elif item:
            kinds.add(item)
    return kinds, words


def build(run_dirs: list[Path], out_dir: Path, *, case: str | None = None, redact: str = "default",
          anonymize: str | None = None, map_dir: Path | None = None, compression: str = "gz",
          encrypt_to: list[str] | None = None, extra_secrets: list[Secret] | None = None, as_json: bool = False,
          quiet: bool = False, include_raw: bool = False, force: bool = False,
          fleet: dict[str, Any] | None = None) -> Any:
    from ..bundle import build_bundle

    kinds, words = _kinds(anonymize)
    result = build_bundle(
        run_dirs, out_dir, case=case, redact=None if redact == "none" else redact, anonymize=kinds or None,
        words_file=words, compression=compression, encrypt_to=encrypt_to, extra_secrets=extra_secrets or [],
        map_dir=map_dir, include_raw=include_raw, force=force, fleet=fleet,
    )
    for warning in result.warnings:
        say(("warning: ", "yellow"), warning, stderr=True)
    if quiet:
        return result
    if as_json:
        print_json({"bundle": str(result.path), "sha256": result.sha256,
                    "map": str(result.map_path) if result.map_path else None,
                    "redactions": result.redaction_counts, "warnings": result.warnings})
    else:
        say(("bundle: ", "bold"), str(result.path))
        say("sha256: ", result.sha256, f"  ({result.sha256_path.name})")
        if result.map_path:
            say("private map (keep it, never send it): ", str(result.map_path))
    return result


def verify(
    bundle_path: Annotated[Path, typer.Argument(metavar="BUNDLE", help="bundle archive")],
    as_json: o.Json = False, verbose: o.Verbose = 0, log_file: o.LogFile = None,
) -> None:
    """Check a bundle: archive checksum, safe member names, every member against the manifest."""
    from ..bundle import verify_bundle

    try:
        logs.setup(verbose, log_file)
        report = verify_bundle(bundle_path)
    except CollectorError as exc:
        fail(exc)
    if as_json:
        print_json({"bundle": str(bundle_path), "ok": report.ok, "checked": report.checked,
                    "problems": list(report.problems), "first_bad": report.first_bad})
    elif report.ok:
        say(str(bundle_path), f": ok ({report.checked} members verified)")
    else:
        for problem in report.problems:
            err().print(problem, style="red", markup=False, highlight=False)
    if not report.ok:
        if as_json:
            raise typer.Exit(BundleError.exit_code)
        fail(BundleError(f"{bundle_path}: verification failed at {report.first_bad}"))
