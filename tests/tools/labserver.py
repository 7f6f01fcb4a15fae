"""A throwaway JupyterLab server serving a copy of the course, and a headless Chromium to drive it.

Used by the browser tests (tests/browser/) and by ``make bench`` (JupyterLab's own memory footprint).
The server listens on 127.0.0.1 on a free port with a random token and serves a *temporary copy* of
course/, so nothing a browser does (autosave, Validate's save, checkpoints) can touch the repository's
committed notebooks. Its settings, workspaces and runtime files live in the same temporary folder, so a
maintainer's own ~/.jupyter settings cannot change what the tests see. ``stop()`` ends the server and
every process it started (kernels run in their own sessions, so they are collected by process tree).

Chromium is Debian's (``/usr/bin/chromium``, installed by ``make browser``), driven by Python playwright:
``playwright install`` would need a download this project cannot rely on.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("LOSSLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
START_NOTEBOOK = "course/00_start_here.ipynb"

# JupyterLab user settings for a test server: no news or update checks (they would reach the internet and
# pop up a notification over the notebook), no autosave (every save is the test's own), and every cell
# attached to the page (windowing would leave off-screen outputs out of the DOM).
TEST_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def grader_cell_timeout() -> int | None:
    """The per-cell time limit the course grades with (``CONFIG.cell_timeout_s``, autograder/config.py).

    Binder's postBuild gives Validate the same limit; so does the test server.
    """
    from autograder.config import CONFIG

    return int(CONFIG.cell_timeout_s) if CONFIG.cell_timeout_s else None


def write_validate_config(config_dir: Path, cell_timeout: int | None) -> bool:
    """Give Validate the grader's per-cell limit: nbgrader_config.py in the Jupyter config path, as on Binder.

    Writes nothing (and returns False) when the course sets no limit; the server's start-up timeout is a
    separate setting that this never touches.
    """
    if not cell_timeout:
        return False
    (config_dir / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\nc.Execute.timeout = {cell_timeout}\n", encoding="utf-8"
    )
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_course(root: Path, extra: tuple[str, ...] = ()) -> None:
    """Copy course/ (and any ``extra`` repository paths) into ``root``, without checkpoints."""
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    for rel in ("course", *extra):
        source = REPO / rel
        if source.is_dir():
            shutil.copytree(source, root / rel, ignore=ignore)
        elif source.exists():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / rel)


def write_settings(settings_dir: Path, settings: dict[str, dict[str, Any]]) -> None:
    """Write JupyterLab user settings files (``<plugin>.jupyterlab-settings``) into ``settings_dir``."""
    for plugin, values in settings.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=1), encoding="utf-8")


@dataclass
class LabServer:
    """``with LabServer.start() as lab: lab.url("lab/tree/course/00_start_here.ipynb")``."""

    root: Path  # the folder served (a temporary copy of the course)
    home: Path  # the temporary folder holding root, settings, runtime files and the log
    port: int
    token: str
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str] = field(repr=False, default_factory=dict)
    _owns_home: bool = True

    @classmethod
    def start(
        cls,
        home: Path | None = None,
        *,
        extra_env: dict[str, str] | None = None,
        settings: dict[str, dict[str, Any]] | None = None,
        timeout: float = 90,
    ) -> LabServer:
        """Copy the course into a temporary folder and serve it; returns once the server answers."""
        owns = home is None
        home = Path(tempfile.mkdtemp(prefix="losslab-lab-")) if home is None else Path(home)
        root = home / "root"
        root.mkdir(parents=True, exist_ok=True)
        copy_course(root)
        for sub in ("config", "runtime", "settings", "workspaces", "ipython"):
            (home / sub).mkdir(exist_ok=True)
        write_settings(home / "settings", TEST_SETTINGS if settings is None else settings)
        write_validate_config(home / "config", grader_cell_timeout())
        port, token = free_port(), secrets.token_hex(16)
        env = dict(os.environ)
        env.update(
            {
                # JupyterLab's own files in the temporary folder (installed extensions are found via sys.prefix)
                "JUPYTER_CONFIG_DIR": str(home / "config"),
                "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
                "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
                "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
                "IPYTHONDIR": str(home / "ipython"),
                "LOSSLAB_PROGRESS": str(home / "progress.json"),
                # kernels import this checkout's losslab, wherever the served copy lives
                "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
                "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
                "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "0"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra_env or {})
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.default_url=/lab/tree/{START_NOTEBOOK}",
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        log_path = home / "jupyter-server.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                cmd,
                cwd=root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        lab = cls(root, home, port, token, process, log_path, env, owns)
        try:
            lab._wait_ready(timeout)
        except BaseException:
            lab.stop()
            raise
        return lab

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.api("status")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.25)
        raise TimeoutError(f"jupyter lab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def url(self, path: str = "", token: bool = True) -> str:
        sep = "&" if "?" in path else "?"
        return self.base + path.lstrip("/") + (f"{sep}token={self.token}" if token else "")

    def api(self, path: str, method: str = "GET", token: bool = True) -> Any:
        """Call the server's REST API (``api/<path>``); returns the decoded JSON (None when empty)."""
        request = urllib.request.Request(self.base + "api/" + path, method=method)
        if token:
            request.add_header("Authorization", f"token {self.token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Shut down every running kernel (frees memory between tests)."""
        for kernel in self.api("kernels"):
            try:
                self.api(f"kernels/{kernel['id']}", method="DELETE")
            except (OSError, urllib.error.URLError):
                pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def processes(self) -> list[psutil.Process]:
        """The server process and everything it started (kernels included)."""
        try:
            server = psutil.Process(self.process.pid)
            return [server, *server.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss_mb(self) -> tuple[float, float]:
        """(the server's own resident memory, its kernels' resident memory), in MB."""
        server_mb = kernels_mb = 0.0
        for proc in self.processes():
            try:
                rss = proc.memory_info().rss / 1e6
            except psutil.Error:
                continue
            if proc.pid == self.process.pid:
                server_mb += rss
            else:
                kernels_mb += rss
        return server_mb, kernels_mb

    def stop(self) -> None:
        """End the server (gracefully, then by force) and any process it left behind; remove its folder."""
        leftovers = self.processes()
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, PermissionError):
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        for proc in leftovers[1:]:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(leftovers[1:], timeout=5)
        if self._owns_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def launch_chromium(playwright: Any, user_data_dir: Path, headless: bool = True) -> Any:
    """A persistent Chromium context (fresh profile in ``user_data_dir``) from Debian's /usr/bin/chromium."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=str(CHROMIUM),
        headless=headless,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000},
        accept_downloads=False,
    )


def chromium_missing() -> str | None:
    """Why the browser cannot run here (None when it can)."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (install it with `make browser` as root, or set LOSSLAB_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"python playwright is not installed ({exc}); run `make setup`"
    return None


# ------------------------------------------------------------------------------------------ the page

_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

_STATE_JS = """(panel) => {
  const root = document.querySelector(panel);
  if (!root) return null;
  const indicator = root.querySelector('.jp-Notebook-ExecutionIndicator')
                 || document.querySelector('.jp-Notebook-ExecutionIndicator');
  const prompts = Array.from(root.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
                       .map(p => p.textContent.trim());
  return {status: indicator ? indicator.getAttribute('data-status') : 'unknown',
          running: prompts.filter(p => p.includes('*')).length,
          counted: prompts.filter(p => /\\[\\d+\\]/.test(p)).length};
}"""


class NotebookPage:
    """A JupyterLab tab with one notebook, driven the way a learner drives it (menus, buttons, keys)."""

    def __init__(self, page: Any, lab: LabServer, path: str | None = None) -> None:
        self.page, self.lab, self._path = page, lab, path
        self.panel = page.locator(_PANEL)

    @classmethod
    def open(
        cls, page: Any, lab: LabServer, path: str, workspace: str | None = None, timeout_ms: int = 90_000
    ) -> NotebookPage:
        """Open ``path`` (relative to the served root) in a fresh workspace and wait for its kernel."""
        prefix = f"lab/workspaces/{workspace}/" if workspace else "lab/"
        page.goto(lab.url(f"{prefix}tree/{path}"))
        notebook = cls(page, lab, path)
        notebook.wait_kernel(timeout_ms)
        return notebook

    def state(self) -> dict[str, Any]:
        return self.page.evaluate(_STATE_JS, _PANEL) or {"status": "missing", "running": 0, "counted": 0}

    def path(self) -> str:
        """The open notebook's path, relative to the served root (from the page's URL)."""
        return self._path or self.page.url.split("/tree/", 1)[1].split("?", 1)[0]

    def wait_kernel(self, timeout_ms: int = 90_000) -> None:
        """Wait until the notebook shows its cells and its kernel is started, connected and idle.

        The page's kernel indicator reads "idle" for a moment before the kernel even connects, so the
        server's own session list decides; a Run All sent before that would open a kernel chooser instead.
        """
        self.page.locator(f"{_PANEL} .jp-Notebook .jp-Cell").first.wait_for(timeout=timeout_ms)
        path = self.path()
        deadline = time.monotonic() + timeout_ms / 1000

        def connected() -> bool:
            for session in self.lab.api("sessions"):
                kernel = session.get("kernel") or {}
                if (
                    session.get("path") == path
                    and kernel.get("execution_state") == "idle"
                    and kernel.get("connections", 0) > 0
                ):
                    return True
            return False

        while not connected():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the kernel for {path} did not start within {timeout_ms / 1000:.0f} s")
            self.page.wait_for_timeout(250)
        self._wait(lambda s: s["status"] == "idle", timeout_ms, "the kernel to become idle", settle_s=0.5)

    def _wait(self, done: Any, timeout_ms: int, what: str, settle_s: float = 0.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_ms / 1000
        since = None
        while True:
            state = self.state()
            if done(state):
                since = since or time.monotonic()
                if time.monotonic() - since >= settle_s:
                    return state
            else:
                since = None
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout_ms / 1000:.0f} s waiting for {what}; last state {state}")
            self.page.wait_for_timeout(200)

    def command(self, menu: str, command: str) -> None:
        """Click ``menu`` in the menu bar, then the item running JupyterLab command ``command``."""
        self.page.locator(".lm-MenuBar-item", has_text=menu).first.click()
        self.page.locator(f".lm-Menu-item[data-command='{command}']").first.click()

    def run_all(self, timeout_ms: int = 180_000, wait: bool = True) -> dict[str, Any] | None:
        """Run > Run All Cells; by default wait until no cell is queued or running and the kernel is idle."""
        before = self.state()["counted"]
        self.command("Run", "runmenu:run-all")
        if not wait:
            return None
        # The run has started once a prompt shows [*] or an execution count changed.
        try:
            self._wait(
                lambda s: s["running"] > 0 or s["counted"] != before or s["status"] == "busy",
                15_000,
                "Run All to start",
            )
        except TimeoutError:
            pass  # a notebook so quick that it finished between two looks
        return self.wait_idle(timeout_ms)

    def wait_idle(self, timeout_ms: int = 180_000) -> dict[str, Any]:
        return self._wait(
            lambda s: s["running"] == 0 and s["status"] == "idle", timeout_ms, "every cell to finish", settle_s=0.6
        )

    def run_code_cell(self, index: int, timeout_ms: int = 180_000) -> str:
        """Select the ``index``-th code cell, press Shift+Enter, wait until it ran; returns its prompt."""
        prompt = self.code_cells().nth(index).locator(".jp-InputPrompt")
        before = prompt.inner_text().strip()
        prompt.click()
        self.page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            now = prompt.inner_text().strip()
            if "*" in now or now != before:
                break
            self.page.wait_for_timeout(100)
        self.wait_idle(timeout_ms)
        return prompt.inner_text().strip()

    def interrupt(self) -> None:
        self.command("Kernel", "kernelmenu:interrupt")
        self.wait_idle(60_000)

    def restart_kernel(self) -> None:
        """Kernel > Restart Kernel..., confirmed in the dialog."""
        self.command("Kernel", "kernelmenu:restart")
        self.page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
        self.page.locator(".jp-Dialog").wait_for(state="detached")
        self._wait(lambda s: s["status"] == "idle", 60_000, "the restarted kernel to be idle", settle_s=0.5)

    def cells(self) -> Any:
        return self.panel.locator(".jp-Notebook .jp-Cell")

    def code_cells(self) -> Any:
        return self.panel.locator(".jp-Notebook .jp-CodeCell")

    def images(self) -> list[dict[str, Any]]:
        """Every image in the notebook's outputs: its decoded size and a short fingerprint of its data."""
        return self.panel.locator(".jp-OutputArea-output img").evaluate_all(
            "imgs => imgs.map(i => ({w: i.naturalWidth, h: i.naturalHeight, complete: i.complete,"
            " src: i.src.length + ':' + i.src.slice(-64)}))"
        )

    def error_outputs(self) -> list[str]:
        """The text of every error or stderr output shown in the notebook."""
        return self.panel.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).all_inner_texts()
