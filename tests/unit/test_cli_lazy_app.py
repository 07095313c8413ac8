"""The process builds only the command it runs (typer builds every option of every command it holds): the same
command, the same help and the same errors as the whole tree gives, and the whole tree for help and completion."""

from __future__ import annotations

import importlib

import pytest
import typer.main
from typer.testing import CliRunner

cli_main = importlib.import_module("collector.cli.main")  # the module (collector.cli.main is also a function)


def names(app: typer.Typer) -> set[str]:
    group = typer.main.get_command(app)
    return set(getattr(group, "commands", {}))


@pytest.mark.parametrize("first", sorted(cli_main.COMMANDS))
def test_a_command_line_builds_just_its_command(first: str) -> None:
    assert names(cli_main.app_for(["collector", first])) == {first}


@pytest.mark.parametrize("argv,expected", [
    (["collector", "sim", "ssh"], {"sim"}), (["collector", "schedule", "list"], {"schedule", "scheduler"}),
    (["collector", "scheduler"], {"schedule", "scheduler"}), (["collector", "fleet", "status", "x"], {"fleet"}),
])
def test_a_group_builds_just_its_group(argv: list[str], expected: set[str]) -> None:
    assert names(cli_main.app_for(argv)) == expected


@pytest.mark.parametrize("argv", [["collector"], ["collector", "--help"], ["collector", "nosuch"],
                                  ["collector", "-h"]])
def test_help_and_unknown_commands_get_the_whole_tree(argv: list[str]) -> None:
    assert names(cli_main.app_for(argv)) == set(cli_main.COMMANDS) | {"sim", "schedule", "scheduler", "fleet"}


def test_completion_gets_the_whole_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_COLLECTOR_COMPLETE", "bash_complete")
    assert "sim" in names(cli_main.app_for(["collector", "run"]))


@pytest.mark.parametrize("args", [["run", "--help"], ["validate", "--help"], ["run"], ["bundle", "--nosuch"],
                                  ["schedule", "--help"], ["parse", "--help"]])
def test_help_and_usage_errors_read_as_from_the_whole_tree(args: list[str]) -> None:
    alone = CliRunner().invoke(cli_main.app_for(["collector", *args]), args, prog_name="collector")
    whole = CliRunner().invoke(cli_main.app, args, prog_name="collector")
    assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output)
