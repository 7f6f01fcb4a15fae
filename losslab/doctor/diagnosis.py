"""Differential diagnosis: after every check ran, blame each failure on its likeliest cause and demote the
findings that are only consequences of another. Reads findings and causes only: no Keras."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from losslab.doctor.causes import CAUSES, MECHANICAL
from losslab.doctor.registry import CheckId
from losslab.doctor.report import Finding
from losslab.messages import _

if TYPE_CHECKING:
    from losslab.doctor.context import Context


def _named(cause: str) -> str:
    """A cause's description inside a note: as it is in English, quoted 「...」 in Japanese (the msgid "{cause}")."""
    return _("{cause}").format(cause=_(CAUSES[cause]))


def resolve(ctx: Context) -> None:
    """Differential diagnosis: blame a failure on its likeliest cause and drop the consequences."""

    def demote(f: Finding, why: str) -> None:
        f.cause = None
        f.severity = "info"
        f.evidence += _(" ({why})").format(why=why)

    alarms = [f for f in ctx.findings if f.alarming]
    named = {f.cause for f in alarms if f.cause}
    # 1. A learning rate cannot help weights that get no gradient, and a range test from trained weights or on
    #    broken inputs measures those, not the rate.
    blocked = named & {"vanishing_gradients", "constant_loss", "frozen_layers", "training_flag"}
    distorted = named & {
        "reused_model",
        "unscaled_inputs",
        "bad_initialization",
        "label_format",
        "activation_loss_mismatch",
        "output_range",
        "target_scale",
    }
    stopped = named & {"frozen_layers", "constant_loss"}  # nothing trains: no rate is too high or too low
    for f in alarms:
        if f.check in {CheckId.LR_SWEEP, CheckId.UPDATE_RATIO} and f.cause in {"lr_too_low", "lr_too_high"} and stopped:
            demote(
                f,
                _("no rate can move weights that {causes} hold still").format(
                    causes=_(" and ").join(_named(c) for c in sorted(stopped))
                ),
            )
        elif f.check in {CheckId.LR_SWEEP, CheckId.UPDATE_RATIO} and f.cause == "lr_too_low" and blocked:
            demote(
                f,
                _("a larger rate would only push harder against {causes}").format(
                    causes=_(", ").join(_named(c) for c in blocked)
                ),
            )
        elif (
            f.check in {CheckId.LR_SWEEP, CheckId.UPDATE_RATIO}
            and f.cause in {"lr_too_low", "lr_too_high"}
            and distorted
        ):
            demote(
                f,
                _("not trusted while {causes} distorts it").format(
                    causes=_(", ").join(_named(c) for c in sorted(distorted))
                ),
            )
    named = {f.cause for f in ctx.findings if f.alarming and f.cause}
    scale = sorted(named & {"unscaled_inputs", "target_scale", "bad_initialization", "activation_loss_mismatch"})
    # 1a. A training loss that rises at your rate while the inputs, the target, the initialization or the output
    #     are off scale is that scale's doing, unless a check of the rate itself (the sweep, the update ratio)
    #     blames the rate: the rate is not "too high" for a model that its data throws off.
    rate_blamed = any(
        g.alarming and g.cause == "lr_too_high" and g.check in {CheckId.LR_SWEEP, CheckId.UPDATE_RATIO}
        for g in ctx.findings
    )
    rescaled = False
    for f in ctx.findings:
        if scale and not rate_blamed and f.alarming and f.check in {CheckId.CURVES, CheckId.HISTORY}:
            if f.cause == "lr_too_high":
                f.cause = scale[0]
                f.evidence += _(" (explained by {cause}: no check of the rate blames the rate)").format(
                    cause=_named(scale[0])
                )
                rescaled = True
    # 1b. Large but finite gradients are a consequence of what makes them large (the data's scale, the
    #     initialization, an output the loss cannot use) as long as the probe at your rate did not diverge, or
    #     its trouble has the same cause (1a).
    curves_ok = any(f.check == CheckId.CURVES and f.severity == "ok" for f in ctx.findings)
    for f in ctx.findings:
        if f.alarming and f.check == CheckId.GRADIENT_NORMS and f.cause == "exploding_gradients" and scale:
            finite = all(math.isfinite(v) for v in (f.values.get("norms") or {}).values())
            if finite and curves_ok:
                demote(
                    f,
                    _("large because of {causes}; the training did not diverge").format(
                        causes=_(", ").join(_named(c) for c in scale)
                    ),
                )
            elif finite and rescaled:
                demote(
                    f,
                    _("large because of {causes}, which the curves blame too").format(
                        causes=_(", ").join(_named(c) for c in scale)
                    ),
                )
    # 1c. A class is rare in the training split because a sorted split cut it off: the split is the cause.
    if "unshuffled_split" in named:
        for f in ctx.findings:
            if f.alarming and f.cause == "class_imbalance":
                demote(f, _("a consequence of the sorted split"))
    named = {f.cause for f in ctx.findings if f.alarming and f.cause}
    mechanical = [c for c in MECHANICAL if c in named]
    problems = {f.cause for f in ctx.findings if f.severity == "problem" and f.cause in MECHANICAL}
    split = "unshuffled_split" in named
    for f in ctx.findings:
        if not f.alarming:
            continue
        # 2. A model that cannot learn at all cannot memorize a batch either.
        if f.check == CheckId.OVERFIT_ONE_BATCH and f.cause == "underfitting" and mechanical:
            f.cause = mechanical[0]
            f.evidence += _(" (explained by {cause})").format(cause=_named(mechanical[0]))
        elif (
            f.check == CheckId.OVERFIT_ONE_BATCH
            and f.cause == "constant_loss"
            and "constant_loss"
            not in {g.cause for g in ctx.findings if g.check == CheckId.GRADIENT_NORMS and g.alarming}
        ):
            explains = (
                "frozen_layers",
                "lr_too_low",
                "vanishing_gradients",
                "unscaled_inputs",
                "bad_initialization",
                "output_range",
                "activation_loss_mismatch",
                "target_scale",
            )
            others = [c for c in explains if c in named]
            if others:
                f.cause = others[0]
        # 3. Conclusions drawn from the data need a model that learns and an honest validation split; labels
        #    that a model contradicts, or inputs it does not use, say nothing of the data when the model is too
        #    small to fit the task: it contradicts every example it cannot represent.
        elif f.check in {CheckId.ZEROED_INPUTS, CheckId.LABEL_QUALITY} and (mechanical or split):
            demote(
                f,
                _("not trusted while {cause} is unresolved").format(
                    cause=_named("unshuffled_split" if split else mechanical[0])
                ),
            )
        elif f.check in {CheckId.ZEROED_INPUTS, CheckId.LABEL_QUALITY} and "underfitting" in named:
            demote(f, _("not trusted while {cause} is unresolved").format(cause=_named("underfitting")))
        # 3a. Under a strong imbalance the prior alone explains most of the loss, and the inputs help only on the
        #     rare class, which a short probe barely sees: the zeroed inputs cannot tell noise from rarity.
        elif f.check == CheckId.ZEROED_INPUTS and "class_imbalance" in named:
            demote(f, _("not trusted while {cause} is unresolved").format(cause=_named("class_imbalance")))
        elif f.check in {CheckId.CURVES, CheckId.HISTORY} and f.cause == "overfitting" and (problems or split):
            demote(
                f,
                _("look again once {cause} is fixed").format(
                    cause=_named("unshuffled_split" if split else sorted(problems)[0])
                ),
            )
        elif (
            f.check in {CheckId.CURVES, CheckId.HISTORY}
            and f.severity == "problem"
            and (f.cause is None or (f.cause == "lr_too_high" and "lr_too_high" not in problems))
        ):
            root = [c for c in mechanical if c != "lr_too_high"]
            if root:
                f.cause = root[0]
