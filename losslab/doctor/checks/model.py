"""Checks of the model and the fit arguments: frozen layers, training mode, number of updates, monitoring."""

from __future__ import annotations

import math

import keras
import numpy as np

from losslab.doctor.context import Context
from losslab.doctor.model import all_layers, fmt, is_kernel
from losslab.doctor.registry import CheckId, Kind, check
from losslab.messages import _


@check(CheckId.TRAINABLE_WEIGHTS, Kind.STATIC)
def trainable_weights(ctx: Context) -> None:
    """Layers with weights that will not train."""
    layers = [layer for layer in all_layers(ctx.model) if layer.weights and not layer._layers]
    frozen = [
        layer
        for layer in layers
        if not layer.trainable and layer.trainable_weights == [] and any(is_kernel(w) for w in layer.weights)
    ]
    n_total = sum(int(np.prod(w.shape)) for w in ctx.model.weights)
    n_train = sum(int(np.prod(w.shape)) for w in ctx.model.trainable_weights)
    if n_train == 0:
        ctx.add(
            "problem",
            _("none of the model's {n_total:,} weights is trainable: fit changes nothing").format(n_total=n_total),
            _("set model.trainable = True (or the layers you mean to train), then compile again"),
            "frozen_layers",
        )
        return
    if frozen:
        names = ", ".join(layer.name for layer in frozen)
        ctx.add(
            "warning",
            _(
                "{n} layer(s) with weights are frozen ({names}): {n_frozen:,} of {n_total:,} weights will not "
                "train. Fine for a pretrained base, not for layers that were never trained"
            ).format(n=len(frozen), names=names, n_frozen=n_total - n_train, n_total=n_total),
            _("layer.trainable = True for layers that must learn, then compile again"),
            "frozen_layers",
            frozen=[layer.name for layer in frozen],
        )
        return
    ctx.add("ok", _("all {n_train:,} weights train").format(n_train=n_train))


@check(CheckId.TRAINING_BUDGET, Kind.STATIC)
def training_budget(ctx: Context) -> None:
    """Updates per epoch and in total, from the batch size and the epochs."""
    n = len(ctx.x)
    steps = math.ceil(n / ctx.batch_size)
    if ctx.epochs is None:
        ctx.add(
            "info",
            _("batch size {batch_size}: {steps} updates per epoch (pass epochs= to check the total)").format(
                batch_size=ctx.batch_size, steps=steps
            ),
        )
        return
    total = steps * ctx.epochs
    if total < 100:
        ctx.add(
            "warning",
            _(
                "batch size {batch_size} on {n} examples gives {steps} update(s) per epoch: {epochs} epochs are "
                "only {total} updates"
            ).format(batch_size=ctx.batch_size, n=n, steps=steps, epochs=ctx.epochs, total=total),
            _(
                "smaller batches (32 to 256) give more updates per epoch; when you change the batch size, tune "
                "the learning rate again"
            ),
            "batch_size",
            updates=total,
        )
    else:
        ctx.add(
            "ok",
            _("{epochs} epochs x {steps} batches = {total:,} updates").format(
                epochs=ctx.epochs, steps=steps, total=total
            ),
        )


@check(CheckId.MONITORING, Kind.STATIC)
def monitoring(ctx: Context) -> None:
    """Whether validation data watch the training."""
    if ctx.x_val is None:
        ctx.add(
            "warning",
            _("no validation data: nothing shows when the model stops generalizing"),
            _(
                "pass validation_data (or validation_split after shuffling), plot both curves, and consider "
                "TrainingMonitor / TensorBoard"
            ),
            "unmonitored",
        )
    else:
        ctx.add("ok", _("validation data: {n} examples").format(n=len(ctx.x_val)))


@check(CheckId.TRAINING_MODE, Kind.STATIC)
def training_mode(ctx: Context) -> None:
    """Dropout/BatchNorm layers that never see training=True."""
    kinds = (
        keras.layers.Dropout,
        keras.layers.BatchNormalization,
        keras.layers.GaussianNoise,
        keras.layers.GaussianDropout,
        keras.layers.AlphaDropout,
        keras.layers.SpatialDropout1D,
    )
    special = [layer for layer in all_layers(ctx.model) if isinstance(layer, kinds)]
    if not special:
        return
    xb = ctx.x[ctx.sample[: max(ctx.batch_size, 8)]]
    a = np.asarray(keras.ops.convert_to_numpy(ctx.model(xb, training=True)))
    b = np.asarray(keras.ops.convert_to_numpy(ctx.model(xb, training=False)))
    ctx.snapshot.restore()
    names = ", ".join(sorted({type(layer).__name__ for layer in special}))
    if np.array_equal(a, b):
        ctx.add(
            "problem",
            _(
                "the model holds {names}, yet its output in training mode equals its output in inference mode: "
                "those layers never see training=True"
            ).format(names=names),
            _(
                "pass `training` on in custom layers' call (or leave it out: Keras passes it for you); "
                "never hard-code training=False inside a model"
            ),
            "training_flag",
        )
    else:
        ctx.add(
            "ok",
            _(
                "{names} behave differently in training and inference mode, as they should (largest output "
                "difference {gap})"
            ).format(names=names, gap=fmt(float(np.abs(a - b).max()))),
        )
