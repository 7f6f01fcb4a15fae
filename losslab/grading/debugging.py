"""Behaviour checks for the debugging exercise (solutions/04_debugging/debugging_exercise.ipynb).

Every fix is graded by retraining it here, on data the notebook never showed (other seeds of a generated
dataset, another split, another dataset) and under the exercise's fixed budget of epochs, against thresholds
that live in this file. So a fix that only hides the symptom loses its points: raising the visible test's
threshold changes nothing here, training far longer than the budget is counted (the optimizer's own step
counter), stopping at the NaN (or replacing it) leaves a model that misses the target, and a fix of one of two
planted causes leaves the other one failing. The reasoned answers (the patients' and the case files') are
multiple choice (``as_choice``): which causes, why, what the doctor could not see, what a case file's numbers
mean; the doctor's own words earn nothing.

Each check raises GradingError with a message for the learner, or prints what it measured and returns None.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from losslab.grading.core import as_choice, as_floats, call, require, require_each
from losslab.messages import N_, _

# Budgets and targets (the notebook shows the same numbers; these are the ones that count).
SENSOR_EPOCHS = 15
TARGET_ACCURACY = 0.9
SENSOR_TARGET = 0.85  # on unseen sensor seeds and wine; the fixed solution scores 0.9 or more (TF and JAX)
REGRESSION_EPOCHS = 30
TARGET_MAE = 55.0
SMALLEST_BATCH = 8  # more updates per epoch than batches of 8 would give counts as training longer
CLEANING_EPOCHS = 20
MISSING_FRACTION = 0.15
CLEANING_TARGET = 0.85  # on unseen data; the solution scores 0.9 or more (TF and JAX), the bug 0.5-0.7
CLEANING_SEEDS = (1, 5)  # breast-cancer split and missing values, generated dataset; the notebook shows 0
SENSOR_SEEDS = (3, 4)  # the notebook shows seed 0
DEEP_DEPTH = 10  # patient 4 (chapter 4 part 3): ten hidden layers, kept by the fix
DEEP_EPOCHS = 5
DEEP_TARGET = 0.8  # on unseen data; the patient stays near chance, a sound initialization or normalization clears it
DEEP_SEED = 2  # digits split and pixel order, generated dataset; the notebook shows digits as they are

# The reasoned answers, for the patients and the case files: (choices, the right one, a hint for a wrong one);
# the hints are marked N_ and shown through gettext.
ANSWERS = {
    "answer_1": (
        ("a", "b", "c", "d"),
        "c",
        N_(
            "Try each fix alone in a cell of your own: scale the inputs and keep the rate, then lower the rate and "
            "keep the raw inputs. What does each alone reach?"
        ),
    ),
    "answer_2": (
        ("a", "b", "c", "d"),
        "b",
        N_(
            "The features are already standardized. What size are the errors at the first step, and so the MSE "
            "gradient?"
        ),
    ),
    "answer_3": (
        ("a", "b", "c", "d"),
        "a",
        N_(
            "Compare the label of a row before and after `clean_rows`: print x and y of the same rows from the raw "
            "data and from the cleaned data."
        ),
    ),
    "diagnosis_a": (
        ("a", "b", "c", "d"),
        "d",
        N_("Which classes are in the last third of the rows, the ones held out?"),
    ),
    "diagnosis_b": (
        ("a", "b", "c", "d"),
        "a",
        N_("A loss that repeats to every decimal means the weights never moved. Why would their gradient be zero?"),
    ),
    "diagnosis_c": (("a", "b", "c", "d"), "c", N_("Compare the first weight matrix's gradient with the last one's.")),
    "diagnosis_d": (("a", "b", "c", "d"), "d", N_("What loss should a freshly built 2-class model start with?")),
    "diagnosis_e": (
        ("a", "b", "c", "d"),
        "a",
        N_("Build the same network with kernel_initializer='he_normal' and measure the spreads again: what changed?"),
    ),
    "answer_checks": (  # the doctor-checks exercise (debugging_checks_exercise.ipynb)
        ("a", "b", "c", "d"),
        "b",
        N_(
            "Read your three measurements together: which one is far from what a healthy model shows, and which are "
            "not?"
        ),
    ),
    "answer_4": (
        ("a", "b", "c", "d"),
        "b",
        N_(
            "Measure the spread of every layer's output before training (depth.activation_stds): how does it change "
            "from the first layer to the last?"
        ),
    ),
    "answer_5": (
        ("a", "b", "c", "d"),
        "c",
        N_(
            "Compare the training loss with the validation loss, epoch by epoch: which one keeps falling, and what "
            "does the other do after its lowest point?"
        ),
    ),
    "diagnosis_f": (
        ("a", "b", "c", "d"),
        "d",
        N_("Compute sum(model.losses) and add it to the cross-entropy of the predictions: what do you get?"),
    ),
}


def check_answer(name: str, answer: Any) -> None:
    """`answer` is the letter of the right statement (checked with as_choice)."""
    require(name in ANSWERS, _("unknown question {name!r}").format(name=name))
    choices, expected, hint = ANSWERS[name]
    text = as_choice(answer, choices, name)
    require(text == expected, _("{name}: not {text!r}. {hint}").format(name=name, text=text, hint=_(hint)))
    print(f"{name}: {text}")


# ----------------------------------------------------------------------------------- patient 1


def patient_1_model(n_features: int, n_classes: int, optimizer: Any):  # a compiled keras Model
    """The first patient's network, unchanged by the fix: one hidden layer, logits; the optimizer is the learner's."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(n_features,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(n_classes),
        ]
    )
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _prepared(fn: Callable, x_train: np.ndarray, x_other: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    result = call("prepare_inputs", fn, x_train.copy(), x_other.copy())
    require(
        isinstance(result, tuple) and len(result) == 2,
        _("prepare_inputs should return two arrays (x_train, x_other), got {kind}").format(kind=type(result).__name__),
    )
    a = np.asarray(as_floats(result[0], _("the prepared x_train")), dtype=np.float64).reshape(x_train.shape)
    b = np.asarray(as_floats(result[1], _("the prepared x_other")), dtype=np.float64).reshape(x_other.shape)
    require(
        bool(np.all(np.isfinite(a)) and np.all(np.isfinite(b))),
        _("on {what} the prepared features contain NaN or inf (a constant feature divided by 0?)").format(what=what),
    )
    return a, b


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    import keras

    outputs = np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))
    if outputs.shape[-1] == 1:
        return float(((outputs.reshape(-1) > 0.5) == y).mean())
    return float((outputs.argmax(axis=1) == y).mean())


