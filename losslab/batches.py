"""Batches, shuffling and the learning rate step by step (chapter 3, part 2).

``StepLog`` records every optimizer step of a ``fit``: the loss of that one batch (Keras only logs the epoch's
running mean) and the learning rate the optimizer used for it, read from ``optimizer.learning_rate``.
``gradient_norms`` measures the gradient noise of a batch size: the norm of the full gradient on many
random batches. ``class_sorted`` orders a training set by class, the order that ``shuffle=False`` keeps.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from losslab.backend import gradients, sync
from losslab.lr import RunningMean, current_lr
from losslab.messages import _


class StepLog(keras.callbacks.Callback):
    """Per-step training loss and learning rate of a ``fit``.

    ``losses[i]`` is the loss of the batch of step ``i`` (recovered from Keras' running mean over the epoch);
    ``lrs[i]`` is ``optimizer.learning_rate`` read just before step ``i``, i.e. the rate that step used (for a
    schedule, its value at the optimizer's own step count); ``iterations[i]`` is that step count.

    Keras' running mean weights each batch by its number of examples. Give ``samples`` (training examples) and
    ``batch_size`` so that the short last batch of an epoch is undone exactly (``lr.RunningMean``); without them
    every batch counts as full, which is exact when ``batch_size`` divides ``samples``.
    """

    def __init__(self, log_lr: bool = True, *, samples: int | None = None, batch_size: int | None = None) -> None:
        super().__init__()
        self.log_lr = log_lr
        self._running = RunningMean(samples=samples, batch_size=batch_size)
        self.losses: list[float] = []
        self.lrs: list[float] = []
        self.iterations: list[int] = []

    def on_train_batch_begin(self, batch, logs=None) -> None:
        if self.log_lr:
            sync(self.model)  # on JAX, fit keeps the optimizer's step count outside the model during an epoch
            optimizer = self.model.optimizer
            self.lrs.append(current_lr(optimizer))
            self.iterations.append(int(np.asarray(keras.ops.convert_to_numpy(optimizer.iterations))))

    def on_train_batch_end(self, batch, logs=None) -> None:
        loss, _ = self._running.undo(batch, float((logs or {}).get("loss", float("nan"))))
        self.losses.append(loss)

    @property
    def steps(self) -> np.ndarray:
        """Step numbers 1, 2, ... of the recorded losses."""
        return np.arange(1, len(self.losses) + 1)


def gradient_norms(
    model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int, *, batches: int = 50, seed: int = 0
) -> np.ndarray:
    """The norm of the whole model's gradient on ``batches`` random batches of ``batch_size`` examples.

    The model is not trained. Their spread (``std / mean``) measures how noisy a step at this batch size is:
    each step follows one such gradient.
    """
    if batch_size < 1 or batch_size > len(x):
        raise ValueError(
            _("batch_size must be between 1 and {n} (the number of examples), got {batch_size}").format(
                n=len(x), batch_size=batch_size
            )
        )
    if batches < 2:
        raise ValueError(
            _("need at least 2 batches to measure a spread, got batches={batches}").format(batches=batches)
        )
    rng = np.random.default_rng(seed)
    norms = []
    for _batch in range(batches):
        index = rng.choice(len(x), size=batch_size, replace=False)
        _loss, grads = gradients(model, x[index], y[index])
        norms.append(float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads))))
    return np.asarray(norms)


def class_sorted(x: np.ndarray, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` ordered by class label (stable: the order within a class is kept)."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            _("y must be one integer label per example: x has {rows} rows, y has shape {shape}").format(
                rows=len(x), shape=y.shape
            )
        )
    order = np.argsort(y, kind="stable")
    return x[order], y[order]
