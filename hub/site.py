"""A class on one machine: JupyterHub on 127.0.0.1 with system users and nbgrader's exchange (``make hub``).

``python -m hub.site up`` (as root) builds a per-run root (``/srv/losslab-hub`` by default, ``HUB_ROOT=``):

- ``exchange/``: nbgrader's exchange, a real shared folder (mode 1777: nbgrader wants it writable by everyone,
  the sticky bit stops one user from removing another's course folder); nbgrader itself makes the course's
  ``inbound/`` write-only for students (733) and ``feedback/`` not listable (711);
- ``env/``: what a student's server runs from, read-only and owned by root: a copy of ``losslab/`` (the library
  the notebooks import) and of JupyterHub's single-user package. No solutions, no hidden tests, no gradebook;
- ``home/<user>/``: one system user per roster student and one instructor, homes mode 700. The instructor's home
  holds the course (``~/losslab``: a copy of this repository's course files; the gradebook lives there), so no
  student can read its source, solutions or gradebook;
- ``state.json`` (root only): what this run created, so that ``down`` removes exactly that.

Then it starts JupyterHub (``hub/jupyterhub_config.py``) with configurable-http-proxy from npm and the
LocalProcessSpawner: the hub runs as root and starts each user's server as that system user. With
``ISOLATE=bwrap`` (the default when bubblewrap works here) a student's server also runs in a mount namespace
where the folders holding this repository are empty: the student sees the environment, ``env/``, the exchange
and their own home.

``python -m hub.site down`` stops the hub, the proxy and every process of the users it created, removes the
users and the root. ``up --foreground`` (what ``make hub`` runs) waits until Ctrl-C, then does the same.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HUB = REPO / "hub"
DEFAULT_ROOT = Path(os.environ.get("HUB_ROOT") or "/srv/losslab-hub")
COURSE_ID = "losslab"
# Where `make hub` found JupyterHub's packages and configurable-http-proxy (the Makefile's HUB_SITE, HUB_NODE).
HUB_SITE = Path(os.environ.get("HUB_SITE") or REPO / ".hubsite")
HUB_NODE = Path(os.environ.get("HUB_NODE") or REPO / ".hubnode")
# The course files an instructor's copy needs to release and grade (everything else stays in the repository).
# (and every file at the repository's top level: the Makefile and what `make setup` hashes to know it is set up)
COURSE_FILES = ["autograder", "solutions", "losslab", "course", "tests/submissions", "tests/__init__.py"]
NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


class HubError(RuntimeError):
    """A set-up problem with what to do about it."""


@dataclass
class Student:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""


@dataclass
class State:
    root: str
    course_id: str
    instructor: str
    students: list[str]
    users_created: list[str] = field(default_factory=list)
    port: int = 0
    proxy_api_port: int = 0
    hub_api_port: int = 0
    hub_pid: int = 0
    authenticator: str = "pam"
    isolate: str = "off"
    passwords: dict[str, str] = field(default_factory=dict)
    service_token: str = ""
    ld_library_path: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def home(self, user: str) -> Path:
        return Path(self.root) / "home" / user

    @property
    def exchange(self) -> Path:
        return Path(self.root) / "exchange"

    @property
    def course(self) -> Path:
        """The instructor's copy of the course (its autograder/ is nbgrader's course root)."""
        return self.home(self.instructor) / "losslab"


def read_roster(path: Path) -> list[Student]:
    """nbgrader's roster CSV (``nbgrader db student import``): a header with ``id`` and optional
    ``first_name``, ``last_name``, ``email``. Each id becomes a system user name: lower case letters, digits,
    ``_`` and ``-``, starting with a letter."""
    try:
        rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    except OSError as exc:
        raise HubError(f"cannot read the roster {path}: {exc}. Give ROSTER=path/to/roster.csv") from exc
    if not rows or "id" not in rows[0]:
        raise HubError(f"{path}: the roster needs a header line with an `id` column (see hub/roster.example.csv)")
    students = []
    for n, row in enumerate(rows, start=2):
        sid = (row.get("id") or "").strip()
        check_name(sid, f"{path} line {n}")
        students.append(Student(sid, *(str(row.get(k) or "").strip() for k in ("first_name", "last_name", "email"))))
    ids = [s.id for s in students]
    if len(set(ids)) != len(ids):
        raise HubError(f"{path}: a student id appears twice: {sorted({i for i in ids if ids.count(i) > 1})}")
    return students


def check_name(name: str, where: str) -> None:
    if not name or not name[0].isalpha() or not set(name) <= NAME_OK or len(name) > 32 or name != name.lower():
        raise HubError(
            f"{where}: {name!r} cannot be a system user name: use lower case letters, digits, _ and -, starting "
            "with a letter, at most 32 characters"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    kw.setdefault("check", True)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    try:
        return subprocess.run(cmd, **kw)
    except subprocess.CalledProcessError as exc:
        raise HubError(f"{' '.join(cmd)} failed ({exc.returncode}): {(exc.stderr or exc.stdout).strip()}") from exc


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def bwrap_works() -> bool:
    if not shutil.which("bwrap"):
        return False
    probe = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"]
    try:
        done = subprocess.run(["runuser", "-u", "nobody", "--", *probe], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def venv_prefix() -> Path:
    """The project's environment (the one running this module)."""
    return Path(os.path.realpath(sys.prefix))


