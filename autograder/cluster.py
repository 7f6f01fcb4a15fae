"""Grading on an existing Dask cluster (``make grade ASSIGNMENT=a DASK=tcp://host:8786``).

The coordinator (this process) makes every student's Job (autograder/unit.py: the submission as bytes, a copy
of the gradebook, nbgrader's non-notebook source files) and submits ``grade_unit`` for it to the cluster; a
worker needs nothing but the course's environment. Each Outcome is written into the gradebook and autograded/
here, as it arrives, one writer at a time (``Grader.apply``).

Lost workers: Dask reschedules the tasks of a worker that dies or is lost. For the length of a run the
scheduler's ``allowed_failures`` is set to 1 (and then put back), so a submission whose worker dies gets
exactly one more try elsewhere; if that worker dies too, Dask raises KilledWorker and the submission is
reported as ``error`` with the reason, its previous grades kept. A failure of the unit itself (not of the
submission) is submitted once more, as the local grader retries it. The rest of the class is unaffected.
"""

from __future__ import annotations

import traceback
import uuid
from collections.abc import Callable

from autograder.outcome import Result
from autograder.unit import grade_unit

# One retry: a task whose worker dies once runs again elsewhere; a second death is KilledWorker.
ALLOWED_FAILURES = 1


def _set_allowed_failures(value: int, dask_scheduler=None) -> int:  # noqa: ANN001 - Dask passes the Scheduler
    """Run on the scheduler: set its allowed_failures, return the previous value."""
    previous = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = value
    return previous


def _deaths(key: str, dask_scheduler=None) -> int:  # noqa: ANN001 - Dask passes the Scheduler
    """Run on the scheduler: how many workers died while running the task `key`."""
    state = dask_scheduler.tasks.get(key)
    return state.suspicious if state is not None else 0


def local_cluster(workers: int):  # noqa: ANN201 - a distributed.LocalCluster, imported lazily
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


def connect(address: str, timeout: float = 20.0):  # noqa: ANN201 - distributed.Client, imported lazily
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


def run_on_dask(grader, names: list[str], address: str, on_result: Callable[[Result], None]) -> dict[str, Result]:  # noqa: ANN001
    """Grade `names` on the cluster at `address` with `grader` (a grade.Grader); one Result per student."""
    from distributed import KilledWorker, as_completed

    client = connect(address)
    results: dict[str, Result] = {}
    run = uuid.uuid4().hex[:8]
    try:
        previous = client.run_on_scheduler(_set_allowed_failures, ALLOWED_FAILURES)
    except Exception as exc:  # noqa: BLE001 - a scheduler that refuses run_on_scheduler still grades
        previous = None
        print(
            f"the Dask scheduler refused to set allowed_failures ({type(exc).__name__}: {exc}): a submission whose "
            "worker dies is retried as often as its own setting allows (distributed.scheduler.allowed-failures)",
            flush=True,
        )
    try:
        workers = sorted(client.scheduler_info().get("workers", {}))
        if not workers:
            print(f"the Dask scheduler at {address} has no worker yet: submissions wait for one", flush=True)
        tries: dict[str, int] = {}

        def submit(name: str):  # noqa: ANN202
            tries[name] = tries.get(name, 0) + 1
            key = f"losslab-grade-{run}-{name}-{tries[name]}"
            future = client.submit(grade_unit, grader.job(name, remote=True), key=key, pure=False)
            pending[future] = name
            return future

        pending: dict = {}
        queue = as_completed([submit(name) for name in names])
        for future in queue:
            name = pending.pop(future)
            try:
                deaths = client.run_on_scheduler(_deaths, future.key)
            except Exception:  # noqa: BLE001 - only the note about a lost worker depends on it
                deaths = 0
            try:
                outcome = future.result()
            except KilledWorker as exc:
                result = Result(name, status="error", max_score=grader.max_score)
                result.where = str(getattr(exc.last_worker, "address", exc.last_worker))
                result.detail = (
                    f"the Dask worker grading it was lost {ALLOWED_FAILURES + 1} times (last: {result.where}); "
                    "previous grades, if any, are kept"
                )
            except Exception as exc:  # noqa: BLE001 - the unit itself failed: once more, then an error
                if tries[name] < 2:
                    queue.add(submit(name))
                    continue
                result = Result(name, status="error", max_score=grader.max_score)
                result.detail = f"the driver failed twice on Dask: {type(exc).__name__}: {exc}"
                result.log = "".join(traceback.format_exception(exc))[-6000:]
            else:
                result = grader.apply(outcome)
                if deaths:
                    result.notes.append(f"its Dask worker was lost during grading; graded again on {outcome.where}")
                if tries[name] > 1:
                    result.notes.append("graded on a second try; the first failed on its worker")
            future.release()
            results[name] = result
            on_result(result)
    except BaseException:
        client.cancel(list(pending))
        raise
    finally:
        try:
            if previous is not None:
                client.run_on_scheduler(_set_allowed_failures, previous)
        finally:
            client.close()
    return results
