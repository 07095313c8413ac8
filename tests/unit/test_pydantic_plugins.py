"""The CLI process skips pydantic's plugin scan (and its importlib.metadata import) only when pydantic itself would
load no plugin: with a real plugin installed through an entry point, the stand-in and pydantic's own loader agree
for every value of PYDANTIC_DISABLE_PLUGINS."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROBE = """
    import os, sys
    {setup}
    from pydantic import BaseModel
    class M(BaseModel):
        x: int
    assert M(x=1).x == 1
    import plugin_probe
    print(plugin_probe.CALLS > 0, 'importlib.metadata' in sys.modules)
"""


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a pydantic plugin and the dist-info that registers it (entry point group `pydantic`)."""
    root = tmp_path_factory.mktemp("plugin")
    (root / "plugin_probe.py").write_text(textwrap.dedent("""
        CALLS = 0
        class _Plugin:
            def new_schema_validator(self, *args, **kwargs):
                global CALLS
                CALLS += 1
                return None, None, None
        plugin = _Plugin()
    """))
    info = root / "plugin_probe-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin-probe\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pydantic]\nprobe = plugin_probe:plugin\n")
    return root


def probe(plugin_dir: Path, setting: str | None, stand_in: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if setting is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = setting
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_dir), env.get("PYTHONPATH", "")])
    setup = ("from collector.cli.pydantic_plugins import skip_plugin_scan; assert skip_plugin_scan()"
             if stand_in else "pass")
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(PROBE.format(setup=setup))], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("setting", [None, "", "__all__", "1", "true", "TRUE", "0", "false", "probe", "other",
                                     "other,probe", " __all__"])
def test_the_stand_in_loads_a_plugin_exactly_when_pydantic_would(plugin_path: Path, setting: str | None) -> None:
    real = probe(plugin_path, setting, stand_in=False)
    stood_in = probe(plugin_path, setting, stand_in=True)
    assert real.split()[0] == stood_in.split()[0]
    if setting in ("__all__", "1", "true"):
        assert stood_in == "False False"  # no plugin, and importlib.metadata never imported


def test_the_cli_process_set_up_skips_the_scan_and_its_import() -> None:
    code = """
        import sys
        from collector.cli import prepare_process
        prepare_process()
        from collector.playbook.schema import Playbook
        Playbook.model_validate({'name': 'p', 'platform': 'linux', 'steps': [{'command': 'show version'}]})
        print('importlib.metadata' in sys.modules, type(sys.modules['pydantic.plugin._loader']).__name__)
    """
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "_PluginLoader"]


def test_nothing_is_replaced_once_pydantic_has_loaded_its_loader() -> None:
    code = """
        import pydantic.plugin._loader
        from collector.cli.pydantic_plugins import skip_plugin_scan
        print(skip_plugin_scan())
    """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.stdout.strip() == "False", done.stderr
