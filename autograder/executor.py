"""nbgrader's Execute with the limits of one submission (as nbgrader keeps its own execute preprocessor apart).

``GuardedExecute`` runs a notebook in a kernel under a wall-clock deadline, a memory limit (the kernel as the
machine charges it, autograder/supervisor.py), a limit on what its cells print or display and on what it
writes into its working folder, on top of nbgrader's per-cell timeout. It recovers from a kernel that died, ran
out of memory or ignored an interrupt (the kernel is restarted, the cells above are run again, and grading
goes on after the cell that failed, so a submission keeps the points it can still earn), checks the kernel
guard (autograder/kernel_guard.py) before every test cell, and starts every kernel in the sandbox
(autograder/sandbox.py) when the driver gives it one. What happened is one ``RunReport`` (autograder/records.py)
per notebook, appended to ``GuardedExecute.report_path`` for the unit (autograder/unit.py).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import json
import os
import secrets
import time
from queue import Empty

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade, is_locked, is_solution
from traitlets import Bool, Dict, Float, Integer, Unicode

from autograder import cgroups
from autograder.config import CONFIG
from autograder.records import CellError, Event, Finding, RunReport
from autograder.supervisor import TreeMemory, Watchdog, kill_tree

GUARD_EXTENSION = "autograder.kernel_guard"

_STOP_TEXT = {
    "timeout": "the submission ran past its time limit of {wall:.0f} s",
    "memory": "the kernel used more than {memory:.0f} MB of memory",
    "output": "the cells printed or displayed more than {output:.0f} MB in all",
    "disk": "the submission wrote more than {disk:.0f} MB into its folder",
    "died": "the kernel died (the process stopped)",
    "unresponsive": "the cell ran past the per-cell limit of {cell:.0f} s and ignored the interrupt",
}
_ENAME = {
    "timeout": "TimeLimitExceeded",
    "memory": "MemoryLimitExceeded",
    "output": "OutputLimitExceeded",
    "disk": "DiskLimitExceeded",
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
    memory_limit_mb = Float(
        0.0, help="Kill the kernel above this many MB, as the machine charges it (cgroup or PSS; 0: no limit)"
    ).tag(config=True)
    output_limit_mb = Float(0.0, help="Stop the kernel once its cells printed or displayed this many MB").tag(
        config=True
    )
    disk_limit_mb = Float(0.0, help="Stop the kernel once its working folder holds this many MB").tag(config=True)
    max_restarts = Integer(CONFIG.max_restarts, help="Kernel restarts per notebook after a death or a stuck cell").tag(
        config=True
    )
    guard = Bool(True, help="Load autograder.kernel_guard into the kernel and check it before test cells").tag(
        config=True
    )
    report_path = Unicode("", help="Append one JSON line per notebook describing the run").tag(config=True)
    sandbox = Unicode(
        "", help="A sandbox spec (JSON, autograder/sandbox.py): start every kernel inside bubblewrap; empty: no sandbox"
    ).tag(config=True)
    kernel_env = Dict(
        value_trait=Unicode(),
        help="Variables every kernel gets where this process's environment does not set them (config.kernel_env)",
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
        self.run_info = RunReport(notebook=nbgrader_info.get("notebook", ""))
        self.sandbox_spec = None
        memory_cgroup = ""
        if self.sandbox:
            from autograder import sandbox

            self.sandbox_spec = sandbox.Spec.read(self.sandbox)
            self.kernel_manager_class = sandbox.SandboxedAsyncKernelManager
            self.run_info.sandbox = "on"
            memory_cgroup = self.sandbox_spec.memory_cgroup
        self.folder = str((resources or {}).get("metadata", {}).get("path") or "")
        self.output_bytes = 0
        self.watchdog = Watchdog(
            self.deadline,
            self.memory_limit_mb,
            memory=TreeMemory(memory_cgroup),
            folder=self.folder,
            disk_limit_mb=self.disk_limit_mb,
        )
        self.run_info.memory = self.watchdog.memory.source
        self.watchdog.start()
        self._oom_seen = self._oom_kills()
        started = time.perf_counter()
        try:
            self._execute_notebook()
        finally:
            self.watchdog.stop()
            with contextlib.suppress(Exception):
                self._shutdown()
            self.run_info.peak_mb = round(self.watchdog.peak_mb, 1)
            self.run_info.output_mb = round(self.output_bytes / 1e6, 2)
            self.run_info.seconds = round(time.perf_counter() - started, 2)
            self.run_info.errors = self._cell_errors()
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
        self.start_new_kernel(env={**self.kernel_env, **os.environ})  # jupyter_client copies os.environ the same way
        self.start_new_kernel_client()
        pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
        self.watchdog.attach(pid)
        info = self.wait_for_reply(self.kc.kernel_info())
        if info:
            self.nb.metadata["language_info"] = info["content"]["language_info"]
        if self.guard:
            self.run_info.guard = "ok" if self._guard_call(startup=True) == "ok" else "unavailable"

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
        return cgroups.oom_kills(spec.memory_cgroup) if spec is not None else 0

    def _death(self) -> str:
        """Why the kernel died: the watchdog's reason, the memory cgroup's OOM killer, or "died"."""
        reason = self.watchdog.take_reason()
        if reason:
            return reason
        if self.watchdog.disk_full():  # a file reached the size limit (RLIMIT_FSIZE) before the watchdog looked
            return "disk"
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

    # ------------------------------------------------------------------ output
    def process_message(self, msg: dict, cell: NotebookNode, cell_index: int):
        """nbclient's handler of every kernel message, counting what the cells print or display: past
        ``output_limit_mb`` the kernel is stopped (reason "output") and nothing more is kept."""
        if msg.get("msg_type") not in ("status", "execute_input") and self.output_limit_mb:
            if self.output_bytes > self.output_limit_mb * 1e6:
                return None
            self.output_bytes += _size(msg.get("content"))
            if self.output_bytes > self.output_limit_mb * 1e6:
                self.watchdog.trip("output")
                return None
        return super().process_message(msg, cell, cell_index)

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
                self.run_info.events.append(Event("guard-timeout"))
            return "silent"
        result = reply.get("content", {}).get("user_expressions", {}).get("guard", {})
        try:
            payload = json.loads(ast.literal_eval(result["data"]["text/plain"]))
            ok = payload["nonce"] == nonce and payload["installed"] is True
        except (KeyError, TypeError, ValueError, SyntaxError):
            payload, ok = {}, False
        if ok:
            self.run_info.findings.extend(_findings(payload.get("findings", [])))
            return "ok"
        if not startup and self.run_info.guard == "ok":
            self.run_info.findings.append(Finding("flag", "stopped the grader's guard from running before a test cell"))
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
            if self.run_info.stopped:
                self._mark_not_run(cell)
                index += 1
                continue
            guard = "ok"
            if self.guard and is_grade(cell) and self.run_info.guard == "ok":
                guard = self._guard_call()
            failure = None
            try:
                self.execute_cell(cell, index, store_history=True)
                cell = cells[index]
                if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
                    self.run_info.cell_timeouts.append(cell_label(cell, index))
                    if not self._responsive():
                        self._kill()
                        failure = self.watchdog.take_reason() or "unresponsive"
            except DeadKernelError:
                failure = self._death()
            except CellTimeoutError:  # the reply came but its output did not (iopub timeout)
                cell.outputs.append(
                    error_output("OutputTimeout", "the kernel's output for this cell did not arrive in time")
                )
            if not failure and self.watchdog.disk_full():
                # the cell filled the folder before the watchdog looked (a write that hit RLIMIT_FSIZE raises
                # EFBIG, which the cell may catch and go on): the same stop as the watchdog's
                self._kill()
                self.watchdog.take_reason()
                failure = "disk"
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
        guarded = self.guard and self.run_info.guard == "ok"
        if not self.run_info.stopped and guarded and self.kc is not None:
            self._guard_call()  # collect what the last cells did

    def _stop(self, reason: str, label: str | None, index: int) -> None:
        self.run_info.stopped = reason
        self.run_info.stopped_at = label
        with contextlib.suppress(Exception):
            self._shutdown()

    def _explain(self, reason: str) -> str:
        return _STOP_TEXT.get(reason, reason).format(
            wall=self.wall_limit or 0,
            memory=self.memory_limit_mb or 0,
            cell=self.timeout or 0,
            output=self.output_limit_mb or 0,
            disk=self.disk_limit_mb or 0,
        )

    def _recover(self, reason: str, index: int) -> None:
        cell = self.nb.cells[index]
        label = cell_label(cell, index)
        self.run_info.events.append(Event(reason, label))
        can_restart = (
            reason not in ("timeout", "output", "disk")
            and not self.watchdog.expired()
            and self.run_info.restarts < self.max_restarts
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
        self.run_info.restarts += 1
        with contextlib.suppress(Exception):
            self._shutdown()
        try:
            self._start()
            if not self._replay(index):
                raise DeadKernelError("replay failed")
        except DeadKernelError:
            second = self._death()
            self.run_info.events.append(Event(second, "replay"))
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
        reason = self.run_info.stopped
        where = self.run_info.stopped_at or "an earlier cell"
        text = f"not run: {self._explain(reason)} while running {where}"
        cell.outputs = (
            [error_output("NotRun", text)]
            if is_grade(cell)
            else [NotebookNode(output_type="stream", name="stdout", text=f"({text})\n")]
        )

    def _cell_errors(self) -> list[CellError]:
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
                    out.append(CellError(label, kind, ename, evalue))
                    break
        return out

    def _write_report(self) -> None:
        if not self.report_path:
            return
        with open(self.report_path, "a", encoding="utf-8") as handle:
            handle.write(self.run_info.to_json() + "\n")


def _size(content: object) -> int:
    """About how many bytes a message's content keeps in the notebook."""
    if isinstance(content, str):
        return len(content)
    if isinstance(content, dict):
        return sum(_size(v) for v in content.values())
    if isinstance(content, list | tuple):
        return sum(_size(v) for v in content)
    return 8


def _findings(entries: list) -> list[Finding]:
    """The guard's findings; the kernel answered them, so a malformed one is itself a finding."""
    out = []
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("kind"), str) and isinstance(entry.get("msg"), str):
            out.append(Finding(entry["kind"], entry["msg"]))
        else:
            out.append(Finding("flag", f"the kernel answered the guard with a malformed finding: {str(entry)[:80]}"))
    return out
