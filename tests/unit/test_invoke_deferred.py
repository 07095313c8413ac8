"""paramiko's `invoke` import is deferred in the CLI process: start-up does not pay for it, and ssh_config's
`Match exec` (the one thing paramiko uses it for) still works, loading the real package on first use."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_paramiko_after_the_deferral_does_not_import_invoke() -> None:
    out = run_python("""
        import sys
        from collector.transports.invoke_deferred import defer_invoke
        assert defer_invoke()
        import paramiko
        print('unittest.mock' in sys.modules, type(sys.modules['invoke']).__name__)
    """)
    assert out == "False DeferredModule"


def test_match_exec_in_ssh_config_still_runs_its_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    flag = tmp_path / "ran"
    out = run_python(f"""
        import sys
        from collector.transports.invoke_deferred import defer_invoke
        defer_invoke()
        import paramiko
        cfg = paramiko.SSHConfig.from_text('Match exec "touch {flag} && true"\\n  User bob\\n'
                                           'Match exec "false"\\n  Port 2222\\n')
        found = cfg.lookup('device1')
        print(found.get('user'), found.get('port'), type(sys.modules['invoke']).__name__)
    """)
    assert out == "bob None module" and flag.exists()


def test_nothing_is_deferred_once_paramiko_is_imported() -> None:
    out = run_python("""
        import paramiko
        from collector.transports.invoke_deferred import defer_invoke
        print(defer_invoke())
    """)
    assert out == "False"


def test_the_collector_command_defers_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A real `collector run` that imports paramiko (and fails to connect: nothing listens on port 1)."""
    playbook = tmp_path / "p.yaml"
    playbook.write_text("name: p\nplatform: linux\nsteps:\n  - command: uname -a\n")
    code = f"""
        import atexit, sys
        atexit.register(lambda: print('paramiko' in sys.modules, 'unittest.mock' in sys.modules,
                                      type(sys.modules.get('invoke')).__name__, file=sys.stderr))
        sys.argv = ['collector', 'run', {str(playbook)!r}, '--target', 'ssh://u@127.0.0.1:1', '--json',
                    '--runs-dir', {str(tmp_path / 'runs')!r}, '--reconnect-attempts', '0']
        from collector.cli import main
        main()
    """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode not in (0, 70), done.stderr
    assert "True False DeferredModule" in done.stderr, done.stderr


def test_the_process_setup_raises_the_gc_threshold_and_keeps_an_explicit_pydantic_setting() -> None:
    out = run_python("""
        import gc, os
        os.environ["PYDANTIC_DISABLE_PLUGINS"] = "logfire"
        from collector.cli import prepare_process
        prepare_process()
        print(gc.get_threshold()[0], os.environ["PYDANTIC_DISABLE_PLUGINS"])
    """)
    assert out == "10000 logfire"
    assert run_python("""
        import os
        os.environ.pop("PYDANTIC_DISABLE_PLUGINS", None)
        from collector.cli import prepare_process
        prepare_process()
        print(os.environ["PYDANTIC_DISABLE_PLUGINS"])
    """) == "__all__"
