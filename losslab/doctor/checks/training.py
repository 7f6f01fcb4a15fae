"""Checks that train the model briefly (always from the same snapshot): the probe and its curve rules,
the label quality after it, one batch memorized, zeroed inputs, determinism, and the learner's own history."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np

from losslab.doctor.context import Context
from losslab.doctor.curves import rose_from_lowest, stuck_at_chance, val_diverged
from losslab.doctor.expect import baseline_loss, uniform_loss
from losslab.doctor.facts import Probe
from losslab.doctor.model import fmt, kernel_values
from losslab.doctor.registry import CheckId, Kind, check
from losslab.messages import N_, _

# The curve rules' units and the label check's splits, as the evidence reads them (through gettext).
UNITS = {"step": N_("step"), "epoch": N_("epoch")}
SHARE_OF = {
    "training": N_("{share:.1%} of the training examples"),
    "validation": N_("{share:.1%} of the validation examples"),
}


def probe(ctx: Context) -> Probe:
    """A short training at your learning rate; the curve rules read it (and the history, if given)."""
    trainer = ctx.trainer
    steps = 120 if ctx.quick else 400
    if ctx.epochs:
        steps = min(steps, max(40, ctx.epochs * math.ceil(len(ctx.x) / trainer.bs)))
    every = max(1, steps // 10)
    ctx.facts.kernels_before = kernel_values(ctx.model)
    rec = trainer.run(steps, val_every=every, after_first_step=lambda: kernel_values(ctx.model))
    ctx.facts.kernels_after = rec.first_step
    result = ctx.facts.probe = Probe(rec.losses, rec.val_losses, steps)
    ctx.facts.probe_outputs = ctx.predict(ctx.x[ctx.sample])
    if ctx.x_val is not None:
        ctx.facts.probe_val_outputs = ctx.predict(ctx.x_val[:1024])
    trainer.snapshot.restore()
    return result


def curve_rules(ctx: Context, train: Sequence[float], val: Sequence[float] | None, unit: str, source: str) -> None:
    """NaN, explosion, stuck at ln K, training loss rising, validation diverging: read from a loss curve."""
    train = np.asarray(train, dtype=np.float64)
    if train.size < 3:
        return
    uniform = uniform_loss(ctx)[0]
    baseline = baseline_loss(ctx)
    chance = baseline if baseline is not None else uniform
    unit = _(UNITS[unit]) if unit in UNITS else unit
    where = (
        _("in {n} {unit}s of training at your learning rate")
        if source == "probe"
        else _("in your history ({n} {unit}s)")
    ).format(n=len(train), unit=unit)
    chunks = np.array_split(train, min(10, len(train)))
    means = np.array([c.mean() if np.all(np.isfinite(c)) else np.nan for c in chunks])
    if not np.all(np.isfinite(train)):
        first = int(np.argmax(~np.isfinite(train)))
        ctx.add(
            "problem",
            _("the loss became NaN/inf at {unit} {at} {where}").format(unit=unit, at=first + 1, where=where),
            _(
                "lower the learning rate; standardize inputs and targets; TerminateOnNaN stops the run, it does not "
                "fix it"
            ),
            "lr_too_high",
        )
        return
    start, end, low = float(means[0]), float(means[-1]), float(means.min())
    if source == "probe":
        ctx.facts.curves_end = end
    spike = float(train[: max(3, len(train) // 5)].max())
    stuck = chance is not None and ctx.classification and stuck_at_chance(means[-3:], chance)
    if stuck:
        after_spike = spike > 3 * max(chance, 1e-6)
        ctx.add(
            "problem",
            _(
                "the loss sits at {end}, the loss of always guessing the label prior ({chance}) {where}{spike}: "
                "the model predicts the same for every input"
            ).format(
                end=fmt(end),
                chance=fmt(chance),
                where=where,
                spike=_(", after a spike to {spike}").format(spike=fmt(spike)) if after_spike else "",
            ),
            _(
                "after a spike: lower the learning rate; from the start: check gradients (vanishing, dead units) "
                "and the loss"
            ),
            None if not after_spike else "exploding_gradients" if (ctx.facts.grad_relative or 0) > 3 else "lr_too_high",
            end=end,
            chance=chance,
        )
        return
    if rose_from_lowest(means):
        ctx.add(
            "problem",
            _("the training loss rises: lowest {low}, now {end} {where}").format(
                low=fmt(low), end=fmt(end), where=where
            ),
            _("a rising training loss means steps that overshoot (lower the learning rate) or a bug"),
            "lr_too_high",
            start=start,
            end=end,
        )
        return
    if val is not None and len(val) >= 4 and ctx.class_weight and source == "probe":
        val = None  # with class_weight the training loss is weighted and the validation loss is not
    if val is not None and len(val) >= 4 and val_diverged(val, train_fell=end < start):
        v = np.asarray(val, dtype=np.float64)
        best = int(np.nanargmin(v))
        ctx.add(
            "warning",
            _(
                "validation loss fell to {best}, then rose to {last} while the training loss kept falling to {end} "
                "{where}"
            ).format(best=fmt(float(v[best])), last=fmt(float(v[-1])), end=fmt(end), where=where),
            _("regularize (Dropout, L2), get more data, or stop early (EarlyStopping(restore_best_weights=True))"),
            "overfitting",
            val_best=float(v[best]),
            val_end=float(v[-1]),
        )
        return
    ctx.add(
        "ok",
        _("loss {start} -> {end} {where}").format(start=fmt(start), end=fmt(end), where=where)
        + (
            ""
            if val is None or len(val) == 0
            else _("; validation {first} -> {last}").format(first=fmt(float(val[0])), last=fmt(float(val[-1])))
        ),
        start=start,
        end=end,
    )


@check(
    CheckId.CURVES,
    Kind.MEASURED,
    needs=(CheckId.INITIAL_LOSS, CheckId.GRADIENT_NORMS),
    provides=("probe", "kernels_before", "kernels_after", "probe_outputs", "probe_val_outputs", "curves_end"),
)
def curves(ctx: Context) -> None:
    """The probe's loss curve read by the curve rules: NaN, stuck at chance, rising, validation diverging."""
    result = probe(ctx)
    ctx.snapshot.restore()
    curve_rules(ctx, result.losses, [v for _, v in result.val] or None, "step", "probe")


