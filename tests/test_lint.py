"""ruff over the whole tree (configuration in pyproject.toml): the linter, and the formatter in check mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

RUFF = Path(sys.executable).with_name("ruff")


@pytest.mark.parametrize(
    ("command", "fix"),
    [(["check", "."], "make lint"), (["format", "--check", "."], "ruff format .")],
    ids=["check", "format"],
)
def test_ruff_is_clean(command: list[str], fix: str) -> None:
    done = subprocess.run([str(RUFF), *command], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"ruff {' '.join(command)} found problems (`{fix}`):\n{done.stdout[-4000:]}"


def test_the_formatter_is_configured() -> None:
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]
    assert "format" in config and config["line-length"] == 120
