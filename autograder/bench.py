"""``make bench``'s grading section: what grading costs, against the budgets in docs/design.md.

- **Overhead**: one submission (the warm-up's solution) executed plainly, top to bottom in a fresh kernel
  (as ``tests.tools.bench`` runs notebooks), against the same submission graded by ``autograder.coordinator`` (nbgrader
  autograde in a worker, the limits, the kernel guard, the gradebook merge). Goal: at most 15 % more. The
  one-time costs of a grading run (recording the assignment, feedback, export) are reported apart.
- **Sandbox**: the same submission graded with the sandbox on (every kernel in bubblewrap, autograder/sandbox.py,
  as ``make grade`` does where it can) and off; goal: at most 5 % more per submission. Whole gradings vary by
  more than that on a loaded machine, so the sandbox's own cost is also measured where it is paid: a kernel
  started and the warm-up's imports run, in the sandbox and out of it, alternately (``--kernel-starts``).
- **Parallelism**: N submissions (default 10) graded one after another (``--jobs 1``) and in parallel (one
  worker per core), in rounds (default 2) whose order alternates (1 worker then N workers, then N then 1, ...):
  this machine's speed drifts by 10 % or more within minutes, and measuring all of one setting before the other
  would charge the drift to one of them. The speed-up is the total of the one-worker runs over the total of the
  parallel ones; each round's own ratio is printed beside it, to show the spread. Goal: about 2x faster on 2
  cores. Beside it, the machine's own ceiling, with no grader at all: the solution executed plainly alone and as
  many at once as there are workers, each kernel with the thread limits the grader gives it
  (``--ceiling-repeat``). Kernels that share a machine slow each other down (caches,
  memory bandwidth, a virtual machine's neighbors); the ceiling says how much of the shortfall is the machine's.
- **Dask**: as many submissions as the parallel runs graded in all (20 by default), graded through a local Dask
  cluster (a scheduler and one single-threaded worker process per core on 127.0.0.1, as ``make grade DASK=``
  would use a real one), against the local parallel runs (which pay a run's one-time costs once per round).
  Goal: within 10 % of them (``--no-dask`` skips it).

Results print as a table and go to bench/grading.json. ``python -m autograder.bench --submissions 4`` is a
quicker look; ``python -m tests.tools.bench grading`` runs this section alone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder import cgroups, sandbox
from autograder.config import CONFIG, REPO, SOLUTIONS, Limits, thread_env
from autograder.coordinator import grade
from autograder.executors import default_jobs

OUT = REPO / "bench"
OVERHEAD_BUDGET = 0.15
SANDBOX_BUDGET = 0.05
DASK_BUDGET = 0.10  # a Dask run against the local parallel run
SPEEDUP_GOAL_PER_CORE = 0.9  # "about 2x" on 2 cores: at least 1.8x


def _submit(root: Path, assignment: str, students: list[str]) -> None:
    sources = sorted((SOLUTIONS / assignment).glob("*_exercise.ipynb"))
    for student in students:
        folder = root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for path in sources:
            shutil.copyfile(path, folder / path.name)


def _timed_grade(
    assignment: str,
    count: int,
    jobs: int,
    limits: Limits,
    feedback: bool,
    box: sandbox.Decision | str = "off",
    dask: str | None = None,
) -> tuple[float, list]:
    with tempfile.TemporaryDirectory(prefix="losslab-bench-") as tmp:
        root = Path(tmp)
        _submit(root, assignment, [f"student{i:02d}" for i in range(count)])
        started = time.perf_counter()
        results = grade(assignment, root=root, jobs=jobs, feedback=feedback, limits=limits, sandbox_mode=box, dask=dask)
        return time.perf_counter() - started, results


def speedup_rounds(
    assignment: str, count: int, jobs: int, limits: Limits, box: sandbox.Decision, rounds: int
) -> tuple[list[float], list[float], list]:
    """`count` submissions graded with one worker and with `jobs` workers, `rounds` times each, the order
    alternating per round (ABBA: 1, jobs | jobs, 1 | 1, jobs ...). Returns (seconds of each one-worker run, of
    each parallel run, every Result)."""
    sequential: list[float] = []
    parallel: list[float] = []
    results: list = []
    for index in range(max(1, rounds)):
        for workers in (1, jobs) if index % 2 == 0 else (jobs, 1):
            seconds, graded = _timed_grade(assignment, count, workers, limits, feedback=False, box=box)
            (sequential if workers == 1 else parallel).append(seconds)
            results += graded
            print(f"    round {index + 1}: {count} submissions, {workers} worker(s)   {seconds:8.1f} s", flush=True)
    return sequential, parallel, results


def dask_grading(assignment: str, count: int, workers: int, limits: Limits, box: sandbox.Decision) -> tuple:
    """(seconds, results) of `count` submissions graded on a local Dask cluster of `workers` processes."""
    from autograder.cluster import local_cluster

    with local_cluster(workers) as cluster:
        return _timed_grade(assignment, count, workers, limits, feedback=False, box=box, dask=cluster.scheduler_address)


def plain_execution(assignment: str) -> float:
    """Seconds to run the solution notebook(s) top to bottom in a fresh kernel each, as a learner would, with a
    grading kernel's environment (autograder/config.py ``kernel_env``: the grader's settings, not its work)."""
    paths = sorted((SOLUTIONS / assignment).glob("*_exercise.ipynb"))
    return sum(_execute(path, dict(CONFIG.kernel_env), sample=True) for path in paths)


def _execute(path: Path, env: dict[str, str], sample: bool = False) -> float:
    """Seconds to execute `path` top to bottom in a fresh kernel with `env` added to its environment, each cell
    within the grader's limit (nothing sampled beside it unless `sample`)."""
    from tests.tools.runner import run_notebook

    run = run_notebook(path, timeout=CONFIG.cell_timeout_s, sample=sample, env=env)
    if not run.ok:
        raise RuntimeError(f"{path.name} failed to execute: {run.error}")
    return run.seconds


