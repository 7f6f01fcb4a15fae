"""Behaviour checks for the debugging exercise (solutions/04_debugging/debugging_exercise.ipynb).

Every fix is graded by retraining it here, on data the notebook never showed (another split, another
dataset) and under the exercise's fixed budget of epochs, against thresholds that live in this file. So a fix
that only hides the symptom loses its points: raising the visible test's threshold changes nothing here,
training far longer than the budget is counted (the optimizer's own step counter), and stopping at the NaN
(or replacing it) leaves a model that misses the target.

Each check raises GradingError with a message for the learner, or prints what it measured and returns None.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from losslab.grading.core import as_floats, as_text, require, require_each

# Budgets and targets (the notebook shows the same numbers; these are the ones that count).
WINE_EPOCHS = 15
TARGET_ACCURACY = 0.9
REGRESSION_EPOCHS = 30
TARGET_MAE = 55.0
SMALLEST_BATCH = 8  # more updates per epoch than batches of 8 would give counts as training longer
DIGITS_EPOCHS = 6

DIAGNOSES = {
    "diagnosis_1": (
        "unscaled_inputs",
        "Compare the loss before training with ln 3, and the ranges of the 13 features.",
    ),
    "diagnosis_2": (
        "target_scale",
        "The gradients do explode, but that is the mechanism: what makes them so "
        "large before the first step? Look at the numbers the model must predict.",
    ),
    "diagnosis_3": ("lr_too_high", "Look at the first epoch's loss and where the loss settles afterwards."),
    "diagnosis_a": ("unshuffled_split", "Which classes are in the last 20% of the rows?"),
    "diagnosis_b": (
        "constant_loss",
        "A loss that repeats to every decimal means the weights never moved. Why would their gradient be zero?",
    ),
    "diagnosis_c": ("vanishing_gradients", "Compare the first weight matrix's gradient with the last one's."),
    "diagnosis_d": ("reused_model", "What loss should a freshly built 2-class model start with?"),
}


def _causes() -> dict[str, str]:
    from losslab.doctor import CAUSES

    return dict(CAUSES)


def check_diagnosis(name: str, answer: Any) -> None:
    """`answer` names the expected cause: its id in losslab.doctor.CAUSES or its description."""
    require(name in DIAGNOSES, f"unknown question {name!r}")
    causes = _causes()
    text = as_text(answer, name).replace("-", "_").replace(" ", "_")
    by_description = {v.lower().replace(" ", "_"): k for k, v in causes.items()}
    cause = text if text in causes else by_description.get(text)
    require(
        cause is not None,
        f"{name} should be one of the causes in doctor.CAUSES, such as 'lr_too_high'; "
        f"got {answer!r}. The list: {', '.join(sorted(causes))}",
    )
    expected, hint = DIAGNOSES[name]
    require(cause == expected, f"{name}: not '{cause}'. {hint}")
    print(f"{name}: {cause} ({causes[cause]})")


# ----------------------------------------------------------------------------------- patient 1


def patient_1_model(n_features: int, n_classes: int):  # noqa: ANN201 - a compiled keras Model
    """The first patient's network, unchanged by the fix: one hidden layer, logits, Adam 1e-2."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(n_features,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(n_classes),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def wild_scales(seed: int = 3):  # noqa: ANN201 - a losslab.data.Split
    """400 examples, 8 features whose scales run from 0.01 to 1,000,000, 3 classes: unseen by the notebook."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    from losslab import data

    x, y = make_classification(
        n_samples=400,
        n_features=8,
        n_informative=5,
        n_redundant=1,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=1.5,
        random_state=seed,
    )
    x = x * 10.0 ** np.arange(-2, 6) + 10.0 ** np.arange(-1, 7)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    return data.Split(
        "wild_scales",
        x_train.astype(np.float32),
        x_val.astype(np.float32),
        y_train.astype(np.int64),
        y_val.astype(np.int64),
        class_names=("a", "b", "c"),
    )


def _prepared(fn: Callable, x_train: np.ndarray, x_other: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    result = fn(x_train.copy(), x_other.copy())
    require(
        isinstance(result, tuple) and len(result) == 2,
        f"prepare_inputs should return two arrays (x_train, x_other), got {type(result).__name__}",
    )
    a = np.asarray(as_floats(result[0], "the prepared x_train"), dtype=np.float64).reshape(x_train.shape)
    b = np.asarray(as_floats(result[1], "the prepared x_other"), dtype=np.float64).reshape(x_other.shape)
    require(
        bool(np.all(np.isfinite(a)) and np.all(np.isfinite(b))),
        f"on {what} the prepared features contain NaN or inf (a constant feature divided by 0?)",
    )
    return a, b


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:  # noqa: ANN001
    import keras

    outputs = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))
    return float((outputs.argmax(axis=1) == y).mean())


def check_prepare_inputs(prepare_inputs: Callable) -> None:
    """Statistics from x_train only, and the patient's network trains on data the notebook never showed."""
    from losslab import data

    require(callable(prepare_inputs), "prepare_inputs should be a function of (x_train, x_other)")
    wine = data.wine(scale=False, seed=1)
    full_a, full_b = _prepared(prepare_inputs, wine.x_train, wine.x_val, "wine")
    part_a, part_b = _prepared(prepare_inputs, wine.x_train, wine.x_val[:7], "wine")
    require(
        bool(np.allclose(part_b, full_b[:7], rtol=1e-5, atol=1e-6) and np.allclose(part_a, full_a, rtol=1e-5)),
        "the prepared validation rows change when other validation rows change: prepare_inputs uses "
        "statistics of x_other. Compute the mean and spread on x_train only, then apply them to both",
    )
    splits = (wine, wild_scales())

    def accuracy(split: Any) -> float:
        x_train, x_val = _prepared(prepare_inputs, split.x_train, split.x_val, split.name)
        model = patient_1_model(split.n_features, split.n_classes)
        model.fit(x_train.astype(np.float32), split.y_train, epochs=WINE_EPOCHS, batch_size=16, verbose=0)
        return _accuracy(model, x_val.astype(np.float32), split.y_val)

    values = require_each(
        splits,
        accuracy,
        lambda value: value >= TARGET_ACCURACY,
        lambda split, value: (
            f"on the {split.name} data ({split.n_features} features) the network reached validation "
            f"accuracy {value:.2f} in {WINE_EPOCHS} epochs; {TARGET_ACCURACY} is needed. Scale every "
            "feature with statistics of the training split, whatever its range (no constants fitted to "
            "wine)"
        ),
    )
    results = {split.name: value for split, value in zip(splits, values, strict=True)}
    print("validation accuracy: " + ", ".join(f"{k} {v:.2f}" for k, v in results.items()))


