"""Checks at the start of training: the initial loss, the gradients, the size of one update."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from losslab.backend import gradients
from losslab.doctor.context import Context
from losslab.doctor.expect import baseline_loss, uniform_loss
from losslab.doctor.model import OFF_SCALE, constant_lr, fmt, is_kernel, off_scale_weights, short
from losslab.doctor.registry import CheckId, Kind, check
from losslab.messages import _


@check(
    CheckId.INITIAL_LOSS,
    Kind.MEASURED,
    needs=(CheckId.LABELS_VS_LOSS, CheckId.ACTIVATION_VS_LOSS, CheckId.INPUT_SCALE),
    after=(CheckId.OUTPUT_RANGE,),
    provides=("initial_loss",),
)
def initial_loss(ctx: Context) -> None:
    """The untrained loss against ln K (or the target's scale) and the best input-free guess."""
    xs, ys = ctx.x[ctx.sample], ctx.y[ctx.sample]
    measured = ctx.data_loss(xs, ys)
    ctx.facts.initial_loss = measured
    expected, how = uniform_loss(ctx)
    baseline = baseline_loss(ctx)
    iterations = int(keras.ops.convert_to_numpy(ctx.model.optimizer.iterations)) if ctx.model.optimizer else 0
    if not math.isfinite(measured):
        ctx.add(
            "problem",
            _("the untrained loss is {loss}").format(loss=measured),
            _("look for NaN/inf in the inputs and a loss that takes the log of 0"),
            "bad_initialization",
        )
        return
    if expected is None:
        ctx.add(
            "info",
            _("initial loss {loss} (no expected value for {name})").format(loss=fmt(measured), name=ctx.loss.name),
        )
        return
    if any(f.check == CheckId.LABELS_VS_LOSS and f.alarming for f in ctx.findings):
        ctx.add(
            "info",
            _("initial loss {loss}; no expectation holds while the labels do not fit the loss").format(
                loss=fmt(measured)
            ),
        )
        return
    base = _("initial loss {loss}, expected about {expected} ({how})").format(
        loss=fmt(measured), expected=fmt(expected), how=how
    )
    if baseline is not None and measured < 0.5 * baseline and baseline > 1e-6:
        steps = _("; its optimizer has already taken {n} steps").format(n=iterations) if iterations else ""
        ctx.add(
            "warning",
            _(
                "{base}: far below even the best input-free guess ({baseline}), so the model has already been "
                "trained{steps}"
            ).format(base=base, baseline=fmt(baseline), steps=steps),
            _("build (and compile) a fresh model for every experiment; otherwise each one continues the last"),
            "reused_model",
            measured=measured,
            expected=expected,
        )
        return
    margin = 0.5 if ctx.classification else 0.0  # nats: a random init easily starts 0.3 above ln 2
    if measured > 1.5 * expected and measured - expected > margin:
        unscaled = (ctx.facts.input_rms_max or 0) > 3
        mismatch = any(f.cause in {"activation_loss_mismatch", "output_range"} for f in ctx.findings if f.alarming)
        large = off_scale_weights(ctx.model)
        ratio = measured / expected
        if not (unscaled or mismatch or large):
            # Weights at a standard initializer's scale on scaled inputs: this draw of them happens to start
            # confident (correlated inputs add up). Nothing here to blame; the curves say whether it lasts.
            ctx.add(
                "info",
                _(
                    "{base}: {ratio:.1f}x higher, but the inputs are scaled and every weight starts within {limit}x "
                    "He's sqrt(2/fan_in), the largest standard initializer: this draw of the weights starts "
                    "confident on these inputs; a cause only if the loss stays high (see the curves)"
                ).format(base=base, ratio=ratio, limit=fmt(OFF_SCALE)),
                measured=measured,
                expected=expected,
            )
            return
        why = (
            _("the inputs are not scaled")
            if unscaled
            else _("the output and the loss disagree")
            if mismatch
            else _(
                "the initial weights are too large: their RMS over He's sqrt(2/fan_in) is {weights}, where "
                "every standard initializer starts at 1 or below"
            ).format(weights=_(", ").join(f"{k} {fmt(v)}" for k, v in list(large.items())[:6]))
        )
        cause = "unscaled_inputs" if unscaled else None if mismatch else "bad_initialization"
        ctx.add(
            "problem",
            _("{base}: {ratio:.1f}x too high; likely because {why}").format(base=base, ratio=ratio, why=why),
            _(
                "standardize the inputs; use Keras' default initializer (glorot_uniform), or ask for He "
                "(kernel_initializer='he_normal') in ReLU layers"
            ),
            cause,
            measured=measured,
            expected=expected,
            weights=large,
        )
        return
    ctx.add("ok", base, measured=measured, expected=expected)


def _pinned_share(ctx: Context) -> float:
    """The share of the sampled untrained outputs whose label probability a probability loss clips (at
    Keras' epsilon from 0 or 1); 0 for losses that take logits or regress, which clip nothing."""
    if not ctx.classification or ctx.loss.from_logits is not False or ctx.pred0 is None:
        return 0.0
    labels = ctx.labels(ctx.y[ctx.sample])
    probs = ctx.probabilities(ctx.pred0)
    if labels is None or len(labels) != len(probs) or labels.min() < 0 or labels.max() >= probs.shape[1]:
        return 0.0
    eps = keras.backend.epsilon()
    p = probs[np.arange(len(labels)), labels]
    return float(np.mean((p <= eps) | (p >= 1 - eps)))


@check(
    CheckId.GRADIENT_NORMS,
    Kind.MEASURED,
    after=(CheckId.INPUT_SCALE,),
    provides=("grad_global_p90", "grad_relative"),
)
def gradient_norms(ctx: Context) -> None:
    """Gradient norms per weight matrix: NaN, all zero, vanishing, exploding."""
    variables = ctx.model.trainable_variables
    if not variables:
        return
    rng = np.random.default_rng(ctx.seed)
    n_batches = 2 if ctx.quick else 6
    per_batch, global_norms = [], []
    for _batch in range(n_batches):  # (not `_`: that is the gettext function here)
        idx = rng.choice(len(ctx.x), size=min(ctx.batch_size, len(ctx.x)), replace=False)
        _loss, grads = gradients(ctx.model, ctx.x[idx], ctx.y[idx])
        norms = [float(np.linalg.norm(g)) for g in grads]
        per_batch.append(norms)
        global_norms.append(float(np.sqrt(np.nansum(np.square(norms)))))
        ctx.snapshot.restore()
    norms = np.array(per_batch).mean(axis=0)
    kernels = [i for i, v in enumerate(variables) if is_kernel(v)]
    weights = [float(np.linalg.norm(np.asarray(v.numpy()))) for v in variables]
    table = {short(variables[i].path): norms[i] for i in kernels}
    p90 = ctx.facts.grad_global_p90 = float(np.percentile(global_norms, 90))

    def add(*args: Any, **values: Any) -> None:
        ctx.add(*args, p90=p90, **values)

    shown = ", ".join(f"{k} {fmt(v)}" for k, v in list(table.items())[:12])
    if not np.all(np.isfinite(norms)):
        add(
            "problem",
            _("some gradients are NaN or inf: {norms}").format(norms=shown),
            _(
                "find the first NaN (inputs, log of 0, too large a learning rate); clip gradients "
                "(global_clipnorm) only as a guard"
            ),
            "exploding_gradients",
            norms=table,
        )
        return
    if np.all(norms == 0) and (pinned := _pinned_share(ctx)) >= 0.9:
        # A built-in loss that clips probabilities passes no gradient where an output sits at the clip: the
        # loss does depend on the weights, but outputs pinned at 0 or 1 hold it still. TensorFlow recovers the
        # logits behind a sigmoid or softmax and never clips them; JAX and torch clip: the cause is the same.
        unscaled = (ctx.facts.input_rms_max or 0) > 3
        large = off_scale_weights(ctx.model)
        why = (
            _("the inputs are not scaled")
            if unscaled
            else _("some weights start too large ({weights} times He's sqrt(2/fan_in))").format(
                weights=_(", ").join(f"{k} {fmt(v)}" for k, v in list(large.items())[:6])
            )
            if large
            else _("the outputs start saturated")
        )
        add(
            "problem",
            _(
                "every gradient is exactly 0: {share:.0%} of the untrained outputs give their label a probability "
                "of 0 or 1, where {loss} clips it (to [{eps}, 1 - {eps}]) and passes no gradient; {why}"
            ).format(share=pinned, loss=ctx.loss.name, eps=fmt(keras.backend.epsilon()), why=why),
            _(
                "standardize the inputs and keep the initial weights at a standard scale (Keras' default "
                "glorot_uniform, or he_normal for ReLU), so that the first outputs are not certain"
            ),
            "unscaled_inputs" if unscaled else "bad_initialization" if large else None,
            norms=table,
            pinned=pinned,
        )
        return
    if np.all(norms == 0):
        add(
            "problem",
            _(
                "every gradient is exactly 0: the loss does not depend on the weights (a custom loss that returns "
                "a constant, or that goes through sign, round, argmax or a cap that saturates)"
            ),
            _("use a loss that changes smoothly with the predictions, e.g. Keras' own cross-entropy"),
            "constant_loss",
            norms=table,
        )
        return
    if not kernels:
        add("info", _("no weight matrices to compare: {norms}").format(norms=shown))
        return
    first, last = norms[kernels[0]], norms[kernels[-1]]
    ratio = first / last if last > 0 else float("nan")
    relative = max((norms[i] / weights[i] for i in kernels if weights[i] > 0), default=0.0)
    ctx.facts.grad_relative = relative
    evidence = _(
        "gradient norms per weight matrix, input to output: {norms}; first/last = {ratio}; 90th percentile of the "
        "total norm over {n} batches {p90}"
    ).format(norms=shown, ratio=fmt(ratio), n=n_batches, p90=fmt(p90))
    dead = [k for k, i in zip(table, kernels, strict=True) if norms[i] == 0]
    if dead:
        add(
            "warning",
            evidence + _("; no gradient at all reaches {layers}").format(layers=", ".join(dead)),
            _(
                "dead ReLUs (every unit off for every input, often after too large a step) or a layer the loss "
                "does not depend on: lower the learning rate and rebuild; He init or LeakyReLU help"
            ),
            None,
            norms=table,
        )
    elif len(kernels) >= 2 and ratio < 1e-3:
        add(
            "problem",
            evidence + _(": the gradient vanishes on its way to the first layers"),
            _(
                "ReLU (or GELU) with He initialization, BatchNormalization, or fewer layers; saturating "
                "activations (sigmoid, tanh) in deep stacks starve the first layers"
            ),
            "vanishing_gradients",
            norms=table,
            ratio=ratio,
        )
    elif (len(kernels) >= 2 and ratio > 1e3) or relative > 3:
        add(
            "problem",
            evidence
            + _(
                "; the largest gradient is {relative}x the norm of its weights: one step would throw the weights "
                "far away"
            ).format(relative=fmt(relative)),
            _(
                "standardize the inputs and check the initialization; clip with global_clipnorm near the 90th "
                "percentile ({p90}) as a guard, not a cure"
            ).format(p90=fmt(p90)),
            "exploding_gradients",
            norms=table,
            ratio=ratio,
        )
    else:
        add("ok", evidence, norms=table, ratio=ratio)


@check(CheckId.UPDATE_RATIO, Kind.MEASURED, needs=(CheckId.CURVES,))
def update_ratio(ctx: Context) -> None:
    """One step of the learner's optimizer, measured during the probe: |change| / |weights| per matrix."""
    before, after = ctx.facts.kernels_before, ctx.facts.kernels_after
    if not before or not after:
        return
    ratios = {}
    for path, w in before.items():
        norm = float(np.linalg.norm(w))
        if norm > 0 and path in after:
            ratios[short(path)] = float(np.linalg.norm(after[path] - w) / norm)
    if not ratios:
        return
    values = np.array(list(ratios.values()))
    median = float(np.median(values)) if np.all(np.isfinite(values)) else float("nan")
    lr = constant_lr(ctx.model)
    shown = ", ".join(f"{k} {fmt(v)}" for k, v in list(ratios.items())[:8])
    evidence = _(
        "one step of your optimizer{rate} changes the weight matrices by {ratios} of their norm (median {median}; "
        "about 1e-3 is typical)"
    ).format(rate="" if lr is None else _(" (learning rate {lr})").format(lr=fmt(lr)), ratios=shown, median=fmt(median))
    if not math.isfinite(median) or median > 0.3:
        ctx.add(
            "warning",
            evidence + _(": steps that large throw the weights around"),
            _("lower the learning rate (a sweep finds how far)"),
            "lr_too_high",
            ratios=ratios,
        )
    elif median < 3e-6:
        ctx.add(
            "warning",
            evidence + _(": steps that small barely move the weights"),
            _("raise the learning rate (a sweep finds how far)"),
            "lr_too_low",
            ratios=ratios,
        )
    else:
        ctx.add("ok" if 1e-5 <= median <= 0.05 else "info", evidence, ratios=ratios)
