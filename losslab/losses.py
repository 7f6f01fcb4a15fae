"""Which loss fits which labels and output layer; one name per loss; the figures of chapter 1.

Used by solutions/01_losses/losses_tutorial.ipynb (``explain``, ``explain_error``, ``with_outliers`` and the
figure helpers), by losslab/grading/losses.py (``describe_loss``, ``canonical_loss_name``, ``output_layer``)
and meant for chapter 4's training doctor: the checks are plain functions that take labels, an output layer
description and a loss, and return a list of problems in words a learner can act on (empty: nothing found).

- ``describe_loss(loss)`` / ``canonical_loss_name(loss)``: a string, a loss class, a loss object or a loss
  function -> one canonical name (``"mean_squared_error"`` for "mse", ``MeanSquaredError()``, ...) and
  settings such as ``from_logits`` and ``delta``; ``label_format(y)``: integer class labels, binary 0/1,
  one-hot rows, soft or multi-label rows, or continuous targets. Both are written in losslab/loss_names.py
  and re-exported here, so ``losslab.losses`` stays the chapter's one module.
- ``suggest_loss(y)``: the loss and output layer that fit labels ``y``, with the reason.
- ``check_labels_vs_loss``, ``check_activation_vs_loss``, ``check_units``: the single checks;
  ``explain(y, model=None, loss=None)`` runs them all.
- ``explain_error(error, y, model)``: Keras' rank/shape error turned into a message naming the loss that fits.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losslab import rules
from losslab.loss_names import (  # noqa: F401 - re-exported: losslab.losses is the chapter's one module
    _EXPECTS,
    _STRING_ALIASES,
    CLASSIFICATION_LOSSES,
    REGRESSION_LOSSES,
    SHORT_NAMES,
    LabelFormat,
    LossSpec,
    _as_array,
    _function_loss_class,
    _FunctionLoss,
    _keras_functions,
    _loss_classes,
    _same_rank,
    _tables,
    canonical_loss_name,
    describe_loss,
    label_format,
    loss_callable,
)
from losslab.messages import _

# ------------------------------------------------------------------------------------------ advice


@dataclass(frozen=True)
class Advice:
    """Which loss and output layer fit some labels, why, and what is wrong with the current choice."""

    labels: LabelFormat
    loss: str
    units: int | None
    activation: str
    reason: str
    problems: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def loss_short(self) -> str:
        """The loss as people write it (``mse`` rather than ``mean_squared_error``)."""
        return SHORT_NAMES.get(self.loss, self.loss)

    @property
    def output_layer(self) -> str:
        units = self.units if self.units is not None else "K"
        if self.activation == "linear":
            return f"Dense({units})  " + _("(no activation)")
        return f'Dense({units}, activation="{self.activation}")'

    @property
    def text(self) -> str:
        lines = [
            _("labels: {labels}").format(labels=self.labels),
            _("loss that fits: {loss}").format(loss=self.loss_short),
            _("output layer:   {layer}").format(layer=self.output_layer),
            _("why: {reason}").format(reason=self.reason),
        ]
        lines += [_("also fine: {alternative}").format(alternative=a) for a in self.alternatives]
        if self.problems:
            lines.append(_("problems found:"))
            lines += [f"  - {p}" for p in self.problems]
        else:
            lines.append(_("no problems found"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's pretty-printer protocol
        printer.text(self.text)


def suggest_loss(y: Any) -> Advice:
    """The loss and output layer that fit labels ``y`` (the course's table: task -> loss -> output layer)."""
    fmt = label_format(y)
    if fmt.kind == "binary":
        return Advice(
            fmt,
            "binary_crossentropy",
            1,
            "sigmoid",
            _(
                "two classes as 0/1: one sigmoid unit gives the probability of class 1, and binary "
                "cross-entropy scores it; predict class 1 when it is above 0.5"
            ),
            alternatives=(
                _("{layer} with {loss}").format(layer="Dense(1)", loss="BinaryCrossentropy(from_logits=True)"),
                _("{layer} with {loss}").format(
                    layer='Dense(2, activation="softmax")', loss="sparse_categorical_crossentropy"
                ),
            ),
        )
    if fmt.kind == "integer":
        return Advice(
            fmt,
            "sparse_categorical_crossentropy",
            fmt.n_classes,
            "softmax",
            _(
                "one integer class number per example: the sparse cross-entropy reads the class number "
                "directly; softmax turns the outputs into probabilities over the classes"
            ),
            alternatives=(
                _("{layer} with {loss}").format(
                    layer=f"Dense({fmt.n_classes})", loss="SparseCategoricalCrossentropy(from_logits=True)"
                ),
                _("one-hot labels (keras.utils.to_categorical) with categorical_crossentropy"),
            ),
        )
    if fmt.kind in {"one-hot", "soft"}:
        return Advice(
            fmt,
            "categorical_crossentropy",
            fmt.n_classes,
            "softmax",
            _(
                "one row per example with one column per class: categorical cross-entropy compares the "
                "row with the softmax probabilities"
            ),
            alternatives=(
                _("{layer} with {loss}").format(
                    layer=f"Dense({fmt.n_classes})", loss="CategoricalCrossentropy(from_logits=True)"
                ),
            )
            + (
                (_("integer labels (y.argmax(axis=1)) with sparse_categorical_crossentropy"),)
                if fmt.kind == "one-hot"
                else ()
            ),
        )
    if fmt.kind == "multi-label":
        return Advice(
            fmt,
            "binary_crossentropy",
            fmt.n_classes,
            "sigmoid",
            _(
                "several labels can be 1 at once: each unit is its own yes/no question, so one sigmoid "
                "per label with binary cross-entropy"
            ),
        )
    units = fmt.shape[1] if len(fmt.shape) == 2 else 1
    return Advice(
        fmt,
        "mean_squared_error",
        units,
        "linear",
        _(
            "real-valued targets: a distance between prediction and target. mse punishes large errors "
            "most; mae or huber when a few targets are outliers. No activation, so any value can come "
            "out; standardize the target first"
        ),
        alternatives=("mean_absolute_error", "huber"),
    )


def check_activation_vs_loss(activation: str | None, loss: Any) -> list[str]:
    """Problems between an output activation and a loss (the from_logits pairings).

    softmax/sigmoid with from_logits=True squashes twice; a linear output with from_logits=False feeds raw
    scores to a loss that expects probabilities and fails silently; an activation on a regression output
    limits the values it can predict. Returns an empty list when the pair fits. (The rule: losslab/rules.py.)
    """
    return [p.message for p in rules.activation_vs_loss(activation, loss)]


def check_labels_vs_loss(y: Any, loss: Any) -> list[str]:
    """Problems between the labels' format and the loss (integer labels need the sparse loss, ...)."""
    return [p.message for p in rules.labels_vs_loss(y, loss)]


def check_units(y: Any, units: int, activation: str | None = None, loss: Any = None) -> list[str]:
    """Problems between the number of output units and the labels (``max(y) < units``, 1 unit for 0/1)."""
    return [p.message for p in rules.units_vs_labels(y, units, activation, loss)]


# ------------------------------------------------------------------------------------------ models


_activation_name = rules.activation_name
_class_name = rules.loss_class_name


def output_layer(model: Any) -> tuple[int, str]:
    """(units, activation name) of a model's last layer; ``"linear"`` when it has no activation.

    A separate ``Activation`` or ``Softmax`` layer after the last Dense counts as the output activation.
    """
    layers = [layer for layer in getattr(model, "layers", []) if layer.__class__.__name__ != "InputLayer"]
    if not layers:
        raise ValueError(_("the model has no layers"))
    last = layers[-1]
    activation = "linear"
    if last.__class__.__name__ in {"Activation", "Softmax"}:
        activation = "softmax" if last.__class__.__name__ == "Softmax" else _activation_name(last.activation)
        dense = next((layer for layer in reversed(layers[:-1]) if hasattr(layer, "units")), None)
        units = int(dense.units) if dense is not None else int(model.output_shape[-1])
    else:
        activation = _activation_name(getattr(last, "activation", None))
        units = int(getattr(last, "units", model.output_shape[-1]))
    return units, activation


def explain(y: Any, model: Any = None, loss: Any = None) -> Advice:
    """Which loss fits labels ``y``, and every problem with the model's output layer and loss.

    ``loss`` defaults to the loss the model was compiled with. Chapter 1 uses it after Keras' shape error;
    the training doctor of chapter 4 can call the single checks it is built from.
    """
    advice = suggest_loss(y)
    if loss is None and model is not None:
        loss = getattr(model, "loss", None)
    problems: list[str] = []
    units = activation = None
    if model is not None:
        units, activation = output_layer(model)
    if loss is not None:
        problems += check_labels_vs_loss(y, loss)
        if activation is not None:
            problems += check_activation_vs_loss(activation, loss)
    if units is not None:
        problems += check_units(y, units, activation, loss)
    return Advice(
        advice.labels,
        advice.loss,
        advice.units,
        advice.activation,
        advice.reason,
        tuple(dict.fromkeys(problems)),
        advice.alternatives,
    )


# ------------------------------------------------------------------------------------------ errors

_SHAPE_ERROR = re.compile(
    r"must have the same (rank|shape)|must have rank \(ndim\)|same shape up until the last dimension|"
    r"Incompatible shapes|Shapes .* are incompatible|cannot be broadcast|Received: target\.shape|"
    r"expected .* to have shape|should have the same shape",
    re.IGNORECASE | re.DOTALL,
)


class LabelFormatError(ValueError):
    """Keras' rank/shape error with an explanation of which loss fits the labels (see ``explained``)."""


def is_label_shape_error(error: BaseException) -> bool:
    """True when the error is Keras' complaint that labels and predictions do not match in rank or shape."""
    return bool(_SHAPE_ERROR.search(str(error)))


def explain_error(
    error: BaseException, y: Any = None, model: Any = None, loss: Any = None, output: str | None = None
) -> str:
    """Keras' rank/shape error from fit() or evaluate() -> a message that names the loss that fits ``y``.

    Works with the messages of the TensorFlow and JAX backends. An error that is not about labels and
    predictions gets a short note saying so, and the original message. ``output`` names what produced the
    predictions (default: "the model's output"; the grader says "the output layer"). In the learner's language.
    """
    message = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", str(error)).strip()  # TensorFlow's op prefix
    first = message.splitlines()[0] if message else type(error).__name__
    if not is_label_shape_error(error):
        return _("This error does not look like a mismatch between labels and loss; read Keras' message:") + (
            f"\n  {type(error).__name__}: {first[:300]}"
        )
    output = _("the model's output") if output is None else output
    lines = [
        _("Keras stopped because the labels and {output} do not fit the loss.").format(output=output),
        _("  Keras said: {message}").format(message=first[:300]),
    ]
    if y is None:
        lines.append(_("Call explain_error(error, y=your_labels, model=your_model) to learn which loss fits."))
        return "\n".join(lines)
    advice = explain(y, model, loss)
    if loss is None and model is not None:
        loss = getattr(model, "loss", None)
    if loss is not None:
        lines.append(
            _("  The loss is {loss}; the labels are {labels}.").format(loss=describe_loss(loss), labels=advice.labels)
        )
    else:
        lines.append(_("  The labels are {labels}.").format(labels=advice.labels))
    for problem in advice.problems:
        lines.append(f"  - {problem}")
    lines.append(
        _("For these labels use {loss} with an output layer {layer}.").format(
            loss=SHORT_NAMES.get(advice.loss, advice.loss), layer=advice.output_layer
        )
    )
    return "\n".join(lines)


@contextlib.contextmanager
def explained(y: Any, model: Any = None, loss: Any = None) -> Iterator[None]:
    """Re-raise Keras' label/shape errors inside the block as ``LabelFormatError`` with an explanation::

    with losses.explained(y_train, model):
        model.fit(x_train, y_train)
    """
    try:
        yield
    except Exception as error:  # TensorFlow raises its own InvalidArgumentError
        if is_label_shape_error(error):
            raise LabelFormatError(explain_error(error, y, model, loss)) from error
        raise


# ------------------------------------------------------------------------------------------ data


def with_outliers(y: Any, fraction: float = 0.05, size: float = 15.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A copy of standardized targets ``y`` with ``fraction`` of them moved to +size or -size (in standard
    deviations), and the indices moved: the outlier experiment of chapter 1."""
    arr = np.array(y, dtype=np.float32, copy=True)
    rng = np.random.default_rng(seed)
    n = max(1, int(round(fraction * len(arr))))
    index = np.sort(rng.choice(len(arr), size=n, replace=False))
    arr[index] = rng.choice(np.array([-size, size], dtype=np.float32), size=n)
    return arr, index


# ------------------------------------------------------------------------------------------ figures


def plot_lines(
    x: Sequence[float],
    lines: Mapping[str, Sequence[float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    ax: Any = None,
    log_y: bool = False,
    ylim: tuple[float, float] | None = None,
    vlines: Mapping[str, float] | None = None,
) -> Any:
    """Several curves over the same x: losses against a predicted probability or an error.

    ``vlines`` marks x positions with a dotted vertical line and a label (a threshold, a delta).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _figure, ax = plt.subplots(figsize=(6, 4))
    for label, values in lines.items():
        ax.plot(np.asarray(x), np.asarray(values, dtype=float), label=label)
    for index, (label, position) in enumerate((vlines or {}).items()):
        ax.axvline(position, color="gray", linestyle=":", linewidth=1)
        ax.annotate(
            label,
            (position, 0.95 - 0.08 * index),
            xycoords=("data", "axes fraction"),
            fontsize="small",
            color="gray",
            xytext=(3, 0),
            textcoords="offset points",
        )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_probabilities(
    probabilities: Any,
    labels: Any,
    *,
    title: str,
    class_names: Sequence[str] = ("0", "1"),
    threshold: float = 0.5,
    ax: Any = None,
) -> Any:
    """Histogram of a binary classifier's predicted probability of class 1, one color per true class,
    with the decision threshold marked."""
    import matplotlib.pyplot as plt

    p = np.asarray(probabilities, dtype=float).reshape(-1)
    t = np.asarray(labels).reshape(-1)
    if ax is None:
        _figure, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, 1, 21)
    for value, name in zip((0, 1), class_names, strict=True):
        ax.hist(
            p[t == value], bins=bins, alpha=0.6, label=_("true class {value} ({name})").format(value=value, name=name)
        )
    ax.axvline(
        threshold,
        color="black",
        linestyle="--",
        linewidth=1,
        label=_("threshold {threshold}").format(threshold=f"{threshold:g}"),
    )
    ax.set_title(title)
    ax.set_xlabel(_("predicted probability of class 1 ({name})").format(name=class_names[1]))
    ax.set_ylabel(_("number of examples"))
    ax.legend(fontsize="small")
    return ax
