"""Every process the grader runs, supervised in one place: start it, measure it, stop it.

- ``spawn`` starts a process in a session of its own (its group is killed with it);
- ``tree_memory_mb`` measures a process tree as the machine charges it: the submission's memory cgroup when it
  has one (autograder/cgroups.py: usage minus inactive file cache), else the proportional set size (PSS) summed
  over the tree. Never RSS summed: a kernel that forks shares its pages with its children, and RSS counts them
  once per process (a kernel with four idle children read five times its size);
- ``folder_mb`` is the disk a folder takes (per file, its blocks or its length, whichever is larger);
- ``kill_tree`` and ``kill_all`` end a process, its group and its descendants (and, by an environment token,
  the processes that left the tree, as a kernel in its own session does);
- ``Watchdog`` watches one kernel (a thread of the executor, autograder/executor.py): its deadline, memory and
  disk; ``supervise`` runs ``nbgrader autograde`` for the unit (autograder/unit.py) with the driver's backstop
  limits and the cap on its log, and returns an ``NbgraderRun`` record.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from autograder import cgroups
from autograder.config import CONFIG
from autograder.records import NbgraderRun

LOG_TAIL = 6000  # characters of a log kept in a Result


# ----------------------------------------------------------------------------------------------- processes


def spawn(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start `args` in a session of its own, stdout and stderr into `log`, no stdin."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


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


# psutil.process_iter keeps one cache of Process objects for the whole program and is not thread-safe: two
# grader threads scanning at once can make it raise (KeyError from its set of reused PIDs).
_SCAN_LOCK = threading.Lock()


def token_processes(token: str, since: float) -> list[psutil.Process]:
    """The processes started since `since` whose environment carries `token` (a grading run's kernels)."""
    with _SCAN_LOCK:
        try:
            procs = list(psutil.process_iter(["create_time"]))
        except Exception:  # a cleanup scan must not lose a finished grading; scan afresh
            psutil.process_iter.cache_clear()
            procs = list(psutil.process_iter(["create_time"]))
    out = []
    for proc in procs:
        created = proc.info.get("create_time")  # None when psutil could not read it
        if created is None or created < since - 1 or proc.pid == os.getpid():
            continue
        try:
            if proc.environ().get(CONFIG.token_env) == token:
                out.append(proc)
        except (psutil.Error, OSError):  # gone, a zombie, or not ours to read
            continue
    return out


def kill_all(pid: int, token: str, since: float) -> None:
    """Kill `pid`'s tree and every process of the run marked by `token`."""
    members = []
    with contextlib.suppress(psutil.Error):
        members = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for member in members + token_processes(token, since):
        kill_tree(member.pid)


# ----------------------------------------------------------------------------------------------- measures


def pss_mb(pid: int) -> float:
    """One process's proportional set size in MB (its shared pages divided among their sharers)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:  # the kernel's own sum: fast
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except (OSError, ValueError, IndexError):
        pass
    proc = psutil.Process(pid)
    try:
        return proc.memory_full_info().pss / 1e6
    except (psutil.AccessDenied, AttributeError):  # no smaps here (not Linux): the best there is
        return proc.memory_info().rss / 1e6


def rss_sum_mb(pids: list[int]) -> float:
    """RSS summed over processes: what the grader measured before, kept to show why it is wrong."""
    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            total += psutil.Process(pid).memory_info().rss
    return total / 1e6


class TreeMemory:
    """A process tree's memory as the machine charges it (see the module docstring); ``source`` says how."""

    def __init__(self, memory_cgroup: str = "", refresh_s: float = 1.0, whole_tree: bool = False) -> None:
        """`whole_tree`: the tree reaches outside the cgroup (the driver watching nbgrader, whose kernel alone is
        in it): the cgroup's usage plus the PSS of the members outside it. A TensorFlow kernel's PSS costs the
        kernel about 8 ms to add up (its mappings are large); the cgroup's counter costs nothing."""
        self.memory_cgroup, self.refresh_s, self.whole_tree = memory_cgroup, refresh_s, whole_tree
        self.source = "cgroup" if memory_cgroup else "pss"
        self._pid: int | None = None
        self._children: list[int] = []
        self._inside: set[int] = set()
        self._children_at = 0.0

    def members(self, pid: int) -> list[int]:
        now = time.monotonic()
        if pid != self._pid or now - self._children_at > self.refresh_s:  # listing children scans /proc
            self._pid, self._children_at = pid, now
            with contextlib.suppress(psutil.Error):
                self._children = [c.pid for c in psutil.Process(pid).children(recursive=True)]
            if self.memory_cgroup and self.whole_tree:
                with contextlib.suppress(OSError, ValueError):
                    procs = Path(self.memory_cgroup) / "cgroup.procs"
                    self._inside = {int(p) for p in procs.read_text().split()}
        return [pid, *self._children]

    def read(self, pid: int) -> float:
        """MB; psutil.NoSuchProcess when `pid` is gone."""
        usage = cgroups.usage_mb(self.memory_cgroup) if self.memory_cgroup else None
        if usage is not None and not self.whole_tree:
            return usage
        members = self.members(pid)
        if usage is not None and pid in self._inside:
            psutil.Process(pid)  # raises when the root is gone
        total = usage or 0.0
        for member in members:
            if usage is not None and member in self._inside:
                continue  # counted in the cgroup's usage
            if member == pid:
                total += pss_mb(pid)  # raises when the root is gone
            else:
                with contextlib.suppress(psutil.Error, OSError):
                    total += pss_mb(member)
        return total


def folder_mb(folder: str | Path) -> float:
    """The disk `folder` takes, in MB: each file's allocated blocks or its length, whichever is larger (a file of
    zeros on a compressing file system takes no blocks, and a sparse file is its full length once copied back);
    links are not followed."""
    total = 0
    stack = [str(folder)]
    while stack:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        info = entry.stat(follow_symlinks=False)
                        total += max(info.st_blocks * 512, info.st_size)
    return total / 1e6


# ----------------------------------------------------------------------------------------------- the kernel


class Watchdog(threading.Thread):
    """Watches one kernel: kills its process tree past the deadline, above the memory limit, or when its working
    folder grows past the disk limit; ``reason`` says which (memory, timeout, disk)."""

    def __init__(
        self,
        deadline: float = 0.0,
        memory_limit_mb: float = 0.0,
        interval: float = 0.1,
        memory: TreeMemory | None = None,
        folder: str = "",
        disk_limit_mb: float = 0.0,
        disk_interval: float = 0.5,
    ) -> None:
        super().__init__(daemon=True, name="losslab-watchdog")
        self.deadline, self.memory_limit_mb, self.interval = deadline, memory_limit_mb, interval
        self.memory = memory or TreeMemory()
        self.folder, self.disk_limit_mb, self.disk_interval = folder, disk_limit_mb, disk_interval
        self.pid: int | None = None
        self.reason: str | None = None
        self.peak_mb = 0.0
        self._disk_at = 0.0
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def attach(self, pid: int | None) -> None:
        with self._lock:
            self.pid, self.reason = pid, None

    def take_reason(self) -> str | None:
        with self._lock:
            reason, self.reason = self.reason, None
            return reason

    def expired(self) -> bool:
        return bool(self.deadline) and time.time() >= self.deadline

    def disk_full(self) -> bool:
        return bool(self.folder and self.disk_limit_mb) and folder_mb(self.folder) >= self.disk_limit_mb

    def stop(self) -> None:
        self._stop_event.set()

    def trip(self, reason: str) -> None:
        """Stop the kernel now for `reason` (the executor's own limits, e.g. its output)."""
        with self._lock:
            pid, self.reason = self.pid, self.reason or reason
        if pid:
            kill_tree(pid)

    def _check(self, pid: int) -> str | None:
        used = self.memory.read(pid)
        self.peak_mb = max(self.peak_mb, used)
        if self.memory_limit_mb and used > self.memory_limit_mb:
            return "memory"
        if self.expired():
            return "timeout"
        now = time.monotonic()
        if now - self._disk_at >= self.disk_interval:
            self._disk_at = now
            if self.disk_full():
                return "disk"
        return None

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            with self._lock:
                pid = self.pid
                if pid is None or self.reason:
                    continue
                try:
                    reason = self._check(pid)
                except psutil.Error:
                    continue
                if not reason:
                    continue
                self.reason = reason
            kill_tree(pid)


# ----------------------------------------------------------------------------------------------- nbgrader


def _tail(path: Path, chars: int = LOG_TAIL) -> str:
    """The end of a log, read without loading the whole file (a submission may have flooded it)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - chars * 4))
            return handle.read().decode("utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


def supervise(
    args: list[str],
    cwd: Path,
    env: dict[str, str],
    log: Path,
    token: str,
    wall_s: float,
    memory_mb: float,
    log_limit_mb: float,
    cancelled: Callable[[], bool],
    memory_cgroup: str = "",
) -> NbgraderRun:
    """Run `args` (nbgrader autograde) under the driver's backstop: killed with its whole tree (and the
    processes marked by `token`) when cancelled, `CONFIG.backstop_grace_s` past `wall_s`, `CONFIG.backstop_extra_mb`
    above `memory_mb`, or when its log (where a kernel's own stdout and stderr go) grows past `log_limit_mb`.
    `memory_cgroup`: the submission's memory cgroup, if it has one: the tree's memory is its usage plus the PSS of
    the processes outside it (nbgrader itself)."""
    begin = time.time()
    run = NbgraderRun()
    proc = spawn(args, cwd, env, log)
    memory = TreeMemory(memory_cgroup, whole_tree=True)
    last_check = 0.0
    try:
        while run.returncode is None:
            try:
                run.returncode = proc.wait(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.time()
            if cancelled():
                run.killed = "cancelled"
            elif now - begin > wall_s + CONFIG.backstop_grace_s:
                run.killed = "timeout"
            elif now - last_check >= 1.0:
                last_check = now
                with contextlib.suppress(psutil.Error):
                    used = memory.read(proc.pid)
                    run.peak_mb = max(run.peak_mb, used)
                    if memory_mb and used > memory_mb + CONFIG.backstop_extra_mb:
                        run.killed = "memory"
                with contextlib.suppress(OSError):
                    if log_limit_mb and log.stat().st_size > log_limit_mb * 1e6:
                        run.killed = "output"
            if run.killed:
                kill_all(proc.pid, token, begin)
                run.returncode = proc.wait()
    finally:
        if run.returncode is None:  # the caller itself was interrupted: its nbgrader must not outlive it
            kill_all(proc.pid, token, begin)
        for leftover in token_processes(token, begin):  # e.g. a kernel orphaned by a crash
            kill_tree(leftover.pid)
    run.log = _tail(log)
    return run
