"""A submission's cgroup: a hard memory ceiling, a process cap, and its memory as the machine charges it.

Both hierarchies, chosen at run time from ``/proc/self/cgroup``:

- **cgroup v1** (a ``memory`` and a ``pids`` hierarchy, each mounted under /sys/fs/cgroup/<controller>): a
  folder in each, under this process's own, with ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes``
  where swap accounting is on) and ``pids.max``;
- **cgroup v2** (one unified hierarchy, ``0::/path``): one folder under this process's own, with the
  ``memory`` and ``pids`` controllers enabled in its parent's ``cgroup.subtree_control``, ``memory.max``,
  ``memory.swap.max`` and ``pids.max``. v2 forbids processes in a folder whose controllers are delegated to
  children (the "no internal processes" rule): where this process sits in such a folder, the controllers
  cannot be enabled and the note says so.

``usage_mb()`` is the submission's memory as the kernel charges it, minus the file cache it can drop at once
(the "working set" that container runtimes report: usage minus inactive file pages); ``oom_kills()`` counts the
processes the kernel's OOM killer stopped at the ceiling.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.config import CONFIG

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")


def _lines() -> list[str]:
    try:
        return PROC_SELF_CGROUP.read_text().splitlines()
    except OSError:
        return []


def _own_cgroup(controller: str) -> Path | None:
    """This process's cgroup (v1) for `controller`, as a folder under <CGROUP_ROOT>/<controller>."""
    for line in _lines():
        parts = line.split(":", 2)
        if len(parts) == 3 and controller in parts[1].split(","):
            folder = CGROUP_ROOT / controller / parts[2].lstrip("/")
            return folder if (folder / "cgroup.procs").exists() else None
    return None


def _own_unified() -> Path | None:
    """This process's cgroup v2 folder, when the unified hierarchy is mounted at CGROUP_ROOT."""
    if not (CGROUP_ROOT / "cgroup.controllers").exists():
        return None
    for line in _lines():
        if line.startswith("0::"):
            folder = CGROUP_ROOT / line[3:].lstrip("/")
            return folder if (folder / "cgroup.procs").exists() else None
    return None


def version() -> int:
    """1 or 2: the hierarchy this host's cgroups are made in (v1 where its memory controller is mounted)."""
    if _own_cgroup("memory") is not None or _own_cgroup("pids") is not None:
        return 1
    return 2 if _own_unified() is not None else 0


@dataclass
class Cgroup:
    """A submission's cgroup folders (v1: memory and pids; v2: one); see ``make_cgroup``."""

    folders: list[str] = field(default_factory=list)
    memory_mb: float = 0.0
    note: str = ""  # what could not be made
    version: int = 1

    @property
    def procs(self) -> list[str]:
        return [str(Path(f) / "cgroup.procs") for f in self.folders]

    @property
    def memory(self) -> str:
        """The folder that holds the memory controller's files ("" when there is none)."""
        if self.version == 2:
            return next((f for f in self.folders if (Path(f) / "memory.current").exists()), "")
        return next((f for f in self.folders if "/memory/" in f), "")

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer stopped in the memory cgroup."""
        return oom_kills(self.memory)

    def usage_mb(self) -> float | None:
        """The memory the machine charges the submission (working set), or None without a memory cgroup."""
        return usage_mb(self.memory) if self.memory else None

    def pids(self) -> list[int]:
        out: set[int] = set()
        for procs in self.procs:
            with contextlib.suppress(OSError, ValueError):
                out.update(int(p) for p in Path(procs).read_text().split())
        out.discard(os.getpid())
        return sorted(out)

    def remove(self) -> list[int]:
        """SIGKILL every process still in the cgroups, then remove them; returns the processes killed."""
        killed: list[int] = []
        for _ in range(50):
            left = self.pids()
            if not left:
                break
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                    if pid not in killed:
                        killed.append(pid)
            time.sleep(0.05)
        for folder in self.folders:
            for _ in range(40):
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)
        return killed


def _read_stat(folder: Path, key: str) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in (folder / "memory.stat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    return 0


def usage_mb(folder: str) -> float | None:
    """A memory cgroup's usage minus its inactive file cache, in MB (v1 or v2 by the files present)."""
    path = Path(folder)
    try:
        if (path / "memory.current").exists():  # v2
            usage = int((path / "memory.current").read_text())
            inactive = _read_stat(path, "inactive_file")
        else:
            usage = int((path / "memory.usage_in_bytes").read_text())
            inactive = _read_stat(path, "total_inactive_file")
    except (OSError, ValueError):
        return None
    return max(0, usage - inactive) / 1e6


