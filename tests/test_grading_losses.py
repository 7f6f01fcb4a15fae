"""losslab/grading/losses.py: the behaviour checks of chapter 1's exercise, without the trainings (those run
in the grading round trip, tests/test_grading.py)."""

from __future__ import annotations

import functools

import keras
import numpy as np
import pytest
from keras import ops

from losslab.grading import fresh

checks = fresh("losses")
Dense = keras.layers.Dense


@pytest.mark.parametrize(
    "task, answer",
    [
        ("spam_filter", lambda: (Dense(1, activation="sigmoid"), "binary_crossentropy")),
        ("spam_filter", lambda: (Dense(1), keras.losses.BinaryCrossentropy(from_logits=True))),
        ("spam_filter", lambda: (Dense(2, activation="softmax"), keras.losses.sparse_categorical_crossentropy)),
        ("spam_filter", lambda: (Dense(1, activation="sigmoid"), "crossentropy")),
        ("digit_reader", lambda: (Dense(10, activation="softmax"), "sparse_categorical_crossentropy")),
        ("digit_reader", lambda: (Dense(10), keras.losses.SparseCategoricalCrossentropy(from_logits=True))),
        (
            "digit_reader",
            lambda: [Dense(10, activation=keras.activations.softmax), keras.losses.SparseCategoricalCrossentropy],
        ),
        ("topic_classifier", lambda: (Dense(4, activation="softmax"), keras.losses.categorical_crossentropy)),
        ("topic_classifier", lambda: (Dense(4), keras.losses.CategoricalCrossentropy(from_logits=True))),
        ("delivery_time", lambda: (Dense(1), "mse")),
        ("delivery_time", lambda: (Dense(1, activation="linear"), keras.losses.MeanSquaredError())),
        ("sensor_glitches", lambda: (Dense(1), "mae")),
        ("sensor_glitches", lambda: (Dense(1), keras.losses.Huber(delta=2.0))),
        ("sensor_glitches", lambda: (Dense(1), functools.partial(keras.losses.huber, delta=0.5))),
        ("sensor_glitches", lambda: (Dense(1), "log_cosh")),
    ],
)
def test_right_answers_pass_however_they_are_written(task, answer, capsys) -> None:
    checks.check_task(task, answer())
    assert "fits" in capsys.readouterr().out


@pytest.mark.parametrize(
    "task, answer, fragment",
    [
        ("spam_filter", lambda: (Dense(1, activation="sigmoid"), "mse"), "regression loss"),
        ("spam_filter", lambda: (Dense(1), "binary_crossentropy"), "raw scores"),
        (
            "spam_filter",
            lambda: (Dense(1, activation="sigmoid"), keras.losses.BinaryCrossentropy(from_logits=True)),
            "applies it again",
        ),
        ("spam_filter", lambda: (Dense(1, activation="softmax"), "binary_crossentropy"), "always outputs 1.0"),
        (
            "spam_filter",
            lambda: (Dense(3, activation="softmax"), "sparse_categorical_crossentropy"),
            "one sigmoid unit",
        ),
        (
            "digit_reader",
            lambda: (Dense(10, activation="softmax"), "categorical_crossentropy"),
            "use sparse_categorical_crossentropy",
        ),
        ("digit_reader", lambda: (Dense(10, activation="sigmoid"), "sparse_categorical_crossentropy"), "use softmax"),
        (
            "digit_reader",
            lambda: (Dense(10, activation="softmax"), keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
            "applies it again",
        ),
        ("digit_reader", lambda: (Dense(9, activation="softmax"), "sparse_categorical_crossentropy"), "10 units"),
        (
            "topic_classifier",
            lambda: (Dense(4, activation="softmax"), "sparse_categorical_crossentropy"),
            "use categorical_crossentropy",
        ),
        ("delivery_time", lambda: (Dense(1, activation="relu"), "mse"), "nothing below 0"),
        ("delivery_time", lambda: (Dense(1), "mae"), "grows fastest"),
        ("sensor_glitches", lambda: (Dense(1), "mse"), "linearly"),
        ("sensor_glitches", lambda: (Dense(1), keras.losses.Huber(delta=50.0)), "keep delta small"),
        ("sensor_glitches", lambda: (Dense(2), "mae"), "one output unit"),
        ("sensor_glitches", lambda: (Dense(1), "no_such_loss"), "does not know"),
        ("sensor_glitches", lambda: "mae", "pair"),
        ("sensor_glitches", lambda: (keras.layers.Activation("linear"), "mae"), "Dense"),
    ],
)
def test_wrong_answers_fail_with_a_message_that_helps(task, answer, fragment) -> None:
    with pytest.raises(checks.GradingError, match=None) as info:
        checks.check_task(task, answer())
    assert fragment in str(info.value), str(info.value)


def test_a_layer_used_before_is_copied_not_rebuilt() -> None:
    layer = Dense(10, activation="softmax")
    layer.build((None, 64))  # built for another input size
    checks.check_task("digit_reader", (layer, "sparse_categorical_crossentropy"))


def _bce(y_true, y_pred):
    p = ops.clip(ops.cast(y_pred, "float32"), keras.config.epsilon(), 1 - keras.config.epsilon())
    y = ops.cast(y_true, "float32")
    return -ops.mean(y * ops.log(p) + (1 - y) * ops.log(1 - p))


def _huber(y_true, y_pred, delta=1.0):
    e = ops.abs(ops.cast(y_pred, "float32") - ops.cast(y_true, "float32"))
    return ops.mean(ops.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta)))


