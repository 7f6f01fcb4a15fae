"""The browser suite's fixtures: one JupyterLab server and one Chromium per session, a fresh tab per test.

The server serves a temporary copy of course/ (tests/tools/labserver.py), so autosave and Validate's save never touch
the committed notebooks. Without /usr/bin/chromium (or playwright) the tests skip with the reason, but in CI
(LOSSLAB_REQUIRE_BROWSER=1, set by .ci/run), where a missing browser fails them. When a test fails, every open
tab is saved as a screenshot and the server's log is copied, both into tests/artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ARTIFACTS, REPO
from tests.tools.labserver import LabServer, NotebookPage, chromium_missing, launch_chromium

SCREENSHOTS = ARTIFACTS / "screenshots"
# Assertions on the page retry for this long: widgets render slowly on a loaded 2-core machine.
EXPECT_TIMEOUT_MS = 20_000
REQUIRED = os.environ.get("LOSSLAB_REQUIRE_BROWSER") == "1"


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason}; LOSSLAB_REQUIRE_BROWSER=1 makes a missing browser a failure", pytrace=False)
    pytest.skip(f"browser tests need Chromium: {reason}")


def _git_status() -> str | None:
    try:
        command = ["git", "status", "--porcelain", "--untracked-files=no", "--", "course", "solutions"]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=30, check=True)
        return done.stdout
    except (OSError, subprocess.SubprocessError):
        return None  # not a git checkout: nothing to compare


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failed browser test leaves a full-page screenshot of every open tab, taken before its tabs close."""
    report = yield
    context = getattr(item, "funcargs", {}).get("browser_context")
    if report.failed and report.when in ("setup", "call") and context is not None:
        saved = screenshot_all(context, item.name)
        if saved:
            report.sections.append(("screenshots", "\n".join(str(p.relative_to(REPO)) for p in saved)))
    return report


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A JupyterLab server on 127.0.0.1 with a token, serving a temporary copy of the course."""
    reason = chromium_missing()
    if reason:
        _unavailable(reason)
    before = _git_status()
    server = LabServer.start(tmp_path_factory.mktemp("jupyterlab"))
    try:
        yield server
    finally:
        server.stop()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(server.log_path, SCREENSHOTS / "jupyter-server.log")
    after = _git_status()
    assert before == after, f"the browser tests changed the repository's notebooks:\n{after}"


_PLAYWRIGHT: list[object] = []  # one playwright driver per test process, started on first use


def _playwright() -> object:
    """The process's playwright driver. Playwright's sync API refuses a second driver while one runs (its event
    loop is still running), and the JupyterLab suite's session-wide browser outlives the site's and the hub's
    tests when xdist runs their groups in one worker: every browser context comes from this one driver."""
    if not _PLAYWRIGHT:
        from playwright.sync_api import sync_playwright

        _PLAYWRIGHT.append(sync_playwright().start())
    return _PLAYWRIGHT[0]


@pytest.fixture(scope="session", autouse=True)
def _stop_playwright() -> Iterator[None]:
    yield
    while _PLAYWRIGHT:
        _PLAYWRIGHT.pop().stop()


@contextlib.contextmanager
def chromium_context(profile: Path) -> Iterator[object]:
    """Debian's Chromium, headless, with a fresh profile in ``profile``, driven by playwright (the suite's timeouts)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    context = launch_chromium(_playwright(), profile)
    context.set_default_timeout(30_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="session")
def browser_context(lab: LabServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Debian's Chromium for the JupyterLab tests."""
    with chromium_context(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def page(browser_context, lab: LabServer) -> Iterator[object]:
    """A new tab; its kernels are shut down when the test ends."""
    tab = browser_context.new_page()
    try:
        yield tab
    finally:
        tab.close()
        lab.shutdown_kernels()


def screenshot_all(context, name: str) -> list[Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    saved = []
    for i, tab in enumerate(t for t in context.pages if t.url != "about:blank"):
        path = SCREENSHOTS / f"{safe}{'-' + str(i) if i else ''}.png"
        try:
            tab.screenshot(path=str(path), full_page=True, timeout=15_000)
            saved.append(path)
        except Exception:  # a screenshot is best effort; the failure itself is already reported
            continue
    return saved


def workspace_name(node_name: str) -> str:
    """A JupyterLab workspace per test, so no test finds another's tabs restored."""
    return re.sub(r"[^A-Za-z0-9]+", "-", node_name).strip("-")[:60] or "test"


@pytest.fixture
def open_notebook(page, lab: LabServer, request: pytest.FixtureRequest):
    """``open_notebook("course/...ipynb")``: the notebook in the test's tab, in its own workspace."""

    def _open(path: str) -> NotebookPage:
        return NotebookPage.open(page, lab, path, workspace=workspace_name(request.node.name))

    return _open


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The website's tests (test_site.py) go last: they reuse the executed notebooks that the notebook tests save,
    and under xdist a test at the end of the collection is handed out last."""
    site = [item for item in items if item.path.name == "test_site.py"]
    if site:
        items[:] = [item for item in items if item.path.name != "test_site.py"] + site
