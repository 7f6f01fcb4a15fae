"""Behavior checks for chapter 1's exercise (solutions/01_losses/losses_exercise.ipynb).

A loss is judged by what it computes, never by how it is spelled: each task's answer (an output layer and a
loss) is run on labels and pre-activations the notebook never showed, and the value is compared with the
value of a fitting choice. So ``"sparse_categorical_crossentropy"``, ``SparseCategoricalCrossentropy()`` and
``keras.losses.sparse_categorical_crossentropy`` pass alike, and so does a layer without activation with
``from_logits=True``; softmax with ``from_logits=True`` or sigmoid over ten classes do not.

Each check raises GradingError with a message for the learner (in the learner's language), or prints what it
measured and returns None. Names and label/activation checks come from a private copy of losslab/losses.py, read
from disk here, so a notebook that replaces functions in ``losslab.losses`` does not change what the grader runs.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from losslab.grading.core import GradingError, as_choice, as_float, as_floats, call, joined, require, require_each
from losslab.messages import N_, _

CLASSIFIER_ACCURACY = 0.93  # validation accuracy the breast-cancer classifier must reach
REGRESSOR_MAE = 52.0  # validation MAE (disease-progression units) the diabetes regressor must stay under
RTOL = 1e-3


def _library():
    """Private copies of losslab/loss_names.py and losslab/losses.py (the second built on the first), not
    registered in sys.modules."""
    from losslab.grading import load_private

    folder = Path(__file__).resolve().parent.parent
    names = load_private("losslab_loss_names_for_grading", folder / "loss_names.py", visible_while_loading=True)
    return load_private(
        "losslab_losses_for_grading",
        folder / "losses.py",
        visible_while_loading=True,
        using={"losslab.loss_names": names},
    )


LIB = _library()


# ------------------------------------------------------------------------------------------ helpers


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _value(loss_fn: Callable, y: np.ndarray, out: np.ndarray, what: str) -> float:
    import keras

    value = loss_fn(keras.ops.convert_to_tensor(y), keras.ops.convert_to_tensor(out))
    return as_float(value, what)


def _close(a: float, b: float, rtol: float = RTOL) -> bool:
    return math.isfinite(a) and math.isclose(a, b, rel_tol=rtol, abs_tol=1e-6)


def _describe(loss: Any) -> Any:
    try:
        return LIB.describe_loss(loss)
    except ValueError as exc:
        raise GradingError(str(exc)) from None


# ------------------------------------------------------------------------------------------ tasks


class Task(NamedTuple):
    title: str  # title and hint are marked with N_ and shown through gettext
    labels: str  # "binary" | "integer" | "one-hot" | "regression"
    classes: int = 0
    accepted: tuple[str, ...] = ()  # regression: canonical names of the losses that fit
    hint: str = ""


TASKS = {
    "spam_filter": Task(N_("the spam filter"), "binary", 2),
    "digit_reader": Task(N_("the digit reader"), "integer", 10),
    "topic_classifier": Task(N_("the topic classifier"), "one-hot", 4),
    "delivery_time": Task(
        N_("the delivery-time model"),
        "regression",
        accepted=("mean_squared_error",),
        hint=N_(
            "the task says one large error is much worse than several small ones: which loss "
            "grows fastest as the error grows?"
        ),
    ),
    "sensor_glitches": Task(
        N_("the sensor model"),
        "regression",
        accepted=("mean_absolute_error", "huber", "log_cosh"),
        hint=N_(
            "a few targets are glitches far from the truth. Squaring their errors lets them "
            "dominate the training: pick a loss that grows only linearly for large errors."
        ),
    ),
}
MAX_HUBER_DELTA = 3.0  # in standard deviations of the probe targets; outliers sit at 15


def _probe(task: Task, units: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels in the task's format, for `n` examples, and the features the output layer gets."""
    rng = np.random.default_rng(seed)
    n, d = 40, 6
    x = rng.normal(size=(n, d)).astype(np.float32)
    if task.labels == "binary":
        y = rng.integers(0, 2, size=n).astype(np.float32)
    elif task.labels == "integer":
        y = rng.integers(0, task.classes, size=n).astype(np.int64)
    elif task.labels == "one-hot":
        y = np.eye(task.classes, dtype=np.float32)[rng.integers(0, task.classes, size=n)]
    else:
        y = rng.normal(size=n).astype(np.float32)
        glitches = rng.choice(n, size=4, replace=False)
        y[glitches] = rng.choice(np.array([-15.0, 15.0], np.float32), size=4)
    return x, y


