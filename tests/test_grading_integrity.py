"""losslab.grading's tamper resistance (losslab/grading/integrity.py): comparisons by type and content,
fresh private copies of the checks, and the integrity check of what they rely on."""

from __future__ import annotations

import builtins
import math
import sys

import numpy as np
import pytest

from losslab.grading import core, fresh, integrity_problems

# ----------------------------------------------------------------------------------------------- core helpers


class _AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


def test_core_compares_by_type_and_content() -> None:
    fake = _AlwaysEqual()
    for call in (
        lambda: core.as_float(fake),
        lambda: core.assert_close(fake, 1.0),
        lambda: core.as_text(fake),
        lambda: core.as_int(fake),
        lambda: core.as_choice(fake, ["a"]),
    ):
        with pytest.raises(core.GradingError):
            call()

    class Sneaky(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    with pytest.raises(core.GradingError, match="should be a string"):
        core.as_text(Sneaky("x"))
    with pytest.raises(core.GradingError):
        core.require(fake, "an object that claims to be true is not True")
    with pytest.raises(core.GradingError):
        core.require(1, "only a real True passes")
    core.require(True, "passes")
    core.require(np.float64(1.0) < 2, "NumPy's True passes")
    with pytest.raises(core.GradingError, match="nan"):
        core.assert_close(float("nan"), 1.0, what="the loss")
    with pytest.raises(core.GradingError, match="diverge"):
        core.assert_finite([1.0, math.inf], what="the weights")
    assert core.as_int(np.int64(3)) == 3 and core.as_choice(" B ", ["a", "b"]) == "b"
    with pytest.raises(core.GradingError):
        core.as_int(3.0)
    with pytest.raises(core.GradingError):
        core.as_int(True)
    core.assert_close(np.array([1.0, 2.0]), [1.0, 2.0])
    with pytest.raises(core.GradingError, match="position 1"):
        core.assert_close([1.0, 2.5], [1.0, 2.0])


def test_fresh_ignores_a_replaced_core_module(monkeypatch: pytest.MonkeyPatch) -> None:
    class Fake:
        GradingError = AssertionError

        @staticmethod
        def require(*args, **kwargs):
            return None

        @staticmethod
        def as_text(*args, **kwargs):
            return "a"

    monkeypatch.setitem(sys.modules, "losslab.grading.core", Fake)
    checks = fresh("warmup")
    with pytest.raises(AssertionError, match="not this one"):
        checks.check_diagnosis("c")
    assert sys.modules["losslab.grading.core"] is Fake  # the private copy did not replace the shared one


def test_integrity_problems_name_what_was_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    from losslab import data

    assert integrity_problems() == []
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(math, "isclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "isfinite", np.frompyfunc(lambda x: True, 1, 1))
    monkeypatch.setattr(data, "iris", lambda **k: None)
    problems = integrity_problems()
    assert {"numpy.allclose", "math.isclose", "numpy.isfinite", "losslab.data.iris"} <= set(problems)
    with pytest.raises(AssertionError, match="replaced .*numpy.allclose"):
        fresh("warmup")


def test_integrity_problems_detect_a_replaced_builtin() -> None:
    original = builtins.callable
    try:
        builtins.callable = lambda obj: True
        problems = integrity_problems()
    finally:
        builtins.callable = original
    assert problems == ["the built-in callable()"]
