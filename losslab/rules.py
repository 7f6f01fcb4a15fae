"""The rule table: whether labels, an output layer and a loss fit together. One source for the course.

Every rule takes plain descriptions (labels, an activation and its units, a loss given any way Keras accepts
one) and returns a list of ``Problem``: the message in words a learner can act on, the fix, and the cause it
is evidence of in the training doctor's vocabulary (``losslab.doctor.CAUSES``). Messages and fixes are in the
learner's language (gettext, ``losslab.messages``). An empty list: the rule found
nothing. ``losslab.losses``' ``check_*`` functions return the messages (chapter 1); the doctor's output checks
(chapter 4) turn the problems into findings with what they measured.

- ``RULES``: the table, rule id -> function;
- ``LOSS_KINDS`` / ``loss_kind``: the one vocabulary of loss kinds (``sparse_ce``, ``ce``, ``bce``,
  ``regression``, ``other``, ``custom``);
- ``activation_range``: the interval an output activation can produce, measured by applying it (any
  activation, any number of units), and ``output_range``, the rule comparing it with what the loss needs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from losslab.loss_names import _EXPECTS, SHORT_NAMES, describe_loss, label_format
from losslab.messages import N_, _

# ------------------------------------------------------------------------------------- vocabulary

# The kind of each Keras loss, by the canonical name ``describe_loss`` gives it.
LOSS_KINDS: dict[str, str] = {
    "sparse_categorical_crossentropy": "sparse_ce",
    "categorical_crossentropy": "ce",
    "categorical_focal_crossentropy": "ce",
    "binary_crossentropy": "bce",
    "binary_focal_crossentropy": "bce",
    "mean_squared_error": "regression",
    "mean_absolute_error": "regression",
    "huber": "regression",
    "log_cosh": "regression",
    "mean_squared_logarithmic_error": "regression",
    "mean_absolute_percentage_error": "regression",
    "hinge": "other",
    "squared_hinge": "other",
    "categorical_hinge": "other",
    "kl_divergence": "other",
    "poisson": "other",
    "cosine_similarity": "other",
}
CLASSIFICATION_KINDS = frozenset({"sparse_ce", "ce", "bce"})


def loss_kind(loss: Any) -> str:
    """The kind of a loss (``LOSS_KINDS``); ``custom`` for a loss Keras does not know."""
    spec = describe_loss(loss)
    return LOSS_KINDS.get(spec.name, "custom") if spec.keras else "custom"


@dataclass(frozen=True)
class Problem:
    """What one rule found: a message, the fix, the doctor's cause it is evidence of, and how bad it is."""

    rule: str
    message: str
    fix: str
    cause: str
    severity: str = "problem"  # "problem": it cannot train well as it is; "warning": it can, badly

    def __str__(self) -> str:
        return self.message


def activation_name(activation: Any) -> str:
    """An activation (a name, a function or None) as a lower-case name; ``linear`` for none."""
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        return activation.strip().lower() or "linear"
    return getattr(activation, "__name__", type(activation).__name__).lower()