def _parse_answer(answer: Any, name: str) -> tuple[Any, Any]:
    import keras

    require(
        isinstance(answer, (tuple, list)) and len(answer) == 2,
        _(
            "{name} should be a pair (output_layer, loss), for example "
            '(keras.layers.Dense(3, activation="softmax"), "..."); got {kind}'
        ).format(name=name, kind=type(answer).__name__),
    )
    layer, loss = answer
    require(
        isinstance(layer, keras.layers.Dense),
        _(
            "the first item of {name} should be the output layer, a keras.layers.Dense(units, activation=...); "
            "got {kind}"
        ).format(name=name, kind=type(layer).__name__),
    )
    require(loss is not None, _("the second item of {name} should be the loss, got None").format(name=name))
    return layer, loss


def _run_layer(layer: Any, x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """A fresh copy of the learner's layer with known weights: (pre-activation z, output, activation name)."""
    copy = layer.__class__.from_config(layer.get_config())
    copy.build((None, x.shape[1]))
    rng = np.random.default_rng(seed + 1000)
    weights = [rng.normal(scale=0.8, size=tuple(w.shape)).astype(np.float32) for w in copy.get_weights()]
    copy.set_weights(weights)
    import keras

    z = x @ weights[0] + (weights[1] if len(weights) > 1 else 0.0)
    with warnings.catch_warnings():  # e.g. Keras' note on a softmax over one unit: the check explains it
        warnings.simplefilter("ignore")
        out = np.asarray(keras.ops.convert_to_numpy(copy(x)), dtype=np.float32)
    return z.astype(np.float64), out, LIB._activation_name(copy.activation)


def _reference(task: Task, units: int, y: np.ndarray, z: np.ndarray, spec: Any) -> dict[str, float]:
    """{description: value} of the fitting choices for these labels, computed from the pre-activations."""
    import keras

    if task.labels == "binary" and units == 1:
        return {
            N_("binary cross-entropy of sigmoid outputs"): _value(
                keras.losses.BinaryCrossentropy(), y, _sigmoid(z).astype(np.float32), "reference"
            )
        }
    if task.labels in {"binary", "integer"}:
        return {
            N_("sparse categorical cross-entropy of softmax outputs"): _value(
                keras.losses.SparseCategoricalCrossentropy(), y, _softmax(z).astype(np.float32), "reference"
            )
        }
    if task.labels == "one-hot":
        return {
            N_("categorical cross-entropy of softmax outputs"): _value(
                keras.losses.CategoricalCrossentropy(), y, _softmax(z).astype(np.float32), "reference"
            )
        }
    out = {}
    z32 = z.astype(np.float32)
    for name in task.accepted:
        if name == "huber":
            delta = float(spec.options.get("delta", 1.0)) if spec.name == "huber" else 1.0
            if delta <= MAX_HUBER_DELTA:
                out[f"huber(delta={delta:g})"] = _value(keras.losses.Huber(delta=delta), y, z32, "reference")
        else:
            out[name] = _value(LIB.loss_callable(name), y, z32, "reference")
    return out


def _units_problem(task: Task, units: int) -> str | None:
    title = _(task.title)
    if task.labels == "binary" and units not in (1, 2):
        return _(
            "{title} answers yes/no: one sigmoid unit (the probability of class 1) is enough; "
            "your layer has {units} units"
        ).format(title=title, units=units)
    if task.labels in {"integer", "one-hot"} and units != task.classes:
        return _("{title} has {classes} classes, so its output layer needs {classes} units, not {units}").format(
            title=title, classes=task.classes, units=units
        )
    if task.labels == "regression" and units != 1:
        return _("{title} predicts one number per example: one output unit, not {units}").format(
            title=title, units=units
        )
    return None


def _loss_fn(loss: Any, task: Task, units: int) -> Callable:
    spec = _describe(loss)
    if spec.name == "crossentropy":  # Keras' "crossentropy" shortcut picks a loss from the labels' shape
        import keras

        if task.labels == "binary" and units == 1:
            return keras.losses.BinaryCrossentropy()
        if task.labels in {"binary", "integer"}:
            return keras.losses.SparseCategoricalCrossentropy()
        return keras.losses.CategoricalCrossentropy()
    try:
        return LIB.loss_callable(loss)
    except ValueError as exc:
        raise GradingError(str(exc)) from None


def check_task(name: str, answer: Any, seeds: tuple[int, ...] = (11, 12)) -> None:
    """The output layer and loss chosen for task `name` compute what a fitting choice computes."""
    require(name in TASKS, _("unknown task {name!r}").format(name=name))
    task = TASKS[name]
    layer, loss = _parse_answer(answer, name)
    spec = _describe(loss)
    for seed in seeds:
        x, y = _probe(task, 1, seed)
        z, out, activation = _run_layer(layer, x, seed)
        units = out.shape[-1]
        problem = _units_problem(task, units)
        if problem:
            raise GradingError(problem)
        fn = _loss_fn(loss, task, units)
        try:
            got = _value(fn, y, out, _("the loss of {name}").format(name=name))
        except GradingError:
            raise
        except Exception as exc:  # Keras' own shape errors, on any backend
            raise GradingError(
                f"{name}: " + LIB.explain_error(exc, y=y, loss=loss, output=_("the output layer"))
            ) from None
        references = _reference(task, units, y, z, spec)
        if any(_close(got, want) for want in references.values()):
            continue
        hints = []
        try:
            hints += LIB.check_labels_vs_loss(y, loss)
            hints += LIB.check_activation_vs_loss(activation, loss)
            if task.labels != "regression":
                hints += LIB.check_units(y, units, activation, loss)
        except ValueError:
            pass
        if (
            task.labels == "regression"
            and spec.name == "huber"
            and float(spec.options.get("delta", 1.0)) > MAX_HUBER_DELTA
        ):
            hints.append(
                _(
                    "huber with delta={delta} treats errors up to that size like mse, "
                    "so the glitches still count squared: keep delta small (Keras' default is 1.0)"
                ).format(delta=spec.options["delta"])
            )
        if task.labels == "regression" and not hints:
            hints.append(_(task.hint))
        shown = {LIB.SHORT_NAMES.get(k, k): v for k, v in references.items()}  # a loss's name, or words (N_)
        wanted = "; ".join(f"{_(k)} = {v:.4f}" for k, v in shown.items())
        sentences = [h if h.endswith((".", "?", "!", "。", "？")) else h + _(".") for h in dict.fromkeys(hints)]
        advice = joined(sentences, _("{sentences} {sentence}")) or _(
            "Look at the label format and the output activation again."
        )
        raise GradingError(
            _(
                "{name}: with an output layer of {units} unit(s) and activation {activation!r}, the loss {loss} "
                "gives {got:.4f} on labels you have not seen, where a fitting choice gives {wanted}. {advice}"
            ).format(name=name, units=units, activation=activation, loss=spec, got=got, wanted=wanted, advice=advice)
        )
    print(
        _("{name}: output layer {units} unit(s), activation {activation!r}, loss {loss}: fits").format(
            name=name, units=units, activation=activation, loss=spec
        )
    )


# ------------------------------------------------------------------------------------------ by hand


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200].rstrip(".") if text else ""


