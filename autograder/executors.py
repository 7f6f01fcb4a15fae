"""Where the units run, behind one protocol, and the one rule for a unit that fails.

An ``Executor`` takes students' Jobs (autograder/unit.py) and yields one ``Attempt`` per unit that finished:
the unit's Outcome, or why it failed. ``LocalExecutor`` runs the units in worker threads of this process
(each unit's nbgrader is a process of its own); ``DaskExecutor`` (autograder/cluster.py) on the workers of a
Dask cluster. ``run_units`` is the coordinator's loop for both: it applies each Outcome (the gradebook merge
and autograded/, ``Grader.apply``), and decides the retry once: a unit that failed gets one more try, then
its student is ``error`` (``checks.grader_error``) and keeps their previous grades; an executor can say that
a failure must not be retried (Dask already retried a lost worker).
"""

from __future__ import annotations

import os
import queue
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from autograder.checks import grader_error
from autograder.records import Outcome, Result
from autograder.unit import CANCEL, Job, grade_unit

if TYPE_CHECKING:
    from autograder.coordinator import Grader

TRIES = 2  # a unit that fails (not its submission: the unit itself) is run once more


@dataclass
class Attempt:
    """One finished unit: its Outcome, or the failure (text and traceback) and whether to try it again."""

    student: str
    outcome: Outcome | None = None
    failure: str = ""
    log: str = ""
    where: str = "local"
    retry: bool = True  # False: the executor already retried it (a Dask worker lost twice)
    notes: list[str] = field(default_factory=list)  # for the student's Result (e.g. a lost worker)


class Executor(Protocol):
    """Runs units; see the module docstring."""

    remote: bool  # the units run on other machines (they stage in their own temporary folders)
    thread_env: dict[str, str]  # each kernel's thread pools (config.thread_env), {} to keep the defaults

    def submit(self, job: Job) -> None: ...

    def attempts(self) -> Iterator[Attempt]:
        """Yields an Attempt per submitted unit as it finishes, until none is running."""
        ...

    def close(self) -> None: ...


def failure_of(exc: BaseException) -> tuple[str, str]:
    return f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc))[-6000:]


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class LocalExecutor:
    """Units in `jobs` worker threads of this process."""

    remote = False

    def __init__(self, jobs: int, thread_env: dict[str, str] | None = None) -> None:
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grader")
        self.thread_env = thread_env or {}
        self.done: queue.Queue[Attempt] = queue.Queue()
        self.running = 0
        self.lock = threading.Lock()

    def submit(self, job: Job) -> None:
        with self.lock:
            self.running += 1
        future = self.pool.submit(grade_unit, job)
        future.add_done_callback(lambda f, name=job.student: self.done.put(self._attempt(name, f)))

    @staticmethod
    def _attempt(name: str, future: Future) -> Attempt:
        try:
            return Attempt(name, future.result())
        except BaseException as exc:  # one student's failure must not stop the class
            text, log = failure_of(exc)
            return Attempt(name, failure=text, log=log)

    def attempts(self) -> Iterator[Attempt]:
        while True:
            with self.lock:
                if not self.running:
                    return
            attempt = self.done.get()
            with self.lock:
                self.running -= 1
            yield attempt

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def run_units(
    executor: Executor, grader: Grader, names: list[str], on_result: Callable[[Result], None]
) -> dict[str, Result]:
    """Grade `names` on `executor` for `grader` (a coordinator.Grader); one Result per student (module docstring)."""
    tries: dict[str, int] = {}
    failures: dict[str, str] = {}
    results: dict[str, Result] = {}

    def submit(name: str) -> None:
        tries[name] = tries.get(name, 0) + 1
        job = grader.job(name, remote=executor.remote)
        job.thread_env = executor.thread_env
        executor.submit(job)

    try:
        for name in names:
            submit(name)
        for attempt in executor.attempts():
            name = attempt.student
            result = None
            if attempt.outcome is not None:
                try:
                    result = grader.apply(attempt.outcome)
                except Exception as exc:  # the coordinator's own failure: the same rule
                    attempt.failure, attempt.log = failure_of(exc)
            if result is None:
                if attempt.retry and tries[name] < TRIES and not CANCEL.is_set():
                    failures[name] = attempt.failure
                    submit(name)
                    continue
                result = Result(name, max_score=grader.max_score, where=attempt.where)
                detail = f"the driver failed: {attempt.failure}" if attempt.retry else attempt.failure
                grader_error(result, detail, attempt.log)
            elif tries[name] > 1:
                result.notes.append(f"graded on a second try; the first failed: {failures.get(name, '')}")
            result.notes.extend(attempt.notes)
            results[name] = result
            on_result(result)
    except BaseException:
        CANCEL.set()
        raise
    finally:
        executor.close()
    return results
