"""The patterns every chapter's checks share (losslab/grading/core.py and ``load_private``): a multiple-choice
answer, calling a learner's function, train-then-threshold, and one way to load a module by path."""

from __future__ import annotations

import ast
import math
import sys
from pathlib import Path

import pytest

from losslab.grading import core, load_private
from tests.support import REPO

GRADING = REPO / "losslab" / "grading"


def test_call_turns_a_learner_error_into_feedback() -> None:
    def stub() -> None:
        raise NotImplementedError()

    with pytest.raises(core.GradingError, match="smooth is not implemented yet"):
        core.call("smooth", stub)
    with pytest.raises(core.GradingError, match=r"f\(2\) raised ZeroDivisionError: division by zero"):
        core.call("f(2)", lambda x: x / 0, 2)
    assert core.call("add", lambda a, b=0: a + b, 1, b=2) == 3


def test_require_each_stops_at_the_first_case_below_target(capsys) -> None:
    measured: list[int] = []

    def measure(seed: int) -> float:
        measured.append(seed)
        return {1: 0.95, 2: 0.5, 3: 0.99}[seed]

    with pytest.raises(core.GradingError, match="seed 2 reached 0.5"):
        core.require_each(
            (1, 2, 3),
            measure,
            lambda v: v >= 0.9,
            lambda seed, v: f"seed {seed} reached {v}",
            lambda seed, v: print(f"passed {seed}"),
        )
    assert measured == [1, 2] and capsys.readouterr().out == "passed 1\n"
    assert core.require_each((1, 3), measure, lambda v: v >= 0.9, lambda s, v: "") == [0.95, 0.99]


def test_require_each_never_passes_nan() -> None:
    with pytest.raises(core.GradingError, match="nan"):
        core.require_each((0,), lambda s: math.nan, lambda v: True, lambda s, v: f"got {v}")


def test_as_choice_is_the_multiple_choice_helper() -> None:
    assert core.as_choice(" B ", "abcd", "q") == "b"
    with pytest.raises(core.GradingError, match="q should be one of 'a', 'b', 'c', 'd', got 'e'"):
        core.as_choice("e", "abcd", "q")


def test_load_private_leaves_nothing_in_sys_modules(tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text("import dataclasses, sys\n@dataclasses.dataclass\nclass A:\n    x: int = 1\nVALUE = A().x\n")
    module = load_private("losslab_probe_for_test", path, visible_while_loading=True)
    assert module.VALUE == 1 and "losslab_probe_for_test" not in sys.modules


def test_one_pattern_each_no_private_copies() -> None:
    """No chapter module defines its own choice helper or loads modules by path itself."""
    for path in sorted(GRADING.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert "_letter" not in functions, f"{path.name}: use core.as_choice"
        if path.name != "private.py":  # the one loader, load_private (losslab/grading/private.py)
            assert "spec_from_file_location" not in path.read_text(encoding="utf-8"), f"{path.name}: use load_private"


def test_the_graders_copy_of_the_losses_ignores_a_patched_library(monkeypatch) -> None:
    """losses.py is built on loss_names.py: the grader's private copy must use a private loss_names too."""
    from losslab import loss_names
    from losslab.grading import fresh

    monkeypatch.setattr(loss_names, "describe_loss", lambda loss: "patched")
    checks = fresh("losses")
    assert checks.LIB.describe_loss("mse").name == "mean_squared_error"
    assert "losslab_loss_names_for_grading" not in sys.modules and sys.modules["losslab.loss_names"] is loss_names
