"""The grader's one configuration (autograder/config.py): every default defined once, read by every step, and
nbgrader's configuration (autograder/nbgrader_config.py), which reads it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.config import CONFIG, Limits, thread_env, validate_config
from tests.support import REPO

# The files whose defaults come from CONFIG. The lead adds Makefile, start, postBuild and losslab/cli.py here once
# they read it (the lines to use are in docs/design.md's grader section).
OWNED = sorted((REPO / "autograder").glob("*.py"))
NUMBERS = {
    "cell_timeout_s": CONFIG.cell_timeout_s,
    "wall_s": CONFIG.wall_s,
    "memory_mb": CONFIG.memory_mb,
    "self_grade_wall_s": CONFIG.self_grade_wall_s,
    "backstop_extra_mb": CONFIG.backstop_extra_mb,
    "pids_max": CONFIG.pids_max,
    "ceiling_factor": CONFIG.ceiling_factor,
    "ceiling_min_extra_mb": CONFIG.ceiling_min_extra_mb,
    "disk_mb": CONFIG.disk_mb,
}
NAMES = [key for key, _ in CONFIG.quiet_env] + [CONFIG.token_env]


def _numbers(path: Path) -> list[tuple[int, float]]:
    """(line, value) of the numeric literals in `path` that are not slice bounds (text lengths)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bounds = {id(n) for s in ast.walk(tree) if isinstance(s, ast.Slice) for n in ast.walk(s)}
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
        and id(node) not in bounds
    ]


@pytest.mark.parametrize("name", sorted(NUMBERS))
def test_each_numeric_default_is_written_once(name: str) -> None:
    value = NUMBERS[name]
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for path in OWNED
        for line, literal in _numbers(path)
        if literal == value and path.name != "config.py"
    ]
    assert not found, f"{name} = {value} is written again (read CONFIG.{name} instead): {found}"
    assert sum(literal == value for _, literal in _numbers(REPO / "autograder" / "config.py")) >= 1


@pytest.mark.parametrize("name", NAMES)
def test_each_environment_name_is_written_once(name: str) -> None:
    found = [str(p.relative_to(REPO)) for p in OWNED if name in p.read_text(encoding="utf-8")]
    assert found == ["autograder/config.py"], f"{name} appears in {found}: read it from CONFIG"


def test_the_checker_finds_a_second_definition(tmp_path: Path) -> None:
    copy = tmp_path / "nbgrader_config.py"
    copy.write_text("c.Execute.timeout = 120\nname = text[:120] + log[-120:]\n")
    assert _numbers(copy) == [(1, 120)]  # the slice bound is a length, not the timeout


def test_nbgrader_reads_the_cell_timeout_and_the_course_from_the_config() -> None:
    from traitlets.config import Config

    namespace = {"get_config": Config, "__file__": str(REPO / "autograder" / "nbgrader_config.py")}
    before = dict(os.environ)
    exec((REPO / "autograder" / "nbgrader_config.py").read_text(), namespace)  # nbgrader does the same
    assert dict(os.environ) == before  # the kernels get the grading environment, the process that loads it does not
    c = namespace["c"]
    assert c.Execute.timeout == CONFIG.cell_timeout_s
    assert c.GuardedExecute.kernel_env == dict(CONFIG.kernel_env)  # quiet, and tf.data untuned
    assert c.CourseDirectory.course_id == CONFIG.course_id and c.CourseDirectory.db_url == CONFIG.db_url
    assert [p.__name__ for p in c.Autograde.autograde_preprocessors][:2] == ["GuardedExecute", "TestCellStderr"]


def test_limits_default_to_the_config() -> None:
    limits = Limits()
    assert (limits.wall_s, limits.memory_mb, limits.cell_s) == (CONFIG.wall_s, CONFIG.memory_mb, CONFIG.cell_timeout_s)
    assert Limits(cell_timeout_s=10).cell_s == 10


def test_the_command_line_gives_shell_scripts_the_same_values() -> None:
    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "autograder.config", *args], cwd=REPO, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert run("--get", "cell_timeout_s").strip() == str(CONFIG.cell_timeout_s)
    assert run("--validate-config") == validate_config()
    assert f"c.Execute.timeout = {CONFIG.cell_timeout_s}" in validate_config()
    exports = run("--quiet-env")
    for key, value in CONFIG.quiet_env:
        assert f'export {key}="${{{key}:-{value}}}"' in exports
    tf = run("--tf-env")
    assert "TF_CPP_MIN_LOG_LEVEL" in tf and "PYTHONWARNINGS" not in tf  # a learner keeps their warnings


def test_every_grading_kernel_is_quiet_and_runs_tf_data_untuned() -> None:
    from losslab import tfdata

    env = dict(CONFIG.kernel_env)
    assert all(env[key] == value for key, value in CONFIG.quiet_env)
    assert env[tfdata.ENV] == "0"  # losslab/tfdata.py turns autotuning off for exactly this value


def test_each_kernel_gets_its_share_of_the_cores() -> None:
    assert thread_env(2, 1) == {}  # alone: the libraries' defaults
    two = thread_env(2, 2)
    assert two["OMP_NUM_THREADS"] == two["TF_NUM_INTRAOP_THREADS"] == "1" and two["TF_NUM_INTEROP_THREADS"] == "1"
    assert thread_env(16, 4)["MKL_NUM_THREADS"] == "4"
    assert thread_env(2, 8)["OPENBLAS_NUM_THREADS"] == "1"  # never 0
