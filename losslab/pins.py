"""The course's pins: uv.lock (one universal lock), what it holds for a platform, and Binder's environment.yml.

pyproject.toml names the direct dependencies, in dependency groups (learner, jax, instructor, dev); uv.lock,
written by ``uv lock`` (``make lock``), pins every package with its hashes for the four platforms in
[tool.uv] environments. ``make setup`` installs from it with ``uv sync --frozen``. Binder (repo2docker) cannot read
uv.lock, so environment.yml is generated from it (``make binder``: the learner group, as Linux x86_64 with
Python 3.11 resolves it) and a test fails when the two disagree.

Used by: the Makefile (binder), losslab.environment (which group a package belongs to) and the tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "uv.lock"
PYPROJECT = REPO / "pyproject.toml"

# The platforms uv.lock is resolved for, as `uv pip compile --python-platform` names them, and the marker
# values each gives (PEP 508). Keep in step with [tool.uv] environments in pyproject.toml (a test checks).
PLATFORMS: dict[str, dict[str, str]] = {
    "x86_64-manylinux_2_28": {"sys_platform": "linux", "platform_machine": "x86_64", "platform_system": "Linux"},
    "aarch64-manylinux_2_28": {"sys_platform": "linux", "platform_machine": "aarch64", "platform_system": "Linux"},
    "aarch64-apple-darwin": {"sys_platform": "darwin", "platform_machine": "arm64", "platform_system": "Darwin"},
    "x86_64-pc-windows-msvc": {"sys_platform": "win32", "platform_machine": "AMD64", "platform_system": "Windows"},
}
PYTHONS = ("3.11", "3.12", "3.13")
# The oldest macOS the lock's wheels all install on (PyTorch 2.15's are built for macOS 14).
MACOS_MINIMUM = "14.0"
# Binder: repo2docker's conda-forge Python 3.11 (a recent patch release) on Linux x86_64.
BINDER_PLATFORM, BINDER_PYTHON = "x86_64-manylinux_2_28", "3.11.9"

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;#]+)\s*(?:;\s*(?P<marker>.+))?$")

HEADER = """\
# GENERATED from uv.lock by `make binder` (losslab/pins.py): do not edit; edit pyproject.toml, then `make lock`.
# Binder (repo2docker) builds from this file: the learner dependency group of uv.lock as it resolves on
# Linux x86_64 with Python 3.11. tests/test_pins.py fails when this file and uv.lock disagree.
"""


def normalize(name: str) -> str:
    """PEP 503 normalization, so `tensorflow_cpu` and `tensorflow-cpu` compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def uv() -> str:
    """The uv that `make setup` bootstrapped for this environment (or one on PATH)."""
    for candidate in (Path(sys.prefix) / "uv-bootstrap" / "bin" / "uv", REPO / ".venv" / "uv-bootstrap" / "bin" / "uv"):
        if candidate.exists():
            return str(candidate)
    import shutil

    found = shutil.which("uv")
    if not found:
        raise FileNotFoundError("uv is not installed: run `make setup` (it installs the pinned uv)")
    return found