def oom_kills(folder: str) -> int:
    if not folder:
        return 0
    path = Path(folder)
    for name in ("memory.events", "memory.oom_control"):  # v2, v1
        with contextlib.suppress(OSError, ValueError):
            for line in (path / name).read_text().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    return 0


def ceiling_mb(memory_mb: float) -> float:
    """The cgroup's hard limit for a measured limit of `memory_mb` (0: none)."""
    if not memory_mb:
        return 0.0
    return max(memory_mb * CONFIG.ceiling_factor, memory_mb + CONFIG.ceiling_min_extra_mb)


def _write(folder: Path, settings: list[tuple[str, int]], optional: tuple[str, ...] = ()) -> None:
    for key, value in settings:
        if not value:
            continue
        target = folder / key
        if target.exists() or key not in optional:
            target.write_text(str(value))


def make_cgroup(name: str, memory_mb: float, pids_max: int = CONFIG.pids_max) -> Cgroup:
    """The submission's cgroup on this host's hierarchy (v1 or v2): a memory ceiling above `memory_mb` and
    `pids_max` processes; ``note`` says what could not be made (then the memory is only measured)."""
    ceiling = ceiling_mb(memory_mb)
    if version() == 2:
        return _make_v2(name, ceiling, pids_max)
    group = Cgroup(version=1)
    missing = []
    for controller, settings in (
        (
            "memory",
            [("memory.limit_in_bytes", int(ceiling * 1e6)), ("memory.memsw.limit_in_bytes", int(ceiling * 1e6))],
        ),
        ("pids", [("pids.max", pids_max)]),
    ):
        parent = _own_cgroup(controller)
        if parent is None:
            missing.append(controller)
            continue
        folder = parent / f"losslab-{name}"
        try:
            folder.mkdir(exist_ok=True)
            _write(folder, settings, optional=("memory.memsw.limit_in_bytes",))
        except OSError as exc:
            with contextlib.suppress(OSError):
                folder.rmdir()
            missing.append(f"{controller} ({exc.strerror or exc})")
            continue
        group.folders.append(str(folder))
    if group.memory:
        group.memory_mb = ceiling
    if missing:
        group.note = f"no {' or '.join(missing)} cgroup could be made here"
    return group


def _enable(parent: Path, controller: str) -> None:
    """Delegate `controller` to the children of `parent` (cgroup v2)."""
    (parent / "cgroup.subtree_control").write_text(f"+{controller}")


def _new_folder(folder: Path) -> None:
    """A child cgroup: the kernel fills it with the files of the controllers its parent delegates."""
    folder.mkdir(exist_ok=True)


def _make_v2(name: str, ceiling: float, pids_max: int) -> Cgroup:
    group = Cgroup(version=2)
    parent = _own_unified()
    if parent is None:
        group.note = "no memory or pids cgroup could be made here"
        return group
    wanted = [c for c in ("memory", "pids") if c in (parent / "cgroup.controllers").read_text().split()]
    missing = [c for c in ("memory", "pids") if c not in wanted]
    enabled = set()
    with contextlib.suppress(OSError):
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
    for controller in wanted:
        if controller in enabled:
            continue
        try:
            _enable(parent, controller)
        except OSError as exc:
            missing.append(f"{controller} ({exc.strerror or exc}: cgroup v2 keeps no process beside child groups)")
    folder = parent / f"losslab-{name}"
    try:
        _new_folder(folder)
    except OSError as exc:
        group.note = f"no memory or pids cgroup could be made here ({exc.strerror or exc})"
        return group
    group.folders.append(str(folder))
    try:
        _write(
            folder,
            [
                ("memory.max", int(ceiling * 1e6)),
                ("pids.max", pids_max),
            ],
            optional=("memory.max", "pids.max"),
        )
        if ceiling and (folder / "memory.swap.max").exists():
            (folder / "memory.swap.max").write_text("0")
    except OSError as exc:
        missing.append(f"limits ({exc.strerror or exc})")
    if (folder / "memory.max").exists():
        group.memory_mb = ceiling
    elif "memory" not in missing:
        missing.append("memory")
    if not (folder / "pids.max").exists() and "pids" not in missing:
        missing.append("pids")
    if missing:
        group.note = f"no {' or '.join(missing)} cgroup could be made here (cgroup v2)"
    return group
