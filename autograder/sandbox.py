"""The operating-system sandbox around every grading kernel (bubblewrap, Debian's ``bubblewrap`` package).

nbgrader (``autograde``) stays outside, in the driver's staging folder, with the private gradebook copy and the
source notebooks; only the kernel, where the submission's code runs, goes into the sandbox, so the hidden
tests reach it only through the kernel protocol, one cell at a time. Each kernel runs under ``bwrap`` with:

- its own mount namespace: the system (``/usr``, ``/etc``), the Python environment, ``losslab/`` and the kernel
  guard read-only; its working folder (the autograded copy of its own submission, notebooks hidden) and a
  private runtime folder (connection sockets, ``HOME``) writable; nothing else of the course, the repository
  or the instructor's home exists in it (no ``solutions/``, gradebook, backups, other students, feedback);
- its own PID namespace (``--unshare-pid``, ``--die-with-parent``): every process it starts, detached or
  not, ends when the kernel ends;
- its own network namespace (``--unshare-net``): loopback only; the kernel talks to nbgrader over ZeroMQ's
  ``ipc`` transport (Unix sockets in the runtime folder), which needs no network;
- no capabilities (``--cap-drop ALL``), its own IPC and UTS namespaces;
- a per-submission cgroup (v1 memory and pids controllers, where they can be made): a hard memory ceiling
  above the grader's measured limit, and a cap on processes. The driver kills whatever is left in the cgroup
  after grading and removes it.

``SANDBOX=auto`` (the default) uses the sandbox when bubblewrap works here and says in one line when it does
not; ``SANDBOX=require`` refuses to grade without it; ``SANDBOX=off`` grades with the in-kernel guard only.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager, KernelManager

MODES = ("auto", "require", "off")
CGROUP_ROOT = Path("/sys/fs/cgroup")
PIDS_MAX = 2048  # TensorFlow's thread pools count too; a fork bomb stops here (and at the memory ceiling)
CEILING_FACTOR = 1.25  # the cgroup's hard limit, above the watchdog's measured limit (MEMORY=)
CEILING_MIN_EXTRA_MB = 256.0
_SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
_probe_cache: dict[str, str] = {}


@dataclass
class Decision:
    """Whether this grading run uses the sandbox, and the one line that says so."""

    mode: str
    active: bool
    bwrap: str = ""
    reason: str = ""  # why it is not active ("" when active or off)
    cgroup_note: str = ""  # why no cgroup can be made ("" when one can)

    def line(self) -> str:
        if self.active:
            limits = (
                f"{self.cgroup_note}: memory measured, not enforced by the kernel"
                if self.cgroup_note
                else "memory and process limits by a cgroup per submission"
            )
            return f"sandbox: on (bubblewrap: own mount, PID and network namespaces for every kernel; {limits})"
        if self.mode == "off":
            return "sandbox: off (SANDBOX=off): the in-kernel guard and the static scan only"
        return (
            f"sandbox: UNAVAILABLE ({self.reason}): grading with the in-kernel guard and the static scan "
            f"only; a submission's child processes are not contained (SANDBOX=require refuses instead)"
        )


class SandboxUnavailable(RuntimeError):
    """SANDBOX=require, and the sandbox cannot be made here."""


def find_bwrap() -> str:
    """The bubblewrap executable, or "" when it is not installed."""
    return shutil.which("bwrap") or ""


def probe(bwrap: str) -> str:
    """ "" when `bwrap` can make the namespaces grading uses on this host; otherwise why not (one line)."""
    if bwrap in _probe_cache:
        return _probe_cache[bwrap]
    args = [
        bwrap,
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "grading",
        "--die-with-parent",
        "--cap-drop",
        "ALL",
        "--setenv",
        "JPY_PARENT_PID",
        "1",
        "true",
    ]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        why = "" if done.returncode == 0 else f"bwrap cannot make namespaces here: {last}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        why = f"bwrap failed to start: {exc}"
    _probe_cache[bwrap] = why
    return why


def decide(mode: str) -> Decision:
    """The sandbox a run gets under `mode` (auto, require, off); SandboxUnavailable for require without one."""
    if mode not in MODES:
        raise ValueError(f"SANDBOX={mode!r}: use one of {', '.join(MODES)}")
    if mode == "off":
        return Decision(mode, False)
    bwrap = find_bwrap()
    if not bwrap:
        reason = "bwrap not found; install Debian's bubblewrap package (apt-get install bubblewrap)"
    elif not sys.platform.startswith("linux"):
        reason = f"bubblewrap needs Linux namespaces, this is {sys.platform}"
    else:
        reason = probe(bwrap)
    if reason and mode == "require":
        raise SandboxUnavailable(
            f"SANDBOX=require: the grading sandbox cannot be made here ({reason}); nothing was graded"
        )
    note = ""
    if not reason:
        trial = make_cgroup(f"probe-{os.getpid()}-{time.monotonic_ns()}", 100)
        note = trial.note
        trial.remove()
    return Decision(mode, not reason, bwrap if not reason else "", reason, note)


# ----------------------------------------------------------------------------------------------- cgroups


def _own_cgroup(controller: str) -> Path | None:
    """This process's cgroup (v1) for `controller`, as a folder under /sys/fs/cgroup/<controller>."""
    mount = CGROUP_ROOT / controller
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and controller in parts[1].split(","):
            folder = mount / parts[2].lstrip("/")
            return folder if (folder / "cgroup.procs").exists() else None
    return None


