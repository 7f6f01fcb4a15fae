"""The doctor-checks exercise's grader (losslab/grading/doctor_checks.py), called directly: the solution's three
checks pass on the grader's unseen models, and plausible wrong ones are caught with a message that says what to
change. The notebook end to end is graded by the round trip (tests/test_grading.py, tests/submissions/04_debugging.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from losslab import doctor
from losslab.grading import core, debugging
from losslab.grading import doctor_checks as D


def first_loss_ratio(model, x, y):  # the solution's
    return model.evaluate(x, y, batch_size=len(x), verbose=0) / math.log(model.output_shape[-1])


def overfit_one_batch(model, x, y, steps):
    for _ in range(steps):
        model.train_on_batch(x[:32], y[:32])
    return model.evaluate(x[:32], y[:32], verbose=0)


def gradient_norms(model, x, y):
    _, grads = doctor.gradients(model, x, y)
    pairs = zip(model.trainable_variables, grads, strict=True)
    return [float(np.linalg.norm(g)) for v, g in pairs if len(v.shape) == 2]


def test_the_solution_passes_every_check(capsys) -> None:
    D.check_first_loss_ratio(first_loss_ratio)
    D.check_overfit_one_batch(overfit_one_batch)
    D.check_gradient_norms(gradient_norms)
    debugging.check_answer("answer_checks", " B ")
    out = capsys.readouterr().out
    assert "first loss / ln K" in out and "after 150 steps" in out and "first / last" in out


def _wrong_k(model, x, y):
    return model.evaluate(x, y, verbose=0) / model.output_shape[-1]


def _classes_in_y(model, x, y):
    return model.evaluate(x, y, verbose=0) / math.log(len(np.unique(y)))


def _trains_first(model, x, y):
    model.fit(x, y, epochs=1, verbose=0)
    return model.evaluate(x, y, verbose=0) / math.log(model.output_shape[-1])


def _all_data(model, x, y, steps):
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    return model.evaluate(x[:32], y[:32], verbose=0)


def _first_loss(model, x, y, steps):
    first = model.evaluate(x[:32], y[:32], verbose=0)
    overfit_one_batch(model, x, y, steps)
    return first


def _other_batch(model, x, y, steps):
    for _ in range(steps):
        model.train_on_batch(x[-32:], y[-32:])
    return model.evaluate(x[-32:], y[-32:], verbose=0)


def _with_biases(model, x, y):
    return [float(np.linalg.norm(g)) for g in doctor.gradients(model, x, y)[1]]


def _reversed(model, x, y):
    return gradient_norms(model, x, y)[::-1]


def _weights(model, x, y):
    return [float(np.linalg.norm(w)) for w in model.get_weights() if w.ndim == 2]


@pytest.mark.parametrize(
    "check, wrong, message",
    [
        (D.check_first_loss_ratio, _wrong_k, "natural one"),
        (D.check_first_loss_ratio, _classes_in_y, "output units"),
        (D.check_first_loss_ratio, _trains_first, "weights changed"),
        (D.check_overfit_one_batch, _all_data, "optimizer took"),
        (D.check_overfit_one_batch, _first_loss, "not the first loss"),
        (D.check_overfit_one_batch, _other_batch, "first 32"),
        (D.check_gradient_norms, _with_biases, "without the bias"),
        (D.check_gradient_norms, _reversed, "from the input to the output"),
        (D.check_gradient_norms, _weights, "gradient"),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_plausible_wrong_checks_are_caught(check, wrong, message) -> None:
    with pytest.raises(core.GradingError, match=message):
        check(wrong)


def test_bad_input_gets_a_clear_error() -> None:
    with pytest.raises(core.GradingError, match="should be a function"):
        D.check_first_loss_ratio(1.0)
    with pytest.raises(core.GradingError, match="should be one of"):
        debugging.check_answer("answer_checks", "vanishing")