def uv_run(
    *args: str, cwd: Path = REPO, check: bool = True, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1", **(env or {})}
    env.pop("UV_PROJECT_ENVIRONMENT", None)  # export and lock read the lock, never an environment
    done = subprocess.run([uv(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"uv {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done


# Groups that `make setup` (all) leaves out: PyTorch goes to .venv/torch-site through `make torch`.
SEPARATE_GROUPS = ("torch",)


def group_flags(groups: list[str] | tuple[str, ...]) -> list[str]:
    """uv's flags for these groups; "all" means every group but SEPARATE_GROUPS (unless named too)."""
    if "all" in groups:
        return ["--all-groups", *[f"--no-group={g}" for g in SEPARATE_GROUPS if g not in groups]]
    return ["--no-default-groups", *[f"--group={g}" for g in groups]]


def export(groups: list[str] | tuple[str, ...] = ("all",), *, project: Path = REPO) -> list[tuple[str, str, str]]:
    """[(name, version, marker)] of the lock for these dependency groups, every platform (offline: --frozen)."""
    out = uv_run(
        "export", "--frozen", "--no-hashes", "--no-emit-project", "--no-header", "--no-annotate",
        *group_flags(groups), cwd=project,
    ).stdout  # fmt: skip
    rows = []
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        match = _PIN.match(line)
        if not match:
            raise ValueError(f"uv export wrote a line that is not a pin: {line!r}")
        rows.append((normalize(match["name"]), match["version"], (match["marker"] or "").strip()))
    return rows


def marker_environment(platform: str, python: str) -> dict[str, str]:
    full = python if python.count(".") == 2 else f"{python}.0"
    return {
        **PLATFORMS[platform],
        "os_name": "nt" if PLATFORMS[platform]["sys_platform"] == "win32" else "posix",
        "python_version": ".".join(python.split(".")[:2]),
        "python_full_version": full,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }


def pins_for(rows: list[tuple[str, str, str]], environment: dict[str, str] | None = None) -> dict[str, str]:
    """{name: version} of the rows whose marker holds in `environment` (None: this interpreter's)."""
    from packaging.markers import Marker

    chosen: dict[str, str] = {}
    for name, version, marker in rows:
        if marker and not Marker(marker).evaluate(environment):
            continue
        if chosen.get(name, version) != version:
            raise ValueError(f"the lock gives {name} two versions on one platform: {chosen[name]} and {version}")
        chosen[name] = version
    return chosen


def binder_environment(rows: list[tuple[str, str, str]] | None = None) -> str:
    """environment.yml's text: the learner group as Binder's Linux x86_64 / Python 3.11 resolves it."""
    if rows is None:
        rows = export(["learner"])
    pins = pins_for(rows, marker_environment(BINDER_PLATFORM, BINDER_PYTHON))
    python = ".".join(BINDER_PYTHON.split(".")[:2])
    lines = [HEADER.rstrip("\n"), "name: losslab", "channels:", "  - conda-forge", "dependencies:"]
    lines += [f"  - python={python}", "  - pip", "  - pip:"]
    lines += [f"      - {name}=={version}" for name, version in sorted(pins.items())]
    return "\n".join(lines) + "\n"


def read_environment(path: str | Path) -> tuple[str, dict[str, str]]:
    """Return (python version, {normalized package name: version}) from an environment.yml.

    Raises ValueError, naming the line, for anything under ``pip:`` that is not an exact pin.
    """
    python = ""
    pins: dict[str, str] = {}
    in_pip = False
    pip_indent = -1
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        item = line.strip()
        if in_pip and indent <= pip_indent:
            in_pip = False
        if in_pip:
            spec = item[1:].strip() if item.startswith("-") else item
            match = _PIN.match(spec)
            if not match or match["marker"]:
                raise ValueError(
                    f"{path}:{number}: {spec!r} is not an exact pin; write name==version "
                    "(no -r lines, no ranges: Binder installs this list as it stands)"
                )
            pins[normalize(match["name"])] = match["version"]
        elif item == "- pip:":
            in_pip, pip_indent = True, indent
        elif re.match(r"- python\b(?!-)", item):
            match = re.fullmatch(r"- python\s*=+\s*([0-9.]+)", item)
            if not match:
                raise ValueError(f"{path}:{number}: pin python as 'python=3.11', not {item!r}")
            python = match.group(1)
    if not python:
        raise ValueError(f"{path}: no python pin found; add '- python=3.11' under dependencies")
    return python, pins


def groups_of_packages(rows_by_group: dict[str, list[tuple[str, str, str]]] | None = None) -> dict[str, str]:
    """{package: the smallest group that brings it in}: learner, then jax, torch, instructor, dev."""
    order = ("learner", "jax", "torch", "instructor", "dev")
    if rows_by_group is None:
        rows_by_group = {group: export([group]) for group in order}
    found: dict[str, str] = {}
    for group in order:
        for name, _, _ in rows_by_group.get(group, []):
            found.setdefault(name, group)
    return found


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    try:
        if command == "binder":
            sys.stdout.write(binder_environment())
        elif command == "export":
            for name, version in sorted(pins_for(export(argv[2:] or ["all"])).items()):
                print(f"{name}=={version}")
        else:
            print("usage: python losslab/pins.py binder | export [GROUP ...]", file=sys.stderr)
            return 2
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
