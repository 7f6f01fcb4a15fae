"""Grading on an existing Dask cluster (``make grade ASSIGNMENT=a DASK=tcp://host:8786``).

The coordinator (this process) makes every student's Job (autograder/unit.py: the submission as bytes, a copy
of the gradebook, nbgrader's non-notebook source files) and ``DaskExecutor`` submits ``grade_unit`` for it to
the cluster; a worker needs nothing but the course's environment. Each Outcome is written into the gradebook
and autograded/ here, as it arrives, by the coordinator's loop (autograder/executors.py, ``run_units``).

Lost workers: Dask reschedules the tasks of a worker that dies or is lost. For the length of a run the
scheduler's ``allowed_failures`` is set to 1 (and then put back), so a submission whose worker dies gets
exactly one more try elsewhere; if that worker dies too, Dask raises KilledWorker and the submission is
reported as ``error`` with the reason, its previous grades kept. A failure of the unit itself (not of the
submission) is submitted once more by ``run_units``, the same rule as locally. The rest of the class is
unaffected.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from autograder.executors import Attempt, failure_of
from autograder.unit import Job, grade_unit

# One retry: a task whose worker dies once runs again elsewhere; a second death is KilledWorker.
ALLOWED_FAILURES = 1


def _set_allowed_failures(value: int, dask_scheduler=None) -> int:  # Dask passes the Scheduler
    """Run on the scheduler: set its allowed_failures, return the previous value."""
    previous = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = value
    return previous


def _deaths(key: str, dask_scheduler=None) -> int:  # Dask passes the Scheduler
    """Run on the scheduler: how many workers died while running the task `key`."""
    state = dask_scheduler.tasks.get(key)
    return state.suspicious if state is not None else 0


def local_cluster(workers: int):  # a distributed.LocalCluster, imported lazily
    """A scheduler and `workers` single-threaded worker processes on 127.0.0.1, no dashboard (what the bench and
    the tests grade on; a real cluster is started with `dask scheduler` and `dask worker`, see the README). No
    Dask memory limit: the grader limits each submission's memory itself. Close it (or use it as a context)."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit=0,
        silence_logs=50,
    )


def connect(address: str, timeout: float = 20.0):  # distributed.Client, imported lazily
    """A client of the scheduler at `address`, or a ValueError that says what to check."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - distributed is pinned in environment.yml
        raise ValueError("DASK= needs the distributed package: run `make setup`") from exc
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ValueError(
            f"no Dask scheduler answered at {address} ({type(exc).__name__}: {exc}); start one with "
            f"`dask scheduler` and workers with `dask worker {address}` (see the README's instructor guide)"
        ) from exc


class DaskExecutor:
    """The units on the workers of the Dask cluster at `address` (autograder/executors.py's protocol); for the
    length of its life, the scheduler's allowed_failures is ALLOWED_FAILURES (then put back)."""

    remote = True
    thread_env: dict[str, str] = {}  # a worker's kernels keep their machine's defaults

    def __init__(self, address: str) -> None:
        self.address = address
        self.client = connect(address)
        self.run = uuid.uuid4().hex[:8]
        self.tries: dict[str, int] = {}
        self.pending: dict = {}
        self.queue = None
        try:
            self.previous = self.client.run_on_scheduler(_set_allowed_failures, ALLOWED_FAILURES)
        except Exception as exc:  # a scheduler that refuses run_on_scheduler still grades
            self.previous = None
            print(
                f"the Dask scheduler refused to set allowed_failures ({type(exc).__name__}: {exc}): a submission "
                "whose worker dies is retried as often as its own setting allows "
                "(distributed.scheduler.allowed-failures)",
                flush=True,
            )
        if not self.client.scheduler_info().get("workers", {}):
            print(f"the Dask scheduler at {address} has no worker yet: submissions wait for one", flush=True)

    def submit(self, job: Job) -> None:
        from distributed import as_completed

        name = job.student
        self.tries[name] = self.tries.get(name, 0) + 1
        key = f"losslab-grade-{self.run}-{name}-{self.tries[name]}"
        future = self.client.submit(grade_unit, job, key=key, pure=False)
        self.pending[future] = name
        if self.queue is None:
            self.queue = as_completed([future])
        else:
            self.queue.add(future)

    def attempts(self) -> Iterator[Attempt]:
        from distributed import KilledWorker

        for future in self.queue or []:
            name = self.pending.pop(future)
            try:
                deaths = self.client.run_on_scheduler(_deaths, future.key)
            except Exception:  # only the note about a lost worker depends on it
                deaths = 0
            try:
                outcome = future.result()
            except KilledWorker as exc:
                where = str(getattr(exc.last_worker, "address", exc.last_worker))
                attempt = Attempt(
                    name,
                    failure=(
                        f"the Dask worker grading it was lost {ALLOWED_FAILURES + 1} times (last: {where}); "
                        "previous grades, if any, are kept"
                    ),
                    where=where,
                    retry=False,
                )
            except Exception as exc:  # the unit itself failed: run_units decides
                text, log = failure_of(exc)
                attempt = Attempt(name, failure=f"on Dask: {text}", log=log)
            else:
                attempt = Attempt(name, outcome, where=outcome.where)
                if deaths:
                    attempt.notes.append(f"its Dask worker was lost during grading; graded again on {outcome.where}")
            future.release()
            yield attempt

    def close(self) -> None:
        try:
            self.client.cancel(list(self.pending))
            if self.previous is not None:
                self.client.run_on_scheduler(_set_allowed_failures, self.previous)
        finally:
            self.client.close()
