"""`collector parse RUN_DIR...`: (re)parse the outputs of finished runs into parsed/, also runs older than parsing.

A step that does not parse is not an error: its reason is printed and recorded; only a bad argument fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import CollectorError, UsageError
from ..ui.console import fail, print_json, say
from . import logs
from . import options as o

PARSERS = ("auto", "textfsm", "ttp", "genie", "none")


def parse(
    run_dirs: Annotated[list[Path], typer.Argument(metavar="RUN_DIR...", help="run directories to parse")],
    parser: Annotated[str | None, typer.Option("--parser", metavar="NAME",
                                               help="auto, textfsm, ttp, genie or none for every step "
                                                    "(default: what each step asked for)")] = None,
    max_size: Annotated[str | None, typer.Option("--max-size", metavar="SIZE",
                                                 help="do not parse outputs above SIZE (e.g. 64MiB; 0: no limit)")]
    = None,
    platform: Annotated[str | None, typer.Option("--platform", metavar="NAME",
                                                 help="platform to parse as (default: the run's own)")] = None,
    as_json: o.Json = False, verbose: o.Verbose = 0, log_file: o.LogFile = None,
) -> None:
    """Parse the step outputs of runs into parsed/NNN-<slug>.json (ntc-templates, TTP or Genie)."""
    try:
        logs.setup(verbose, log_file)
        reports = [_one(Path(d), parser, max_size, platform) for d in run_dirs]
    except CollectorError as exc:
        fail(exc)
    if as_json:
        print_json({"runs": [_json(r) for r in reports]})
        return
    for report in reports:
        _show(report)


def _override(parser: str | None, max_size: str | None) -> Any:
    from ..parse.engine import DEFAULT_MAX_BYTES
    from ..units import parse_size

    if parser is not None and parser not in PARSERS:
        raise UsageError(f"--parser {parser!r} is not a parser", hint=f"choose one of: {', '.join(PARSERS)}")
    limit: int | None = DEFAULT_MAX_BYTES
    if max_size is not None:
        try:
            limit = int(parse_size(max_size)) if max_size.strip() not in ("0", "none") else None
        except ValueError as exc:
            raise UsageError(f"--max-size {max_size!r}: {exc}", hint="e.g. --max-size 64MiB") from None
    if parser is None and max_size is None:
        return None
    return (parser or "auto", limit)


def _one(run_dir: Path, parser: str | None, max_size: str | None, platform: str | None) -> Any:
    from ..parse.run import StepChoice, parse_run

    override = _override(parser, max_size)
    choice = StepChoice(*override) if override is not None else None
    return parse_run(run_dir, platform=platform, override=choice)


def _json(report: Any) -> dict[str, Any]:
    return {"run_dir": str(report.run_dir), "platform": report.platform, "parsed": report.parsed,
            "outputs": len(report.outcomes), "seconds": report.seconds,
            "steps": [o.to_json() for o in report.outcomes]}


def _show(report: Any) -> None:
    say(("run: ", "bold"), str(report.run_dir), f"  (platform {report.platform or 'unknown'})")
    for out in report.outcomes:
        source = out.source or "?"
        if out.ok:
            say(("  parsed  ", "green"), source, f"  {out.parser} {out.template}: {out.records} records")
        else:
            say(("  skipped ", "yellow"), source, "  ", out.reason or "")
    say(f"parsed {report.parsed} of {len(report.outcomes)} outputs in {report.seconds:.2f}s")
