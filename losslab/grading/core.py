"""Comparison helpers for exercise tests: check type and content, never trust an object's own ``__eq__``.

A value is turned into plain Python floats first (refusing objects that only pretend to be numbers), then
compared with ``math.isclose``; so an object whose ``__eq__`` always returns True, or a patched
``numpy.allclose``, cannot pass a test. Text answers must be real ``str`` objects (not subclasses), and
``require`` accepts only a real ``True`` (or NumPy's ``True``), never an object that merely claims to be true.
Messages speak to the learner: what was expected, what came back.
Used by every exercise's tests through ``losslab.grading.fresh``.

API (stable; the chapter checks are written against it): ``GradingError``, ``require``, ``as_float``,
``as_floats``, ``assert_close``, ``assert_in_range``, ``as_text``; added later: ``as_int``, ``as_choice``,
``assert_finite``, ``joined``, and the three patterns every chapter's checks share: ``as_choice`` for a multiple-choice
answer, ``call`` for calling a learner's function, ``require_each`` for "train on each seed (or split), then
require a threshold".
"""

from __future__ import annotations

import math
import numbers
import unicodedata
from collections.abc import Callable, Iterable
from string import Formatter
from typing import Any, TypeVar

import numpy as np

from losslab.messages import N_, _


class GradingError(AssertionError):
    """A failed check; its message is shown to the learner in the feedback."""


def require(condition: Any, message: str) -> None:
    """``assert`` that survives ``python -O`` and reads well in feedback.

    Only a real ``True`` (or ``numpy.True_``) passes: an object returned by a learner's ``__eq__`` or
    ``__bool__`` does not. A learner's ``__eq__`` may still return a real True, so never write
    ``require(answer == expected, ...)`` with the learner's object on either side: convert it first
    (``as_text``, ``as_float``, ``as_floats``, ``as_int``), then compare.
    """
    if condition is True or (type(condition) is np.bool_ and condition.item() is True):
        return
    raise GradingError(message)


_BACKENDS = {"tensorflow", "jax", "jaxlib", "torch", "keras"}
# The default names of what a check reads, shown through gettext (a learner's variable name stays as it is).
WHAT = (N_("the value"), N_("the values"), N_("the answer"))