def machine_ceiling(assignment: str, jobs: int, repeat: int) -> tuple[list[float], list[float], float]:
    """The speed-up `jobs` workers could reach on this machine with no grader: the solution's first notebook
    executed plainly in a grading kernel's environment (autograder/config.py ``kernel_env``), alone (the
    libraries' thread defaults, as one grading worker leaves them) and `jobs` at once (each with the thread limits
    the grader sets, autograder/config.py ``thread_env``), alternately, `repeat` times each. Returns (seconds
    alone, seconds of each execution at once, ceiling = jobs x alone / at once, from the medians)."""
    path = sorted((SOLUTIONS / assignment).glob("*_exercise.ipynb"))[0]
    alone: list[float] = []
    together: list[float] = []
    kernel_env = dict(CONFIG.kernel_env)
    shared = kernel_env | thread_env(default_jobs(), jobs)
    for _ in range(max(1, repeat)):
        alone.append(_execute(path, kernel_env))
        with ThreadPoolExecutor(jobs) as pool:
            together += list(pool.map(lambda _: _execute(path, shared), range(jobs)))
    median = lambda values: sorted(values)[len(values) // 2]  # noqa: E731
    return alone, together, jobs * median(alone) / median(together)


def kernel_start(boxed: bool, work: Path) -> float:
    """Seconds to start a kernel (in the sandbox or not), run the warm-up's imports in it, and shut it down."""
    from jupyter_client.manager import KernelManager

    group = cgroups.make_cgroup(f"bench-{time.time_ns()}", CONFIG.memory_mb) if boxed else None
    started = time.perf_counter()
    try:
        if group is not None:
            spec = sandbox.plan(sandbox.find_bwrap(), REPO, work / "guard.jsonl", group)
            km = sandbox.SandboxedKernelManager(kernel_name="python3")
            km.sandbox_setup(spec)
        else:
            km = KernelManager(kernel_name="python3")
        # as grading kernels: no history file (the user's one is shared, and its lock would be timed too)
        km.start_kernel(cwd=str(work), extra_arguments=["--HistoryManager.hist_file=:memory:"])
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=CONFIG.cell_timeout_s)
        reply = client.execute_interactive(
            "import losslab, math, keras, numpy as np\nlosslab.quiet()", timeout=CONFIG.cell_timeout_s
        )
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"the kernel failed: {reply['content']}")
        client.stop_channels()
        km.shutdown_kernel(now=False)
        return time.perf_counter() - started
    finally:
        if group is not None:
            km.sandbox_cleanup()
            group.remove()