def test_losses_by_hand_pass_when_they_match_keras() -> None:
    checks.check_binary_crossentropy(_bce)
    checks.check_huber(_huber)


@pytest.mark.parametrize(
    "fn, fragment",
    [
        (
            lambda y, p: -ops.mean(ops.cast(y, "float32") * ops.log(p) + (1 - ops.cast(y, "float32")) * ops.log(1 - p)),
            "clips",
        ),
        (lambda y, p: _bce(y, p) * ops.cast(ops.size(y), "float32"), "sum over the entries"),
        (lambda y, p: -_bce(y, p), "sign is flipped"),
        (
            lambda y, p: (
                ops.mean(_bce(y, p) * ops.ones_like(ops.cast(p, "float32")), axis=-1) * 1.0
                if len(ops.shape(p)) == 1
                else ops.ones((3,))
            ),
            "one number",
        ),
        (
            lambda y, p: float(
                np.mean(
                    -np.log(np.clip(np.asarray(p), 1e-7, 1 - 1e-7)) * np.asarray(y)
                    - np.log(1 - np.clip(np.asarray(p), 1e-7, 1 - 1e-7)) * (1 - np.asarray(y))
                )
            ),
            "keras.ops",
        ),
        # the right values, but no gradient: a model cannot train with it
        (lambda y, p: ops.stop_gradient(_bce(y, p)), "keras.ops"),
        ("not a function", "should be a function"),
    ],
)
def test_wrong_binary_crossentropy(fn, fragment) -> None:
    with pytest.raises(checks.GradingError) as info:
        checks.check_binary_crossentropy(fn)
    assert fragment in str(info.value), str(info.value)


@pytest.mark.parametrize(
    "fn, fragment",
    [
        (lambda y, p, delta=1.0: _huber(y, p, 1.0), "ignore delta"),
        (
            lambda y, p, delta=1.0: ops.mean(
                ops.where(ops.abs(p - y) <= delta, 0.5 * (p - y) ** 2, delta * ops.abs(p - y))
            ),
            "Keras' Huber(delta=1.0)",
        ),
        (lambda y, p, delta=1.0: _huber(y, p, delta) if len(ops.shape(p)) == 1 else ops.sum(ops.zeros((2,))), "8 x 4"),
        (lambda y, p: _huber(y, p), "raised TypeError"),
    ],
)
def test_wrong_huber(fn, fragment) -> None:
    with pytest.raises(checks.GradingError) as info:
        checks.check_huber(fn)
    assert fragment in str(info.value), str(info.value)


def _classifier(units, activation, loss):
    model = keras.Sequential([keras.Input((30,)), Dense(units, activation=activation)])
    model.compile(optimizer="adam", loss=loss)
    return model


