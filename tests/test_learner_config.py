"""A learner's JupyterLab in a 2 GB session: closing a notebook's tab shuts its kernel down, idle kernels are culled.

The settings live in jupyter/learner/ (read through JUPYTER_CONFIG_PATH, which ./start sets); this checks what a
server started under ./start really applies, and that the setting names exist in the installed JupyterLab."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import REPO

START = REPO / "start"
CODE = """
import json
from jupyter_server.serverapp import ServerApp
from jupyterlab_server.settings_utils import _get_overrides
app = ServerApp()
app.initialize(argv=['--ServerApp.port=0', '--ServerApp.open_browser=False', '--allow-root'])
lab = app.extension_manager.extension_apps['jupyterlab']
lab = next(iter(lab)) if isinstance(lab, set) else lab
overrides, error = _get_overrides(lab.app_settings_dir)
km = app.kernel_manager
print(json.dumps({'settings_dir': lab.app_settings_dir, 'overrides': overrides, 'error': str(error),
                  'cull': [km.cull_idle_timeout, km.cull_interval, km.cull_connected, km.cull_busy]}))
"""


def _effective(tmp_path: Path, **env: str) -> dict:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env}
    done = subprocess.run(
        [str(START), sys.executable, "-c", CODE], env=base, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_closing_a_notebook_shuts_its_kernel_down_and_idle_kernels_are_culled(tmp_path: Path) -> None:
    found = _effective(tmp_path)
    assert Path(found["settings_dir"]) == REPO / "jupyter" / "learner" / "settings"
    assert not found["error"] or found["error"] == "None", found["error"]
    assert found["overrides"]["@jupyterlab/notebook-extension:tracker"]["kernelShutdown"] is True
    timeout, interval, connected, busy = found["cull"]
    assert 0 < timeout <= 3600 and 0 < interval <= timeout, "an idle kernel is shut down within the hour"
    assert connected is False and busy is False, "a notebook still open in a tab, or still training, is kept"


def test_an_instructors_jupyterlab_keeps_jupyterlabs_defaults(tmp_path: Path) -> None:
    found = _effective(tmp_path, LOSSLAB_INSTRUCTOR="1")
    assert Path(found["settings_dir"]) != REPO / "jupyter" / "learner" / "settings"
    assert found["cull"][0] == 0


def test_the_overridden_settings_exist_in_the_installed_jupyterlab() -> None:
    from jupyter_core.paths import jupyter_path

    overrides = json.loads((REPO / "jupyter" / "learner" / "settings" / "overrides.json").read_text())
    for plugin, values in overrides.items():
        package, _, name = plugin.partition(":")
        schemas = [Path(p) / "schemas" / package / f"{name}.json" for p in jupyter_path("lab")]
        schema = next((s for s in schemas if s.exists()), None)
        assert schema, f"no schema for {plugin} in the installed JupyterLab: the name is stale"
        properties = json.loads(schema.read_text())["properties"]
        for key, value in values.items():
            assert key in properties, f"{plugin} has no setting {key}"
            assert properties[key]["type"] == "boolean" and isinstance(value, bool)