def _optimizer(make_optimizer: Callable) -> Any:
    import keras

    first, second = call("make_optimizer()", make_optimizer), call("make_optimizer()", make_optimizer)
    require(
        isinstance(second, keras.optimizers.Optimizer),
        _("make_optimizer() should return a keras optimizer such as keras.optimizers.SGD(...), got {kind}").format(
            kind=type(second).__name__
        ),
    )
    require(
        first is not second,
        _("make_optimizer() should build a new optimizer at every call (each model needs its own)"),
    )
    return second


def check_patient_1(prepare_inputs: Callable, make_optimizer: Callable) -> None:
    """Both planted causes fixed: statistics from x_train only, and the patient's network, with the learner's
    inputs and optimizer, trains to the target on sensor data of unseen seeds and on wine within the budget."""
    from losslab import data
    from losslab.clinic.datasets import sensors

    require(callable(prepare_inputs), _("prepare_inputs should be a function of (x_train, x_other)"))
    require(callable(make_optimizer), _("make_optimizer should be a function with no arguments"))
    wine = data.wine(scale=False, seed=1)
    full_a, full_b = _prepared(prepare_inputs, wine.x_train, wine.x_val, "wine")
    part_a, part_b = _prepared(prepare_inputs, wine.x_train, wine.x_val[:7], "wine")
    require(
        bool(np.allclose(part_b, full_b[:7], rtol=1e-5, atol=1e-6) and np.allclose(part_a, full_a, rtol=1e-5)),
        _(
            "the prepared validation rows change when other validation rows change: prepare_inputs uses "
            "statistics of x_other. Compute the mean and spread on x_train only, then apply them to both"
        ),
    )
    splits = (*(sensors(seed) for seed in SENSOR_SEEDS), wine)

    def accuracy(split: Any) -> float:
        x_train, x_val = _prepared(prepare_inputs, split.x_train, split.x_val, split.name)
        optimizer = _optimizer(make_optimizer)
        model = patient_1_model(split.n_features, split.n_classes, optimizer)
        model.fit(x_train.astype(np.float32), split.y_train, epochs=SENSOR_EPOCHS, batch_size=16, verbose=0)
        return _accuracy(model, x_val.astype(np.float32), split.y_val)

    def failure(split: Any, value: float) -> str:
        optimizer = _optimizer(make_optimizer)
        clipped = any(getattr(optimizer, name, None) for name in ("clipnorm", "global_clipnorm", "clipvalue"))
        advice = (
            _("Clipping the gradient does not make a step size of this order safe: fix the learning rate itself")
            if clipped
            else _(
                "Two causes are planted: does your fix remove both (scaled inputs AND a learning rate that suits them)?"
            )
        )
        return _(
            "on unseen {name} data ({features} features) the network reached validation accuracy {value:.2f} in "
            "{epochs} epochs; {target} is needed. {advice}"
        ).format(
            name=split.name,
            features=split.n_features,
            value=value,
            epochs=SENSOR_EPOCHS,
            target=SENSOR_TARGET,
            advice=advice,
        )

    values = require_each(splits, accuracy, lambda value: value >= SENSOR_TARGET, failure)
    names = [
        _("{name} (seed {seed})").format(name=s.name, seed=seed)
        for s, seed in zip(splits, (*SENSOR_SEEDS, 1), strict=True)
    ]
    print(
        _("validation accuracy on unseen data:")
        + " "
        + _(", ").join(f"{n} {v:.2f}" for n, v in zip(names, values, strict=True))
    )


