"""tests/tools/labserver.py: the throwaway JupyterLab server behind the browser tests and `make bench`."""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.error
from pathlib import Path

import psutil
import pytest

from tests.support import COURSE, REPO
from tests.tools import labserver


def test_free_port_can_be_bound() -> None:
    port = labserver.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_copy_course_copies_notebooks_but_not_checkpoints(tmp_path: Path) -> None:
    labserver.copy_course(tmp_path)
    copied = sorted(p.relative_to(tmp_path / "course") for p in (tmp_path / "course").rglob("*.ipynb"))
    expected = sorted(p.relative_to(COURSE) for p in COURSE.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    assert copied == expected and copied
    assert not list(tmp_path.rglob(".ipynb_checkpoints"))


def test_settings_are_written_where_jupyterlab_reads_them(tmp_path: Path) -> None:
    labserver.write_settings(tmp_path, labserver.TEST_SETTINGS)
    path = tmp_path / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    assert json.loads(path.read_text()) == {"autosave": False}
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    for plugin, values in labserver.TEST_SETTINGS.items():
        schema = json.loads((schemas / f"{plugin}.json").read_text())
        assert set(values) <= set(schema["properties"]), f"{plugin}: unknown setting in {sorted(values)}"


@pytest.mark.parametrize("cell_limit", [None, 120])
def test_start_keeps_its_own_timeout_whatever_the_cell_limit(tmp_path: Path, monkeypatch, cell_limit) -> None:
    """The start-up timeout is the caller's, not the grader's per-cell limit; a missing limit is no TypeError."""
    waited: list[float] = []

    class FakeProcess:
        pid, returncode = 0, 0

        def poll(self) -> int:
            return 0

    monkeypatch.setattr(labserver, "grader_cell_timeout", lambda: cell_limit)
    monkeypatch.setattr(labserver, "copy_course", lambda root, extra=(): None)
    monkeypatch.setattr(labserver.subprocess, "Popen", lambda *a, **k: FakeProcess())
    monkeypatch.setattr(labserver.LabServer, "_wait_ready", lambda self, timeout: waited.append(timeout))
    labserver.LabServer.start(tmp_path / "lab", timeout=7)
    assert waited == [7]
    config = tmp_path / "lab" / "config" / "nbgrader_config.py"
    assert config.exists() == bool(cell_limit)
    if cell_limit:
        assert f"c.Execute.timeout = {cell_limit}" in config.read_text()


@pytest.mark.slow
def test_server_serves_a_copy_with_a_token_and_stops_cleanly(tmp_path: Path) -> None:
    lab = labserver.LabServer.start(tmp_path / "lab")
    try:
        assert lab.root != REPO and (lab.root / labserver.START_NOTEBOOK).exists()
        config = (lab.home / "config" / "nbgrader_config.py").read_text()
        assert f"c.Execute.timeout = {labserver.grader_cell_timeout()}" in config
        assert lab.api("contents/course")["type"] == "directory"
        with pytest.raises(urllib.error.HTTPError) as refused:
            lab.api("contents/course", token=False)
        assert refused.value.code == 403
        kernel = lab.api("kernels", method="POST")
        assert any(k["id"] == kernel["id"] for k in lab.api("kernels"))
        processes = lab.processes()
        assert len(processes) >= 2, "the kernel runs as a child of the server"
        deadline = time.monotonic() + 60  # the kernel is a bare fork until its Python has loaded ipykernel
        server_mb, kernels_mb = lab.rss_mb()
        while kernels_mb <= 20 and time.monotonic() < deadline:
            time.sleep(0.5)
            server_mb, kernels_mb = lab.rss_mb()
        assert server_mb > 20 and kernels_mb > 20, (server_mb, kernels_mb)
    finally:
        lab.stop()
    gone, alive = psutil.wait_procs(processes, timeout=5)
    assert not alive, f"left running: {alive}"
    assert lab.process.poll() is not None