def site_packages() -> list[str]:
    """The project environment's site-packages folders."""
    import site

    return [os.path.realpath(p) for p in site.getsitepackages() if p.startswith(sys.prefix) and Path(p).is_dir()]


def users_venv(root: Path | str) -> Path:
    """The environment every hub user's processes run from: env/venv, a venv of a world-executable Python of
    the same version whose site-packages are the project's (a link): the project's own interpreter may sit
    in a folder other users cannot enter (pyenv under /root)."""
    return Path(root) / "env" / "venv"


def _runs_as_nobody(python: str, env: dict | None = None) -> bool:
    probe = ["runuser", "-u", "nobody", "--", "env", *(f"{k}={v}" for k, v in (env or {}).items()), python, "-c", "1"]
    return subprocess.run(probe, capture_output=True, cwd="/").returncode == 0


def _make_users_venv(state: State) -> None:
    root = Path(state.root)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    python = os.path.realpath(sys.executable)
    if not _runs_as_nobody(python):
        # The project's interpreter sits where other users cannot go (pyenv under /root): a copy of it (the same
        # build: another 3.11 behaves differently, e.g. soupsieve's selectors fail on Debian's 3.11.2) without
        # its site-packages, its tests and its build files; its libpython comes from LD_LIBRARY_PATH.
        base = Path(python).parent.parent
        runtime = root / "env" / "runtime"
        (runtime / "bin").mkdir(parents=True)
        shutil.copy2(python, runtime / "bin" / version)
        (runtime / "lib").mkdir()
        for lib in base.joinpath("lib").glob("libpython*"):
            shutil.copy2(lib, runtime / "lib" / lib.name, follow_symlinks=False)
        skip = shutil.ignore_patterns("site-packages", "test", "__pycache__", "config-*", "idlelib", "tkinter")
        shutil.copytree(base / "lib" / version, runtime / "lib" / version, ignore=skip, symlinks=True)
        (runtime / "lib" / version / "site-packages").mkdir()
        state.ld_library_path = str(runtime / "lib")
        python = str(runtime / "bin" / version)
        run(["chmod", "-R", "u=rwX,go=rX", str(runtime)])
        if not _runs_as_nobody(python, {"LD_LIBRARY_PATH": state.ld_library_path}):
            raise HubError(f"{python}, a copy of the project's interpreter, does not run for other users")
        save_state(state)
    venv = users_venv(root)
    env = {**os.environ, "LD_LIBRARY_PATH": state.ld_library_path} if state.ld_library_path else None
    run([python, "-m", "venv", "--without-pip", str(venv)], env=env)
    shared = venv_prefix()
    # Its site-packages IS the project's (a link): the packages' real paths are under this environment's
    # library roots, as the grading checks and the kernel guard expect (autograder/kernel_guard.py).
    site = venv / "lib" / version / "site-packages"
    shutil.rmtree(site)
    site.symlink_to(os.path.realpath(shared / "lib" / version / "site-packages"))
    # The project's console scripts (jupyter, nbgrader, alembic that nbgrader runs, dask) with this interpreter.
    for script in sorted((shared / "bin").iterdir()):
        target = venv / "bin" / script.name
        if target.exists() or not script.is_file():
            continue
        with open(script, "rb") as f:
            head = f.readline()
        if head.startswith(b"#!") and b"python" in head:
            body = script.read_bytes().split(b"\n", 1)[1]
            target.write_bytes(b"#!" + str(venv / "bin" / "python").encode() + b"\n" + body)
            target.chmod(0o755)
    for sub in ("etc/jupyter", "share/jupyter"):  # JupyterLab's app folder, server extensions, kernels
        (venv / sub).parent.mkdir(parents=True, exist_ok=True)
        (venv / sub).symlink_to(shared / sub)


