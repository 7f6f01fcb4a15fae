"""Behaviour checks for the optimizers exercise (solutions/02_optimizers/optimizers_exercise.ipynb).

The learner's update steps are run on problems the notebook never shows, next to the real
``keras.optimizers`` on the same problems; after each of 20 steps the weights must agree to 1e-5.
The optimizer choice is graded by training the course's digits classifier with it on two seeds.
Each check raises GradingError with a message for the learner, or prints what it measured and returns None.
A check must never return a number: nbgrader reads a number left as a test cell's last value as partial
credit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from losslab.grading.core import GradingError, as_choice, as_float, as_floats, require, require_each
from losslab.messages import N_, _

STEPS = 20
RTOL = 1e-5
ATOL = 1e-5
EPOCHS = 2
BATCH_SIZE = 32
TARGET_ACCURACY = 0.94
SEEDS = (0, 1)


# ------------------------------------------------------------------------------------------ problems


class Problem:
    """A differentiable loss with its exact gradient and a start point (any shape of weights).

    A plain class: this module is loaded as a private copy outside sys.modules, where dataclasses fail.
    """

    def __init__(self, name: str, start: np.ndarray, gradient: Callable[[np.ndarray], np.ndarray]) -> None:
        self.name, self.start, self.gradient = name, start, gradient


def least_squares(seed: int, n: int = 24, d: int = 3, scale: float = 1.0) -> Problem:
    """Mean squared error of a linear model, times `scale` (small scales give small gradients)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = x @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    start = rng.normal(size=d)
    return Problem(
        _("a linear least-squares problem with {d} weights (seed {seed}, gradient scale {scale:g})").format(
            d=d, seed=seed, scale=scale
        ),
        start,
        lambda w: scale * x.T @ (x @ w - y) / n,
    )


