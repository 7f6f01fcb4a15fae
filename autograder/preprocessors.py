"""nbgrader preprocessors of Loss Lab's own, wired in by autograder/nbgrader_config.py.

TestCellStderr: nbgrader scores a test cell 0 when it wrote anything to stderr. Our tests fail by raising,
never by printing, so in an autograded test cell that raised no error, stderr (TensorFlow log lines,
Keras or JAX warnings, a learner's logging) is moved to stdout: still in the feedback, no longer a zero.

GuardedExecute: nbgrader's Execute with the limits of one submission (a wall-clock deadline and a memory
limit on the kernel's process tree, on top of nbgrader's per-cell timeout), recovery from a kernel that died,
ran out of memory or ignored an interrupt (the kernel is restarted, the cells above are run again, and
grading goes on after the cell that failed, so a submission keeps the points it can still earn), and the
kernel guard (autograder/kernel_guard.py) checked before every test cell. What happened is written as one
JSON line per notebook to ``GuardedExecute.report_path`` for the grading driver (autograder/grade.py).

FeedbackTracebacks and FeedbackSummary: the feedback HTML explains each failed test by its message (the
``GradingError`` or assertion text) without printing hidden test code or the checks' source
(autograder/feedback.py does the work).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import json
import os
import secrets
import threading
import time
from queue import Empty

import psutil
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from nbgrader.utils import is_grade, is_locked, is_solution
from traitlets import Bool, Float, Integer, Unicode

from autograder import feedback

GUARD_EXTENSION = "autograder.kernel_guard"


class TestCellStderr(NbGraderPreprocessor):
    """Relabel stderr as stdout in passing autograded test cells (see the module docstring)."""

    __test__ = False  # not a pytest test class

    def preprocess_cell(self, cell: NotebookNode, resources: dict, cell_index: int):
        if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
            return cell, resources
        outputs = cell.get("outputs", [])
        if any(o.output_type == "error" for o in outputs):
            return cell, resources
        for output in outputs:
            if output.output_type == "stream" and output.name == "stderr":
                output.name = "stdout"
        return cell, resources


# ----------------------------------------------------------------------------------------------- limits


def kill_tree(pid: int) -> None:
    """SIGKILL a process, its process group when it leads one (kernels do) and all its descendants."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return
    with contextlib.suppress(OSError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, 9)
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()


class Watchdog(threading.Thread):
    """Watches one kernel: kills its process tree past the deadline or above the memory limit."""

    def __init__(self, deadline: float = 0.0, memory_limit_mb: float = 0.0, interval: float = 0.1) -> None:
        super().__init__(daemon=True, name="losslab-watchdog")
        self.deadline, self.memory_limit_mb, self.interval = deadline, memory_limit_mb, interval
        self.pid: int | None = None
        self.reason: str | None = None
        self.peak_mb = 0.0
        self._children: list[psutil.Process] = []
        self._children_at = 0.0
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def attach(self, pid: int | None) -> None:
        with self._lock:
            self.pid, self.reason, self._children, self._children_at = pid, None, [], 0.0

    def take_reason(self) -> str | None:
        with self._lock:
            reason, self.reason = self.reason, None
            return reason

    def expired(self) -> bool:
        return bool(self.deadline) and time.time() >= self.deadline

    def stop(self) -> None:
        self._stop_event.set()

    def _rss_mb(self, pid: int) -> float:
        now = time.monotonic()
        root = psutil.Process(pid)
        if now - self._children_at > 1.0:  # listing children scans /proc: not every tick
            with contextlib.suppress(psutil.Error):
                self._children = root.children(recursive=True)
            self._children_at = now
        total = root.memory_info().rss
        for child in self._children:
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total / 1e6

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            with self._lock:
                pid = self.pid
                if pid is None or self.reason:
                    continue
                try:
                    rss = self._rss_mb(pid)
                except psutil.Error:
                    continue
                self.peak_mb = max(self.peak_mb, rss)
                if self.memory_limit_mb and rss > self.memory_limit_mb:
                    self.reason = "memory"
                elif self.expired():
                    self.reason = "timeout"
                else:
                    continue
            kill_tree(pid)


# ----------------------------------------------------------------------------------------------- executor

