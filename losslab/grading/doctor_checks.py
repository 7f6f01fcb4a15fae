"""Behaviour checks for the doctor-checks exercise (solutions/04_debugging/debugging_checks_exercise.ipynb).

The learner writes three of the training doctor's checks before meeting the doctor: the loss before training
against ln K, training one batch over and over, and the gradient norm of every weight matrix. Each is graded here
on models and data the notebook never shows (other widths, depths, class counts, initializations and random data,
built fresh at every call), against the grader's own measurement of the same model, and on a healthy and a broken
training, so that a function that only returns plausible numbers loses its points.

The lettered question at the end is checked by ``debugging.check_answer`` (its ANSWERS). Each check raises
GradingError with a message for the learner, or prints what it measured and returns None.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from losslab.grading.core import as_float, as_floats, call, require
from losslab.messages import N_, _

ONE_BATCH = 32  # the batch that overfit_one_batch must memorize: the first 32 examples
ONE_BATCH_STEPS = 150
MEMORIZED = 0.1  # a healthy model's loss on its one batch after ONE_BATCH_STEPS, as a share of ln K
RATIO_RTOL = 0.02  # first_loss_ratio against the grader's own evaluation of the same untrained model
NORM_RTOL = 1e-2  # gradient norms against the grader's own gradients of the same model

# ------------------------------------------------------------------------------------------ test models


def _data(seed: int, n: int, features: int, classes: int, used: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs and random labels (from the first `used` of `classes` classes): data no notebook shows."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = rng.integers(0, used or classes, n).astype("int32")
    return x, y


def _model(
    features: int, classes: int, hidden: tuple[int, ...], *, activation: str = "relu", init: Any = None, seed: int = 0
):  # a compiled keras Model
    import keras

    keras.utils.set_random_seed(seed)
    init = init or ("he_normal" if activation == "relu" else "glorot_uniform")
    layers = [keras.Input(shape=(features,))]
    layers += [keras.layers.Dense(units, activation=activation, kernel_initializer=init) for units in hidden]
    layers.append(keras.layers.Dense(classes, kernel_initializer=init))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return model


def _weights(model: Any) -> list[np.ndarray]:
    return [np.array(w) for w in model.get_weights()]


def _unchanged(before: list[np.ndarray], model: Any) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def _loss(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    return float(model.evaluate(x, y, batch_size=len(x), verbose=0))


# ----------------------------------------------------------------------------------------- first loss


def check_first_loss_ratio(first_loss_ratio: Callable) -> None:
    """The untrained model's loss on (x, y) divided by ln K, K its number of output units, without training it:
    on a healthy model (near 1), on one with N(0, 2) weights (far above 1) and on labels that leave a class out."""
    import keras

    require(callable(first_loss_ratio), _("first_loss_ratio should be a function of (model, x, y)"))
    cases = {  # the models' names are shown through gettext (marked N_)
        N_("a healthy 5-class model"): (_model(12, 5, (32, 32), seed=11), _data(11, 300, 12, 5)),
        N_("a 7-class model with N(0, 2) weights"): (
            _model(9, 7, (24, 24, 24), init=keras.initializers.RandomNormal(stddev=2.0), seed=12),
            _data(12, 300, 9, 7),
        ),
        N_("a 4-class model whose labels use 3 of its classes"): (
            _model(6, 4, (16,), seed=13),
            _data(13, 200, 6, 4, 3),
        ),
    }
    measured = {}
    for name, (model, (x, y)) in cases.items():
        before = _weights(model)
        value = as_float(call("first_loss_ratio", first_loss_ratio, model, x.copy(), y.copy()), "first_loss_ratio")
        require(
            _unchanged(before, model),
            _(
                "on {name} the weights changed: the check measures the model before any training, so it must not "
                "train it (evaluate the loss; do not call fit or train_on_batch)"
            ).format(name=_(name)),
        )
        expected = _loss(model, x, y) / math.log(model.output_shape[-1])
        require(
            math.isfinite(value) and abs(value - expected) <= RATIO_RTOL * expected,
            _(
                "on {name} (never shown in the notebook) your ratio is {value:.4g}; the model's loss before training "
                "divided by ln K gives {expected:.4g}. K is the number of output units (model.output_shape[-1]), and "
                "the logarithm is the natural one"
            ).format(name=_(name), value=value, expected=expected),
        )
        measured[name] = value
    print(_("first loss / ln K on unseen models:") + " " + _(", ").join(f"{_(n)} {v:.2f}" for n, v in measured.items()))


# ------------------------------------------------------------------------------------------ one batch


def check_overfit_one_batch(overfit_one_batch: Callable) -> None:
    """Trains the model `steps` steps on the first 32 examples only and returns their loss afterwards: a healthy
    model memorizes 32 random labels, a model with no hidden layer cannot fit 32 XOR points; both are checked
    against the grader's own evaluation of the model the function left, and the optimizer's step counter."""
    import keras

    require(callable(overfit_one_batch), _("overfit_one_batch should be a function of (model, x, y, steps)"))
    x_xor = np.random.default_rng(21).uniform(-1, 1, size=(400, 2)).astype("float32")
    y_xor = ((x_xor[:, 0] > 0) ^ (x_xor[:, 1] > 0)).astype("int32")
    cases = {
        N_("a healthy 6-class model on 600 random labels"): (_model(16, 6, (64, 64), seed=22), _data(22, 600, 16, 6)),
        N_("a model with no hidden layer on XOR points"): (_model(2, 2, (), seed=23), (x_xor, y_xor)),
    }
    results = {}
    for name, (model, (x, y)) in cases.items():
        value = as_float(
            call("overfit_one_batch", overfit_one_batch, model, x.copy(), y.copy(), ONE_BATCH_STEPS),
            "overfit_one_batch",
        )
        steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        require(
            steps == ONE_BATCH_STEPS,
            _(
                "on {name} the optimizer took {steps} steps; overfit_one_batch(model, x, y, steps={wanted}) "
                "should take exactly {wanted}, each on the same first {batch} examples"
            ).format(name=_(name), steps=steps, wanted=ONE_BATCH_STEPS, batch=ONE_BATCH),
        )
        after = _loss(model, x[:ONE_BATCH], y[:ONE_BATCH])
        require(
            math.isfinite(value) and abs(value - after) <= max(0.05, 0.2 * after),
            _(
                "on {name} you returned {value:.4g}, but the model you trained has a loss of {after:.4g} on the first "
                "{batch} examples: return that batch's loss after the training (not an accuracy, not the first loss)"
            ).format(name=_(name), value=value, after=after, batch=ONE_BATCH),
        )
        results[name] = after / math.log(model.output_shape[-1])
    healthy, shallow = results.values()
    require(
        healthy <= MEMORIZED,
        _(
            "a healthy model kept {healthy:.2f} x ln K on the batch after {steps} steps: it should memorize it "
            "(below {memorized} x ln K). Train on the first {batch} examples only, the same ones every step"
        ).format(healthy=healthy, steps=ONE_BATCH_STEPS, memorized=MEMORIZED, batch=ONE_BATCH),
    )
    require(shallow > healthy, _("the model with no hidden layer should not fit its batch better than the healthy one"))
    print(
        _("loss on the batch after {steps} steps, / ln K: healthy {healthy:.3f}, no hidden layer {shallow:.3f}").format(
            steps=ONE_BATCH_STEPS, healthy=healthy, shallow=shallow
        )
    )


# -------------------------------------------------------------------------------------- gradient norms


def _reference_norms(model: Any, x: np.ndarray, y: np.ndarray) -> list[float]:
    from losslab.doctor import gradients

    _loss_value, grads = gradients(model, x, y)  # (not `_`: the gettext function)
    return [
        float(np.linalg.norm(g)) for v, g in zip(model.trainable_variables, grads, strict=True) if len(v.shape) == 2
    ]


def check_gradient_norms(gradient_norms: Callable) -> None:
    """One norm per weight matrix (kernel), from the input to the output, of the training loss's gradient on
    (x, y): against the grader's own gradients of the same model, and it must show the vanishing of ten Glorot
    sigmoid layers (first / last far below 1) where He ReLU layers keep it."""
    require(callable(gradient_norms), _("gradient_norms should be a function of (model, x, y)"))
    cases = {
        N_("ten sigmoid layers"): (_model(10, 3, (24,) * 10, activation="sigmoid", seed=31), _data(31, 128, 10, 3)),
        N_("ten ReLU layers with He's scheme"): (_model(10, 3, (24,) * 10, seed=32), _data(32, 128, 10, 3)),
        N_("two ReLU layers of other widths"): (_model(7, 5, (40, 12), seed=33), _data(33, 96, 7, 5)),
    }
    ratios = {}
    for name, (model, (x, y)) in cases.items():
        result = call("gradient_norms", gradient_norms, model, x.copy(), y.copy())
        norms = as_floats(result, "gradient_norms(...)")
        expected = _reference_norms(model, x, y)
        require(
            len(norms) == len(expected),
            _(
                "on {name} you returned {n} norms; the model has {expected} weight matrices (its kernels, the 2-D "
                "variables): one norm each, without the bias vectors"
            ).format(name=_(name), n=len(norms), expected=len(expected)),
        )
        require(
            bool(np.allclose(norms, expected, rtol=NORM_RTOL, atol=1e-12)),
            _(
                "on {name} your norms {norms} differ from the gradient norms of the same model {expected}: the norm "
                "(square root of the sum of squares) of the training loss's gradient for each kernel, in order from "
                "the input to the output"
            ).format(name=_(name), norms=np.round(norms, 6).tolist(), expected=np.round(expected, 6).tolist()),
        )
        ratios[name] = norms[0] / norms[-2]
    require(ratios["ten sigmoid layers"] < 1e-2 < ratios["ten ReLU layers with He's scheme"], f"ratios {ratios}")
    print(
        _("first / last hidden gradient norm on unseen models:")
        + " "
        + _(", ").join(f"{_(n)} {v:.2g}" for n, v in ratios.items())
    )
