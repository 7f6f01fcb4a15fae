"""A learner's session fits Binder's 2 GB: the server and every kernel it started, at their peak.

The path the start notebook and every exercise ask for: run the tutorial, close its tab (the learner's JupyterLab
then shuts its kernel down: jupyter/learner/), open the exercise, run it, press Validate (which runs the notebook
in one more kernel). The server uses the learner's configuration, as `start` gives it. Memory is the resident
size of the server's process tree, sampled every 0.2 s (shared libraries count once per process: an
over-estimate of what the container is charged).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.browser.conftest import chromium_context
from tests.browser.test_exercise import validate
from tests.support import REPO
from tests.tools.labserver import LabServer, NotebookPage, chromium_missing

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.system, pytest.mark.xdist_group("browser")]

TUTORIAL = "course/01_losses/losses_tutorial.ipynb"
EXERCISE = "course/01_losses/losses_exercise.ipynb"
SESSION_LIMIT_MB = 2000  # Binder's 2 GB


class Sampler:
    """The peak (server MB, kernels MB, total MB) of a LabServer's process tree, in a background thread."""

    def __init__(self, lab: LabServer) -> None:
        self.lab, self.peak, self.stop = lab, (0.0, 0.0, 0.0), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            server, kernels = self.lab.rss_mb()
            if server + kernels > self.peak[2]:
                self.peak = (server, kernels, server + kernels)
            self.stop.wait(0.2)

    def reset(self) -> tuple[float, float, float]:
        peak, self.peak = self.peak, (0.0, 0.0, 0.0)
        return peak


def _kernels(lab: LabServer) -> list[str]:
    return sorted(s["path"] for s in lab.api("sessions") if s.get("kernel"))


def _close_current_tab(notebook: NotebookPage) -> None:
    notebook.command("File", "application:close")
    dialog = notebook.page.locator(".jp-Dialog")
    try:
        dialog.wait_for(timeout=3000)
    except Exception:  # no "save your work?" dialog: the tab is closed
        return
    notebook.page.locator(".jp-Dialog .jp-Dialog-button", has_text="Discard").first.click()
    dialog.wait_for(state="detached")


def test_tutorial_then_exercise_and_validate_fit_in_2_gb(tmp_path: Path) -> None:
    reason = chromium_missing()
    if reason:
        pytest.skip(f"browser tests need Chromium: {reason}")
    with LabServer.start(tmp_path / "lab", extra_env={"JUPYTER_CONFIG_PATH": str(REPO / "jupyter" / "learner")}) as lab:
        sampler = Sampler(lab)
        sampler.thread.start()
        try:
            with chromium_context(tmp_path / "profile") as context:
                page = context.new_page()
                tutorial = NotebookPage.open(page, lab, TUTORIAL, workspace="memory")
                tutorial.run_all(timeout_ms=600_000)
                assert tutorial.error_outputs() == []
                phases = {"tutorial run": sampler.reset()}

                # Closing the tab shuts the tutorial's kernel down (JupyterLab's default would keep it).
                _close_current_tab(tutorial)
                deadline = time.monotonic() + 30
                while TUTORIAL in _kernels(lab) and time.monotonic() < deadline:
                    time.sleep(0.5)
                assert TUTORIAL not in _kernels(lab), "closing the tutorial's tab left its kernel running"

                exercise = NotebookPage.open(page, lab, EXERCISE, workspace="memory")
                exercise.run_all(timeout_ms=600_000)
                result = validate(exercise, timeout_ms=600_000)
                assert "validation-failed" in result, result  # a blank exercise: Validate ran its tests
                phases["exercise run and validated"] = sampler.reset()
        finally:
            sampler.stop.set()
            sampler.thread.join()
    for phase, (server, kernels, total) in phases.items():
        print(f"peak memory, {phase}: {total:.0f} MB (server {server:.0f} MB, kernels {kernels:.0f} MB)")
    worst = max(total for _, _, total in phases.values())
    assert worst <= SESSION_LIMIT_MB, f"the session peaked at {worst:.0f} MB, over Binder's {SESSION_LIMIT_MB} MB"
