"""losslab/grading/optimizers.py without nbgrader: right update steps pass, wrong ones fail with a message.

The full round trip through nbgrader (solution, blank, wrong submissions) is in test_grading.py; these checks
run in seconds and pin down each check's behaviour, including the float32 margin of the Keras comparison.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from losslab.grading import fresh

checks = fresh("optimizers")
GradingError = checks.GradingError


def sgd(w, g, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    velocity = momentum * velocity - learning_rate * g
    return (w + momentum * velocity - learning_rate * g if nesterov else w + velocity), velocity


def sgd_gradient_units(w, g, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    velocity = momentum * velocity + g
    return w - learning_rate * (g + momentum * velocity if nesterov else velocity), velocity


def sgd_sign_error(w, g, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    velocity = momentum * velocity - learning_rate * g
    return w - velocity, velocity


def sgd_learning_rate_twice(w, g, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    velocity = momentum * velocity - learning_rate * g
    return w + learning_rate * velocity, velocity


def sgd_ignores_nesterov(w, g, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):
    return sgd(w, g, velocity, learning_rate, momentum, nesterov=False)


def adam(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    alpha = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return w - alpha * m / (np.sqrt(v) + epsilon), m, v


def adam_epsilon_hat(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon / np.sqrt(1 - beta_2**t)), m, v


def adam_no_bias_correction(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v


def adam_epsilon_inside(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
    return w - learning_rate * m_hat / np.sqrt(v_hat + epsilon), m, v


def adam_paper_epsilon(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v


def adam_wrong_default(w, g, m, v, t, learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    return adam(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon)


@pytest.mark.parametrize("fn", [sgd, sgd_gradient_units])
def test_right_sgd_steps_pass(fn, capsys) -> None:
    assert checks.check_sgd_momentum(fn) is None
    assert checks.check_nesterov(fn) is None
    assert "matches keras.optimizers.SGD" in capsys.readouterr().out


@pytest.mark.parametrize("fn", [sgd_sign_error, sgd_learning_rate_twice])
def test_wrong_sgd_steps_fail_at_the_first_step(fn) -> None:
    with pytest.raises(GradingError, match=r"after step 1 .*velocity = momentum \* velocity"):
        checks.check_sgd_momentum(fn)


def test_ignoring_nesterov_loses_only_nesterov() -> None:
    checks.check_sgd_momentum(sgd_ignores_nesterov)
    with pytest.raises(GradingError, match="nesterov=True"):
        checks.check_nesterov(sgd_ignores_nesterov)


@pytest.mark.parametrize("fn", [adam, adam_epsilon_hat])
def test_right_adam_steps_pass(fn) -> None:
    checks.check_adam_defaults(fn)
    checks.check_adam(fn)


@pytest.mark.parametrize(
    "fn, check",
    [
        (adam_no_bias_correction, "check_adam_defaults"),
        (adam_no_bias_correction, "check_adam"),
        (adam_epsilon_inside, "check_adam"),
        (adam_paper_epsilon, "check_adam"),
        (adam_wrong_default, "check_adam_defaults"),
    ],
)
def test_wrong_adam_steps_fail(fn, check) -> None:
    with pytest.raises(GradingError, match="keras.optimizers.Adam"):
        getattr(checks, check)(fn)


def test_keras_float32_leaves_a_wide_margin_for_a_right_answer() -> None:
    """The worst gap between a float64 reference and Keras' float32 run stays under half the tolerance."""
    problems = [
        (checks.least_squares(41), {"learning_rate": 0.02, "epsilon": 1e-3}),
        (checks.matrix_quadratic(42), {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.99}),
        (
            checks.least_squares(43, d=5, scale=0.05),
            {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 0.1},
        ),
    ]
    for problem, settings in problems:
        mine = checks.learner_adam_path(adam, problem, settings)
        theirs = checks.keras_path(problem, keras.optimizers.Adam(**settings))
        worst = max(
            float(np.max(np.abs(a - b) / (checks.ATOL + checks.RTOL * np.abs(b))))
            for a, b in zip(mine, theirs, strict=True)
        )
        assert worst < 0.5, (problem.name, worst)


def test_a_step_that_returns_the_wrong_shape_gets_a_message() -> None:
    with pytest.raises(GradingError, match="should return a tuple"):
        checks.check_adam_defaults(lambda w, g, m, v, t, **kw: w)
    with pytest.raises(GradingError, match="shape"):
        checks.check_sgd_momentum(lambda w, g, velocity, **kw: (w[:1], velocity))


def test_optimizer_choice_refuses_a_shared_object_and_non_optimizers() -> None:
    shared = keras.optimizers.Adam(3e-3)
    with pytest.raises(GradingError, match="same optimizer object"):
        checks.check_digits_choice(lambda: shared)
    with pytest.raises(GradingError, match="should return a keras optimizer"):
        checks.digits_accuracy(lambda: 0.003, seed=0)


@pytest.mark.parametrize(
    "check, right, wrong",
    [
        ("check_divergence_diagnosis", " B", "c"),
        ("check_weight_decay", "C", "a"),
        ("check_tune_first", "a ", "b"),
    ],
)
def test_conceptual_answers(check, right, wrong) -> None:
    getattr(checks, check)(right)
    with pytest.raises(GradingError, match="not this one"):
        getattr(checks, check)(wrong)
    with pytest.raises(GradingError):
        getattr(checks, check)("e")


def test_stable_learning_rate_answer() -> None:
    checks.check_stable_learning_rate(2 / 10)
    with pytest.raises(GradingError, match="second derivative"):
        checks.check_stable_learning_rate(0.4)
    with pytest.raises(GradingError):
        checks.check_stable_learning_rate(1.0)
    with pytest.raises(GradingError):
        checks.check_stable_learning_rate("0.2")