# ----------------------------------------------------------------------------------- patient 2


def check_train_regressor(train_regressor: Callable) -> None:
    """Trained within the budget on another split, finite predictions in the target's units, MAE <= target."""
    import keras

    from losslab import data

    require(callable(train_regressor), _("train_regressor should be a function of (x_train, y_train, epochs)"))
    split = data.diabetes(seed=1)
    result = train_regressor(split.x_train.copy(), split.y_train.copy(), REGRESSION_EPOCHS)
    require(
        isinstance(result, tuple) and len(result) == 2,
        _(
            "train_regressor should return (model, predict): the trained model and a function giving "
            "predictions in the target's units"
        ),
    )
    model, predict = result
    require(
        isinstance(model, keras.Model) and getattr(model, "optimizer", None) is not None,
        _("the first value returned should be the trained, compiled keras Model"),
    )
    budget = REGRESSION_EPOCHS * math.ceil(len(split.x_train) / SMALLEST_BATCH)
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    require(
        bool(steps <= budget),
        _(
            "the model took {steps} optimizer steps; {epochs} epochs allow at most {budget} (batches of {batch} or "
            "more). Training far longer hides the problem instead of fixing it"
        ).format(steps=steps, epochs=REGRESSION_EPOCHS, budget=budget, batch=SMALLEST_BATCH),
    )
    require(callable(predict), _("the second value returned should be a function predict(x)"))
    predictions = np.asarray(as_floats(predict(split.x_val), "predict(x_val)"), dtype=np.float64)
    require(
        predictions.size == len(split.y_val),
        _("predict(x_val) should give one number per example ({n}), got {got}").format(
            n=len(split.y_val), got=predictions.size
        ),
    )
    require(
        bool(np.all(np.isfinite(predictions))),
        _(
            "some predictions are NaN or inf: the training still diverges. Stopping at the NaN (TerminateOnNaN) "
            "or replacing it hides the symptom; remove the cause"
        ),
    )
    mae = float(np.abs(predictions - split.y_val).mean())
    baseline = float(np.abs(split.y_val - split.y_train.mean()).mean())
    require(
        bool(mae <= TARGET_MAE),
        _(
            "on another split the mean absolute error is {mae:.1f}; at most {target:g} is needed (always predicting "
            "the training mean gives {baseline:.1f}). Are your predictions back in the target's units?"
        ).format(mae=mae, target=TARGET_MAE, baseline=baseline),
    )
    print(
        _(
            "validation MAE {mae:.1f} (target {target:g}, predicting the mean: {baseline:.1f}); {steps} optimizer steps"
        ).format(mae=mae, target=TARGET_MAE, baseline=baseline, steps=steps)
    )