def loss_class_name(loss_name: str) -> str:
    """The Keras class of a cross-entropy, by its canonical name."""
    return {
        "binary_crossentropy": "BinaryCrossentropy",
        "categorical_crossentropy": "CategoricalCrossentropy",
        "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    }.get(loss_name, loss_name)


# ------------------------------------------------------------------------------------------ rules


def activation_vs_loss(activation: Any, loss: Any) -> list[Problem]:
    """The from_logits pairings: softmax/sigmoid with from_logits=True squashes twice; a linear output with
    from_logits=False feeds raw scores to a loss that expects probabilities; an activation on a regression
    output limits the values it can predict."""
    spec = describe_loss(loss)
    act = activation_name(activation)
    problems = []

    def add(message: str, fix: str, severity: str = "problem") -> None:
        problems.append(Problem("activation_vs_loss", message, fix, "activation_loss_mismatch", severity))

    if spec.is_classification:
        expected = _EXPECTS[spec.name][1]
        if spec.from_logits and act in {"softmax", "sigmoid"}:
            add(
                _(
                    "the output layer already applies {act}, but the loss has from_logits=True and "
                    "applies it again: remove the activation (Dense without activation) or set "
                    "from_logits=False"
                ).format(act=act),
                _("remove the {act} from the output layer, or use from_logits=False").format(act=act),
            )
        elif not spec.from_logits and act == "linear":
            add(
                _(
                    "the output layer has no activation, so it outputs raw scores (logits), but "
                    "{loss} expects probabilities: it runs without an error and learns badly. "
                    'Use activation="{expected}", or {loss_class}(from_logits=True)'
                ).format(loss=spec.short, expected=expected, loss_class=loss_class_name(spec.name)),
                _('activation="{expected}" on the output layer, or {loss_class}(from_logits=True)').format(
                    expected=expected, loss_class=loss_class_name(spec.name)
                ),
            )
        elif not spec.from_logits and act not in {expected, "linear"}:
            add(
                _("{loss} expects {expected} probabilities from the output layer, not {act}").format(
                    loss=spec.short, expected=expected, act=act
                ),
                _('activation="{expected}" on the output layer').format(expected=expected),
            )
        elif spec.from_logits and act not in {"linear", "softmax", "sigmoid"}:
            add(
                _("from_logits=True expects the raw scores of a layer without activation, not {act}").format(act=act),
                _("remove the output activation"),
            )
    elif spec.is_regression and act != "linear":
        limit = REGRESSION_LIMITS.get(act, REGRESSION_LIMITS[""])
        add(
            _("a regression output should have no activation: {act} lets the model predict {limit}").format(
                act=act, limit=_(limit)
            ),
            _("no activation on a regression output (or one whose range holds every target)"),
            "warning",
        )
    return problems


# What an activation lets a regression output predict ("": any other), marked with N_ and shown through gettext.
REGRESSION_LIMITS = {
    "relu": N_("nothing below 0"),
    "sigmoid": N_("only values between 0 and 1"),
    "softmax": N_("only values between 0 and 1 that sum to 1"),
    "tanh": N_("only values between -1 and 1"),
    "": N_("a limited range of values"),
}

# The loss that fits each label format (``losses.suggest_loss`` gives it with the output layer and the reason).
FITTING_LOSS = {
    "binary": "binary_crossentropy",
    "integer": "sparse_categorical_crossentropy",
    "one-hot": "categorical_crossentropy",
    "soft": "categorical_crossentropy",
    "multi-label": "binary_crossentropy",
    "continuous": "mean_squared_error",
}


def labels_vs_loss(y: Any, loss: Any) -> list[Problem]:
    """The labels' format against the loss (integer labels need the sparse loss, ...)."""
    spec = describe_loss(loss)
    fmt = label_format(y)
    right = SHORT_NAMES.get(FITTING_LOSS[fmt.kind], FITTING_LOSS[fmt.kind])
    problems = []

    def add(message: str, fix: str, cause: str = "label_format", severity: str = "problem") -> None:
        problems.append(Problem("labels_vs_loss", message, fix, cause, severity))

    if spec.name in {"sparse_categorical_crossentropy"} and fmt.kind in {"one-hot", "soft", "multi-label"}:
        add(
            _(
                "the labels are {labels}, but sparse_categorical_crossentropy expects one integer class "
                "number per example. Use {right}, or give y.argmax(axis=1) as labels"
            ).format(labels=fmt, right=right),
            _("use {right}, or pass y.argmax(axis=1)").format(right=right),
        )
    elif spec.name in {"categorical_crossentropy", "categorical_focal_crossentropy"} and fmt.kind in {
        "integer",
        "binary",
    }:
        add(
            _(
                "the labels are {labels}, but {loss} expects one-hot rows. Use "
                "sparse_categorical_crossentropy, or one-hot encode the labels with "
                "keras.utils.to_categorical"
            ).format(labels=fmt, loss=spec.short),
            _("use sparse_categorical_crossentropy, or keras.utils.to_categorical(y)"),
        )
    elif spec.name in {"binary_crossentropy", "binary_focal_crossentropy"} and fmt.kind == "integer":
        add(
            _(
                "the labels are {labels}: more than two classes. binary_crossentropy is for 0/1 labels; "
                "use sparse_categorical_crossentropy with one softmax unit per class"
            ).format(labels=fmt),
            _("sparse_categorical_crossentropy with one softmax unit per class"),
        )
    elif spec.is_classification and fmt.kind == "continuous":
        add(
            _(
                "the labels are {labels}, but {loss} is a classification loss. Use a regression "
                "loss (mse, mae, huber) with one output unit without activation"
            ).format(labels=fmt, loss=spec.short),
            _("a regression loss (mse, mae, huber) with one output unit without activation"),
        )
    elif spec.is_regression and fmt.kind in {"integer", "one-hot", "binary"}:
        add(
            _(
                "the labels are {labels}: a classification task, but {loss} is a regression loss. "
                "It can run, but it treats classes as numbers and learns slowly; use {right}"
            ).format(labels=fmt, loss=spec.short, right=right),
            _("use {right} with one output unit per class").format(right=right),
            "activation_loss_mismatch",
            "warning",
        )
    return problems


def units_vs_labels(y: Any, units: int, activation: Any = None, loss: Any = None) -> list[Problem]:
    """The number of output units against the labels (``max(y) < units``, 1 unit for 0/1)."""
    fmt = label_format(y)
    act = activation_name(activation)
    spec = describe_loss(loss) if loss is not None else None
    problems = []

    def add(message: str, fix: str, cause: str = "label_format") -> None:
        problems.append(Problem("units_vs_labels", message, fix, cause))

    if fmt.kind == "integer" and units < (fmt.n_classes or 0):
        add(
            _(
                "the labels go up to {highest}, so the output layer needs at least "
                "{classes} units (one per class); it has {units}"
            ).format(highest=fmt.n_classes - 1, classes=fmt.n_classes, units=units),
            _("renumber the classes 0 .. K-1 and give the output layer K units"),
        )
    elif fmt.kind in {"one-hot", "soft", "multi-label"} and units != fmt.n_classes:
        add(
            _("the label rows have {columns} columns but the output layer has {units} units").format(
                columns=fmt.n_classes, units=units
            ),
            _("one output unit per label column"),
        )
    elif fmt.kind == "binary":
        if units == 1 and act == "softmax":
            add(
                _("softmax over a single unit always outputs 1.0: use sigmoid for one unit"),
                _('activation="sigmoid" on the single output unit'),
                "output_range",
            )
        elif units == 2 and spec is not None and spec.name in {"binary_crossentropy", "binary_focal_crossentropy"}:
            add(
                _(
                    "two output units for 0/1 labels need sparse_categorical_crossentropy; with "
                    "binary_crossentropy use a single sigmoid unit"
                ),
                _("one sigmoid unit, or sparse_categorical_crossentropy on two"),
            )
        elif units > 2:
            add(
                _("0/1 labels need 1 sigmoid unit (or 2 softmax units), not {units}").format(units=units),
                _("1 sigmoid unit, or 2 softmax units"),
            )
    if fmt.kind in {"integer", "one-hot"} and act == "sigmoid" and units > 1:
        add(
            _(
                "sigmoid scores each class on its own, so the outputs do not sum to 1: for one class "
                "per example use softmax"
            ),
            _('activation="softmax" on the output layer'),
            "activation_loss_mismatch",
        )
    return problems


# ------------------------------------------------------------------------- what an output can produce

# Inputs of every size and sign: an activation's outputs over them span what it can produce.
_GRID = np.concatenate([-np.logspace(4, -4, 33), [0.0], np.logspace(-4, 4, 33)])


def activation_range(activation: Callable[[Any], Any], units: int) -> tuple[float, float]:
    """The lowest and highest value ``activation`` produces on an output of ``units`` values, measured by
    applying it to pre-activations from -1e4 to 1e4: rows of one value, and rows with one large entry against
    the rest (what a softmax needs to reach its extremes). Works for any element-wise or row-wise activation
    (a function, or a layer without weights)."""
    import keras

    units = max(int(units), 1)
    rows = [np.full(units, v) for v in _GRID]
    for v in _GRID[_GRID > 0]:
        row = np.full(units, -v)
        row[0] = v
        rows.append(row)
    with warnings.catch_warnings():  # Keras warns that a softmax over one unit is always 1: we measure it
        warnings.simplefilter("ignore")
        out = activation(keras.ops.convert_to_tensor(np.array(rows, np.float32)))
    out = np.asarray(keras.ops.convert_to_numpy(out))
    out = out[np.isfinite(out)]
    if out.size == 0:
        return float("nan"), float("nan")
    low, high = float(out.min()), float(out.max())
    # beyond 1e3 on either side the activation is unbounded (a linear, ReLU or exponential tail)
    return (-math.inf if low < -1e3 else low), (math.inf if high > 1e3 else high)


def _span(low: float, high: float) -> str:
    def show(v: float) -> str:
        return "inf" if v == math.inf else "-inf" if v == -math.inf else f"{v:.3g}"

    return f"[{show(low)}, {show(high)}]"


def output_range(
    low: float, high: float, units: int, loss: Any, y: Any = None, activation: str | None = None
) -> list[Problem]:
    """Whether outputs in ``[low, high]`` can give the loss what it needs: probabilities in [0, 1] for a
    cross-entropy on probabilities, confident probabilities for one on logits, and the targets ``y`` for a
    regression. ``activation`` names the output activation in the messages (default: "the output layer", in
    the learner's language)."""
    if not (math.isfinite(low) or low == -math.inf) or not (math.isfinite(high) or high == math.inf):
        return []
    if activation is None:
        activation = _("the output layer")
    spec = describe_loss(loss)
    kind = loss_kind(loss)
    span = _span(low, high)
    problems = []

    def add(message: str, fix: str, cause: str = "output_range", severity: str = "problem") -> None:
        problems.append(Problem("output_range", message, fix, cause, severity))

    k = 2 if kind == "bce" else max(int(units), 2)
    if kind in CLASSIFICATION_KINDS and spec.from_logits:
        if low == -math.inf or high == math.inf:
            return []
        if kind == "bce":
            best = 1 / (1 + math.exp(-high))
            worst = 1 / (1 + math.exp(-low))
            best = min(best, 1 - worst)  # the least confident of "surely 1" and "surely 0"
        else:
            best = 1 / (1 + (k - 1) * math.exp(low - high))
        if best < 0.9:
            add(
                _(
                    "{activation} produces logits in {span} only: after the loss's {squash}, the most confident "
                    "prediction it can make is {best:.0%} for the right class, so the loss can never approach 0"
                ).format(activation=activation, span=span, squash="sigmoid" if kind == "bce" else "softmax", best=best),
                _("remove the output activation: from_logits=True expects unbounded raw scores"),
            )
        return problems
    if kind in CLASSIFICATION_KINDS:
        if low < 0 or (kind == "bce" and high > 1):
            outside = _("below 0") if low < 0 else _("above 1")
            add(
                _(
                    "{loss} expects probabilities in [0, 1], but {activation} produces values in {span}: "
                    "outputs {outside} are no probability (Keras clips them, and their gradient is 0)"
                ).format(loss=spec.short, activation=activation, span=span, outside=outside),
                _(
                    'activation="{squash}" on the output layer, or a linear output with {loss_class}(from_logits=True)'
                ).format(squash="sigmoid" if kind == "bce" else "softmax", loss_class=loss_class_name(spec.name)),
                "activation_loss_mismatch",
            )
            return problems
        if kind == "bce":
            lowest, highest = max(low, 0.0), min(high, 1.0)
        else:  # categorical losses divide the outputs by their sum
            lowest = 0.0 if high == math.inf or high <= 0 else low / (low + (k - 1) * high)
            highest = 1.0 if low <= 0 else high / (high + (k - 1) * low)
        if highest < 0.9 or lowest > 0.1:
            add(
                _(
                    "{activation} produces values in {span}: the probabilities it can give the right class "
                    "lie between {lowest:.2g} and {highest:.2g}, so the labels (0 and 1) are out of reach"
                ).format(activation=activation, span=span, lowest=lowest, highest=highest),
                _('activation="{expected}" on the output layer').format(
                    expected="sigmoid" if kind == "bce" else "softmax"
                ),
            )
        return problems
    if kind == "regression" and y is not None:
        target = np.asarray(y, dtype=np.float64).reshape(-1)
        target = target[np.isfinite(target)]
        if target.size == 0:
            return problems
        scale = max(float(target.std()), 1e-12)
        margin = 1e-3 * scale
        outside = float(np.mean((target < low - margin) | (target > high + margin)))
        if outside > 0.02:
            add(
                _(
                    "{activation} produces values in {span} only, but {outside:.0%} of the targets (from "
                    "{low:.3g} to {high:.3g}) lie outside it: the model can never predict them"
                ).format(activation=activation, span=span, outside=outside, low=target.min(), high=target.max()),
                _("no activation on a regression output, or rescale the targets into the range it produces"),
                severity="problem" if outside > 0.1 else "warning",
            )
    return problems


# The table: every rule, by id (the id each ``Problem`` carries).
RULES: dict[str, Callable[..., list[Problem]]] = {
    "activation_vs_loss": activation_vs_loss,
    "labels_vs_loss": labels_vs_loss,
    "units_vs_labels": units_vs_labels,
    "output_range": output_range,
}