def _keras_huber(y: np.ndarray, p: np.ndarray, delta: float) -> float:
    import keras

    return _value(keras.losses.Huber(delta=delta), y, p, _("Keras' huber"))


def _call(fn: Callable, what: str, *args: Any, **kwargs: Any) -> float:
    value = call(what, fn, *args, **kwargs)
    floats = as_floats(value, what)
    require(
        len(floats) == 1,
        _("{what} should return one number (the mean over every entry), got {n} numbers").format(
            what=what, n=len(floats)
        ),
    )
    return floats[0]


def _bce_cases(seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    y1 = rng.integers(0, 2, size=37).astype(np.float32)
    p1 = rng.uniform(0.02, 0.98, size=37).astype(np.float32)
    y2 = rng.integers(0, 2, size=(12, 3)).astype(np.float32)
    p2 = rng.uniform(0.001, 0.999, size=(12, 3)).astype(np.float32)
    y3 = np.array([1, 0, 1, 0, 1, 0, 1, 0], np.float32)
    p3 = np.array([1.0, 0.0, 0.0, 1.0, 0.7, 0.2, 1e-9, 1.0 - 1e-9], np.float32)
    return [
        (_("37 labels and probabilities"), y1, p1),
        (_("a 12 x 3 array"), y2, p2),
        (_("predictions of exactly 0 and 1, right and wrong"), y3, p3),
    ]


def check_binary_crossentropy(fn: Callable) -> None:
    """fn(y_true, y_pred) equals keras.losses.BinaryCrossentropy()(y_true, y_pred), predictions of 0 and 1
    included."""
    require(callable(fn), _("binary_crossentropy should be a function of (y_true, y_pred)"))
    import keras

    for what, y, p in _bce_cases(5):
        want = _value(keras.losses.BinaryCrossentropy(), y, p, _("Keras' binary cross-entropy"))
        got = _call(fn, _("binary_crossentropy on {what}").format(what=what), y, p)
        if not math.isfinite(got):
            raise GradingError(
                _(
                    "on {what} your binary_crossentropy returns {got}: log(0) is -inf. Keras clips "
                    "the predictions to [epsilon, 1 - epsilon] first (epsilon = "
                    "keras.config.epsilon() = {epsilon}); do the same with keras.ops.clip."
                ).format(what=what, got=got, epsilon=f"{keras.config.epsilon():g}")
            )
        if not _close(got, want, 1e-4):
            size = y.size
            note = ""
            if _close(got, want * size, 1e-4):
                note = _(" That is the sum over the entries: Keras takes the mean.")
            elif _close(got, -want, 1e-4):
                note = _(" The sign is flipped: the loss is minus the mean log-probability of the right label.")
            raise GradingError(
                _("on {what} your binary_crossentropy gives {got:.6f}, Keras gives {want:.6f}.").format(
                    what=what, got=got, want=want
                )
                + note
            )
    _inside_a_model(fn, "binary_crossentropy", "sigmoid", keras.losses.BinaryCrossentropy())
    print(
        _(
            "binary_crossentropy matches Keras on 3 unseen cases, predictions of exactly 0 and 1 included, "
            "and works as a model's loss"
        )
    )


def _inside_a_model(fn: Callable, name: str, activation: str | None, reference: Any) -> None:
    """``model.compile(loss=fn)`` then ``evaluate`` gives Keras' value, and one training step moves the weights:
    the function works on the backend's tensors (keras.ops), not only on NumPy arrays, and passes a gradient."""
    import keras

    rng = np.random.default_rng(21)
    x = rng.normal(size=(48, 3)).astype(np.float32)
    y = (rng.integers(0, 2, size=48) if activation == "sigmoid" else rng.normal(size=48) * 2).astype(np.float32)
    keras.utils.set_random_seed(21)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation=activation)])
    try:
        model.compile(optimizer="sgd", loss=fn)
        got = float(model.evaluate(x, y, batch_size=48, verbose=0))
    except Exception as exc:  # any failure inside Keras is the learner's to fix
        raise GradingError(
            _(
                "used as a model's loss (model.compile(loss={name})), your function fails with {error}. "
                "Inside a model it receives the backend's tensors, which NumPy cannot handle: write it with "
                "keras.ops (ops.clip, ops.log, ops.mean, ops.where, ...)."
            ).format(name=name, error=f"{type(exc).__name__}: {_first_line(exc)}")
        ) from None
    want = _value(reference, y.reshape(-1, 1), np.asarray(model.predict(x, verbose=0)), "reference")
    require(
        _close(got, want, 1e-4),
        _("used as a model's loss, your {name} gives {got:.6f} where Keras gives {want:.6f}").format(
            name=name, got=got, want=want
        ),
    )
    # Training needs a gradient through the loss. evaluate() alone lets NumPy through on the torch backend (its
    # tensors convert to arrays when no gradient is recorded); a training step does not.
    before = [w.copy() for w in model.get_weights()]
    try:
        model.fit(x, y, batch_size=48, epochs=1, verbose=0)
    except Exception as exc:  # any failure inside Keras is the learner's to fix
        raise GradingError(
            _(
                "training a model with your {name} as its loss fails with {error}. "
                "Training needs the gradient of the loss, which only the backend's own operations give: write it "
                "with keras.ops (ops.clip, ops.log, ops.mean, ops.where, ...), not NumPy."
            ).format(name=name, error=f"{type(exc).__name__}: {_first_line(exc)}")
        ) from None
    require(
        any(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True)),
        _(
            "one training step with your {name} as the loss left every weight unchanged: no gradient flows "
            "through it. Write it with keras.ops, and do not convert tensors to NumPy or Python numbers inside it."
        ).format(name=name),
    )