def matrix_quadratic(seed: int, shape: tuple[int, int] = (2, 3)) -> Problem:
    """f(W) = sum(a * W^2 / 2 + b * W) with curvatures a between 0.2 and 4: a weight matrix, not a vector."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 4.0, size=shape)
    b = rng.normal(size=shape)
    start = rng.normal(size=shape)
    return Problem(
        _("a quadratic in a {rows}x{columns} weight matrix (seed {seed})").format(
            rows=shape[0], columns=shape[1], seed=seed
        ),
        start,
        lambda w: a * w + b,
    )


# ------------------------------------------------------------------------------------------ running


def keras_path(problem: Problem, optimizer: Any, steps: int = STEPS) -> list[np.ndarray]:
    """Weights after 0..steps steps of a real Keras optimizer (float32, as Keras trains).

    Keras raises Adam's betas to the power t in float32, so 1 - 0.999**t is off by about 1e-5 relative: the
    hidden problems keep Adam's steps small enough (learning rates <= 0.02) for a right float64 answer to stay
    well inside the tolerance (tests/test_grading_optimizers.py measures the margin).
    """
    import keras

    variable = keras.Variable(np.asarray(problem.start, dtype="float32"), name="w")
    path = [np.array(problem.start, dtype=np.float64)]
    for _step in range(steps):  # (not `_`: the gettext function)
        now = np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float64)
        gradient = problem.gradient(now).astype("float32")
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(gradient), variable)])
        path.append(np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float64))
    return path


def _unpack(result: Any, n: int, fn_name: str, names: str) -> tuple:
    require(
        isinstance(result, (tuple, list)) and len(result) == n,
        _("{fn} should return a tuple ({names}); got {kind}").format(
            fn=fn_name, names=names, kind=type(result).__name__
        )
        + (_(" of length {n}").format(n=len(result)) if isinstance(result, (tuple, list)) else ""),
    )
    return tuple(result)


def _array(value: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    return np.array(as_floats(value, what, shape=shape), dtype=np.float64).reshape(shape)


def learner_sgd_path(fn: Callable, problem: Problem, settings: dict, steps: int = STEPS) -> list[np.ndarray]:
    shape = problem.start.shape
    w = np.array(problem.start, dtype=np.float64)
    velocity = np.zeros(shape)
    path = [w.copy()]
    for _step in range(steps):
        result = fn(w.copy(), problem.gradient(w), velocity.copy(), **settings)
        new_w, new_velocity = _unpack(result, 2, "sgd_momentum_step", "new_w, new_velocity")
        w = _array(new_w, shape, _("the new weights from sgd_momentum_step"))
        velocity = _array(new_velocity, shape, _("the new velocity from sgd_momentum_step"))
        path.append(w.copy())
    return path


def learner_adam_path(fn: Callable, problem: Problem, settings: dict, steps: int = STEPS) -> list[np.ndarray]:
    shape = problem.start.shape
    w = np.array(problem.start, dtype=np.float64)
    m, v = np.zeros(shape), np.zeros(shape)
    path = [w.copy()]
    for t in range(1, steps + 1):
        result = fn(w.copy(), problem.gradient(w), m.copy(), v.copy(), t, **settings)
        new_w, new_m, new_v = _unpack(result, 3, "adam_step", "new_w, new_m, new_v")
        w = _array(new_w, shape, _("the new weights from adam_step"))
        m = _array(new_m, shape, _("the new m from adam_step"))
        v = _array(new_v, shape, _("the new v from adam_step"))
        path.append(w.copy())
    return path


def _settings_text(settings: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in settings.items()) or _("the default settings")


def _compare(
    mine: list[np.ndarray], keras_: list[np.ndarray], problem: Problem, settings: dict, optimizer_name: str, hint: str
) -> None:
    for step, (got, want) in enumerate(zip(mine, keras_, strict=True)):
        close = np.all(np.isfinite(got)) and np.all(np.abs(got - want) <= ATOL + RTOL * np.abs(want))
        if not close:
            worst = int(np.argmax(np.abs(got - want)))
            raise GradingError(
                _(
                    "On {problem}, with {settings}, your weights after step {step} differ from "
                    "keras.optimizers.{optimizer}'s: weight {worst} is {got:.7g}, Keras has {want:.7g} (tolerance "
                    "{atol:g} + {rtol:g} relative). {hint}"
                ).format(
                    problem=problem.name,
                    settings=_settings_text(settings),
                    step=step,
                    optimizer=optimizer_name,
                    worst=worst,
                    got=got.reshape(-1)[worst],
                    want=want.reshape(-1)[worst],
                    atol=ATOL,
                    rtol=RTOL,
                    hint=_(hint),
                )
            )


# ------------------------------------------------------------------------------------------ SGD


SGD_HINT = N_(  # the hints are shown through gettext
    "Keras' momentum update is velocity = momentum * velocity - learning_rate * g, then "
    "w = w + velocity (with nesterov=True: w = w + momentum * velocity - learning_rate * g, using "
    "the new velocity). With momentum 0 it is plain w - learning_rate * g."
)


def _check_sgd(fn: Callable, cases: list[tuple[Problem, dict]]) -> None:
    import keras

    require(callable(fn), _("sgd_momentum_step should be a function"))
    for problem, settings in cases:
        mine = learner_sgd_path(fn, problem, settings)
        reference = keras_path(problem, keras.optimizers.SGD(**settings))
        _compare(mine, reference, problem, settings, "SGD", SGD_HINT)


def check_sgd_momentum(fn: Callable) -> None:
    """sgd_momentum_step matches keras.optimizers.SGD (plain, with momentum, and with its defaults)."""
    cases = [
        (least_squares(11), {"learning_rate": 0.05, "momentum": 0.9}),
        (matrix_quadratic(12), {"learning_rate": 0.1, "momentum": 0.5}),
        (least_squares(13, d=4), {"learning_rate": 0.02, "momentum": 0.0}),
        (matrix_quadratic(14, shape=(3, 2)), {}),  # the defaults: learning_rate 0.01, no momentum
    ]
    _check_sgd(fn, cases)
    print(
        _("sgd_momentum_step matches keras.optimizers.SGD over {steps} steps on {n} hidden problems").format(
            steps=STEPS, n=len(cases)
        )
    )


def check_nesterov(fn: Callable) -> None:
    """sgd_momentum_step(..., nesterov=True) matches keras.optimizers.SGD(nesterov=True)."""
    cases = [
        (least_squares(21), {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
        (matrix_quadratic(22), {"learning_rate": 0.1, "momentum": 0.7, "nesterov": True}),
    ]
    _check_sgd(fn, cases)
    print(
        _("Nesterov momentum matches keras.optimizers.SGD(nesterov=True) on {n} hidden problems").format(n=len(cases))
    )


# ------------------------------------------------------------------------------------------ Adam


ADAM_HINT = N_(
    "Keras' Adam: m = beta_1 * m + (1 - beta_1) * g; v = beta_2 * v + (1 - beta_2) * g**2; "
    "alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t); "
    "w = w - alpha * m / (sqrt(v) + epsilon). Check the bias correction (t is 1 at the first step) "
    "and where epsilon goes: outside the square root, added to sqrt(v) of the uncorrected v."
)


def _check_adam(fn: Callable, cases: list[tuple[Problem, dict]]) -> None:
    import keras

    require(callable(fn), _("adam_step should be a function"))
    for problem, settings in cases:
        mine = learner_adam_path(fn, problem, settings)
        reference = keras_path(problem, keras.optimizers.Adam(**settings))
        _compare(mine, reference, problem, settings, "Adam", ADAM_HINT)


def check_adam_defaults(fn: Callable) -> None:
    """adam_step with its default arguments matches keras.optimizers.Adam()."""
    cases = [(least_squares(31), {}), (matrix_quadratic(32), {})]
    _check_adam(fn, cases)
    print(_("adam_step with its defaults matches keras.optimizers.Adam() on {n} hidden problems").format(n=len(cases)))


def check_adam(fn: Callable) -> None:
    """adam_step matches keras.optimizers.Adam for other learning rates, betas and epsilons."""
    cases = [
        (least_squares(41), {"learning_rate": 0.02, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-3}),
        (matrix_quadratic(42), {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-7}),
        (least_squares(43, d=5, scale=0.05), {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 0.1}),
    ]
    _check_adam(fn, cases)
    print(_("adam_step matches keras.optimizers.Adam with other settings on {n} hidden problems").format(n=len(cases)))


# ------------------------------------------------------------------------------------------ choosing


def _describe(optimizer: Any) -> str:
    if isinstance(optimizer, str):
        return repr(optimizer)
    try:
        config = optimizer.get_config()
        return f"{type(optimizer).__name__}(learning_rate={float(config['learning_rate']):.3g})"
    except Exception:  # only for the message
        return type(optimizer).__name__


def digits_accuracy(make_optimizer: Callable[[], Any], seed: int, epochs: int = EPOCHS) -> float:
    """Validation accuracy of the course's 64-64-10 digits MLP after `epochs` epochs with make_optimizer()."""
    import keras

    from losslab import data

    split = data.digits(seed=seed)
    optimizer = make_optimizer()
    require(
        isinstance(optimizer, (str, keras.optimizers.Optimizer)),
        _("make_optimizer() should return a keras optimizer (or its name), got {kind}").format(
            kind=type(optimizer).__name__
        ),
    )
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(split.n_features,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(split.n_classes),
        ]
    )
    try:
        model.compile(
            optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
        )
        model.fit(split.x_train, split.y_train, epochs=epochs, batch_size=BATCH_SIZE, verbose=0)
    except ValueError as exc:
        if "Unknown variable" in str(exc):
            raise GradingError(
                _(
                    "make_optimizer() returned an optimizer that was already used for another "
                    "model. A Keras optimizer keeps state for the weights it was built with: "
                    "create a new one inside make_optimizer() on every call."
                )
            ) from None
        raise GradingError(_("training with make_optimizer()'s optimizer failed: {error}").format(error=exc)) from None
    logits = np.asarray(model.predict(split.x_val, verbose=0))
    accuracy = float(np.mean(logits.argmax(axis=1) == split.y_val))
    return accuracy if math.isfinite(accuracy) else 0.0