# ----------------------------------------------------------------------------------- patient 3


def patient_3_model(n_features: int):  # a compiled keras Model
    """The third patient's network, unchanged by the fix: one hidden layer, a sigmoid output, Adam 1e-2."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(n_features,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    return model


def _generated_binary(seed: int):  # a losslab.data.Split
    """600 examples, 12 standardized features, 2 classes: a held-out dataset no notebook shows."""
    from sklearn.datasets import make_classification

    from losslab.clinic.datasets import _split

    x, y = make_classification(n_samples=600, n_features=12, n_informative=6, class_sep=1.2, random_state=seed)
    return _split("generated", x, y, test_size=0.2, seed=seed, class_names=("0", "1"), scale=True)


def check_clean_rows(clean_rows: Callable) -> None:
    """Rows with a missing measurement are handled without separating a row from its label: the patient's
    network, trained on the cleaned rows of unseen data, reaches the target on clean validation data."""
    from losslab import data
    from losslab.clinic.datasets import with_missing

    require(callable(clean_rows), _("clean_rows should be a function of (x, y)"))
    splits = (data.breast_cancer(seed=CLEANING_SEEDS[0]), _generated_binary(seed=CLEANING_SEEDS[1]))

    def accuracy(split: Any) -> float:
        x = with_missing(split.x_train, MISSING_FRACTION, seed=CLEANING_SEEDS[0])
        result = call("clean_rows", clean_rows, x.copy(), split.y_train.copy())
        require(
            isinstance(result, tuple) and len(result) == 2,
            _("clean_rows should return two arrays (x, y), got {kind}").format(kind=type(result).__name__),
        )
        x_clean = np.asarray(as_floats(result[0], _("the cleaned x")), dtype=np.float32)
        y_clean = np.asarray(as_floats(result[1], _("the cleaned y")), dtype=np.float32).reshape(-1)
        require(
            x_clean.size == len(y_clean) * split.n_features,
            _("clean_rows returned {rows} rows of x but {labels} labels: every row needs its own label").format(
                rows=x_clean.size // split.n_features, labels=len(y_clean)
            ),
        )
        x_clean = x_clean.reshape(len(y_clean), split.n_features)
        require(bool(np.all(np.isfinite(x_clean))), _("the cleaned x still contains NaN (or inf)"))
        require(
            len(y_clean) >= 0.8 * len(x),
            _("clean_rows kept {kept} of {n} rows; only {fraction:.0%} miss a value").format(
                kept=len(y_clean), n=len(x), fraction=MISSING_FRACTION
            ),
        )
        model = patient_3_model(split.n_features)
        model.fit(x_clean, y_clean, epochs=CLEANING_EPOCHS, batch_size=32, verbose=0)
        return _accuracy(model, split.x_val, split.y_val)

    values = require_each(
        splits,
        accuracy,
        lambda value: value >= CLEANING_TARGET,
        lambda split, value: _(
            "on unseen {name} data the network trained on your cleaned rows reached validation accuracy "
            "{value:.2f}; {target} is needed. After cleaning, is every label still next to its own row?"
        ).format(name=split.name, value=value, target=CLEANING_TARGET),
    )
    print(
        _("validation accuracy on unseen data:")
        + " "
        + _(", ").join(f"{s.name} {v:.2f}" for s, v in zip(splits, values, strict=True))
    )


# ----------------------------------------------------------------------------------- patient 4 (part 3)


def _deep_splits() -> tuple[Any, ...]:  # losslab.data.Split, unseen by the notebook
    """Digits of another split with their pixels in another order, and a generated 4-class dataset."""
    from sklearn.datasets import make_classification

    from losslab import data
    from losslab.clinic.datasets import _split

    digits = data.digits(seed=DEEP_SEED)
    order = np.random.default_rng(DEEP_SEED).permutation(digits.n_features)
    shuffled = data.Split(
        _("digits (pixels in another order)"),
        digits.x_train[:, order],
        digits.x_val[:, order],
        digits.y_train,
        digits.y_val,
        tuple(digits.feature_names[i] for i in order) if digits.feature_names else (),
        digits.class_names,
        digits.info,
    )
    x, y = make_classification(
        n_samples=2000, n_features=20, n_informative=10, n_classes=4, class_sep=2.0, random_state=DEEP_SEED
    )
    generated = _split("generated", x, y, test_size=0.25, seed=DEEP_SEED, class_names=("0", "1", "2", "3"))
    return shuffled, generated


def check_deep_model(build_deep_model: Callable) -> None:
    """The fixed network keeps its depth (at least DEEP_DEPTH hidden weight matrices) and, compiled and trained
    as the patient was (Adam 1e-3, DEEP_EPOCHS epochs, batches of 32), reaches DEEP_TARGET on unseen data."""
    import keras

    from losslab.clinic import logits_loss

    require(callable(build_deep_model), _("build_deep_model should be a function of (n_inputs, n_outputs)"))
    splits = _deep_splits()

    def accuracy(split: Any) -> float:
        keras.utils.set_random_seed(DEEP_SEED)
        model = call("build_deep_model", build_deep_model, split.n_features, split.n_classes)
        require(
            isinstance(model, keras.Model),
            _("build_deep_model should return a keras Model, got {kind}").format(kind=type(model).__name__),
        )
        matrices = sum(1 for v in model.trainable_variables if len(v.shape) == 2)
        require(
            matrices >= DEEP_DEPTH + 1,
            _(
                "the network has {matrices} weight matrices; the patient has {depth} hidden layers and an output "
                "layer. Keep the depth: make the deep network train instead of removing layers"
            ).format(matrices=matrices, depth=DEEP_DEPTH),
        )
        outputs = keras.ops.convert_to_numpy(model(split.x_train[:2].astype(np.float32), training=False))
        require(
            tuple(np.shape(outputs)) == (2, split.n_classes),
            _("build_deep_model should give n_outputs={n} outputs per example, got {shape}").format(
                n=split.n_classes, shape=tuple(np.shape(outputs))[1:]
            ),
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss())
        model.fit(split.x_train.astype(np.float32), split.y_train, epochs=DEEP_EPOCHS, batch_size=32, verbose=0)
        return _accuracy(model, split.x_val.astype(np.float32), split.y_val)

    def failure(split: Any, value: float) -> str:
        keras.utils.set_random_seed(DEEP_SEED)
        layers = call("build_deep_model", build_deep_model, split.n_features, split.n_classes).layers
        normalized = any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers)
        advice = (
            _(
                "BatchNormalization predicts with running averages of the batch statistics (momentum 0.99), and "
                "this budget of steps is too short for them to settle: measured with model.evaluate, the network "
                "does not predict as it trained. Give the Dense layers a starting scale that suits ReLU"
            )
            if normalized
            else _(
                "Measure the spread of every layer's output before training (depth.activation_stds): does it keep "
                "its size from the first layer to the last?"
            )
        )
        return _(
            "on unseen {name} data your network reached validation accuracy {value:.2f} after {epochs} epochs; "
            "{target} is needed. {advice}"
        ).format(name=split.name, value=value, epochs=DEEP_EPOCHS, target=DEEP_TARGET, advice=advice)

    values = require_each(splits, accuracy, lambda value: value >= DEEP_TARGET, failure)
    print(
        _("validation accuracy on unseen data:")
        + " "
        + _(", ").join(f"{s.name} {v:.2f}" for s, v in zip(splits, values, strict=True))
    )


# ----------------------------------------------------------------------------------- patient 5 (part 4)

WIDE_HIDDEN = (256, 256)  # patient 5 (chapter 4 part 4): two hidden ReLU layers of 256 units, kept by the fix
WIDE_EPOCHS = 60
WIDE_BATCH = 20
WIDE_MARGIN = 0.8  # the fix's validation loss at most this fraction of the unregularized control's, on each
WIDE_ACCURACY_SLACK = 0.05  # and its validation accuracy at most this far below the control's
WIDE_DATASETS = ((1, 50, 2), (5, 80, 3))  # clinic.few_examples(seed, features, classes); the notebook shows seed 0


def patient_5_model(n_inputs: int, n_outputs: int):  # an uncompiled keras Model
    """The fifth patient's network: two hidden layers of 256 ReLU units, linear outputs, no regularization."""
    from losslab.models import mlp

    return mlp(n_inputs, n_outputs, WIDE_HIDDEN)


