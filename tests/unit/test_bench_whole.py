"""The whole-process benchmark's plumbing: the /usr/bin/time-like launcher, terminals, phases, playbooks, printing."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks import peer_script, render_bench
from benchmarks import whole_process as wp
from benchmarks.measure import Budget, Sample, run_whole, summarize
from benchmarks.profile_summary import phase_shares, phase_table
from benchmarks.report import Config
from benchmarks.sshd_host import BenchHost

PY = sys.executable


def py(code: str) -> list[str]:
    return [PY, "-c", code]


# -- run_whole: wall, CPU and peak RSS of a whole process tree ---------------------------------------------------
def test_peak_rss_is_the_childs_not_the_callers() -> None:
    """A plain Popen + wait4 would report the caller's RSS (vfork shares it until exec); the launcher forks small."""
    ballast = bytearray(300 << 20)  # the caller grows to > 300 MiB
    ballast[::4096] = b"x" * len(ballast[::4096])
    small = run_whole(py("pass"), 60)
    assert small.ok and 0 < small.maxrss_mb < 60, small
    big = run_whole(py("b = bytearray(120 << 20); b[::4096] = b'y' * len(b[::4096])"), 60)
    assert big.ok and 120 <= big.maxrss_mb < 200, big
    del ballast


def test_cpu_and_rss_include_descendants() -> None:
    grandchild = "import time; b = bytearray(90 << 20); b[::4096] = b'z' * len(b[::4096]); t = time.process_time()\n" \
                 "while time.process_time() - t < 0.3: pass"
    s = run_whole(py(f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}], check=True)"),
                  60)
    assert s.ok, s
    assert s.cpu_s >= 0.3 and s.wall_s >= 0.3
    assert s.maxrss_mb >= 90
    assert s.result["user_s"] + s.result["sys_s"] == pytest.approx(s.cpu_s)


def test_terminal_is_a_pty_of_the_given_size_and_output_is_counted() -> None:
    code = ("import os, sys; ok = sys.stdout.isatty() and sys.stderr.isatty() and tuple(os.get_terminal_size(1)) "
            "== (97, 31); sys.stdout.write('a' * 300000); sys.stdout.flush(); sys.exit(0 if ok else 5)")
    on_tty = run_whole(py(code), 60, terminal=True, size=(97, 31))
    assert on_tty.ok, on_tty
    assert on_tty.result["out_bytes"] == 300000
    piped = run_whole(py(code), 60)
    assert not piped.ok and piped.error is not None and piped.error.startswith("exit 5")
    assert piped.result["out_bytes"] == 300000


def test_failure_names_the_exit_code_and_last_line() -> None:
    s = run_whole(py("import sys; print('first'); print('the reason', file=sys.stderr); sys.exit(3)"), 60)
    assert not s.ok and s.error == "exit 3: the reason"
    assert s.result["exit"] == 3