def sandbox_cost(repeat: int) -> tuple[list[float], list[float]]:
    """Kernel starts with and without the sandbox, alternately (`repeat` of each)."""
    boxed, plain = [], []
    with tempfile.TemporaryDirectory(prefix="losslab-bench-") as tmp:
        work = Path(tmp)
        (work / "guard.jsonl").touch()
        for index in range(2 * repeat):
            (boxed if index % 2 == 0 else plain).append(kernel_start(index % 2 == 0, work))
    return boxed, plain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="00_warmup")
    parser.add_argument("--submissions", type=int, default=10, help="submissions per grading run")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="one-worker and parallel runs of the speed-up, alternating in order (default %(default)s each)",
    )
    parser.add_argument("--jobs", type=int, default=None, help="parallel workers (default: one per core)")
    parser.add_argument("--repeat", type=int, default=1, help="repeat the overhead measurement (median)")
    parser.add_argument(
        "--kernel-starts",
        type=int,
        default=5,
        help="kernel starts in and out of the sandbox for its cost (default %(default)s each)",
    )
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask figure")
    parser.add_argument(
        "--ceiling-repeat",
        type=int,
        default=2,
        help="plain executions alone and at once for the machine's ceiling (default %(default)s each; 0: skip)",
    )
    args = parser.parse_args(argv)
    jobs = args.jobs or default_jobs()
    limits = Limits(wall_s=CONFIG.self_grade_wall_s)
    print(
        f"grading bench: {args.assignment}, {args.submissions} submissions, {jobs} workers "
        f"(the machine's load inflates every figure; compare runs on the same machine)",
        flush=True,
    )

    box = sandbox.decide("auto")
    print(f"  {box.line()}", flush=True)
    plains, graded_workers, graded_totals, unboxed = [], [], [], []
    median = lambda values: sorted(values)[len(values) // 2]  # noqa: E731
    for _ in range(max(1, args.repeat)):
        plains.append(plain_execution(args.assignment))
        total, results = _timed_grade(args.assignment, 1, 1, limits, feedback=True, box=box)
        if results[0].status != "ok":
            print(f"the solution did not grade cleanly: {results[0].status} {results[0].detail}")
            return 1
        graded_workers.append(results[0].seconds)
        graded_totals.append(total)
        if box.active:
            unboxed.append(_timed_grade(args.assignment, 1, 1, limits, feedback=False, box="off")[1][0].seconds)
    plain, worker, whole = median(plains), median(graded_workers), median(graded_totals)
    overhead = worker / plain - 1
    print(f"  plain execution of one submission      {plain:8.1f} s")
    print(
        f"  grading it (worker: autograde + merge)   {worker:8.1f} s   overhead {overhead:+.0%} "
        f"(goal <= {OVERHEAD_BUDGET:.0%}){'' if overhead <= OVERHEAD_BUDGET else '  OVER BUDGET'}"
    )
    sandbox_overhead = None
    if unboxed:
        sandbox_overhead = worker / median(unboxed) - 1
        print(
            f"  the same without the sandbox             {median(unboxed):8.1f} s   sandbox overhead "
            f"{sandbox_overhead:+.1%} (goal <= {SANDBOX_BUDGET:.0%})"
            f"{'' if sandbox_overhead <= SANDBOX_BUDGET else '  OVER BUDGET'}"
        )
    start_cost = None
    if box.active and args.kernel_starts > 0:
        boxed, bare = sandbox_cost(args.kernel_starts)
        start_cost = median(boxed) - median(bare)
        share = start_cost / worker
        print(
            f"  a kernel start + the imports, in / out of the sandbox   {median(boxed):6.2f} s / "
            f"{median(bare):6.2f} s "
            f"(median of {args.kernel_starts}): {start_cost:+.2f} s per kernel, {share:+.1%} of a submission's "
            f"grading (goal <= {SANDBOX_BUDGET:.0%}){'' if share <= SANDBOX_BUDGET else '  OVER BUDGET'}",
            flush=True,
        )
    print(f"  one-time costs of a run (release, feedback, export)   {whole - worker:8.1f} s", flush=True)

    print(f"  the speed-up: {args.rounds} round(s) of {args.submissions} submissions, 1 worker and {jobs}", flush=True)
    sequential_runs, parallel_runs, speed_results = speedup_rounds(
        args.assignment, args.submissions, jobs, limits, box, args.rounds
    )
    sequential, parallel = sum(sequential_runs), sum(parallel_runs)
    speedup = sequential / parallel
    per_round = [one / many for one, many in zip(sequential_runs, parallel_runs, strict=True)]
    goal = SPEEDUP_GOAL_PER_CORE * jobs
    print(
        f"  {len(sequential_runs) * args.submissions} submissions, 1 worker {sequential:8.1f} s, {jobs} workers "
        f"{parallel:8.1f} s: speed-up {speedup:.2f}x (rounds: {', '.join(f'{r:.2f}x' for r in per_round)}; "
        f"goal about {jobs}x){'' if speedup >= goal else '  BELOW GOAL'}",
        flush=True,
    )
    alone, together, ceiling = [], [], None
    if jobs > 1 and args.ceiling_repeat > 0:
        alone, together, ceiling = machine_ceiling(args.assignment, jobs, args.ceiling_repeat)
        print(
            f"  the machine's ceiling, no grader: the solution alone {sorted(alone)[len(alone) // 2]:.1f} s, "
            f"{jobs} at once {sorted(together)[len(together) // 2]:.1f} s each: at most {ceiling:.2f}x; "
            f"the grader reaches {speedup / ceiling:.0%} of it",
            flush=True,
        )
    on_dask, dask_results, dask_share = None, [], None
    if not args.no_dask:
        # as many submissions as the parallel runs graded in all (a cluster's start-up costs weigh on a short run)
        total = args.submissions * len(parallel_runs)
        on_dask, dask_results = dask_grading(args.assignment, total, jobs, limits, box)
        dask_share = on_dask / parallel - 1
        print(
            f"  {total} submissions, {jobs} Dask workers      {on_dask:8.1f} s   {dask_share:+.1%} "
            f"against {jobs} local workers' {len(parallel_runs)} runs (goal <= {DASK_BUDGET:.0%})"
            f"{'' if dask_share <= DASK_BUDGET else '  OVER BUDGET'}",
            flush=True,
        )
    bad = [r for r in speed_results + dask_results if r.status != "ok"]
    if bad:
        print(f"  {len(bad)} submission(s) did not grade cleanly: {sorted({r.status for r in bad})}")
    from tests.tools.runner import machine

    OUT.mkdir(exist_ok=True)
    record = {
        "machine": machine(),
        "assignment": args.assignment,
        "submissions": args.submissions,
        "jobs": jobs,
        "plain_s": plains,
        "graded_worker_s": graded_workers,
        "graded_run_s": graded_totals,
        "overhead": overhead,
        "sandbox": box.line(),
        "unsandboxed_worker_s": unboxed,
        "sandbox_overhead": sandbox_overhead,
        "sandbox_kernel_start_cost_s": start_cost,
        "rounds": args.rounds,
        "sequential_s": sequential,
        "parallel_s": parallel,
        "sequential_runs_s": sequential_runs,
        "parallel_runs_s": parallel_runs,
        "speedup": speedup,
        "speedup_per_round": per_round,
        "plain_alone_s": alone,
        "plain_together_s": together,
        "ceiling": ceiling,
        "dask_s": on_dask,
        "dask_over_local": dask_share,
    }
    (OUT / "grading.json").write_text(json.dumps(record, indent=1))
    print(f"written {OUT / 'grading.json'}")
    return 0 if not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