def _wide_model(build: Callable, split: Any):  # a keras Model
    import keras

    model = call("build_regularized_model", build, split.n_features, split.n_classes)
    require(
        isinstance(model, keras.Model),
        _("build_regularized_model should return a keras Model, got {kind}").format(kind=type(model).__name__),
    )
    return model


def train_wide(build: Callable, split: Any, seed: int = 0) -> tuple[float, float]:
    """Build with `build(n_inputs, n_outputs)`, train as the patient was (Adam 1e-3, WIDE_EPOCHS epochs, batches
    of WIDE_BATCH), and return the validation cross-entropy and accuracy, measured from the predictions in
    inference mode (no penalty, no dropout: regularized and plain models compare on equal terms)."""
    import keras

    from losslab.clinic import logits_loss
    from losslab.regularize import _cross_entropy

    keras.utils.set_random_seed(seed)
    model = _wide_model(build, split)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss())
    model.fit(split.x_train, split.y_train, epochs=WIDE_EPOCHS, batch_size=WIDE_BATCH, verbose=0)
    logits = np.asarray(keras.ops.convert_to_numpy(model(split.x_val, training=False)), dtype=np.float64)
    require(
        logits.shape == (len(split.y_val), split.n_classes) and bool(np.all(np.isfinite(logits))),
        _("build_regularized_model should give n_outputs={n} finite linear outputs (logits) per example").format(
            n=split.n_classes
        ),
    )
    return _cross_entropy(logits, split.y_val)