def _to_numpy(value: Any, what: str) -> np.ndarray:
    if isinstance(value, (bool, np.bool_)):
        raise GradingError(_("{what} should be a number, not {value}").format(what=_(what), value=repr(value)))
    if isinstance(value, (numbers.Real, np.ndarray, np.generic, list, tuple)):
        try:
            array = np.array(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise GradingError(
                _("{what} could not be read as numbers ({error})").format(what=_(what), error=exc)
            ) from None
    elif type(value).__module__.split(".")[0] in _BACKENDS:
        import keras

        array = np.array(keras.ops.convert_to_numpy(value), dtype=np.float64)
    else:
        raise GradingError(
            _("{what} should be a number or an array of numbers, got a {kind}").format(
                what=_(what), kind=type(value).__name__
            )
        )
    if type(array) is not np.ndarray:
        raise GradingError(_("{what} could not be read as numbers").format(what=_(what)))
    return array


def _describe(number: float) -> str:
    if math.isnan(number):
        return "nan " + _("(not a number: did the computation or the training diverge?)")
    if math.isinf(number):
        return f"{number} " + _("(not a finite number: did the computation or the training diverge?)")
    return f"{number:.6g}"


def as_float(value: Any, what: str = "the value") -> float:
    """One real number from a Python/NumPy number, a 0-d array or a backend tensor."""
    array = _to_numpy(value, what)
    require(
        array.size == 1,
        _("{what} should be a single number, got shape {shape}").format(what=_(what), shape=tuple(array.shape)),
    )
    number = float(array.reshape(-1).tolist()[0])
    require(type(number) is float, _("{what} could not be read as a number").format(what=_(what)))
    return number


def as_floats(value: Any, what: str = "the values", shape: tuple[int, ...] | None = None) -> list[float]:
    """A flat list of floats, optionally checking the shape first."""
    array = _to_numpy(value, what)
    if shape is not None:
        require(
            tuple(array.shape) == tuple(shape),
            _("{what} should have shape {shape}, got {got}").format(
                what=_(what), shape=tuple(shape), got=tuple(array.shape)
            ),
        )
    out = [float(x) for x in array.reshape(-1).tolist()]
    require(all(type(x) is float for x in out), _("{what} could not be read as numbers").format(what=_(what)))
    return out


def as_int(value: Any, what: str = "the value") -> int:
    """A whole number given as an ``int`` or a NumPy integer (not a bool, not a float such as 3.0)."""
    if type(value) is bool or type(value) is np.bool_:
        raise GradingError(_("{what} should be a whole number, not {value}").format(what=_(what), value=repr(value)))
    if type(value) is int:
        return int(value)
    if isinstance(value, np.integer) and type(value).__module__.split(".")[0] == "numpy":
        return int(value.item())
    raise GradingError(
        _("{what} should be a whole number such as 3, got a {kind}").format(what=_(what), kind=type(value).__name__)
    )


def assert_finite(actual: Any, what: str = "the value") -> list[float]:
    """Every element is a finite number (no NaN, no infinity); returns them as floats."""
    values = as_floats(actual, what)
    for index, number in enumerate(values):
        if not math.isfinite(number):
            where = _(" at position {index}").format(index=index) if len(values) > 1 else ""
            raise GradingError(_("{what}{where} is {value}").format(what=_(what), where=where, value=_describe(number)))
    return values


def assert_close(
    actual: Any, expected: Any, *, what: str = "the value", rtol: float = 1e-5, atol: float = 1e-7
) -> None:
    """Every element of `actual` within rtol/atol of `expected` (shapes must match); NaN never passes."""
    expected_array = np.array(expected, dtype=np.float64)
    got = as_floats(actual, what, shape=expected_array.shape)
    want = [float(x) for x in expected_array.reshape(-1).tolist()]
    for index, (g, w) in enumerate(zip(got, want, strict=True)):
        if not (math.isfinite(g) and math.isclose(g, w, rel_tol=rtol, abs_tol=atol)):
            where = _(" at position {index}").format(index=index) if len(want) > 1 else ""
            raise GradingError(
                _("{what}{where} is {value}, expected {expected} (tolerance {rtol} relative, {atol} absolute)").format(
                    what=_(what),
                    where=where,
                    value=_describe(g),
                    expected=f"{w:.6g}",
                    rtol=f"{rtol:g}",
                    atol=f"{atol:g}",
                )
            )


def assert_in_range(actual: Any, low: float, high: float, what: str = "the value") -> float:
    value = as_float(actual, what)
    require(
        math.isfinite(value) and low <= value <= high,
        _("{what} is {value}, expected between {low} and {high}").format(
            what=_(what), value=_describe(value), low=f"{low:g}", high=f"{high:g}"
        ),
    )
    return value


# Quotes a Japanese keyboard types around an answer, stripped with the spaces: 「b」, 『b』, “b”, ‘b’.
_QUOTES = "「」『』“”‘’\"'"


def as_text(value: Any, what: str = "the answer") -> str:
    """A real ``str`` (not a subclass with a custom ``__eq__``), stripped and lower-cased. Full-width letters,
    digits and spaces read as their ASCII forms (NFKC: ``"ｂ"`` and ``"Ｂ"`` are ``"b"``) and Japanese quotes around
    the answer are dropped, so an answer typed on a Japanese keyboard counts as the English one does."""
    require(
        type(value) is str,
        _("{what} should be a string such as 'train', got {kind}").format(what=_(what), kind=type(value).__name__),
    )
    return str.lower(str.strip(str.strip(unicodedata.normalize("NFKC", str(value))), _QUOTES + " "))


def as_choice(value: Any, choices: Any, what: str = "the answer") -> str:
    """A real ``str`` that is one of `choices` once stripped and lower-cased; returns it normalized."""
    text = as_text(value, what)
    options = [str.lower(str.strip(c)) for c in choices]
    require(
        text in options,
        _("{what} should be one of {options}, got {got}").format(
            what=_(what), options=", ".join(repr(o) for o in options), got=repr(text)
        ),
    )
    return text


def call(what: str, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` for a learner's function: any error it raises becomes a ``GradingError`` that
    names `what` (a stub still raising ``NotImplementedError`` is told to be filled in)."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise GradingError(
            _("{what} is not implemented yet: replace `raise NotImplementedError()`").format(what=_(what))
        ) from None
    except GradingError:
        raise
    except Exception as exc:  # any error in learner code becomes feedback
        raise GradingError(
            _("{what} raised {error}").format(what=_(what), error=f"{type(exc).__name__}: {str(exc)[:300]}")
        ) from None


def joined(parts: Iterable[str], pair: str) -> str:
    """`parts` joined one after the other through `pair`, a translated message with two placeholders, such as
    ``_("{sentences} {sentence}")``: English puts a space between sentences, Japanese none after its full stop."""
    first, second = (name for _text, name, _spec, _conversion in Formatter().parse(pair) if name)
    out = ""
    for part in parts:
        out = pair.format(**{first: out, second: part}) if out else part
    return out


Case = TypeVar("Case")


def require_each(
    cases: Iterable[Case],
    measure: Callable[[Case], float],
    reached: Callable[[float], bool],
    failure: Callable[[Case, float], str],
    passed: Callable[[Case, float], None] | None = None,
) -> list[float]:
    """Train-then-threshold: for each case (a seed, a split), ``measure`` it; stop at the first whose value
    is not finite or not ``reached``, with ``failure(case, value)`` as the learner's message; call
    ``passed(case, value)`` after each that passes (to print it). Returns the values, in order."""
    results: list[float] = []
    for case in cases:
        value = float(measure(case))
        if not (math.isfinite(value) and bool(reached(value))):
            raise GradingError(failure(case, value))
        results.append(value)
        if passed is not None:
            passed(case, value)
    return results
