"""Checks of what the model outputs against what the loss expects, and of the labels against the loss."""

from __future__ import annotations

import numpy as np

from losslab import rules
from losslab.doctor.context import Context
from losslab.doctor.model import compiled_metric_objects, fmt, last_activation, output_activation, output_kind
from losslab.doctor.registry import CheckId, Kind, check
from losslab.loss_names import LabelFormat, label_format
from losslab.messages import N_, _

# How output_kind's answer reads in the evidence (through gettext).
OUTPUT_KINDS = {
    "logits": N_("logits"),
    "probabilities": N_("probabilities"),
    "bounded": N_("bounded"),
    "non-finite": N_("non-finite"),
}


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
    seen = (
        _("the outputs are {kind} (range {low} to {high}, last activation '{declared}')")
        if declared
        else _("the outputs are {kind} (range {low} to {high})")
    ).format(kind=_(OUTPUT_KINDS[kind]), low=fmt(ctx.pred0.min()), high=fmt(ctx.pred0.max()), declared=declared)
    if kind == "non-finite":
        ctx.add(
            "problem",
            _("the untrained model already outputs NaN or inf"),
            _("check the initialization and the inputs for NaN/inf"),
            "bad_initialization",
        )
        return
    if loss.kind in {"sparse_ce", "ce", "bce"}:
        squash = "softmax" if loss.kind != "bce" else "sigmoid"
        if loss.from_logits is False and kind == "logits":
            ctx.add(
                "problem",
                _("{loss} expects probabilities (from_logits=False), but {seen}").format(loss=loss.name, seen=seen),
                _(
                    "either use {loss} with from_logits=True (keep the linear output) or put a {squash} on the "
                    "output layer"
                ).format(loss=loss.name, squash=squash),
                "activation_loss_mismatch",
            )
            return
        if loss.from_logits and kind in {"probabilities", "bounded"} and declared in {"softmax", "sigmoid"}:
            ctx.add(
                "problem",
                _(
                    "{loss} has from_logits=True, so it applies a {squash} itself, but {seen}: the {squash} is "
                    "applied twice"
                ).format(loss=loss.name, squash=squash, seen=seen),
                _("remove the {declared} from the last layer, or use from_logits=False").format(declared=declared),
                "activation_loss_mismatch",
            )
            return
        if loss.kind == "bce" and ctx.units > 1 and kind == "probabilities":
            ctx.add(
                "warning",
                _("binary cross-entropy on {units} softmax outputs treats each class as a separate yes/no").format(
                    units=ctx.units
                ),
                _("for one label per example use (sparse_)categorical_crossentropy"),
                "activation_loss_mismatch",
            )
            return
        ctx.add(
            "ok",
            _("{loss} (from_logits={from_logits}) and {seen}").format(
                loss=loss.name, from_logits=loss.from_logits, seen=seen
            ),
        )
        metric_names = [getattr(m, "name", str(m)) for m in compiled_metric_objects(ctx.model)]
        if (
            loss.kind == "bce"
            and loss.from_logits
            and ctx.units == 1
            and any("accuracy" in str(n) for n in metric_names)
        ):
            ctx.add(
                "warning",
                _("'accuracy' on one logit output thresholds the logit at 0.5, not at 0 (probability 0.5)"),
                _("use keras.metrics.BinaryAccuracy(threshold=0.0) with logits"),
            )
        return
    if loss.kind == "regression":
        labels = _format(ctx.y)
        if labels is not None and labels.kind == "integer" and ctx.units == 1:
            ctx.add(
                "warning",
                _("{loss} on {n} integer labels treats class 9 as 'more' than class 1").format(
                    loss=loss.name, n=len(np.unique(ctx.y))
                ),
                _("if these are classes, use one output per class and sparse_categorical_crossentropy"),
                "activation_loss_mismatch",
            )
            return
        if kind == "probabilities" and ctx.units > 1:
            ctx.add(
                "warning",
                _("{loss} on softmax outputs: a regression loss on probabilities learns slowly").format(loss=loss.name),
                _("use a cross-entropy loss for classes"),
                "activation_loss_mismatch",
            )
            return
        ctx.add("ok", _("{loss} (regression) and {seen}").format(loss=loss.name, seen=seen))
        return
    ctx.add("info", _("{loss}: a custom or uncommon loss; {seen}. Not checked.").format(loss=loss.name, seen=seen))


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
            _(
                "labels of shape {shape}; {loss} is not a loss the doctor knows, so the labels were not checked "
                "against it"
            ).format(shape=y.shape, loss=loss.name),
        )
        return
    if not np.all(np.isfinite(y.astype(np.float64))):
        ctx.fatal = _("labels contain NaN or inf")
        ctx.add(
            "problem",
            _("the labels contain NaN or inf"),
            _("drop or repair those rows"),
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
            ctx.fatal = _("one-hot labels with a sparse loss")
            ctx.add(
                "problem",
                _(
                    "one-hot labels of shape {shape} with {loss}, which expects one integer class per example: "
                    "Keras stops with a shape error"
                ).format(shape=y.shape, loss=loss.name),
                _("use categorical_crossentropy for one-hot labels, or pass y.argmax(axis=1)"),
                "label_format",
            )
        elif not integer:
            ctx.fatal = _("non-integer labels")
            ctx.add(
                "problem",
                _("labels with values {shown} are not class numbers ({format})").format(
                    shown=shown, format=labels or _("not numbers")
                ),
                _("classification needs integer labels 0 .. K-1; for numbers to predict use a regression loss"),
                "label_format",
            )
        elif values.max() >= units:
            ctx.fatal = _("labels out of range")
            ctx.add(
                "problem",
                _(
                    "labels run from {low} to {high}, but the model has {units} output units (classes 0 .. {last})"
                ).format(low=int(values.min()), high=int(values.max()), units=units, last=units - 1),
                _("renumber the classes 0 .. K-1 and give the output layer K units"),
                "label_format",
            )
        else:
            ctx.add(
                "ok",
                _("integer labels 0 .. {high} for {units} output units and {loss}").format(
                    high=int(values.max()), units=units, loss=loss.name
                ),
            )
        return
    if loss.kind == "ce":
        if integer and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and units > 1)):
            ctx.fatal = _("integer labels with a one-hot loss")
            ctx.add(
                "problem",
                _(
                    "integer labels of shape {shape} with {loss}, which expects one-hot rows: Keras stops with a "
                    "shape error"
                ).format(shape=y.shape, loss=loss.name),
                _("use sparse_categorical_crossentropy for integer labels, or one-hot encode them"),
                "label_format",
            )
        elif y.ndim == 2 and y.shape[1] != units:
            ctx.fatal = _("label width")
            ctx.add(
                "problem",
                _("one-hot rows have {columns} columns, the model {units} outputs").format(
                    columns=y.shape[1], units=units
                ),
                _("one column per class, as many output units"),
                "label_format",
            )
        elif not np.allclose(y.sum(axis=-1), 1.0, atol=1e-3):
            ctx.add(
                "problem",
                _("label rows do not sum to 1: they are not class distributions"),
                _("one-hot (or probability) rows that sum to 1"),
                "label_format",
            )
        else:
            ctx.add(
                "ok", _("one-hot labels with {columns} columns and {loss}").format(columns=y.shape[1], loss=loss.name)
            )
        return
    if loss.kind == "bce":
        if values.min() < 0 or values.max() > 1:
            ctx.add(
                "problem",
                _(
                    "binary cross-entropy needs labels in [0, 1], found {shown}: the loss can go negative and the "
                    "accuracy compares with impossible values"
                ).format(shown=shown),
                _(
                    "map the labels to 0 and 1 (for -1/+1: (y + 1) / 2); for more than two classes use "
                    "sparse_categorical_crossentropy"
                ),
                "label_format",
            )
        elif units > 1 and not (y.ndim == 2 and y.shape[1] == units):
            ctx.fatal = _("label width")
            ctx.add(
                "problem",
                _("{units} outputs but labels of shape {shape}").format(units=units, shape=y.shape),
                _("one sigmoid unit for a yes/no label"),
                "label_format",
            )
        else:
            ctx.add(
                "ok",
                _("labels {shown} with {loss} and {units} output unit(s)").format(
                    shown=shown, loss=loss.name, units=units
                ),
            )
        return
    # regression
    ctx.add("ok", _("real-valued targets of shape {shape} with {loss}").format(shape=y.shape, loss=loss.name))


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
        ctx.add("info", _("the model does not say what its last layer applies: output range not measured"))
        return
    fn, name = found
    try:
        low, high = rules.activation_range(fn, ctx.units)
    except Exception as exc:  # an activation that takes no plain tensor: nothing to measure
        ctx.add(
            "info",
            _("the output activation '{name}' could not be applied on its own ({error})").format(
                name=name, error=type(exc).__name__
            ),
        )
        return
    problems = rules.output_range(
        low, high, ctx.units, ctx.model.loss, ctx.y, activation=_("the output '{name}'").format(name=name)
    )
    if not problems:
        ctx.add(
            "ok",
            _("the output '{name}' produces values in [{low}, {high}]: enough for {loss}").format(
                name=name, low=fmt(low), high=fmt(high), loss=ctx.loss.name
            ),
        )
        return
    for problem in problems:
        ctx.add(problem.severity, problem.message, problem.fix, problem.cause, low=low, high=high)