@check(CheckId.LABEL_QUALITY, Kind.MEASURED, needs=(CheckId.CURVES,))
def label_quality(ctx: Context) -> None:
    """Labels the briefly trained model contradicts with confidence (noisy labels)."""
    if not ctx.classification or ctx.fatal or ctx.facts.probe_outputs is None:
        return
    if any(f.cause in {"label_format", "activation_loss_mismatch"} for f in ctx.findings if f.alarming):
        return
    parts = []
    for name, outputs, y in (
        ("training", ctx.facts.probe_outputs, ctx.y[ctx.sample]),
        ("validation", ctx.facts.probe_val_outputs, None if ctx.y_val is None else ctx.y_val[:1024]),
    ):
        if outputs is None or y is None:
            continue
        probs = ctx.probabilities(outputs)
        labels = ctx.labels(y)
        p_label = probs[np.arange(len(labels)), np.clip(labels, 0, probs.shape[1] - 1)]
        contradicted = float(np.mean((p_label < 0.1) & (probs.argmax(1) != labels)))
        parts.append((name, contradicted))
    if not parts:
        return
    worst = max(v for _, v in parts)
    evidence = _("after the short training, the model gives less than 10% probability to the label of {shares}").format(
        shares=_(", ").join(_(SHARE_OF[n]).format(share=v) for n, v in parts)
    )
    end = ctx.facts.curves_end
    learnt = end is not None and baseline_loss(ctx) is not None and end < 0.9 * baseline_loss(ctx)
    if worst > 0.15 and learnt:
        ctx.add(
            "warning",
            evidence + _(": many labels disagree with what the rest of the data teaches"),
            _("inspect the examples the model contradicts most confidently; fix or drop wrong labels"),
            "label_noise",
            contradicted=worst,
        )
    else:
        ctx.add("ok", evidence, contradicted=worst)