def hidden_folders() -> list[str]:
    """The folders a student's server must not see: the ones holding this repository (and its worktrees)."""
    top = Path(os.path.realpath(REPO)).parts[1]
    return sorted({"/" + top, "/" + Path(os.path.realpath(venv_prefix())).parts[1]} - {"/usr", "/srv", "/home"})


def student_wrapper(state: State, user: str) -> list[str]:
    """The command prefix that runs a student's process: bubblewrap with the repository's folders emptied
    (ISOLATE=bwrap), or nothing (ISOLATE=off: file permissions only)."""
    if state.isolate != "bwrap" or user == state.instructor:
        return []
    venv = str(venv_prefix())
    env = str(Path(state.root) / "env")
    cmd = ["bwrap", "--die-with-parent", "--ro-bind", "/", "/"]
    for folder in [*hidden_folders(), "/tmp"]:
        cmd += ["--tmpfs", folder]
    cmd += ["--ro-bind", venv, venv, "--ro-bind", env, env]
    for writable in (state.home(user), state.exchange):
        cmd += ["--bind", str(writable), str(writable)]
    cmd += ["--dev", "/dev", "--proc", "/proc"]
    return cmd


def env_for(state: State, user: str) -> dict[str, str]:
    """The environment of a user's processes (their server, their nbgrader commands)."""
    student = user != state.instructor
    env_root = Path(state.root) / "env"
    if student:
        path = [str(env_root / "python"), str(env_root / "hubsite")]
    else:  # the project's site-packages by name too: the grading sandbox binds PYTHONPATH's folders for kernels
        path = [str(state.course), str(HUB_SITE), *site_packages()]
    return {
        "PYTHONPATH": ":".join(path),
        "JUPYTER_CONFIG_PATH": str(env_root / "config" / ("student" if student else "instructor")),
        "LOSSLAB_EXCHANGE": str(state.exchange),
        "LOSSLAB_COURSE_ID": state.course_id,
        "LOSSLAB_COURSE_ROOT": "" if student else str(state.course),
        "PATH": f"{users_venv(state.root) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        **({"LD_LIBRARY_PATH": state.ld_library_path} if state.ld_library_path else {}),
        "LOSSLAB_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
    }


def as_user(
    state: State, user: str, argv: list[str], *, cwd: Path | None = None, extra_env: dict | None = None, **kw
) -> subprocess.CompletedProcess:
    """Run `argv` as the system user `user`, with that user's environment (and a student's isolation)."""
    env = {"HOME": str(state.home(user)), "USER": user, "LANG": "C.UTF-8", **env_for(state, user), **(extra_env or {})}
    wrapper = student_wrapper(state, user) if user != state.instructor else []
    command = ["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()), *wrapper, *argv]
    kw.setdefault("check", False)
    return run(command, cwd=str(cwd or state.home(user)), **kw)


# ---------------------------------------------------------------------------------------------- set-up


def state_path(root: Path) -> Path:
    return root / "state.json"


def load_state(root: Path) -> State | None:
    try:
        return State(**json.loads(state_path(root).read_text()))
    except FileNotFoundError:
        return None


def save_state(state: State) -> None:
    path = state_path(Path(state.root))
    path.write_text(json.dumps(asdict(state), indent=1))
    path.chmod(0o600)


def preflight(root: Path, users: list[str]) -> None:
    if os.geteuid() != 0:
        raise HubError("make hub creates system users and starts servers as them: run it as root (sudo make hub)")
    for tool in ("useradd", "userdel", "runuser"):
        if not shutil.which(tool):
            raise HubError(f"{tool} is missing: make hub needs the shadow utilities (Debian: apt-get install passwd)")
    if not hub_installed():
        raise HubError(f"JupyterHub is neither in {HUB_SITE} nor in the environment: run `make hub-install`")
    if not chp_command().exists():
        raise HubError(f"configurable-http-proxy is not installed in {HUB_NODE}: run `make hub` or set HUB_NODE=")
    if load_state(root) is not None:
        raise HubError(f"{root} holds a running or unfinished class: `make hub-stop HUB_ROOT={root}` removes it first")
    if root.exists() and any(root.iterdir()):
        raise HubError(f"{root} exists and is not empty: choose another HUB_ROOT= (make hub removes its root)")
    taken = [u for u in users if user_exists(u)]
    if taken:
        raise HubError(f"system users {taken} exist already: make hub only uses users it creates (rename them)")


def hub_installed() -> bool:
    """JupyterHub in HUB_SITE (make hub-install's folder) or in the project's environment (the lock's group)."""
    import importlib.util

    return (HUB_SITE / "jupyterhub").is_dir() or importlib.util.find_spec("jupyterhub") is not None


def chp_command() -> Path:
    return HUB_NODE / "node_modules" / ".bin" / "configurable-http-proxy"


def build(root: Path, roster: Path, instructor: str, authenticator: str, isolate: str) -> State:
    """Users, homes, the exchange, the students' environment and the instructor's course (no hub yet)."""
    students = read_roster(roster)
    check_name(instructor, "INSTRUCTOR_USER")
    if instructor in {s.id for s in students}:
        raise HubError(f"the instructor {instructor!r} is also in the roster: choose another INSTRUCTOR_USER=")
    users = [instructor, *(s.id for s in students)]
    preflight(root, users)
    if isolate == "auto":
        isolate = "bwrap" if bwrap_works() else "off"
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    ids = [s.id for s in students]
    state = State(str(root), COURSE_ID, instructor, ids, authenticator=authenticator, isolate=isolate)
    state.service_token = secrets.token_hex(32)
    save_state(state)  # from here on, `down` can undo whatever exists
    (root / "home").mkdir(mode=0o755)
    for user in users:
        run(["useradd", "--no-user-group", "--gid", "users", "--home-dir", str(state.home(user)), "--create-home",
             "--shell", "/bin/bash", "--comment", f"losslab hub {state.course_id}", user])  # fmt: skip
        state.users_created.append(user)
        save_state(state)
        state.home(user).chmod(0o700)
        if authenticator == "pam":
            state.passwords[user] = secrets.token_urlsafe(9)
            run(["chpasswd"], input=f"{user}:{state.passwords[user]}\n")
    if authenticator == "shared":
        state.passwords = {"*": secrets.token_urlsafe(12)}
    save_state(state)
    exchange = state.exchange
    exchange.mkdir(mode=0o755)
    exchange.chmod(0o1777)
    _student_env(state)
    _instructor_course(state, roster)
    return state


def _copy(src: Path, dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc", "gradebook.db*", "submitted",
                                    "autograded", "feedback", "release", ".work", "reports", "grades*.csv")  # fmt: skip
    if src.is_dir():
        shutil.copytree(src, dest, ignore=ignore, symlinks=False)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)