def test_timeout_kills_the_whole_tree(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    code = (f"import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; "
            f"time.sleep(60)']); open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(60)")
    t0 = time.monotonic()
    s = run_whole(py(code), 1.5)
    assert not s.ok and s.error == "killed after 2 s" and time.monotonic() - t0 < 30
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the grandchild outlived the timeout")


def test_env_is_added() -> None:
    s = run_whole(py("import os, sys; sys.exit(0 if os.environ.get('BENCH_X') == 'y' and 'PATH' in os.environ "
                     "else 4)"), 60, env={"BENCH_X": "y"})
    assert s.ok, s


# -- budgets and phases ------------------------------------------------------------------------------------------
def test_budget_format_follows_spec() -> None:
    b = Budget("version", 0.0331, 0.15, lower_is_better=True, unit=" s", spec=".3f")
    assert b.fmt(b.value or 0) == "0.033 s" and b.met
    assert Budget("r", 1.234, 1.0).fmt(1.234) == "1.23×"
    assert Budget("n", 3.0, 0.0, unit="").fmt(3.0) == "3"


MAIN = "<module> (collector:8);main (collector/cli/__init__.py:21);run (collector/cli/run.py:97)"
STACKS = "\n".join([
    f"{MAIN};_find_and_load (<frozen importlib._bootstrap>:1);<module> (paramiko/__init__.py:1) 10",
    f"{MAIN};_run (collector/cli/run.py:143);load_checked_playbook (collector/cli/load.py:21) 5",
    f"{MAIN};StepRunner.run (collector/runner/steps.py:107);Session.run (collector/session/session.py:2) 20",
    f"{MAIN};StepRunner.run (collector/runner/steps.py:107);Channel.recv (paramiko/channel.py:1);"
    "Condition.wait (threading.py:331) 30",
    f"{MAIN};StepRunner.run (collector/runner/steps.py:107);RichObserver.step_finished "
    "(collector/ui/progress.py:90);print (rich/console.py:1) 25",
    f"{MAIN};print_outcome (collector/cli/outcome.py:30) 5",
    f"{MAIN};exit (atexit.py:1) 5",
    "Thread._bootstrap (threading.py:1002);run (paramiko/transport.py:1);read_all (paramiko/packet.py:322) 400",
])


def test_phases_take_the_first_matching_phase_and_only_the_main_thread() -> None:
    total, counts = phase_shares(STACKS)
    assert total == 100  # the transport thread's 400 samples are not the main thread's wall time
    assert counts["imports (start-up and lazy)"] == (10, 0)
    assert counts["playbook: read, validate, guard"] == (5, 0)
    assert counts["progress lines (one per step)"] == (25, 0)  # inside a step, but printing
    assert counts["commands (the steps)"] == (50, 30)  # 30 of them waiting for the device
    assert counts["summary (table or JSON)"] == (5, 0)
    assert counts["other"] == (5, 0)
    table = phase_table(STACKS, 2.0)
    assert "| commands (the steps) | 50.0% | 1.00 | 0.60 |" in table
    assert "| total (100 samples) | 100% | 2.00 | 0.60 |" in table
    assert phase_table("", 1.0) == "(no samples)"


# -- the section's set-up: playbooks collector accepts, the same commands for the peers ---------------------------
HOST = BenchHost("127.0.0.1", 2222, "benchuser", "/k/id", "/k/known_hosts")


@pytest.fixture
def whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> wp.Whole:
    big = tmp_path / "big.txt"
    big.write_text("x\n")
    monkeypatch.setattr(wp, "data_file", lambda size: (big, "sha"))
    return wp.Whole.make(HOST, tmp_path, Config(many=7, big_mb=1))


def test_playbooks_pass_collectors_loader_and_guard(whole: wp.Whole) -> None:
    from collector.cli.load import load_checked_playbook, platform_for
    from collector.playbook import check_playbook

    for name, steps, mode in (("many", 7, "interactive"), ("big", 1, "interactive"), ("big-exec", 1, "exec")):
        loaded = load_checked_playbook(whole.playbooks[name], {})
        check_playbook(loaded, platform_for(loaded.model.platform), False)
        assert len(loaded.model.steps) == steps
        assert {getattr(s, "mode", None) for s in loaded.model.steps} == {mode}
        commands = whole.commands[name].read_text().splitlines()
        assert [s.command for s in loaded.model.steps] == commands  # type: ignore[union-attr]
    assert whole.commands["many"].read_text().splitlines() == [f"echo {i}" for i in range(7)]


def test_argv_of_each_process(whole: wp.Whole) -> None:
    argv, tty = whole.argv("collector", "many")
    assert tty and argv[1:3] == ["run", str(whole.playbooks["many"])]
    assert argv[argv.index("--target") + 1] == "ssh://benchuser@127.0.0.1:2222"
    assert argv[argv.index("--key") + 1] == "/k/id" and "--no-ssh-config" in argv
    json_argv, json_tty = whole.argv("collector-json", "many")
    assert json_argv[-1] == "--json" and not json_tty
    exec_argv, _ = whole.argv("collector-exec", "big")
    assert str(whole.playbooks["big-exec"]) in exec_argv
    peer, _ = whole.argv("scrapli", "big")
    assert peer[1].endswith("benchmarks/peer_script.py") and peer[2] == "scrapli"
    assert json.loads(Path(peer[3]).read_text())["port"] == 2222 and peer[4] == str(whole.commands["big"])
    assert whole.argv("version", "")[0][1:] == ["version"]


def test_limited_caps_slow_tools() -> None:
    calls: list[str] = []

    def one(name: str) -> Sample:
        calls.append(name)
        return Sample(tool=name, case="many", ok=True, wall_s=1.0)

    got = wp._limited(("a", "netmiko"), 3, {"netmiko": 1}, one)
    assert calls == ["a", "netmiko", "a", "a"]
    assert [len(got["a"]), len(got["netmiko"])] == [3, 1]


def test_budgets_are_ratios_of_whole_process_medians() -> None:
    def st(*v: float) -> wp.Stats:
        return summarize(v)

    walls = {"start": {"version": st(0.03, 0.04, 0.2)},
             "many": {"collector": st(2.0, 2.2, 2.4), "scrapli": st(1.0, 1.1)},
             "big": {"collector": st(3.0), "scrapli": st(10.0)}}
    render = {"rendering": st(0.9), "commands": st(0.3)}
    b = wp._budgets(Config(many=500, big_mb=100), walls, render)
    assert [x.value for x in b] == pytest.approx([0.04, 2.2 / 1.05, 0.3, 3.0])
    assert [x.met for x in b] == [True, False, True, False]


# -- the peers' script and the printing job --------------------------------------------------------------------------
def test_peer_script_saves_each_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[str] = []

    @contextmanager
    def fake(host: dict[str, object]) -> Iterator[Callable[[str], str]]:
        assert host["user"] == "benchuser"
        yield lambda command: seen.append(command) or f"out of {command}"

    monkeypatch.setitem(peer_script.SESSIONS, "fake", fake)
    (tmp_path / "host.json").write_text(json.dumps(HOST.__dict__))
    (tmp_path / "cmds.txt").write_text("echo 1\n\necho 2\n")
    assert peer_script.main(["fake", str(tmp_path / "host.json"), str(tmp_path / "cmds.txt"), str(tmp_path / "o")]) == 0
    assert seen == ["echo 1", "echo 2"]
    assert (tmp_path / "o" / "0002.txt").read_text() == "out of echo 2"
    assert "2 commands" in capsys.readouterr().out


def make_run(runs: Path, steps: int) -> Path:
    from collector.secrets import Masker
    from collector.store import events as ev
    from collector.store.rundir import RunDir

    rd = RunDir.create(runs, "bench", "many")
    rd.write_run_info({"run_id": "bench", "target": "ssh://u@bench", "playbook": {"name": "many"}})
    journal = rd.journal(Masker([]))
    journal.write(ev.Connected(prompt="u@bench$"))
    for n in range(1, steps + 1):
        journal.write(ev.StepStarted(step=n, name=f"echo {n}", command=f"echo {n}", attempt=1, raw_offset=0))
        journal.write(ev.StepCompleted(step=n, status="ok", name=f"echo {n}", command=f"echo {n}", attempt=1,
                                       file=None, bytes=2, raw_start=0, raw_end=0, duration=0.01))
    journal.write(ev.RunEnded(status="ok"))
    journal.close()
    return rd.path


def test_render_job_times_each_part_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    got = render_bench.measure(make_run(tmp_path / "runs", 70))
    out = capsys.readouterr()
    assert got["steps"] == 70 and got["commands_s"] == pytest.approx(0.7)
    for part in ("rich_import", "progress", "table", "json"):
        assert got[part]["wall_s"] >= 0 and got[part]["cpu_s"] >= 0
    doc = json.loads(out.out[out.out.index('{\n  "run_dir"'):])
    assert len(doc["steps"]) == 70 and doc["status"] == "ok"
    assert "more steps not shown" in out.out  # the summary table of a long run
