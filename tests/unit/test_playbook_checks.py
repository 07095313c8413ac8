"""validate runs the guard; --var of an undeclared variable; step-key typos; resume re-checks run.json."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collector.cli import app
from collector.errors import GuardRefused, PlaybookError, UsageError
from collector.playbook import load_playbook, recheck_recorded, validate_playbook, validate_with_guard
from collector.runner.plan import playbook_info
from collector.store.rundir import RunDir

WRITES = """\
name: t
platform: cisco_ios
vars: {interface: Gi0/1, vrf: blue}
steps:
  - command: show version
  - command: show interfaces {{ interface }}
  - capture: c
    start: [terminal monitor, debug ip ospf adj]
    stop: [undebug all, write memory]
    until: {duration: 1h}
cleanup:
  - command: show run>flash:x
"""


def write(tmp_path: Path, text: str, name: str = "pb.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_validate_reports_each_refused_command_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, WRITES)
    report = validate_with_guard(path)
    assert report.exit_code == 4 and not report.issues
    assert [(r.line, r.command) for r in report.refusals] == [(9, "write memory"), (12, "show run>flash:x")]
    lines = [text for text, _ in report.lines()]
    assert lines[0].startswith(f"{path}:9:1: step 3 capture 'c' (stop): `write memory` refused")
    assert validate_with_guard(path, allow_changes=True).exit_code == 4  # the playbook does not allow changes


def test_validate_with_allow_changes_mirrors_run(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nplatform: cisco_ios\nallow_changes: true\nsteps:\n  - write memory\n")
    assert validate_with_guard(path).exit_code == 4
    assert validate_with_guard(path, allow_changes=True).exit_code == 0


def test_validate_cli_exit_codes_and_output(tmp_path: Path) -> None:
    good = write(tmp_path, "name: t\nplatform: cisco_ios\nsteps: [show version]\n", "good.yaml")
    refused = write(tmp_path, WRITES, "refused.yaml")
    broken = write(tmp_path, "name: t\nplatform: cisco_ios\nsteps:\n  - comand: show version\n", "broken.yaml")
    markup = write(tmp_path, 'name: t\nplatform: cisco_ios\n"[/]": 1\nsteps: [show version]\n', "markup.yaml")
    runner = CliRunner()
    assert runner.invoke(app, ["validate", str(good)]).exit_code == 0
    result = runner.invoke(app, ["validate", str(good), str(refused)])
    assert result.exit_code == 4
    assert f"{refused}:9:1:" in result.output and f"{refused}:12:1:" in result.output
    assert "write memory" in result.output
    assert runner.invoke(app, ["validate", str(refused), str(broken)]).exit_code == 3
    result = runner.invoke(app, ["validate", str(markup)])
    assert result.exit_code == 3 and "'[/]'" in result.output


def test_misspelt_step_key_gets_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nplatform: cisco_ios\nsteps:\n  - comand: show version\n  - captur: c\n")
    issues = validate_playbook(path)
    assert [(i.line, i.message, i.hint) for i in issues] == [
        (4, "step 1: unknown key 'comand'", "did you mean 'command'?"),
        (5, "step 2: unknown key 'captur'", "did you mean 'capture'?"),
    ]


def test_var_for_an_undeclared_variable_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, WRITES)
    with pytest.raises(UsageError) as info:
        load_playbook(path, {"intrface": "Gi0/2"})
    err = info.value
    assert err.exit_code == 2
    assert "intrface" in err.message and "interface, vrf" in err.message and "did you mean 'interface'" in err.hint
    assert load_playbook(path, {"interface": "Gi0/2"}).variables["interface"] == "Gi0/2"


def test_var_used_but_not_under_vars_counts_as_declared(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nplatform: cisco_ios\nsteps: ['show interfaces {{ intf }}']\n")
    assert load_playbook(path, {"intf": "Gi0/1"}).model.steps[0].command == "show interfaces Gi0/1"  # type: ignore[union-attr]


def test_run_refuses_an_undeclared_var_with_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, WRITES)
    result = CliRunner().invoke(app, ["run", str(path), "--target", "ssh://u@127.0.0.1:1", "--var", "intrface=x",
                                      "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "intrface" in result.output


# --------------------------------------------------------------------------- resume re-checks run.json

SAFE = "name: t\nplatform: cisco_ios\nvars: {what: show version}\nsteps:\n  - command: '{{ what }}'\n"


def recorded(tmp_path: Path, text: str = SAFE, overrides: dict[str, str] | None = None) -> tuple[Path, dict]:
    path = write(tmp_path, text)
    return path, playbook_info(load_playbook(path, overrides), overrides).model_dump()


def test_recheck_accepts_an_untouched_run(tmp_path: Path) -> None:
    _, info = recorded(tmp_path, overrides={"what": "show clock"})
    loaded, platform = recheck_recorded(info, "cisco_ios")
    assert loaded.model.steps[0].command == "show clock" and platform.name == "cisco_ios"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        ({"vars_overrides": {"what": "configure terminal"}}, GuardRefused),
        ({"vars_overrides": {"what": "show run | redirect flash:x"}}, GuardRefused),
        ({"vars_overrides": {"what": "show version\nconfigure terminal"}}, PlaybookError),
        ({"vars_overrides": {"interface": "x"}}, PlaybookError),
        ({"vars_overrides": ["what"]}, PlaybookError),
        ({"path": ""}, PlaybookError),
        ({"sha256": "0" * 64}, PlaybookError),
    ],
)
def test_recheck_refuses_an_edited_run_json(tmp_path: Path, edit: dict, error: type[Exception]) -> None:
    _, info = recorded(tmp_path)
    with pytest.raises(error):
        recheck_recorded({**info, **edit}, "cisco_ios")


def test_recheck_refuses_a_playbook_whose_steps_and_hash_were_both_edited(tmp_path: Path) -> None:
    path, info = recorded(tmp_path)
    path.write_text("name: t\nplatform: cisco_ios\nvars: {what: show version}\nsteps:\n  - configure terminal\n")
    edited = playbook_info(load_playbook(path)).model_dump()
    with pytest.raises(GuardRefused, match="configure terminal"):
        recheck_recorded({**info, "sha256": edited["sha256"]}, "cisco_ios")


def fake_run(tmp_path: Path, info: dict) -> Path:
    rd = RunDir.create(tmp_path / "runs", "127.0.0.1", "t")
    rd.write_run_info({"target": "ssh://u@127.0.0.1:1", "target_url": "ssh://u@127.0.0.1:1", "platform": "cisco_ios",
                       "playbook": info, "status": "interrupted"})
    rd.journal_path.write_text("")
    return rd.path


def test_resume_with_edited_vars_is_refused_before_connecting(tmp_path: Path) -> None:
    _, info = recorded(tmp_path)
    untouched = fake_run(tmp_path, info)
    result = CliRunner().invoke(app, ["resume", str(untouched), "--json"])
    assert result.exit_code not in (3, 4)  # it got past the guard and tried to connect (nothing listens on :1)
    injected = fake_run(tmp_path, {**info, "vars_overrides": {"what": "configure terminal"}})
    result = CliRunner().invoke(app, ["resume", str(injected), "--json"])
    assert result.exit_code == 4 and "configure terminal" in result.output
    data = json.loads((injected / "run.json").read_text())
    assert data["status"] == "interrupted"  # nothing ran