# ----------------------------------------------------------------------------------- patient 2


def check_train_regressor(train_regressor: Callable) -> None:
    """Trained within the budget on another split, finite predictions in the target's units, MAE <= target."""
    import keras

    from losslab import data

    require(callable(train_regressor), "train_regressor should be a function of (x_train, y_train, epochs)")
    split = data.diabetes(seed=1)
    result = train_regressor(split.x_train.copy(), split.y_train.copy(), REGRESSION_EPOCHS)
    require(
        isinstance(result, tuple) and len(result) == 2,
        "train_regressor should return (model, predict): the trained model and a function giving "
        "predictions in the target's units",
    )
    model, predict = result
    require(
        isinstance(model, keras.Model) and getattr(model, "optimizer", None) is not None,
        "the first value returned should be the trained, compiled keras Model",
    )
    budget = REGRESSION_EPOCHS * math.ceil(len(split.x_train) / SMALLEST_BATCH)
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    require(
        bool(steps <= budget),
        f"the model took {steps} optimizer steps; {REGRESSION_EPOCHS} epochs allow at most "
        f"{budget} (batches of {SMALLEST_BATCH} or more). Training far longer hides the "
        "problem instead of fixing it",
    )
    require(callable(predict), "the second value returned should be a function predict(x)")
    predictions = np.asarray(as_floats(predict(split.x_val), "predict(x_val)"), dtype=np.float64)
    require(
        predictions.size == len(split.y_val),
        f"predict(x_val) should give one number per example ({len(split.y_val)}), got {predictions.size}",
    )
    require(
        bool(np.all(np.isfinite(predictions))),
        "some predictions are NaN or inf: the training still diverges. Stopping at the NaN (TerminateOnNaN) "
        "or replacing it hides the symptom; remove the cause",
    )
    mae = float(np.abs(predictions - split.y_val).mean())
    baseline = float(np.abs(split.y_val - split.y_train.mean()).mean())
    require(
        bool(mae <= TARGET_MAE),
        f"on another split the mean absolute error is {mae:.1f}; at most {TARGET_MAE:g} is "
        f"needed (always predicting the training mean gives {baseline:.1f}). Are your "
        "predictions back in the target's units?",
    )
    print(
        f"validation MAE {mae:.1f} (target {TARGET_MAE:g}, predicting the mean: {baseline:.1f}); "
        f"{steps} optimizer steps"
    )


# ----------------------------------------------------------------------------------- patient 3


def patient_3_model():  # noqa: ANN201 - an uncompiled keras Model
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10),
        ]
    )


def check_make_optimizer(make_optimizer: Callable) -> None:
    """A fresh optimizer per call that trains the patient's network on another digits split within budget."""
    import keras

    from losslab import data

    require(callable(make_optimizer), "make_optimizer should be a function with no arguments")
    first, second = make_optimizer(), make_optimizer()
    require(
        isinstance(first, (str, keras.optimizers.Optimizer)),
        f"make_optimizer() should return a keras optimizer, got {type(first).__name__}",
    )
    require(
        isinstance(first, str) or first is not second,
        "make_optimizer() should build a new optimizer at every call (each model needs its own)",
    )
    split = data.digits(seed=1)
    keras.utils.set_random_seed(1)
    model = patient_3_model()
    model.compile(optimizer=second, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(split.x_train, split.y_train, epochs=DIGITS_EPOCHS, batch_size=32, verbose=0)
    accuracy = _accuracy(model, split.x_val, split.y_val)
    clipped = not isinstance(second, str) and any(
        getattr(second, name, None) for name in ("clipnorm", "global_clipnorm", "clipvalue")
    )
    advice = (
        "Clipping does not shrink Adam's steps (they are about the learning rate whatever the gradient's "
        "size): fix the learning rate itself"
        if clipped
        else "Choose a learning rate with a short sweep, or take the doctor's range-test suggestion (a tenth of "
        "the rate at which its smoothed loss was lowest)"
    )
    require(
        bool(accuracy >= TARGET_ACCURACY),
        f"on another split of the digits the network reached validation accuracy {accuracy:.2f} in "
        f"{DIGITS_EPOCHS} epochs; {TARGET_ACCURACY} is needed. {advice}",
    )
    print(f"validation accuracy on another split: {accuracy:.2f}")
