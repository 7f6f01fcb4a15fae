"""`make setup` / `make lab`'s set-up: uv sync runs only when the lock changed or a group is missing, with the
groups the verb needs plus those the environment already had (make lab never strips a developer's tools).

The real Makefile runs in a temporary folder with a stand-in uv that records its arguments and a stand-in for the
environment's python (the recipe's import check passes); nothing is installed."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.support import REPO

UV_VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["uv"]["required-version"].lstrip("=")
FAKE_UV = f"""#!/bin/sh
if [ "$1" = "--version" ]; then echo "uv {UV_VERSION}"; exit 0; fi
echo "$@" >> "$(dirname "$0")/calls"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        shutil.copy(REPO / name, tmp_path / name)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    python = tmp_path / ".venv" / "bin" / "python"
    python.write_text("#!/bin/sh\nexit 0\n")
    python.chmod(0o755)
    uv = tmp_path / ".venv" / "uv-bootstrap" / "bin" / "uv"
    uv.parent.mkdir(parents=True)
    uv.write_text(FAKE_UV)
    uv.chmod(0o755)
    return tmp_path


def _hash(project: Path) -> str:
    data = (project / "uv.lock").read_bytes() + (project / "pyproject.toml").read_bytes()
    return hashlib.sha256(data).hexdigest()[:16]


def _make(project: Path, verb: str, **env: str) -> list[str]:
    """Run ``make verb``; returns the uv calls it made."""
    calls = project / ".venv" / "uv-bootstrap" / "bin" / "calls"
    calls.unlink(missing_ok=True)
    full = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "KERAS_BACKEND"))}
    full["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        ["make", "--no-print-directory", verb], cwd=project, env={**full, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return calls.read_text().splitlines() if calls.exists() else []


def _stamp(project: Path) -> str:
    return (project / ".venv" / ".losslab-installed").read_text().strip()


def test_sync_only_what_is_missing_and_keep_what_was_there(project: Path) -> None:
    current = _hash(project)
    assert _make(project, "setup-learner") == [
        "sync --frozen --quiet --compile-bytecode --no-default-groups --group learner"
    ]
    assert _stamp(project) == f"{current} learner"
    assert _make(project, "setup-learner") == [], "up to date: no sync"

    assert _make(project, "setup") == ["sync --frozen --quiet --compile-bytecode --all-groups --no-group torch"]
    assert _stamp(project) == f"{current} all"
    assert _make(project, "setup-learner") == [], "every group is there already"

    # The lock changed since a learner and jax environment was made: make lab re-syncs, keeping jax.
    (project / ".venv" / ".losslab-installed").write_text("0123456789abcdef jax learner\n")
    assert _make(project, "setup-learner") == [
        "sync --frozen --quiet --compile-bytecode --no-default-groups --group jax --group learner"
    ]
    assert _stamp(project) == f"{current} jax learner"


def test_a_stamp_of_the_old_pip_set_up_is_replaced(project: Path) -> None:
    """Before uv, the stamp held the hash alone: the next set-up installs the groups asked for, nothing else."""
    (project / ".venv" / ".losslab-installed").write_text("f9c54c2682ac7a73\n")
    assert _make(project, "setup-learner") == [
        "sync --frozen --quiet --compile-bytecode --no-default-groups --group learner"
    ]
    assert _stamp(project) == f"{_hash(project)} learner"


def test_make_lab_on_jax_adds_the_jax_group(project: Path) -> None:
    (project / ".venv" / ".losslab-installed").write_text(f"{_hash(project)} learner\n")
    assert _make(project, "setup-learner", KERAS_BACKEND="jax") == [
        "sync --frozen --quiet --compile-bytecode --no-default-groups --group jax --group learner"
    ]
    assert _make(project, "setup-learner", KERAS_BACKEND="jax") == []