@check(CheckId.OVERFIT_ONE_BATCH, Kind.MEASURED, needs=(CheckId.INITIAL_LOSS,))
def overfit_one_batch(ctx: Context) -> None:
    """Whether the model can memorize one batch."""
    trainer = ctx.trainer
    steps = 150 if ctx.quick else 400
    size = min(ctx.batch_size if ctx.batch_size <= 128 else 32, len(ctx.x))
    batch = trainer.order[:size]
    start = ctx.data_loss(ctx.x[batch], ctx.y[batch])
    trainer.snapshot.restore()
    rec = trainer.run(steps, batch=batch)
    end = ctx.data_loss(ctx.x[batch], ctx.y[batch])
    outputs = ctx.predict(ctx.x[batch])
    trainer.snapshot.restore()
    accuracy = None
    if ctx.classification:
        accuracy = float(np.mean(ctx.probabilities(outputs).argmax(1) == ctx.labels(ctx.y[batch])))
    evidence = _("{steps} steps on one batch of {size}: loss {start} -> {end}").format(
        steps=steps, size=size, start=fmt(start), end=fmt(end)
    ) + ("" if accuracy is None else _(", batch accuracy {accuracy:.0%}").format(accuracy=accuracy))
    if math.isfinite(end) and (accuracy == 1.0 if accuracy is not None else end < 0.1 * start):
        ctx.add("ok", evidence + _(": the model can memorize a batch"), start=start, end=end)
        return
    if math.isfinite(end) and math.isfinite(start) and abs(end - start) <= 1e-6 * max(abs(start), 1):
        ctx.add(
            "problem",
            evidence + _(": the loss did not move at all"),
            _("something stops learning entirely: a constant loss, zero gradients or frozen weights"),
            "constant_loss",
            start=start,
            end=end,
        )
        return
    losses = np.asarray(rec.losses, dtype=np.float64)
    k = max(2, len(losses) // 6)
    still_falling = np.all(np.isfinite(losses)) and losses[-k:].mean() < 0.8 * losses[-2 * k : -k].mean()
    if still_falling:
        ctx.add(
            "info",
            evidence + _(": still falling when the probe stopped, so not conclusive"),
            start=start,
            end=end,
        )
        return
    ctx.add(
        "warning",
        evidence + _(": the loss leveled off before the model memorized one batch"),
        _(
            "a model that cannot fit one batch is too small or broken: add units or layers, then check the other "
            "findings"
        ),
        "underfitting",
        start=start,
        end=end,
    )


@check(CheckId.ZEROED_INPUTS, Kind.MEASURED, provides=("repeat",))
def zeroed_inputs(ctx: Context) -> None:
    """The loss after training on the real inputs against training on all-zero inputs."""
    trainer = ctx.trainer
    steps = 60 if ctx.quick else 200
    xs, ys = ctx.x[ctx.sample], ctx.y[ctx.sample]
    again = trainer.run(steps)  # the probe's first steps again: also the determinism check
    ctx.facts.repeat = again.losses
    r = ctx.data_loss(xs, ys, weighted=True)
    trainer.snapshot.restore()
    trainer.run(steps, zero_inputs=True)
    z = ctx.data_loss(np.zeros_like(xs), ys, weighted=True)
    trainer.snapshot.restore()
    if not (math.isfinite(r) and math.isfinite(z)):
        ctx.add(
            "info",
            _("after {steps} steps: real inputs {real}, zeroed inputs {zero}").format(
                steps=steps, real=fmt(r), zero=fmt(z)
            ),
        )
        return
    evidence = _(
        "after {steps} steps the loss (without regularization) is {real} with the real inputs and {zero} with all "
        "inputs set to 0"
    ).format(steps=steps, real=fmt(r), zero=fmt(z))
    if r >= 0.95 * z:
        ctx.add(
            "warning",
            evidence + _(": the inputs do not help the model"),
            _(
                "check that inputs and labels belong together (shuffled separately? noisy labels?) and that the "
                "model can use them"
            ),
            "label_noise",
            real=r,
            zero=z,
        )
    else:
        ctx.add("ok", evidence, real=r, zero=z)


@check(CheckId.DETERMINISM, Kind.MEASURED, needs=(CheckId.CURVES,), after=(CheckId.ZEROED_INPUTS,))
def determinism(ctx: Context) -> None:
    """The same start trained twice gives the same losses; two builds give the same weights."""
    trainer = ctx.trainer
    if ctx.facts.repeat is None:
        ctx.facts.repeat = trainer.run(60 if ctx.quick else 200).losses
        trainer.snapshot.restore()
    a, b = ctx.facts.probe.losses if ctx.facts.probe else [], ctx.facts.repeat or []
    if not a or not b:
        return
    steps = min(len(a), len(b))
    a, b = a[:steps], b[:steps]
    same = np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    notes = [
        (
            _("the same start trained twice for {steps} steps gives identical losses")
            if same
            else _("the same start trained twice for {steps} steps gives different losses ({a} vs {b})")
        ).format(steps=steps, a=fmt(a[-1]), b=fmt(b[-1]))
    ]
    if not same:
        ctx.add(
            "warning",
            notes[0] + _(": something in the training is not seeded or not deterministic"),
            _("keras.utils.set_random_seed(seed); avoid unseeded NumPy generators in the data pipeline"),
            "not_reproducible",
        )
        return
    if ctx.build is not None:
        state = (random.getstate(), np.random.get_state())
        try:
            first = [np.asarray(w) for w in ctx.build().get_weights()]
            second = [np.asarray(w) for w in ctx.build().get_weights()]
        finally:
            random.setstate(state[0])
            np.random.set_state(state[1])
        equal = len(first) == len(second) and all(np.array_equal(p, q) for p, q in zip(first, second, strict=True))
        if not equal:
            gap = max(float(np.abs(p - q).max()) for p, q in zip(first, second, strict=True) if p.shape == q.shape)
            ctx.add(
                "warning",
                notes[0]
                + _(
                    "; but two calls of your build function start from different weights (largest difference "
                    "{gap}): each experiment depends on what ran before it"
                ).format(gap=fmt(gap)),
                _(
                    "call keras.utils.set_random_seed(seed) at the start of every experiment, and compare settings "
                    "over a few seeds"
                ),
                "not_reproducible",
            )
            return
        notes.append(_("two calls of your build function give identical weights"))
    ctx.add("ok", _("; ").join(notes))


@check(CheckId.HISTORY, Kind.STATIC, after=(CheckId.GRADIENT_NORMS,), on_demand=True)
def history(ctx: Context) -> None:
    """The curve rules on the learner's own History (or its .history dict)."""
    if not ctx.history:
        return
    data = getattr(ctx.history, "history", ctx.history)
    if "loss" not in data:
        return
    curve_rules(ctx, data["loss"], data.get("val_loss"), "epoch", "history")