def _student_env(state: State) -> None:
    """env/python/losslab and env/hubsite: read-only (root's, 755/644), all a student's server imports beyond the
    environment. losslab/grading's checks are importable there, as they are on Binder: the hidden tests that
    call them are not (they stay in the instructor's solutions/)."""
    env = Path(state.root) / "env"
    _make_users_venv(state)
    _copy(REPO / "losslab", env / "python" / "losslab")
    for role in ("student", "instructor"):  # hub/student, hub/instructor: the users' Jupyter configuration
        _copy(HUB / role, env / "config" / role)
    if (HUB_SITE / "jupyterhub").is_dir():  # else JupyterHub is in the project's environment
        shutil.copytree(HUB_SITE, env / "hubsite", symlinks=True)
    run(["chmod", "-R", "u=rwX,go=rX", str(env)])


def _instructor_course(state: State, roster: Path) -> None:
    """~instructor/losslab: the course files, owned by the instructor; its gradebook gets the roster."""
    course = state.course
    names = [*COURSE_FILES, *(p.name for p in REPO.iterdir() if p.is_file() and not p.name.startswith("."))]
    for name in names:
        if (REPO / name).exists():
            _copy(REPO / name, course / name)
    (course / ".venv").symlink_to(users_venv(state.root))
    for stamp in venv_prefix().glob(".losslab-*"):  # `make setup` finds the environment set up (make grade, export)
        if stamp.is_file():
            shutil.copy2(stamp, users_venv(state.root) / stamp.name)
    shutil.copy2(roster, course / "autograder" / "roster.csv")
    run(["chown", "-R", f"{state.instructor}:users", str(course)])
    run(["chmod", "-R", "go-rwx", str(course)])
    done = as_user(state, state.instructor, ["python", "-m", "nbgrader", "db", "student", "import", "roster.csv"],
                   cwd=course / "autograder")  # fmt: skip
    if done.returncode != 0:
        raise HubError(f"nbgrader db student import failed: {done.stderr.strip()[-800:]}")


# ------------------------------------------------------------------------------------------- the hub