def check_huber(fn: Callable) -> None:
    """fn(y_true, y_pred, delta=1.0) equals keras.losses.Huber(delta)(y_true, y_pred) for several deltas."""
    require(callable(fn), _("huber should be a function of (y_true, y_pred, delta=1.0)"))
    import keras

    rng = np.random.default_rng(8)
    y = rng.normal(size=50).astype(np.float32)
    p = (y + rng.normal(scale=2.0, size=50)).astype(np.float32)
    default = _call(fn, "huber(y_true, y_pred)", y, p)
    want = _keras_huber(y, p, 1.0)
    require(
        _close(default, want, 1e-4),
        _(
            "huber(y_true, y_pred) with the default delta gives {got:.6f}, Keras' Huber(delta=1.0) gives {want:.6f}"
        ).format(got=default, want=want),
    )
    results = []
    for delta in (0.5, 2.5, 10.0):
        got = _call(fn, f"huber(..., delta={delta})", y, p, delta=delta)
        want = _keras_huber(y, p, delta)
        if not _close(got, want, 1e-4):
            raise GradingError(
                _("with delta={delta} your huber gives {got:.6f}, Keras gives {want:.6f}.").format(
                    delta=delta, got=got, want=want
                )
                + (
                    _(" It gives the same value as with delta=1: the function seems to ignore delta.")
                    if _close(got, default, 1e-6)
                    else _(" Check both branches: 0.5 * e**2 where |e| <= delta, delta * (|e| - 0.5 * delta) beyond.")
                )
            )
        results.append(got)
    y2 = rng.normal(size=(8, 4)).astype(np.float32)
    p2 = (y2 + rng.normal(scale=1.5, size=(8, 4))).astype(np.float32)
    got = _call(fn, _("huber on an 8 x 4 array"), y2, p2, delta=0.8)
    require(
        _close(got, _keras_huber(y2, p2, 0.8), 1e-4),
        _(
            "on an 8 x 4 array with delta=0.8 your huber gives {got:.6f}, Keras gives {want:.6f}: take the mean "
            "over every entry"
        ).format(got=got, want=_keras_huber(y2, p2, 0.8)),
    )
    _inside_a_model(fn, "huber", None, keras.losses.Huber())
    print(_("huber matches Keras for delta = 1, 0.5, 2.5, 10 and 0.8 on unseen errors, and works as a model's loss"))


