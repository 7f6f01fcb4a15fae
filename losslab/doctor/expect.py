"""What a loss should be without learning anything: the label prior, the best input-free guess, and
the loss an untrained model starts near. Read by several checks."""

from __future__ import annotations

import math

import numpy as np

from losslab.doctor.context import Context
from losslab.doctor.model import entropy
from losslab.messages import _


def prior(ctx: Context) -> np.ndarray | None:
    """The share of each class in the training labels (None for regression)."""
    labels = ctx.labels()
    if labels is None:
        return None
    k = 2 if ctx.loss.kind == "bce" else max(ctx.units, int(labels.max()) + 1)
    return np.bincount(labels, minlength=k) / len(labels)


def baseline_loss(ctx: Context) -> float | None:
    """The best loss without looking at the inputs: the label prior's entropy, or the target's variance."""
    kind = ctx.loss.kind
    if kind in {"sparse_ce", "ce", "bce"}:
        shares = prior(ctx)
        return entropy(shares) if shares is not None else None
    if kind == "regression":
        y = ctx.y.astype(np.float64)
        if "absolute" in ctx.loss.name or ctx.loss.name == "mae":
            return float(np.abs(y - np.median(y, axis=0)).mean())
        if "squared" in ctx.loss.name or ctx.loss.name == "mse":
            return float(y.var(axis=0).mean())
    return None


def uniform_loss(ctx: Context) -> tuple[float | None, str]:
    """The loss an untrained model should start near, and how it is computed."""
    kind = ctx.loss.kind
    if kind in {"sparse_ce", "ce"}:
        return math.log(ctx.units), _("ln {k} for {k} classes").format(k=ctx.units)
    if kind == "bce":
        return math.log(2), _("ln 2 for a yes/no output")
    if kind == "regression":
        y = ctx.y.astype(np.float64)
        if "squared" in ctx.loss.name or ctx.loss.name == "mse":
            return float((y**2).mean()), _("mean^2 + variance of the target (predicting 0)")
        if "absolute" in ctx.loss.name or ctx.loss.name == "mae":
            return float(np.abs(y).mean()), _("mean |target| (predicting 0)")
    return None, ""