def start_hub(state: State, *, timeout: float = 120) -> None:
    state.port, state.proxy_api_port, state.hub_api_port = free_port(), free_port(), free_port()
    save_state(state)
    log = open(Path(state.root) / "jupyterhub.log", "ab")  # handed to the child
    env = {
        **os.environ,
        "PYTHONPATH": f"{HUB_SITE}:{REPO}",
        "LOSSLAB_HUB_STATE": str(state_path(Path(state.root))),
        "LOSSLAB_HUB_CHP": str(chp_command()),
    }
    cmd = [sys.executable, "-m", "jupyterhub", "-f", str(HUB / "jupyterhub_config.py")]
    proc = subprocess.Popen(cmd, cwd=state.root, env=env, stdout=log, stderr=log, start_new_session=True)
    state.hub_pid = proc.pid
    save_state(state)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HubError(f"JupyterHub exited ({proc.returncode}); its log: {Path(state.root) / 'jupyterhub.log'}")
        try:
            with urllib.request.urlopen(f"{state.url}/hub/api/", timeout=5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise HubError(f"JupyterHub did not answer on {state.url} in {timeout:.0f} s (log: {state.root}/jupyterhub.log)")


def _processes_of(uids: set[int]) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _signal_tree(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the hub and the proxy (its own session)
    except (ProcessLookupError, PermissionError):
        pass


def down(root: Path) -> list[str]:
    """Stop everything this run started and remove what it created. Returns what it could not remove."""
    state = load_state(root)
    problems: list[str] = []
    if state is None:
        if root.is_dir() and not any(root.iterdir()):
            root.rmdir()  # made for a class that never started
            return []
        return [f"{root} holds no class (no {state_path(root)}): nothing to stop"]
    if state.hub_pid:
        _signal_tree(state.hub_pid, signal.SIGTERM)  # JupyterHub stops the servers and the proxy it started
        for _ in range(30):
            if not Path(f"/proc/{state.hub_pid}").exists() or _zombie(state.hub_pid):
                break
            time.sleep(0.5)
        _signal_tree(state.hub_pid, signal.SIGKILL)
    uids = set()
    for user in state.users_created:
        try:
            uids.add(pwd.getpwnam(user).pw_uid)
        except KeyError:
            continue
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _processes_of(uids):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(1)
    for user in state.users_created:
        if user_exists(user):
            done = subprocess.run(["userdel", "--force", user], capture_output=True, text=True)
            if done.returncode != 0 or user_exists(user):
                problems.append(f"userdel {user}: {done.stderr.strip()}")
    shutil.rmtree(root, ignore_errors=True)
    if root.exists():
        problems.append(f"{root} could not be removed")
    return problems


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def up(root: Path, roster: Path, instructor: str, authenticator: str, isolate: str) -> State:
    try:
        state = build(root, roster, instructor, authenticator, isolate)
        start_hub(state)
    except BaseException:
        down(root)
        raise
    return state


def describe(state: State) -> str:
    lines = [f"JupyterHub, course {state.course_id!r}, at {state.url}/ (root {state.root}, isolation {state.isolate})"]
    lines.append(f"instructor: {state.instructor} (formgrader; course in {state.course})")
    if state.authenticator == "shared":
        lines.append(f"every user logs in with the shared password {state.passwords['*']}")
    for user in [state.instructor, *state.students]:
        if user in state.passwords:
            lines.append(f"  {user:<16} password {state.passwords[user]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub.site", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    start = sub.add_parser("up", help="create the users and folders, start the hub")
    start.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    start.add_argument("--roster", type=Path, default=HUB / "roster.example.csv")
    start.add_argument("--instructor", default=os.environ.get("INSTRUCTOR_USER") or "instructor")
    start.add_argument("--auth", choices=["pam", "shared"], default="pam")
    start.add_argument("--isolate", choices=["auto", "bwrap", "off"], default="auto")
    start.add_argument("--foreground", action="store_true", help="wait for Ctrl-C, then remove everything")
    stop = sub.add_parser("down", help="stop the hub and remove its users and folders")
    stop.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args(argv)
    try:
        if args.verb == "down":
            problems = down(args.root)
            print("\n".join(problems) or f"stopped; users and {args.root} removed")
            return 1 if problems and load_state(args.root) is not None else 0
        state = up(args.root, args.roster, args.instructor, args.auth, args.isolate)
    except HubError as exc:
        print(f"make hub: {exc}", file=sys.stderr)
        return 2
    print(describe(state), flush=True)
    if not args.foreground:
        print(f"stop it with: make hub-stop HUB_ROOT={state.root}")
        return 0
    print("Ctrl-C stops the hub and removes its users and folders.", flush=True)
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stopping.append(1))
    while not stopping and Path(f"/proc/{state.hub_pid}").exists() and not _zombie(state.hub_pid):
        time.sleep(1)
    problems = down(Path(state.root))
    print("\n".join(problems) or f"stopped; users and {state.root} removed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
