"""The supervisor of the grader's processes (autograder/supervisor.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from autograder import supervisor
from autograder.config import CONFIG


def test_token_scan_finds_the_run_and_survives_psutils_shared_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver's clean-up finds a grading run's processes by the token in their environment. psutil's
    process_iter shares a cache between the grader threads; a scan that raises from it is retried afresh instead
    of failing the student's finished grading (CI once lost a submission with an empty log)."""
    import time

    begin = time.time()
    mine = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], env={**os.environ, CONFIG.token_env: "run-a"}
    )
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], env={**os.environ, CONFIG.token_env: "run-b"}
    )
    try:
        time.sleep(0.3)
        real, calls = psutil.process_iter, []

        def flaky(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise KeyError("pop from an empty set")
            return real(*args, **kwargs)

        flaky.cache_clear = real.cache_clear
        monkeypatch.setattr(psutil, "process_iter", flaky)
        found = supervisor.token_processes("run-a", begin)
        assert len(calls) == 2
        assert [p.pid for p in found] == [mine.pid]
        assert supervisor.token_processes("run-c", begin) == []
    finally:
        for proc in (mine, other):
            proc.kill()
            proc.wait()


# ----------------------------------------------------------------------------------------------- memory

FORKING_KERNEL = r"""
import os, sys, time
data = bytearray(200_000_000)  # one copy, written: resident
for i in range(0, len(data), 4096):
    data[i] = 1
children = []
for _ in range(int(sys.argv[1])):
    pid = os.fork()
    if pid == 0:  # a worker that only reads what it shares with the kernel (or writes its own copy of it)
        if sys.argv[2] == "write":
            for i in range(0, len(data), 4096):
                data[i] = 2
        time.sleep(60)
        os._exit(0)
    children.append(pid)
print("ready", flush=True)
time.sleep(60)
"""


def test_a_kernel_that_forks_is_measured_once_not_once_per_process() -> None:
    """Five processes share one 200 MB buffer: the machine holds it once. RSS summed over the tree (what the
    grader measured before) reads about 1 GB and a 600 MB limit would stop it as `memory`; PSS reads ~200 MB."""
    import time

    proc = subprocess.Popen([sys.executable, "-c", FORKING_KERNEL, "4", "read"], stdout=subprocess.PIPE, text=True)
    watchdog = supervisor.Watchdog(memory_limit_mb=600, interval=0.1)
    try:
        assert proc.stdout.readline().strip() == "ready"
        members = [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
        assert len(members) == 5
        assert supervisor.rss_sum_mb(members) > 800  # the old measure: over the limit
        measured = supervisor.TreeMemory().read(proc.pid)
        assert 150 < measured < 450, measured
        watchdog.start()
        watchdog.attach(proc.pid)
        time.sleep(2.0)
        assert watchdog.reason is None and proc.poll() is None
        assert 150 < watchdog.peak_mb < 450, watchdog.peak_mb
    finally:
        watchdog.stop()
        supervisor.kill_tree(proc.pid)
        proc.wait()


def test_the_watchdog_still_stops_a_kernel_that_really_uses_the_memory() -> None:
    """Five processes writing a 200 MB buffer each: 1 GB that the machine holds five times over."""
    import time

    proc = subprocess.Popen([sys.executable, "-c", FORKING_KERNEL, "4", "write"], stdout=subprocess.PIPE, text=True)
    watchdog = supervisor.Watchdog(memory_limit_mb=600, interval=0.1)
    try:
        assert proc.stdout.readline().strip() == "ready"
        watchdog.start()
        watchdog.attach(proc.pid)
        for _ in range(100):
            if watchdog.reason:
                break
            time.sleep(0.1)
        assert watchdog.reason == "memory" and watchdog.peak_mb > 600
        proc.wait(timeout=10)
    finally:
        watchdog.stop()
        supervisor.kill_tree(proc.pid)
        proc.wait()


def test_memory_is_read_from_the_cgroup_when_the_submission_has_one(tmp_path: Path) -> None:
    """In its own cgroup, a submission's memory is what the kernel charges it, less the file cache it can drop."""
    (tmp_path / "memory.current").write_text(str(900_000_000))
    (tmp_path / "memory.stat").write_text("anon 600000000\nfile 300000000\ninactive_file 250000000\n")
    memory = supervisor.TreeMemory(str(tmp_path))
    assert memory.source == "cgroup" and memory.read(os.getpid()) == pytest.approx(650.0)


def test_the_backstop_adds_what_runs_outside_the_cgroup_and_reads_nothing_inside_it_twice(tmp_path: Path) -> None:
    """The driver watches nbgrader, whose kernel alone is in the submission's cgroup: the tree's memory is the
    cgroup's usage plus the PSS of the processes outside it. Here the root (outside) and its child (listed in
    the cgroup) share 200 MB, so that each one's PSS is about 100 MB; the cgroup says 650 MB."""
    proc = subprocess.Popen([sys.executable, "-c", FORKING_KERNEL, "1", "read"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        [child] = psutil.Process(proc.pid).children(recursive=True)
        (tmp_path / "memory.current").write_text(str(900_000_000))
        (tmp_path / "memory.stat").write_text("anon 600000000\nfile 300000000\ninactive_file 250000000\n")
        (tmp_path / "cgroup.procs").write_text(f"{child.pid}\n")
        assert supervisor.TreeMemory(str(tmp_path)).read(proc.pid) == pytest.approx(650.0)
        whole = supervisor.TreeMemory(str(tmp_path), whole_tree=True).read(proc.pid)
        assert 650 + 60 < whole < 650 + 180, whole  # the root's half of the 200 MB and its interpreter
        (tmp_path / "cgroup.procs").write_text("")  # nothing in the cgroup: both processes are outside
        both = supervisor.TreeMemory(str(tmp_path), whole_tree=True).read(proc.pid)
        assert both > whole + 60, (both, whole)  # now the child's half is added too
    finally:
        supervisor.kill_tree(proc.pid)
        proc.wait()
    with pytest.raises(psutil.NoSuchProcess):
        supervisor.TreeMemory(str(tmp_path), whole_tree=True).read(proc.pid)


def test_the_disk_a_folder_takes_counts_each_files_blocks_or_length_whichever_is_larger(tmp_path: Path) -> None:
    """A file of zeros takes no blocks on a compressing file system (ZFS, btrfs), and a sparse file none until it
    is copied back: both count their length, so neither slips past the disk limit."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "data.bin").write_bytes(os.urandom(3_000_000))
    assert 2.9 < supervisor.folder_mb(tmp_path) < 4.0
    with open(tmp_path / "sparse.bin", "wb") as handle:  # 10 GB that use no disk here
        handle.truncate(10_000_000_000)
    assert 10_002 < supervisor.folder_mb(tmp_path) < 10_005