_STOP_TEXT = {
    "timeout": "the submission ran past its time limit of {wall:.0f} s",
    "memory": "the kernel used more than {memory:.0f} MB of memory",
    "died": "the kernel died (the process stopped)",
    "unresponsive": "the cell ran past the per-cell limit of {cell:.0f} s and ignored the interrupt",
}
_ENAME = {
    "timeout": "TimeLimitExceeded",
    "memory": "MemoryLimitExceeded",
    "died": "KernelDied",
    "unresponsive": "CellTimeoutError",
}


def cell_label(cell: NotebookNode, index: int) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(
        output_type="error", ename=ename, evalue=evalue, traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"]
    )


class GuardedExecute(Execute):
    """Execute with per-submission limits, kernel recovery and the kernel guard (see the module docstring)."""

    deadline = Float(0.0, help="Unix time at which the submission is stopped (0: no limit)").tag(config=True)
    wall_limit = Float(0.0, help="The per-submission limit in seconds, for messages").tag(config=True)
    memory_limit_mb = Float(0.0, help="Kill the kernel's process tree above this RSS in MB (0: no limit)").tag(
        config=True
    )
    max_restarts = Integer(2, help="Kernel restarts per notebook after a death or a stuck cell").tag(config=True)
    guard = Bool(True, help="Load autograder.kernel_guard into the kernel and check it before test cells").tag(
        config=True
    )
    report_path = Unicode("", help="Append one JSON line per notebook describing the run").tag(config=True)
    sandbox = Unicode(
        "", help="A sandbox spec (JSON, autograder/sandbox.py): start every kernel inside bubblewrap; empty: no sandbox"
    ).tag(config=True)
    interrupt_grace = Float(5.0, help="Seconds a kernel has to answer after a cell timed out").tag(config=True)
    # A cell's outputs arriving late must not fail the notebook (nbgrader's default would): the execute reply
    # decides pass or fail, and nbgrader adds its error when an output went missing.
    raise_on_iopub_timeout = Bool(False).tag(config=True)
    iopub_timeout = Integer(10).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict, retries: int | None = None):
        arguments = [a for a in self.extra_arguments if GUARD_EXTENSION not in a]
        if not any(a.startswith("--HistoryManager.hist_file") for a in arguments):
            arguments.append("--HistoryManager.hist_file=:memory:")
        if self.guard:
            arguments.append(f"--InteractiveShellApp.extra_extensions={GUARD_EXTENSION}")
        self.extra_arguments = arguments
        # what ExecutePreprocessor.preprocess does, with our own loop over the cells
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, None)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        nbgrader_info = (resources or {}).get("nbgrader", {})
        self.run_info: dict = {
            "notebook": nbgrader_info.get("notebook", ""),
            "stopped": None,
            "stopped_at": None,
            "events": [],
            "cell_timeouts": [],
            "restarts": 0,
            "guard": "off",
            "findings": [],
            "errors": [],
            "peak_mb": 0.0,
            "seconds": 0.0,
        }
        self.watchdog = Watchdog(self.deadline, self.memory_limit_mb)
        self.watchdog.start()
        self.sandbox_spec = None
        self.run_info["sandbox"] = "off"
        if self.sandbox:
            from autograder import sandbox

            self.sandbox_spec = sandbox.Spec.read(self.sandbox)
            self.kernel_manager_class = sandbox.SandboxedAsyncKernelManager
            self.run_info["sandbox"] = "on"
        self._oom_seen = self._oom_kills()
        started = time.perf_counter()
        try:
            self._execute_notebook()
        finally:
            self.watchdog.stop()
            with contextlib.suppress(Exception):
                self._shutdown()
            self.run_info["peak_mb"] = round(self.watchdog.peak_mb, 1)
            self.run_info["seconds"] = round(time.perf_counter() - started, 2)
            self.run_info["errors"] = self._cell_errors()
            self._write_report()
        self.set_widgets_metadata()
        return self.nb, self.resources

    # ------------------------------------------------------------------ kernel life
    def _start(self) -> None:
        if self.watchdog.expired():
            raise DeadKernelError("no time left")
        self.km = self.create_kernel_manager()
        if self.sandbox_spec is not None:
            self.km.sandbox_setup(self.sandbox_spec)
        self.start_new_kernel()
        self.start_new_kernel_client()
        pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
        self.watchdog.attach(pid)
        info = self.wait_for_reply(self.kc.kernel_info())
        if info:
            self.nb.metadata["language_info"] = info["content"]["language_info"]
        if self.guard:
            self.run_info["guard"] = "ok" if self._guard_call(startup=True) == "ok" else "unavailable"

    def _shutdown(self) -> None:
        self.watchdog.attach(None)
        km = getattr(self, "km", None)
        if km is not None:
            try:
                self._cleanup_kernel()
            finally:
                if hasattr(km, "sandbox_cleanup"):
                    km.sandbox_cleanup()
        self.km = None
        self.kc = None

    def _oom_kills(self) -> int:
        """Processes the sandbox's memory cgroup killed so far (0 without a sandbox or a cgroup)."""
        spec = getattr(self, "sandbox_spec", None)
        if spec is None or not spec.memory_cgroup:
            return 0
        from autograder.sandbox import Cgroup

        return Cgroup([spec.memory_cgroup]).oom_kills()

    def _death(self) -> str:
        """Why the kernel died: the watchdog's reason, the memory cgroup's OOM killer, or "died"."""
        reason = self.watchdog.take_reason()
        if reason:
            return reason
        kills = self._oom_kills()
        if kills > self._oom_seen:
            self._oom_seen = kills
            return "memory"
        return "died"

    def _kill(self) -> None:
        pid = self.watchdog.pid
        if pid:
            kill_tree(pid)

    async def _async_reply(self, msg_id: str, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=min(left, 0.5))
            except Empty:
                if not await ensure_async(self.kc.is_alive()):
                    return None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg

    _reply = run_sync(_async_reply)

    def _responsive(self) -> bool:
        return self._reply(self.kc.kernel_info(), self.interrupt_grace) is not None

    # ------------------------------------------------------------------ the guard
    def _guard_call(self, startup: bool = False) -> str:
        """Restore the kernel's guarded objects and collect findings.

        Returns "ok"; "silent" when the kernel did not answer in time (busy or dead: not the submission's
        fault as far as we know); "tampered" when it answered without the guard's nonce.
        """
        nonce = secrets.token_hex(8)
        expression = f"__import__('sys').modules[{GUARD_EXTENSION!r}].restore({nonce!r})"
        wait = 60.0 if startup else 20.0
        if self.deadline:
            wait = max(1.0, min(wait, self.deadline - time.time()))
        msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"guard": expression})
        reply = self._reply(msg_id, wait)
        if reply is None:
            if not startup:
                self.run_info["events"].append({"reason": "guard-timeout", "cell": None})
            return "silent"
        result = reply.get("content", {}).get("user_expressions", {}).get("guard", {})
        try:
            payload = json.loads(ast.literal_eval(result["data"]["text/plain"]))
            ok = payload["nonce"] == nonce and payload["installed"] is True
        except (KeyError, TypeError, ValueError, SyntaxError):
            payload, ok = {}, False
        if ok:
            self.run_info["findings"].extend(payload.get("findings", []))
            return "ok"
        if not startup and self.run_info["guard"] == "ok":
            self.run_info["findings"].append(
                {"kind": "flag", "msg": "stopped the grader's guard from running before a test cell"}
            )
        return "tampered"

    # ------------------------------------------------------------------ the loop
    def _execute_notebook(self) -> None:
        cells = self.nb.cells
        try:
            self._start()
        except DeadKernelError:
            self._stop(self._death(), None, 0)
        index = 0
        while index < len(cells):
            cell = cells[index]
            if cell.cell_type != "code" or not cell.source.strip():
                index += 1
                continue
            if self.run_info["stopped"]:
                self._mark_not_run(cell)
                index += 1
                continue
            guard = "ok"
            if self.guard and is_grade(cell) and self.run_info["guard"] == "ok":
                guard = self._guard_call()
            failure = None
            try:
                self.execute_cell(cell, index, store_history=True)
                cell = cells[index]
                if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
                    self.run_info["cell_timeouts"].append(cell_label(cell, index))
                    if not self._responsive():
                        self._kill()
                        failure = self.watchdog.take_reason() or "unresponsive"
            except DeadKernelError:
                failure = self._death()
            except CellTimeoutError:  # the reply came but its output did not (iopub timeout)
                cell.outputs.append(
                    error_output("OutputTimeout", "the kernel's output for this cell did not arrive in time")
                )
            if guard == "tampered" and is_grade(cell) and not failure:
                cell.outputs.append(
                    error_output(
                        "GraderError",
                        "the grader could not check the kernel before this test (the notebook interfered with it)",
                    )
                )
            if failure:
                self._recover(failure, index)
            index += 1
        guarded = self.guard and self.run_info["guard"] == "ok"
        if not self.run_info["stopped"] and guarded and self.kc is not None:
            self._guard_call()  # collect what the last cells did

    def _stop(self, reason: str, label: str | None, index: int) -> None:
        self.run_info["stopped"] = reason
        self.run_info["stopped_at"] = label
        with contextlib.suppress(Exception):
            self._shutdown()

    def _explain(self, reason: str) -> str:
        return _STOP_TEXT.get(reason, reason).format(
            wall=self.wall_limit or 0, memory=self.memory_limit_mb or 0, cell=self.timeout or 0
        )

    def _recover(self, reason: str, index: int) -> None:
        cell = self.nb.cells[index]
        label = cell_label(cell, index)
        self.run_info["events"].append({"reason": reason, "cell": label})
        can_restart = (
            reason != "timeout" and not self.watchdog.expired() and self.run_info["restarts"] < self.max_restarts
        )
        if can_restart:
            then = "the kernel was restarted, the cells above were run again, and grading went on after this cell"
        else:
            then = "grading stopped here: the cells below were not run"
        cell.outputs.append(
            error_output(_ENAME.get(reason, "KernelDied"), f"while running this cell, {self._explain(reason)}; {then}.")
        )
        if not can_restart:
            self._stop(reason, label, index)
            return
        self.run_info["restarts"] += 1
        with contextlib.suppress(Exception):
            self._shutdown()
        try:
            self._start()
            if not self._replay(index):
                raise DeadKernelError("replay failed")
        except DeadKernelError:
            second = self._death()
            self.run_info["events"].append({"reason": second, "cell": "replay"})
            self._stop(second, label, index)

    def _replay(self, upto: int) -> bool:
        """Run the code cells above `upto` again in the new kernel; their saved outputs stay as they were."""
        cells = self.nb.cells
        for j in range(upto):
            original = cells[j]
            if original.cell_type != "code" or not original.source.strip():
                continue
            scratch = copy.deepcopy(original)
            try:
                self.execute_cell(scratch, j, store_history=True)
                if (
                    any(o.get("ename") == "CellTimeoutError" for o in scratch.get("outputs", []))
                    and not self._responsive()
                ):
                    self._kill()
                    return False
            except DeadKernelError:
                return False
            finally:
                cells[j] = original
        return True

    def _mark_not_run(self, cell: NotebookNode) -> None:
        reason = self.run_info["stopped"]
        where = self.run_info["stopped_at"] or "an earlier cell"
        text = f"not run: {self._explain(reason)} while running {where}"
        cell.outputs = (
            [error_output("NotRun", text)]
            if is_grade(cell)
            else [NotebookNode(output_type="stream", name="stdout", text=f"({text})\n")]
        )

    def _cell_errors(self) -> list[dict]:
        out = []
        # A locked cell before the first answer is set-up (imports, data): its failure is an import error.
        # A locked cell after an answer usually runs that answer ("try it" cells), so its failure is the
        # answer's, as a blank edition's NotImplementedError is.
        answers = [i for i, c in enumerate(self.nb.cells) if c.cell_type == "code" and is_solution(c)]
        first_answer = answers[0] if answers else len(self.nb.cells)
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or is_grade(cell):
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    if is_solution(cell):
                        kind = "answer"
                    elif is_locked(cell):
                        kind = "setup" if index < first_answer else "uses-answer"
                    else:
                        kind = "added"
                    ename, evalue = output.get("ename", ""), str(output.get("evalue", ""))[:300]
                    label = cell_label(cell, index)
                    out.append({"cell": label, "kind": kind, "ename": ename, "evalue": evalue})
                    break
        return out

    def _write_report(self) -> None:
        if not self.report_path:
            return
        with open(self.report_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(self.run_info) + "\n")


# ----------------------------------------------------------------------------------------------- feedback


class FeedbackTracebacks(NbGraderPreprocessor):
    """Replace each test cell's traceback by its message and the learner's own frames (no hidden code)."""

    def preprocess(self, nb: NotebookNode, resources: dict):
        feedback.sanitize_notebook(nb)
        return nb, resources


class FeedbackSummary(NbGraderPreprocessor):
    """Insert a first cell that lists every failed test with the reason it failed."""

    def preprocess(self, nb: NotebookNode, resources: dict):
        summary = feedback.summary_markdown(nb)
        if summary:
            cell = NotebookNode(cell_type="markdown", metadata={}, source=summary, id="losslab-summary")
            nb.cells.insert(0, cell)
        return nb, resources