@dataclass
class Cgroup:
    """A submission's cgroups (v1 memory and pids), made under this process's own; see ``make_cgroup``."""

    folders: list[str] = field(default_factory=list)
    memory_mb: float = 0.0
    note: str = ""  # what could not be made

    @property
    def procs(self) -> list[str]:
        return [str(Path(f) / "cgroup.procs") for f in self.folders]

    @property
    def memory(self) -> str:
        return next((f for f in self.folders if "/memory/" in f), "")

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer stopped in the memory cgroup (or failed charges)."""
        if not self.memory:
            return 0
        with contextlib.suppress(OSError, ValueError):
            for line in (Path(self.memory) / "memory.oom_control").read_text().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
        return 0

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


def make_cgroup(name: str, memory_mb: float, pids_max: int = PIDS_MAX) -> Cgroup:
    """Per-submission cgroups: memory.limit_in_bytes (and memsw) at the ceiling for `memory_mb`, pids.max."""
    group = Cgroup()
    ceiling = max(memory_mb * CEILING_FACTOR, memory_mb + CEILING_MIN_EXTRA_MB) if memory_mb else 0.0
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
            for key, value in settings:
                if not value:
                    continue
                target = folder / key
                if target.exists() or key != "memory.memsw.limit_in_bytes":
                    target.write_text(str(value))
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


# ----------------------------------------------------------------------------------------------- the command


@dataclass
class Spec:
    """What the driver tells nbgrader's executor (``GuardedExecute.sandbox``, a JSON file): one submission."""

    bwrap: str
    readonly: list[str] = field(default_factory=list)  # bound read-only at the same path
    symlinks: dict[str, str] = field(default_factory=dict)  # path -> target, made inside
    writable_files: list[str] = field(default_factory=list)  # e.g. the guard's log
    cgroup_procs: list[str] = field(default_factory=list)
    memory_cgroup: str = ""
    runtime_parent: str = ""  # where each kernel's private runtime folder is made (short: Unix socket paths)

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=1))
        return path

    @classmethod
    def read(cls, path: str) -> Spec:
        return cls(**json.loads(Path(path).read_text()))


def _short_tmp() -> str:
    """A folder for kernels' runtime folders whose paths fit a Unix socket's (108 bytes, ZeroMQ ipc)."""
    folder = tempfile.gettempdir()
    return folder if len(folder) <= 60 else "/tmp"


def plan(bwrap: str, repo: Path, guard_log: Path, cgroup: Cgroup) -> Spec:
    """The read-only view a kernel gets: the system, the Python environment, losslab and the kernel guard."""
    spec = Spec(
        bwrap=bwrap,
        writable_files=[str(guard_log)],
        cgroup_procs=cgroup.procs,
        memory_cgroup=cgroup.memory,
        runtime_parent=_short_tmp(),
    )
    readonly: list[str] = []
    for path in _SYSTEM:
        if os.path.islink(path):
            spec.symlinks[path] = os.readlink(path)
        elif os.path.isdir(path):
            readonly.append(path)
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        real = os.path.realpath(prefix)
        readonly.append(real)
        if real != os.path.abspath(prefix):
            spec.symlinks[os.path.abspath(prefix)] = real
    real_exe = os.path.realpath(sys.executable)
    if not any(real_exe.startswith(p + os.sep) for p in readonly):
        readonly.append(os.path.dirname(real_exe))
    readonly.append(str(repo / "losslab"))
    readonly += [str(repo / "autograder" / name) for name in ("__init__.py", "kernel_guard.py")]
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):  # e.g. the torch backend's folder
        if entry and os.path.isdir(entry) and os.path.realpath(entry) != str(repo.resolve()):
            real = os.path.realpath(entry)
            if not any(real == p or real.startswith(p + os.sep) for p in readonly):
                readonly.append(real)
    spec.readonly = [p for p in dict.fromkeys(readonly) if os.path.exists(p)]
    return spec


