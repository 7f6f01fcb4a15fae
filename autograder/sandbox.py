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
- a per-submission cgroup (autograder/cgroups.py: v1 or v2, whichever the host runs, where one can be made): a
  hard memory ceiling above the grader's measured limit, and a cap on processes. The driver kills whatever is
  left in the cgroup after grading and removes it;
- a size limit on what it can write: its ``/tmp`` is a tmpfs of ``DISK=`` MB, and no file it writes may grow
  past that size (``RLIMIT_FSIZE``, through util-linux's ``prlimit``); the executor's watchdog measures its
  working folder against the same limit (autograder/supervisor.py).

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
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager, KernelManager

from autograder import cgroups
from autograder.config import MODES

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
    cgroup_version: int = 0  # the host's cgroup hierarchy (1 or 2; 0: none found)

    def line(self) -> str:
        if self.active:
            version = f"cgroup v{self.cgroup_version}" if self.cgroup_version else "no cgroup hierarchy"
            limits = (
                f"{version}, {self.cgroup_note}: memory measured, not enforced by the kernel"
                if self.cgroup_note
                else f"memory and process limits by a cgroup per submission, {version}"
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
    note, version = "", 0
    if not reason:
        trial = cgroups.make_cgroup(f"probe-{os.getpid()}-{time.monotonic_ns()}", 100)
        note, version = trial.note, cgroups.version()
        trial.remove()
    return Decision(mode, not reason, bwrap if not reason else "", reason, note, version)


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
    disk_mb: float = 0.0  # the size of its /tmp and the largest file it may write (0: no limit)

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


def plan(bwrap: str, repo: Path, guard_log: Path, cgroup: cgroups.Cgroup, disk_mb: float = 0.0) -> Spec:
    """The read-only view a kernel gets: the system, the Python environment, losslab and the kernel guard."""
    spec = Spec(
        bwrap=bwrap,
        writable_files=[str(guard_log)],
        cgroup_procs=cgroup.procs,
        memory_cgroup=cgroup.memory,
        runtime_parent=_short_tmp(),
        disk_mb=disk_mb,
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
    ]
    if spec.disk_mb:
        args += ["--size", str(int(spec.disk_mb * 1e6))]
    args += ["--tmpfs", "/tmp"]
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
    prlimit = shutil.which("prlimit") if spec.disk_mb else None
    if prlimit:  # no file larger than the limit (SIGXFSZ, or EFBIG when ignored); inherited inside the sandbox
        size = int(spec.disk_mb * 1e6)
        args = [prlimit, f"--fsize={size}:{size}", "--", *args]
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
