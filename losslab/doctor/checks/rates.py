"""The learning-rate check: the range test of chapter 3 (``lr.LRRangeTest``) from the model's snapshot,
compared with the learner's rate and with how the probe's loss moved at it."""

from __future__ import annotations

import math

import numpy as np

from losslab import lr as lr_tools
from losslab.doctor.context import Context
from losslab.doctor.curves import NO_PROGRESS_TOLERANCE, near_chance, smooth_end, smooth_start
from losslab.doctor.expect import baseline_loss, uniform_loss
from losslab.doctor.model import constant_lr, fmt
from losslab.doctor.registry import CheckId, Kind, check
from losslab.messages import _

START_LR, END_LR, BETA = 1e-6, 10.0, 0.9


def range_test(ctx: Context, steps: int) -> lr_tools.LRRangeTest:
    """``lr.LRRangeTest`` over ``steps`` prepared batches (the trainer's), stopped when the loss passes four
    times the larger of the initial and the chance loss (or 10) or is no longer finite."""
    start = ctx.facts.initial_loss if ctx.facts.initial_loss is not None else float("nan")
    test = lr_tools.LRRangeTest(START_LR, END_LR, num_steps=steps, beta=BETA, diverge=math.inf)
    ctx.trainer.run(steps, stop_above=max(4 * start, 4 * (uniform_loss(ctx)[0] or 0), 10.0), callbacks=[test])
    ctx.snapshot.restore()
    return test


@check(CheckId.LR_SWEEP, Kind.MEASURED, needs=(CheckId.CURVES, CheckId.INITIAL_LOSS))
def lr_sweep(ctx: Context) -> None:
    """The range test's suggestion (a tenth of the rate at the smoothed loss's minimum) against your rate."""
    lr = constant_lr(ctx.model)
    if lr is None:
        ctx.add(
            "info",
            _("the optimizer uses a schedule (or has none): the range test needs a constant learning rate, skipped"),
        )
        return
    steps = 100 if ctx.quick else 200
    test = range_test(ctx, steps)
    raw = np.asarray(test.raw_losses, dtype=np.float64)
    smooth = np.where(np.isfinite(raw), np.asarray(test.losses, dtype=np.float64), np.nan)
    n = len(smooth)
    if n < 10 or not np.any(np.isfinite(smooth)):
        ctx.add("info", _("the range test stopped at once: the loss blew up at the smallest rates"))
        return
    suggestion = lr_tools.suggest_from_minimum(test.lrs, smooth)
    lr_min = suggestion * 10
    at_edge = int(np.nanargmin(smooth)) >= steps - 3
    baseline = baseline_loss(ctx)
    losses = ctx.facts.probe.losses if ctx.facts.probe else []
    first, end = smooth_start(losses), smooth_end(losses)
    fall = 1 - end / first if math.isfinite(first) and first > 0 and math.isfinite(end) else float("nan")
    at_chance = (
        baseline is not None and math.isfinite(end) and near_chance(end, baseline, tolerance=NO_PROGRESS_TOLERANCE)
    )
    evidence = _(
        "range test (learning rate 1e-6 -> 10 over {steps} steps): lowest smoothed loss at {lr_min}, suggesting a "
        "tenth of that, about {suggestion}; yours is {lr}; in the short training at your rate the loss went "
        "{first} -> {end}"
    ).format(
        steps=steps, lr_min=fmt(lr_min), suggestion=fmt(suggestion), lr=fmt(lr), first=fmt(first), end=fmt(end)
    ) + (_(", the loss of an input-free guess ({baseline})").format(baseline=fmt(baseline)) if at_chance else "")
    if at_edge:
        evidence += _("; the lowest loss is at the edge of the range")
    if float(np.nanmax(smooth) - np.nanmin(smooth)) < 0.01 * max(abs(float(np.nanmin(smooth))), 1e-9):
        ctx.add("info", evidence + _(": the loss does not respond to the learning rate at all"))
        return
    poor = not math.isfinite(fall) or fall < 0.2 or at_chance
    if poor and lr > 10 * suggestion:
        ctx.add(
            "problem",
            evidence + _(": your rate is more than 10x the suggestion, and the loss does not fall at it"),
            _("try about {suggestion} (then tune by factors of 3)").format(suggestion=fmt(suggestion)),
            "lr_too_high",
            lr=lr,
            suggestion=suggestion,
        )
    elif poor and lr < suggestion / 30:
        ctx.add(
            "problem",
            evidence + _(": your rate is less than 1/30 of the suggestion, and the loss barely moves at it"),
            _("try about {suggestion} (then tune by factors of 3)").format(suggestion=fmt(suggestion)),
            "lr_too_low",
            lr=lr,
            suggestion=suggestion,
        )
    else:
        ctx.add("ok" if not poor else "info", evidence, lr=lr, suggestion=suggestion)
