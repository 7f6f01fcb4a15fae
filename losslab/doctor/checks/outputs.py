"""Checks of what the model outputs against what the loss expects, and of the labels against the loss."""

from __future__ import annotations

import numpy as np

from losslab import rules
from losslab.doctor.context import Context
from losslab.doctor.model import compiled_metric_objects, fmt, last_activation, output_activation, output_kind
from losslab.doctor.registry import CheckId, Kind, check
from losslab.loss_names import LabelFormat, label_format


def _format(y: np.ndarray) -> LabelFormat | None:
    """label_format(y), or None for labels it refuses (not numbers, NaN: the label check reports those)."""
    try:
        return label_format(y)
    except ValueError:
        return None


@check(CheckId.ACTIVATION_VS_LOSS, Kind.STATIC)
def activation_vs_loss(ctx: Context) -> None:
    """The output layer's activation against the loss's from_logits (squashed twice, or never)."""
    loss, kind = ctx.loss, output_kind(ctx.pred0)
    declared = last_activation(ctx.model)
    seen = f"the outputs are {kind} (range {fmt(ctx.pred0.min())} to {fmt(ctx.pred0.max())}" + (
        f", last activation '{declared}')" if declared else ")"
    )
    if kind == "non-finite":
        ctx.add(
            "problem",
            "the untrained model already outputs NaN or inf",
            "check the initialization and the inputs for NaN/inf",
            "bad_initialization",
        )
        return
    if loss.kind in {"sparse_ce", "ce", "bce"}:
        squash = "softmax" if loss.kind != "bce" else "sigmoid"
        if loss.from_logits is False and kind == "logits":
            ctx.add(
                "problem",
                f"{loss.name} expects probabilities (from_logits=False), but {seen}",
                f"either use {loss.name} with from_logits=True (keep the linear output) or put a {squash} "
                "on the output layer",
                "activation_loss_mismatch",
            )
            return
        if loss.from_logits and kind in {"probabilities", "bounded"} and declared in {"softmax", "sigmoid"}:
            ctx.add(
                "problem",
                f"{loss.name} has from_logits=True, so it applies a {squash} itself, but {seen}: "
                f"the {squash} is applied twice",
                f"remove the {declared} from the last layer, or use from_logits=False",
                "activation_loss_mismatch",
            )
            return
        if loss.kind == "bce" and ctx.units > 1 and kind == "probabilities":
            ctx.add(
                "warning",
                f"binary cross-entropy on {ctx.units} softmax outputs treats each class as a separate yes/no",
                "for one label per example use (sparse_)categorical_crossentropy",
                "activation_loss_mismatch",
            )
            return
        ctx.add("ok", f"{loss.name} (from_logits={loss.from_logits}) and {seen}")
        metric_names = [getattr(m, "name", str(m)) for m in compiled_metric_objects(ctx.model)]
        if (
            loss.kind == "bce"
            and loss.from_logits
            and ctx.units == 1
            and any("accuracy" in str(n) for n in metric_names)
        ):
            ctx.add(
                "warning",
                "'accuracy' on one logit output thresholds the logit at 0.5, not at 0 (probability 0.5)",
                "use keras.metrics.BinaryAccuracy(threshold=0.0) with logits",
            )
        return
    if loss.kind == "regression":
        labels = _format(ctx.y)
        if labels is not None and labels.kind == "integer" and ctx.units == 1:
            ctx.add(
                "warning",
                f"{loss.name} on {len(np.unique(ctx.y))} integer labels treats class 9 as 'more' than class 1",
                "if these are classes, use one output per class and sparse_categorical_crossentropy",
                "activation_loss_mismatch",
            )
            return
        if kind == "probabilities" and ctx.units > 1:
            ctx.add(
                "warning",
                f"{loss.name} on softmax outputs: a regression loss on probabilities learns slowly",
                "use a cross-entropy loss for classes",
                "activation_loss_mismatch",
            )
            return
        ctx.add("ok", f"{loss.name} (regression) and {seen}")
        return
    ctx.add("info", f"{loss.name}: a custom or uncommon loss; {seen}. Not checked.")


@check(CheckId.LABELS_VS_LOSS, Kind.STATIC)
def labels_vs_loss(ctx: Context) -> None:
    """The labels' format against the loss (what Keras would refuse, with the values measured), then the rule
    table's other rules (losslab/rules.py, the rules chapter 1's ``losses.explain`` applies) on the labels, the
    output units and the loss; sets ``ctx.fatal`` when Keras could not train at all."""
    _labels_vs_loss(ctx)
    checked = {CheckId.LABELS_VS_LOSS, CheckId.ACTIVATION_VS_LOSS}
    if ctx.loss.kind in {"custom", "unknown", "other"} or any(f.alarming and f.check in checked for f in ctx.findings):
        return
    try:
        problems = rules.labels_vs_loss(ctx.y, ctx.model.loss)
        problems += rules.units_vs_labels(ctx.y, ctx.units, last_activation(ctx.model), ctx.model.loss)
    except ValueError:  # labels the table cannot read: the checks above said what they are
        return
    for problem in problems:
        ctx.add(problem.severity, problem.message, problem.fix, problem.cause)