def _weights(model: Any) -> int:
    return int(sum(int(np.prod(v.shape)) for v in model.trainable_variables))


def check_regularized_model(build_regularized_model: Callable) -> None:
    """The network keeps the patient's size (two hidden layers of 256 units: at least as many trainable weights)
    and, trained as the patient was on generated problems the notebook never shows, reaches a validation loss at
    most WIDE_MARGIN times the unregularized control's, trained in the same way, without losing accuracy."""
    require(
        callable(build_regularized_model), _("build_regularized_model should be a function of (n_inputs, n_outputs)")
    )
    from losslab.clinic import few_examples

    splits = tuple(few_examples(*shape) for shape in WIDE_DATASETS)
    for split in splits:
        model = _wide_model(build_regularized_model, split)
        weights, patient = _weights(model), _weights(patient_5_model(split.n_features, split.n_classes))
        require(
            weights >= patient,
            _(
                "your network has {weights} trainable weights, the patient {patient}. Keep its two hidden layers "
                "of 256 units: this patient is cured by regularizing the network, not by shrinking it"
            ).format(weights=weights, patient=patient),
        )
    measured = []

    def ratio(split: Any) -> float:
        loss, accuracy = train_wide(build_regularized_model, split)
        control_loss, control_accuracy = train_wide(patient_5_model, split)
        measured.append((loss, control_loss))
        require(
            accuracy >= control_accuracy - WIDE_ACCURACY_SLACK,
            _(
                "on unseen {name} data your network's validation accuracy is {accuracy:.2f}, the unregularized "
                "network's {control:.2f}: the regularization is so strong that the network no longer learns the "
                "task. Weaken it"
            ).format(name=split.name, accuracy=accuracy, control=control_accuracy),
        )
        return loss / control_loss

    require_each(
        splits,
        ratio,
        lambda value: value <= WIDE_MARGIN,
        lambda split, value: _(
            "on unseen {name} data your network's validation loss is {ratio:.2f} times the unregularized "
            "network's; at most {margin} is needed. Is the regularization active, and strong enough to keep the "
            "weights from growing while the training loss goes to 0?"
        ).format(name=split.name, ratio=value, margin=WIDE_MARGIN),
    )
    print(
        _("validation loss on unseen data, yours and the unregularized network's:")
        + " "
        + _(", ").join(
            f"{s.name} {loss:.3f} / {control:.3f}" for s, (loss, control) in zip(splits, measured, strict=True)
        )
    )