def check_digits_choice(make_optimizer: Callable[[], Any]) -> None:
    """make_optimizer() must reach TARGET_ACCURACY in EPOCHS epochs on the digits, on two seeds."""
    require(callable(make_optimizer), _("make_optimizer should be a function that returns a new optimizer"))
    first, second = make_optimizer(), make_optimizer()
    require(
        isinstance(first, str) or first is not second,
        _(
            "make_optimizer() returned the same optimizer object twice. A Keras optimizer keeps state for "
            "the weights it was built with: create a new one inside make_optimizer() on every call."
        ),
    )
    from losslab import data

    updates = EPOCHS * math.ceil(len(data.digits().x_train) / BATCH_SIZE)
    accuracies = require_each(
        SEEDS,
        lambda seed: digits_accuracy(make_optimizer, seed),
        lambda accuracy: accuracy >= TARGET_ACCURACY,
        lambda seed, accuracy: _(
            "with seed {seed}, {optimizer} reached {accuracy:.3f} validation accuracy after {epochs} epochs; "
            "{target} is needed. In {epochs} epochs there are only about {updates} updates: the default learning "
            "rates are too cautious, and much larger ones diverge. Sweep the learning rate by factors of about 3."
        ).format(
            seed=seed,
            optimizer=_describe(first),
            accuracy=accuracy,
            epochs=EPOCHS,
            target=TARGET_ACCURACY,
            updates=updates,
        ),
    )
    results = dict(zip(SEEDS, accuracies, strict=True))
    print(
        _("{optimizer}: validation accuracy after {epochs} epochs").format(optimizer=_describe(first), epochs=EPOCHS)
        + " "
        + _(", ").join(
            _("{accuracy:.3f} (seed {seed})").format(accuracy=acc, seed=seed) for seed, acc in results.items()
        )
    )