@pytest.mark.parametrize(
    "units, activation, loss",
    [
        (1, "sigmoid", "binary_crossentropy"),
        (1, None, keras.losses.BinaryCrossentropy(from_logits=True)),
        (2, "softmax", "sparse_categorical_crossentropy"),
        (2, "softmax", keras.losses.CategoricalCrossentropy()),
    ],
)
def test_classifier_loss_accepts_fitting_pairs(units, activation, loss) -> None:
    checks.check_classifier_loss(_classifier(units, activation, loss))


@pytest.mark.parametrize(
    "units, activation, loss, fragment",
    [
        (1, "sigmoid", "mse", "regression loss"),
        (1, None, "binary_crossentropy", "raw scores"),
        (2, "softmax", "binary_crossentropy", "needs 1 unit"),
        (1, "sigmoid", "sparse_categorical_crossentropy", "needs 2 unit"),
    ],
)
def test_classifier_loss_rejects_misfits(units, activation, loss, fragment) -> None:
    with pytest.raises(checks.GradingError) as info:
        checks.check_classifier_loss(_classifier(units, activation, loss))
    assert fragment in str(info.value), str(info.value)


def test_classifier_checks_need_a_compiled_model() -> None:
    with pytest.raises(checks.GradingError, match="trained keras Model"):
        checks.check_classifier_loss("a model")
    with pytest.raises(checks.GradingError, match="compile"):
        checks.check_classifier_loss(keras.Sequential([keras.Input((3,)), Dense(1)]))


def test_classifier_accuracy_reads_probabilities_logits_and_two_columns() -> None:
    x = np.array([[-2.0], [-1.0], [1.0], [3.0]], "float32")
    y = np.array([0, 0, 1, 1])

    def fixed(units, activation, loss, kernel, bias):
        model = keras.Sequential([keras.Input((1,)), Dense(units, activation=activation)])
        model.compile(loss=loss)
        model.set_weights([np.array(kernel, "float32"), np.array(bias, "float32")])
        return model

    assert checks.classifier_accuracy(fixed(1, "sigmoid", "binary_crossentropy", [[1.0]], [0.0]), x, y) == 1.0
    logits = fixed(1, None, keras.losses.BinaryCrossentropy(from_logits=True), [[1.0]], [0.0])
    assert checks.classifier_accuracy(logits, x, y) == 1.0  # thresholded at 0, not 0.5
    two = fixed(2, "softmax", "sparse_categorical_crossentropy", [[-1.0, 1.0]], [0.0, 0.0])
    assert checks.classifier_accuracy(two, x, y) == 1.0


def test_regressor_mae() -> None:
    x = np.zeros((4, 2), "float32")
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert checks.regressor_mae(lambda x: np.full(len(x), 2.5), x, y) == pytest.approx(1.0)
    with pytest.raises(checks.GradingError, match="one prediction per example"):
        checks.regressor_mae(lambda x: np.zeros(3), x, y)
    with pytest.raises(checks.GradingError, match="function predict"):
        checks.regressor_mae("not a function", x, y)


@pytest.mark.parametrize(
    "check, right", [("check_silent_failure", "c"), ("check_outliers", "b"), ("check_regression_output", "d")]
)
def test_concept_answers(check, right) -> None:
    getattr(checks, check)(f" {right.upper()} ")
    for wrong in sorted({"a", "b", "c", "d"} - {right}):
        with pytest.raises(checks.GradingError):
            getattr(checks, check)(wrong)
    with pytest.raises(checks.GradingError, match="one of"):
        getattr(checks, check)("e")
    with pytest.raises(checks.GradingError, match="string"):
        getattr(checks, check)(3)


def test_the_checks_use_a_private_copy_of_the_library(monkeypatch) -> None:
    from losslab import losses

    monkeypatch.setattr(losses, "check_activation_vs_loss", lambda *a, **k: [])
    monkeypatch.setattr(losses, "describe_loss", lambda *a, **k: None)
    private = fresh("losses")
    with pytest.raises(private.GradingError, match="raw scores"):
        private.check_task("spam_filter", (Dense(1), "binary_crossentropy"))