def command(spec: Spec, cwd: str, runtime: str, kernel_cmd: list[str]) -> list[str]:
    """The kernel command wrapped in bwrap (and joined to the submission's cgroups first)."""
    args = [
        spec.bwrap,
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--cap-drop",
        "ALL",
        "--hostname",
        "grading",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
    ]
    for path in spec.readonly:
        args += ["--ro-bind", path, path]
    for path, target in spec.symlinks.items():
        args += ["--symlink", target, path]
    args += ["--bind", runtime, runtime]
    for path in spec.writable_files:
        if os.path.exists(path):
            args += ["--bind", path, path]
    args += ["--bind", cwd, cwd]
    for notebook in sorted(glob.glob(os.path.join(glob.escape(cwd), "**", "*.ipynb"), recursive=True)):
        args += ["--ro-bind", "/dev/null", notebook]  # the autograded copy holds the hidden tests
    home = os.path.join(runtime, "home")
    # ipykernel polls the pid in JPY_PARENT_PID, which means nothing in the PID namespace (--die-with-parent
    # does that job): it would see bwrap's init as its parent and exit. 1 (init) turns the polling off.
    args += [
        "--setenv",
        "JPY_PARENT_PID",
        "1",
        "--setenv",
        "HOME",
        home,
        "--setenv",
        "TMPDIR",
        "/tmp",
        "--setenv",
        "MPLCONFIGDIR",
        os.path.join(home, ".matplotlib"),
        "--chdir",
        cwd,
        "--",
    ]
    args += kernel_cmd
    if not spec.cgroup_procs:
        return args
    joins = "; ".join(f"echo $$ > {shlex.quote(p)}" for p in spec.cgroup_procs)
    return ["/bin/sh", "-c", f'{joins}; exec "$@"', "losslab-sandbox", *args]


def _seed_home(home: Path) -> None:
    """The kernel's HOME: matplotlib's font list copied in, so the sandboxed kernel does not rebuild it."""
    (home / ".matplotlib").mkdir(parents=True, exist_ok=True)
    cache = os.environ.get("MPLCONFIGDIR") or os.path.join(os.path.expanduser("~"), ".cache", "matplotlib")
    for path in glob.glob(os.path.join(cache, "fontlist-*.json")):
        with contextlib.suppress(OSError):
            shutil.copy(path, home / ".matplotlib")


class _Sandboxed:
    """Mixin: launch the kernel inside the sandbox described by ``self.sandbox_spec``, over ipc sockets."""

    sandbox_spec: Spec | None = None
    sandbox_runtime: str = ""

    def sandbox_setup(self, spec: Spec) -> None:
        self.sandbox_spec = spec
        self.sandbox_runtime = tempfile.mkdtemp(prefix="lsbx-", dir=spec.runtime_parent or None)
        os.chmod(self.sandbox_runtime, 0o700)
        _seed_home(Path(self.sandbox_runtime) / "home")
        self.transport = "ipc"  # type: ignore[attr-defined]
        self.connection_file = os.path.join(self.sandbox_runtime, "k.json")  # type: ignore[attr-defined]
        self.ip = os.path.join(self.sandbox_runtime, "k-ipc")  # type: ignore[attr-defined]

    def sandbox_wrap(self, kernel_cmd: list[str], kw: dict[str, Any]) -> list[str]:
        spec = self.sandbox_spec
        if spec is None:
            return kernel_cmd
        cwd = os.path.realpath(str(kw.get("cwd") or os.getcwd()))
        kw["cwd"] = cwd
        return command(spec, cwd, self.sandbox_runtime, kernel_cmd)

    def sandbox_cleanup(self) -> None:
        if self.sandbox_runtime:
            shutil.rmtree(self.sandbox_runtime, ignore_errors=True)


class SandboxedKernelManager(_Sandboxed, KernelManager):
    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        await super()._async_launch_kernel(self.sandbox_wrap(kernel_cmd, kw), **kw)


class SandboxedAsyncKernelManager(_Sandboxed, AsyncKernelManager):
    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        await super()._async_launch_kernel(self.sandbox_wrap(kernel_cmd, kw), **kw)