# ------------------------------------------------------------------------------------------ trainings


def _require_model(model: Any, what: str) -> None:
    import keras

    require(
        isinstance(model, keras.Model),
        _("{what} should return the trained keras Model, got {kind}").format(what=what, kind=type(model).__name__),
    )
    require(
        getattr(model, "compiled", False) and getattr(model, "loss", None) is not None,
        _("{what} should compile the model (model.compile(optimizer=..., loss=...)) and train it").format(what=what),
    )


def check_classifier_loss(model: Any) -> None:
    """The breast-cancer classifier minimizes a cross-entropy that fits its output layer."""
    _require_model(model, "train_classifier")
    spec = _describe(model.loss)
    units, activation = LIB.output_layer(model)
    require(
        spec.is_classification,
        _(
            "the classifier is trained with {loss}, a regression loss: it measures distances between numbers, "
            "not how much probability the right class gets. Use binary_crossentropy with one sigmoid unit."
        ).format(loss=spec),
    )
    problems = LIB.check_activation_vs_loss(activation, model.loss)
    expected_units = {
        "binary_crossentropy": 1,
        "sparse_categorical_crossentropy": 2,
        "categorical_crossentropy": 2,
    }
    if spec.name not in expected_units:
        problems.append(_("{loss} is not one of the course's cross-entropies for two classes").format(loss=spec))
    elif units != expected_units[spec.name]:
        problems.append(
            _("with {loss} the output layer for two classes needs {needed} unit(s), it has {units}").format(
                loss=spec.short, needed=expected_units[spec.name], units=units
            )
        )
    if problems:
        raise GradingError(
            _("the classifier's loss and output layer do not fit: ") + joined(problems, _("{problems} {problem}"))
        )
    print(
        _("classifier: {units} output unit(s), activation {activation!r}, loss {loss}: fits").format(
            units=units, activation=activation, loss=spec
        )
    )


