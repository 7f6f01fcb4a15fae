"""Behaviour checks for the warm-up exercise (solutions/00_warmup/warmup_exercise.ipynb).

Each check raises GradingError with a message for the learner, or prints what it measured and returns None.
A check must never return a number: nbgrader reads a number left as a test cell's last value as partial credit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from losslab.grading.core import GradingError, as_choice, as_float, require
from losslab.messages import _

EPOCHS = 60
TARGET_ACCURACY = 0.9


def check_expected_initial_loss(fn: Callable[[int], Any]) -> None:
    """fn(K) must return ln K for any number of classes (the cross-entropy of a uniform guess)."""
    require(callable(fn), _("expected_initial_loss should be a function of the number of classes"))
    for k in (2, 3, 7, 10, 1000):
        got = as_float(fn(k), f"expected_initial_loss({k})")
        require(
            math.isclose(got, math.log(k), rel_tol=1e-4),
            _(
                "expected_initial_loss({k}) returned {got}; a uniform guess over {k} classes gives -ln(1/{k}) = {ln}"
            ).format(k=k, got=f"{got:.4f}", ln=f"{math.log(k):.4f}"),
        )


def _build(build_model: Callable, n_features: int, n_classes: int):
    import keras

    keras.utils.set_random_seed(0)
    model = build_model(n_features, n_classes)
    require(
        isinstance(model, keras.Model),
        _("build_model should return a keras Model, got {kind}").format(kind=type(model).__name__),
    )
    require(
        getattr(model, "optimizer", None) is not None and model.compiled,
        _("build_model should return a compiled model: call model.compile(optimizer=..., loss=...) inside it"),
    )
    return model


def check_model_shape(build_model: Callable) -> None:
    """The untrained model outputs one score per class and starts near ln K."""
    import numpy as np

    from losslab import data

    split = data.iris()
    model = _build(build_model, split.n_features, split.n_classes)
    out = np.asarray(model.predict(split.x_val[:5], verbose=0))
    require(
        out.shape == (5, split.n_classes),
        _("for 5 flowers the model should output shape (5, {n}), one score per class; got {shape}").format(
            n=split.n_classes, shape=out.shape
        ),
    )
    first = float(model.evaluate(split.x_train, split.y_train, verbose=0, return_dict=True)["loss"])
    expected = math.log(split.n_classes)
    require(
        math.isfinite(first) and first < 1.5 * expected,
        _(
            "the untrained model's loss is {first}, but a fresh classifier over {n} classes should start near "
            "ln {n} = {expected}. Check the output layer and the loss."
        ).format(first=f"{first:.3f}", n=split.n_classes, expected=f"{expected:.3f}"),
    )
    print(
        _("untrained loss {first} (ln {n} = {expected})").format(
            first=f"{first:.3f}", n=split.n_classes, expected=f"{expected:.3f}"
        )
    )


def check_trains(build_model: Callable) -> None:
    """build_model must reach TARGET_ACCURACY validation accuracy in EPOCHS epochs on iris and on wine."""
    from losslab import data

    results = {}
    for split in (data.iris(), data.wine()):
        model = _build(build_model, split.n_features, split.n_classes)
        model.fit(split.x_train, split.y_train, epochs=EPOCHS, batch_size=16, verbose=0)
        predictions = model.predict(split.x_val, verbose=0).argmax(axis=1)
        accuracy = float((predictions == split.y_val).mean())
        results[split.name] = accuracy
        if not accuracy >= TARGET_ACCURACY:
            raise GradingError(
                _(
                    "on the {name} data ({features} features, {classes} classes) the model reached {accuracy} "
                    "validation accuracy after {epochs} epochs; {target} is needed. Use the n_features and n_classes "
                    "arguments, a softmax output with one unit per class and sparse_categorical_crossentropy for "
                    "integer labels."
                ).format(
                    name=split.name,
                    features=split.n_features,
                    classes=split.n_classes,
                    accuracy=f"{accuracy:.2f}",
                    epochs=EPOCHS,
                    target=TARGET_ACCURACY,
                )
            )
    print(_("validation accuracy:") + " " + ", ".join(f"{name} {acc:.2f}" for name, acc in results.items()))


def check_diagnosis(answer: Any) -> None:
    """A first loss of 9.7 on 3 classes points to unscaled inputs (choice 'a')."""
    text = as_choice(answer, "abcd", "first_loss_diagnosis")
    require(
        text == "a",
        _(
            "not this one: compare 9.7 with ln 3 = 1.10. Which of the four changes the *first* loss, "
            "before any training step?"
        ),
    )
