"""Comparison helpers for exercise tests: check type and content, never trust an object's own ``__eq__``.

A value is turned into plain Python floats first (refusing objects that only pretend to be numbers), then
compared with ``math.isclose``; so an object whose ``__eq__`` always returns True, or a patched
``numpy.allclose``, cannot pass a test. Messages speak to the learner: what was expected, what came back.
Used by every exercise's tests through ``losslab.grading.fresh``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


class GradingError(AssertionError):
    """A failed check; its message is shown to the learner in the feedback."""


def require(condition: bool, message: str) -> None:
    """``assert`` that survives ``python -O`` and reads well in feedback."""
    if condition is not True:
        raise GradingError(message)


def _to_numpy(value: Any, what: str) -> np.ndarray:
    if isinstance(value, (bool, np.bool_)):
        raise GradingError(f"{what} should be a number, not {value!r}")
    if isinstance(value, (numbers.Real, np.ndarray, np.generic, list, tuple)):
        array = np.array(value, dtype=np.float64)
    elif type(value).__module__.split(".")[0] in {"tensorflow", "jax", "jaxlib", "torch", "keras"}:
        import keras

        array = np.array(keras.ops.convert_to_numpy(value), dtype=np.float64)
    else:
        raise GradingError(f"{what} should be a number or an array of numbers, got a {type(value).__name__}")
    if type(array) is not np.ndarray:
        raise GradingError(f"{what} could not be read as numbers")
    return array


def as_float(value: Any, what: str = "the value") -> float:
    """One real number from a Python/NumPy number, a 0-d array or a backend tensor."""
    array = _to_numpy(value, what)
    require(array.size == 1, f"{what} should be a single number, got shape {tuple(array.shape)}")
    number = float(array.reshape(-1).tolist()[0])
    require(type(number) is float, f"{what} could not be read as a number")
    return number


def as_floats(value: Any, what: str = "the values", shape: tuple[int, ...] | None = None) -> list[float]:
    """A flat list of floats, optionally checking the shape first."""
    array = _to_numpy(value, what)
    if shape is not None:
        require(tuple(array.shape) == tuple(shape), f"{what} should have shape {tuple(shape)}, "
                                                    f"got {tuple(array.shape)}")
    return [float(x) for x in array.reshape(-1).tolist()]


def assert_close(actual: Any, expected: Any, *, what: str = "the value", rtol: float = 1e-5,
                 atol: float = 1e-7) -> None:
    """Every element of `actual` within rtol/atol of `expected` (shapes must match); NaN never passes."""
    expected_array = np.array(expected, dtype=np.float64)
    got = as_floats(actual, what, shape=expected_array.shape)
    want = [float(x) for x in expected_array.reshape(-1).tolist()]
    for index, (g, w) in enumerate(zip(got, want, strict=True)):
        if not (math.isfinite(g) and math.isclose(g, w, rel_tol=rtol, abs_tol=atol)):
            where = f" at position {index}" if len(want) > 1 else ""
            raise GradingError(f"{what}{where} is {g:.6g}, expected {w:.6g} (tolerance {rtol:g} relative, "
                               f"{atol:g} absolute)")


def assert_in_range(actual: Any, low: float, high: float, what: str = "the value") -> float:
    value = as_float(actual, what)
    require(math.isfinite(value) and low <= value <= high, f"{what} is {value:.6g}, expected between {low:g} "
                                                           f"and {high:g}")
    return value


def as_text(value: Any, what: str = "the answer") -> str:
    """A real ``str`` (not a subclass with a custom ``__eq__``), stripped and lower-cased."""
    require(type(value) is str, f"{what} should be a string such as 'train', got {type(value).__name__}")
    return str.lower(str.strip(value))
