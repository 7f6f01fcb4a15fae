"""Checks of the data: input and target scale, class balance, duplicates, leaks and sorted splits."""

from __future__ import annotations

import math

import keras
import numpy as np

from losslab.doctor.context import Context
from losslab.doctor.expect import prior
from losslab.doctor.model import fmt, row_keys
from losslab.doctor.registry import CheckId, Kind, check
from losslab.doctor.report import RANK
from losslab.messages import _


def first_weights_input(ctx: Context, x: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """What the first layer with weights sees: the inputs after any leading layers (e.g. normalization)."""
    layers = getattr(ctx.model, "layers", None)
    if not isinstance(ctx.model, keras.Sequential) or not layers:
        return x, []
    h, before = x, []
    for layer in layers:
        if getattr(layer, "kernel", None) is not None:
            break
        h = layer(h, training=True)
        before.append(layer.name)
    return np.asarray(keras.ops.convert_to_numpy(h), dtype=np.float64), before


def _preactivation_growth(ctx: Context, seen: np.ndarray) -> float | None:
    """RMS of the first Dense layer's pre-activations on the inputs, divided by their RMS on the same inputs
    standardized (None when the first layer with weights is not a Dense on flat inputs)."""
    layers = getattr(ctx.model, "layers", None) or []
    first = next((layer for layer in layers if getattr(layer, "kernel", None) is not None), None)
    if not isinstance(first, keras.layers.Dense) or seen.ndim != 2:
        return None
    kernel = np.asarray(keras.ops.convert_to_numpy(first.kernel), dtype=np.float64)
    if kernel.shape[0] != seen.shape[1]:
        return None
    std = seen.std(axis=0)
    standardized = np.where(std > 1e-8, (seen - seen.mean(axis=0)) / np.where(std > 1e-8, std, 1), 0.0)
    actual, reference = np.sqrt(((seen @ kernel) ** 2).mean()), np.sqrt(((standardized @ kernel) ** 2).mean())
    return float(actual / reference) if reference > 0 else None


@check(CheckId.INPUT_SCALE, Kind.STATIC, provides=("input_rms_max",))
def input_scale(ctx: Context) -> None:
    """The size of what the first weights see (after any leading normalization layer)."""
    x = ctx.x.reshape(len(ctx.x), -1).astype(np.float64)
    sample = x[ctx.sample]
    seen, before = first_weights_input(ctx, ctx.x[ctx.sample])
    seen = seen.reshape(len(seen), -1)
    rms = np.sqrt((seen**2).mean(axis=0))
    live = rms[rms > 1e-8]
    raw_rms = np.sqrt((sample**2).mean(axis=0))
    worst = int(np.argmax(rms))
    ctx.facts.input_rms_max = float(rms.max()) if rms.size else 0.0
    lo, hi = float(sample.min()), float(sample.max())
    through = _(" after {layers}").format(layers=", ".join(before)) if before else ""
    if before and raw_rms.max() > 3 and rms.max() <= 3:
        ctx.add(
            "ok",
            _(
                "raw features reach {high}, but the model normalizes them first ({layers}): the first weights see "
                "values of size {size} at most"
            ).format(high=fmt(hi), layers=", ".join(before), size=fmt(float(rms.max()))),
        )
        return
    # What matters is what the first weights make of the inputs: the pre-activations' size against what the
    # same weights give on standardized inputs (features of RMS 2 to 4 on 20 inputs barely change it).
    growth = _preactivation_growth(ctx, seen)
    big = rms.size and (rms.max() > 10 if growth is None else growth > 10)
    large = rms.size and (rms.max() > 3 if growth is None else growth > 3)
    if big:
        ctx.add(
            "problem",
            _(
                "features range from {low} to {high}{through}; feature {worst} has root-mean-square {rms} "
                "(standardized features have 1)"
            ).format(low=fmt(lo), high=fmt(hi), through=through, worst=worst, rms=fmt(float(rms[worst])))
            + (
                ""
                if growth is None
                else _("; the first layer's pre-activations are {growth}x what standardized inputs give").format(
                    growth=fmt(growth)
                )
            ),
            _(
                "standardize: subtract the training mean and divide by the training standard deviation "
                "(StandardScaler fitted on the training split)"
            ),
            "unscaled_inputs",
            rms_max=float(rms.max()),
        )
    elif large or (live.size and live.max() / live.min() > 100):
        ctx.add(
            "warning",
            _("features{through} have root-mean-square from {low} to {high}: not on one scale").format(
                through=through, low=fmt(float(live.min())), high=fmt(float(live.max()))
            )
            + (
                ""
                if growth is None
                else _(" (the first layer's pre-activations: {growth}x standardized)").format(growth=fmt(growth))
            ),
            _("standardize the features"),
            "unscaled_inputs",
            rms_max=float(rms.max()),
        )
    else:
        ctx.add(
            "ok",
            _("features{through} have root-mean-square at most {rms} (standardized or similar)").format(
                through=through, rms=fmt(float(rms.max()))
            ),
        )


@check(CheckId.TARGET_SCALE, Kind.STATIC)
def target_scale(ctx: Context) -> None:
    """A regression target far from mean 0, standard deviation 1."""
    if ctx.loss.kind != "regression":
        return
    y = ctx.y.astype(np.float64)
    mean, std = float(y.mean()), float(y.std())
    if std > 0 and (abs(mean) / std > 2 or std > 10 or std < 0.01):
        ctx.add(
            "warning",
            _(
                "the target has mean {mean} and standard deviation {std}: an untrained model predicts about 0, so "
                "the first losses and gradients are huge"
            ).format(mean=fmt(mean), std=fmt(std)),
            _("standardize the target (and undo it for predictions), or initialize the output bias to the target mean"),
            "target_scale",
            mean=mean,
            std=std,
        )
    else:
        ctx.add("ok", _("target mean {mean}, standard deviation {std}").format(mean=fmt(mean), std=fmt(std)))


@check(CheckId.CLASS_PRIOR, Kind.STATIC, needs=(CheckId.LABELS_VS_LOSS,))
def class_prior(ctx: Context) -> None:
    """A rare class, and whether the output bias or class_weight handles it."""
    if not ctx.classification or ctx.fatal:
        return
    shares = prior(ctx)
    k = len(shares)
    rare = int(np.argmin(shares))
    share = float(shares[rare])
    ratio = float(shares.max() / max(share, 1e-12))
    if share == 0:
        ctx.add(
            "warning",
            _("class {rare} never occurs in the training labels").format(rare=rare),
            _("check the labels, or reduce the number of output units"),
        )
        return
    if ratio < 10 and share >= 0.05:
        ctx.add("ok", _("class shares from {low:.1%} to {high:.1%}").format(low=share, high=float(shares.max())))
        return
    predicted = ctx.probabilities(ctx.pred0).mean(axis=0)
    start = float(predicted[rare])
    handled = []
    if ctx.class_weight:
        handled.append(f"class_weight {ctx.class_weight}")
    if 0.5 <= start / share <= 2:
        handled.append(
            _("the untrained model already predicts {start:.1%} for it (output bias set)").format(start=start)
        )
    evidence = _(
        "class {rare} is {share:.1%} of the training labels ({count} of {n}); always predicting the majority "
        "already scores accuracy {majority:.1%}"
    ).format(rare=rare, share=share, count=int(round(share * len(ctx.y))), n=len(ctx.y), majority=float(shares.max()))
    if handled:
        ctx.add(
            "info",
            evidence
            + _("; handled: {handled}. Judge the model by recall and PR-AUC, not accuracy.").format(
                handled=_("; ").join(handled)
            ),
        )
        return
    bias = math.log(share / (1 - share)) if k == 2 else None
    fix = _(
        "initialize the output bias to log(pos/neg){value}, pass class_weight to fit, and report recall and PR-AUC "
        "instead of accuracy"
    ).format(value=f" = {bias:.2f}" if bias is not None else "")
    ctx.add(
        "warning",
        evidence + _("; the untrained model predicts {start:.1%} on average").format(start=start),
        fix,
        "class_imbalance",
        share=share,
    )


def _class_shift(ctx: Context) -> str:
    """The validation labels' classes against the training labels': classes only one side holds, or shares
    that differ by more than a third in total (half the L1 distance), as a split of sorted rows gives."""
    train, val = ctx.labels(), ctx.labels(ctx.y_val)
    k = max(int(train.max()), int(val.max())) + 1
    p, q = np.bincount(train, minlength=k) / len(train), np.bincount(val, minlength=k) / len(val)
    only_val = [c for c in range(k) if q[c] > 0 and p[c] == 0]
    only_train = [c for c in range(k) if p[c] > 0.02 and q[c] == 0]
    distance = 0.5 * float(np.abs(p - q).sum())
    if len(val) < 20 or not (only_val or only_train or distance > 1 / 3):
        return ""
    parts = [
        _("the training and validation labels come from different class mixes ({distance:.0%} apart)").format(
            distance=distance
        )
    ]
    if only_val:
        parts.append(_("classes {classes} occur only in the validation data").format(classes=only_val))
    if only_train:
        parts.append(_("classes {classes} never occur in the validation data").format(classes=only_train))
    return _("{parts}: the split was not random").format(parts=_("; ").join(parts))


@check(CheckId.DATA_HYGIENE, Kind.STATIC)
def data_hygiene(ctx: Context) -> None:
    """Duplicate rows, training/validation overlap, and labels sorted before a split."""

    notes, worst, cause = [], "ok", None
    train_rows = row_keys(ctx.x)
    unique = len(np.unique(train_rows))
    dup = 1 - unique / len(train_rows)
    if dup > 0.05:
        notes.append(_("{dup:.0%} of the training rows are exact duplicates").format(dup=dup))
        worst, cause = "warning", "data_leak"
    if ctx.x_val is not None:
        overlap = float(np.isin(row_keys(ctx.x_val), train_rows).mean())
        if overlap > 0.02:
            notes.append(
                _(
                    "{overlap:.0%} of the validation rows also appear in the training data: the validation score "
                    "is optimistic"
                ).format(overlap=overlap)
            )
            worst, cause = "warning", "data_leak"
    if ctx.x_val is not None and ctx.y_val is not None and ctx.classification:
        mismatch = _class_shift(ctx)
        if mismatch:
            notes.append(mismatch)
            worst, cause = "problem", "unshuffled_split"
    labels = ctx.labels(ctx.all_labels)
    if labels is not None and len(labels) > 20:
        changes = float(np.mean(labels[1:] != labels[:-1]))
        shares = prior(ctx)
        expected = 1 - float((shares**2).sum())
        if changes < 0.5 * expected:
            if ctx.validation_split:
                cut = int(len(labels) * (1 - ctx.validation_split))
                classes = sorted(set(labels[cut:].tolist()))
                notes.append(
                    _(
                        "the labels are sorted (only {changes:.1%} of neighbors differ, {expected:.0%} if shuffled) "
                        "and validation_split={split} takes the last rows: the validation data holds only classes "
                        "{classes}"
                    ).format(changes=changes, expected=expected, split=ctx.validation_split, classes=classes)
                )
                worst, cause = "problem", "unshuffled_split"
            elif not ctx.shuffle:
                notes.append(_("the labels are sorted and shuffle=False: every batch holds one class"))
                worst, cause = "warning", "unshuffled_split"
            else:
                notes.append(
                    _("the labels are sorted; fit shuffles the training batches, but shuffle before any split")
                )
                worst = max(worst, "info", key=RANK.__getitem__)
    if not notes:
        ctx.add(
            "ok",
            _("{n} training rows, {dup:.1%} duplicates").format(n=len(train_rows), dup=dup)
            + ("" if ctx.x_val is None else _(", no training/validation overlap"))
            + ("" if labels is None else _(", labels in no particular order")),
        )
        return
    fix = {
        "unshuffled_split": _(
            "shuffle the rows once before splitting (or split with "
            "sklearn.model_selection.train_test_split(..., stratify=y))"
        ),
        "data_leak": _("remove duplicates and make sure no example is in both splits"),
    }.get(cause, "")
    ctx.add(worst, _("; ").join(notes), fix, cause)  # "; ": a separator of clauses, "。" in Japanese