def _predicted_labels(model: Any, x: np.ndarray) -> np.ndarray:
    out = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    if out.ndim == 2 and out.shape[1] >= 2:
        return out.argmax(axis=1)
    spec = _describe(model.loss)
    threshold = 0.0 if spec.from_logits else 0.5  # a logit of 0 is a probability of 0.5
    return (out.reshape(-1) > threshold).astype(int)


def classifier_accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of `x` the model classifies right (1 output: threshold 0.5, or 0 for logits; 2: argmax)."""
    _require_model(model, "train_classifier")
    return float((_predicted_labels(model, x) == np.asarray(y).reshape(-1)).mean())


def check_classifier(train_classifier: Callable, seeds: tuple[int, ...] = (1,)) -> None:
    """train_classifier(x_train, y_train) reaches CLASSIFIER_ACCURACY on breast-cancer splits it never saw."""
    import keras

    from losslab import data

    require(callable(train_classifier), _("train_classifier should be a function of (x_train, y_train)"))

    def accuracy(seed: int) -> float:
        split = data.breast_cancer(seed=seed)
        keras.utils.set_random_seed(0)
        model = train_classifier(split.x_train, split.y_train)
        return classifier_accuracy(model, split.x_val, split.y_val)

    require_each(
        seeds,
        accuracy,
        lambda value: value >= CLASSIFIER_ACCURACY,
        lambda seed, value: _(
            "on another breast-cancer split (seed {seed}) the classifier reached {value:.3f} validation "
            "accuracy; {needed} is needed. Check the output layer and loss, and train for "
            "enough epochs (20 epochs of batch 32 with Adam are plenty)."
        ).format(seed=seed, value=value, needed=CLASSIFIER_ACCURACY),
        lambda seed, value: print(
            _("breast-cancer split {seed}: validation accuracy {value:.3f}").format(seed=seed, value=value)
        ),
    )


def regressor_mae(predict: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Mean absolute error of ``predict(x)`` against ``y``, in the target's own units."""
    require(
        callable(predict),
        _(
            "train_regressor should return a function predict(x) giving predictions in the target's units, got {kind}"
        ).format(kind=type(predict).__name__),
    )
    values = as_floats(predict(x), "predict(x_val)")
    require(
        len(values) == len(y),
        _("predict(x) should give one prediction per example: {n} expected, got {got}").format(
            n=len(y), got=len(values)
        ),
    )
    errors = np.abs(np.asarray(values) - np.asarray(y, dtype=np.float64))
    require(bool(np.all(np.isfinite(errors))), _("some predictions are NaN or infinite"))
    return float(errors.mean())