def _labels_vs_loss(ctx: Context) -> None:
    y, loss, units = np.asarray(ctx.y), ctx.loss, ctx.units
    if loss.kind in {"custom", "unknown", "other"}:
        ctx.add(
            "info",
            f"labels of shape {y.shape}; {loss.name} is not a loss the doctor "
            "knows, so the labels were not checked against it",
        )
        return
    if not np.all(np.isfinite(y.astype(np.float64))):
        ctx.fatal = "labels contain NaN or inf"
        ctx.add(
            "problem",
            "the labels contain NaN or inf",
            "drop or repair those rows",
            "label_format",
        )
        return
    labels = _format(y)  # the course's one reading of a label array (losslab/loss_names.py)
    kind = labels.kind if labels is not None else "unknown"
    one_hot = kind == "one-hot"
    integer = kind in {"integer", "binary"}
    values = np.unique(y)
    shown = ", ".join(fmt(float(v)) for v in values[:6]) + (" ..." if len(values) > 6 else "")
    if loss.kind == "sparse_ce":
        if one_hot:
            ctx.fatal = "one-hot labels with a sparse loss"
            ctx.add(
                "problem",
                f"one-hot labels of shape {y.shape} with {loss.name}, which "
                "expects one integer class per example: Keras stops with a shape error",
                "use categorical_crossentropy for one-hot labels, or pass y.argmax(axis=1)",
                "label_format",
            )
        elif not integer:
            ctx.fatal = "non-integer labels"
            ctx.add(
                "problem",
                f"labels with values {shown} are not class numbers ({labels or 'not numbers'})",
                "classification needs integer labels 0 .. K-1; for numbers to predict use a regression loss",
                "label_format",
            )
        elif values.max() >= units:
            ctx.fatal = "labels out of range"
            ctx.add(
                "problem",
                f"labels run from {int(values.min())} to {int(values.max())}, "
                f"but the model has {units} output units (classes 0 .. {units - 1})",
                "renumber the classes 0 .. K-1 and give the output layer K units",
                "label_format",
            )
        else:
            ctx.add(
                "ok",
                f"integer labels 0 .. {int(values.max())} for {units} output units and {loss.name}",
            )
        return
    if loss.kind == "ce":
        if integer and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and units > 1)):
            ctx.fatal = "integer labels with a one-hot loss"
            ctx.add(
                "problem",
                f"integer labels of shape {y.shape} with {loss.name}, which "
                "expects one-hot rows: Keras stops with a shape error",
                "use sparse_categorical_crossentropy for integer labels, or one-hot encode them",
                "label_format",
            )
        elif y.ndim == 2 and y.shape[1] != units:
            ctx.fatal = "label width"
            ctx.add(
                "problem",
                f"one-hot rows have {y.shape[1]} columns, the model {units} outputs",
                "one column per class, as many output units",
                "label_format",
            )
        elif not np.allclose(y.sum(axis=-1), 1.0, atol=1e-3):
            ctx.add(
                "problem",
                "label rows do not sum to 1: they are not class distributions",
                "one-hot (or probability) rows that sum to 1",
                "label_format",
            )
        else:
            ctx.add("ok", f"one-hot labels with {y.shape[1]} columns and {loss.name}")
        return
    if loss.kind == "bce":
        if values.min() < 0 or values.max() > 1:
            ctx.add(
                "problem",
                f"binary cross-entropy needs labels in [0, 1], found {shown}: "
                "the loss can go negative and the accuracy compares with impossible values",
                "map the labels to 0 and 1 (for -1/+1: (y + 1) / 2); for more than two classes use "
                "sparse_categorical_crossentropy",
                "label_format",
            )
        elif units > 1 and not (y.ndim == 2 and y.shape[1] == units):
            ctx.fatal = "label width"
            ctx.add(
                "problem",
                f"{units} outputs but labels of shape {y.shape}",
                "one sigmoid unit for a yes/no label",
                "label_format",
            )
        else:
            ctx.add("ok", f"labels {shown} with {loss.name} and {units} output unit(s)")
        return
    # regression
    ctx.add("ok", f"real-valued targets of shape {y.shape} with {loss.name}")


@check(CheckId.OUTPUT_RANGE, Kind.STATIC, needs=(CheckId.LABELS_VS_LOSS, CheckId.ACTIVATION_VS_LOSS))
def output_range(ctx: Context) -> None:
    """The interval the output activation can produce (measured by applying it) against what the loss needs:
    the regression targets, probabilities in [0, 1], or confident probabilities after the loss's softmax."""
    if ctx.fatal or ctx.loss.kind not in {"sparse_ce", "ce", "bce", "regression"}:
        return
    if any(f.alarming and f.check in {CheckId.LABELS_VS_LOSS, CheckId.ACTIVATION_VS_LOSS} for f in ctx.findings):
        return  # the labels or the activation are already wrong for the loss: that finding says what to do
    found = output_activation(ctx.model)
    if found is None:
        ctx.add("info", "the model does not say what its last layer applies: output range not measured")
        return
    fn, name = found
    try:
        low, high = rules.activation_range(fn, ctx.units)
    except Exception as exc:  # an activation that takes no plain tensor: nothing to measure
        ctx.add("info", f"the output activation '{name}' could not be applied on its own ({type(exc).__name__})")
        return
    problems = rules.output_range(low, high, ctx.units, ctx.model.loss, ctx.y, activation=f"the output '{name}'")
    if not problems:
        ctx.add("ok", f"the output '{name}' produces values in [{fmt(low)}, {fmt(high)}]: enough for {ctx.loss.name}")
        return
    for problem in problems:
        ctx.add(problem.severity, problem.message, problem.fix, problem.cause, low=low, high=high)