# ------------------------------------------------------------------------------------------ concepts


def check_stable_learning_rate(answer: Any) -> None:
    """Gradient descent on f(w) = 5 w^2: curvature f'' = 10, so it converges for learning rates below 2/10."""
    value = as_float(answer, "largest_stable_learning_rate")
    if math.isclose(value, 0.4, rel_tol=1e-3):
        raise GradingError(
            _(
                "0.4 is 2 divided by the coefficient 5. The limit is 2 / curvature, and the "
                "curvature of 5 w^2 is its second derivative."
            )
        )
    require(
        math.isclose(value, 0.2, rel_tol=1e-3),
        _(
            "largest_stable_learning_rate is {value:g}. Write one step of gradient descent on f(w) = 5 w^2 "
            "as w <- (1 - learning_rate * c) w: for which learning rates is |1 - learning_rate * c| < 1?"
        ).format(value=value),
    )


def check_divergence_diagnosis(answer: Any) -> None:
    """Adam at learning rate 1: a loss of 200+ in epoch 1, then stuck near ln 10: lower the rate ('b')."""
    text = as_choice(answer, "abcd", "divergence_diagnosis")
    require(
        text == "b",
        _(
            "not this one. A first-epoch loss of 226, far above ln 10 = 2.3, followed by a flat "
            "loss at ln 10 means the steps were far too large: the weights were thrown so far "
            "that the network now predicts the same thing for every image."
        ),
    )


def check_weight_decay(answer: Any) -> None:
    """keras.optimizers.Adam(weight_decay=...) shrinks weights directly, outside Adam's scaling ('c')."""
    text = as_choice(answer, "abcd", "weight_decay_answer")
    require(
        text == "c",
        _(
            "not this one. In Keras 3 every optimizer applies weight_decay itself: before each "
            "update it sets w <- w - learning_rate * weight_decay * w. That never passes "
            "through the gradient, so Adam's division by sqrt(v) does not touch it."
        ),
    )


def check_tune_first(answer: Any) -> None:
    """With a handful of trials, tune only the learning rate ('a')."""
    text = as_choice(answer, "abcd", "tune_first")
    require(
        text == "a",
        _(
            "not this one. With fewer than about 10 trials, spend them all on the learning "
            "rate; betas and epsilon matter less and need more trials to tune well."
        ),
    )