def check_regressor(train_regressor: Callable, seeds: tuple[int, ...] = (1,)) -> None:
    """train_regressor(x_train, y_train) -> predict; validation MAE under REGRESSOR_MAE on unseen splits."""
    import keras

    from losslab import data

    require(callable(train_regressor), _("train_regressor should be a function of (x_train, y_train)"))
    guesses: dict[int, float] = {}

    def mae(seed: int) -> float:
        split = data.diabetes(seed=seed)
        keras.utils.set_random_seed(0)
        predict = train_regressor(split.x_train, split.y_train)
        guesses[seed] = float(np.abs(split.y_val - split.y_train.mean()).mean())
        return regressor_mae(predict, split.x_val, split.y_val)

    require_each(
        seeds,
        mae,
        lambda value: value < REGRESSOR_MAE,
        lambda seed, value: _(
            "on another diabetes split (seed {seed}) the validation MAE is {value:.1f}; it should be under "
            "{limit} (predicting the training mean for everyone gives {mean:.1f}). Is the "
            "target standardized (and the predictions turned back into the target's units)? Does the output "
            "layer have no activation?"
        ).format(seed=seed, value=value, limit=f"{REGRESSOR_MAE:g}", mean=guesses[seed]),
        lambda seed, value: print(
            _("diabetes split {seed}: validation MAE {value:.1f} (predicting the mean: {mean:.1f})").format(
                seed=seed, value=value, mean=guesses[seed]
            )
        ),
    )


# ------------------------------------------------------------------------------------------ concepts

# The lettered questions: the right letter, each wrong one's hint and a question added to it (N_, shown through _).
NOT_THIS_ONE = N_("not this one.")
LETTERED = {
    "silent_failure": (
        "c",
        {
            "a": N_("a softmax output with the default loss is the standard, working pairing."),
            "b": N_("no activation with from_logits=True is a working pairing: the loss applies softmax itself."),
            "d": N_("integer labels with categorical_crossentropy do not fail silently: Keras raises a shape error."),
        },
        N_(" Which set-up gives the loss raw scores while it expects probabilities?"),
    ),
    "outlier_effect": (
        "b",
        {
            "a": N_("the two losses weigh large errors very differently, so the outliers cannot affect them equally."),
            "c": N_("mae grows only linearly with the error; which loss lets a few huge errors dominate?"),
            "d": N_("neither loss ignores the outliers; compare how fast each grows with the error."),
        },
        "",
    ),
    "regression_output": (
        "d",
        {
            "a": N_("Keras allows any activation on any layer; the reason is what the activation does to the outputs."),
            "b": N_("mse applies no activation of its own; it compares the output with the target as it is."),
            "c": N_("speed is not the reason; think about which values relu or sigmoid can output."),
        },
        "",
    ),
}


def _check_letter(name: str, answer: Any) -> None:
    right, hints, question = LETTERED[name]
    text = as_choice(answer, "abcd", name)
    hint = hints.get(text, NOT_THIS_ONE)
    require(text == right, _(hint) + (_(question) if question else ""))


# Dense(10) without activation + 'sparse_categorical_crossentropy': no error, and it learns badly.
check_silent_failure = functools.partial(_check_letter, "silent_failure")
# Outliers pull an mse-trained model more than a mae-trained one (squared errors dominate).
check_outliers = functools.partial(_check_letter, "outlier_effect")
# A regression output has no activation so that it can predict any real value.
check_regression_output = functools.partial(_check_letter, "regression_output")


__all__ = [
    "CLASSIFIER_ACCURACY",
    "REGRESSOR_MAE",
    "TASKS",
    "GradingError",
    "check_binary_crossentropy",
    "check_classifier",
    "check_classifier_loss",
    "check_huber",
    "check_outliers",
    "check_regression_output",
    "check_regressor",
    "check_silent_failure",
    "check_task",
    "classifier_accuracy",
    "regressor_mae",
]
