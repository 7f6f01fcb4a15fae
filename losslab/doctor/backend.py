"""The doctor's experiments: a snapshot of a model to restore, per-step recording and short trainings from
the snapshot. (Gradients and the JAX state sync on every backend: ``losslab.backend``.)

The doctor never changes the learner's model for good: every experiment runs inside a ``Snapshot`` and is undone.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from losslab.backend import sync
from losslab.lr import RunningMean

if TYPE_CHECKING:
    from losslab.doctor.context import Context


class Snapshot:
    """Every variable of a model and its optimizer (and the global RNGs), to put back after an experiment."""

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not optimizer.built and model.trainable_variables:
            optimizer.build(model.trainable_variables)  # what fit would do first; the slots start at zero
        self.variables = [(v, np.array(v.numpy(), copy=True)) for v in model.variables]
        self.opt = [(v, np.array(v.numpy(), copy=True)) for v in (optimizer.variables if optimizer else [])]
        self.attributes = {k: getattr(model, k) for k in ("history", "stop_training") if hasattr(model, k)}
        self.py_random, self.np_random = random.getstate(), np.random.get_state()

    def restore(self) -> None:
        """Put every variable, the model's history and the global random states back."""
        sync(self.model)
        for variable, value in (*self.variables, *self.opt):
            variable.assign(value)
        for key, value in self.attributes.items():
            setattr(self.model, key, value)
        random.setstate(self.py_random)
        np.random.set_state(self.np_random)


class StepRecorder(keras.callbacks.Callback):
    """Per-step training losses (recovered from Keras' running mean), optionally a per-step learning rate
    and an eager validation loss every `every` steps."""

    def __init__(
        self,
        lrs: Sequence[float] | None = None,
        val: Callable[[], float] | None = None,
        every: int = 0,
        stop_above: float | None = None,
        after_first_step: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__()
        self.lrs, self.val, self.every, self.stop_above = lrs, val, every, stop_above
        self.after_first_step, self.first_step = after_first_step, None
        self.losses: list[float] = []
        self.val_losses: list[tuple[int, float]] = []
        self._running = RunningMean()

    def on_train_batch_begin(self, batch, logs=None) -> None:
        if self.lrs is not None:
            sync(self.model)
            self.model.optimizer.learning_rate = float(self.lrs[min(len(self.losses), len(self.lrs) - 1)])

    def on_train_batch_end(self, batch, logs=None) -> None:
        # the steps since the last report (more than one with steps_per_execution > 1), each at their mean loss
        step_loss, steps = self._running.undo(batch, float((logs or {}).get("loss", float("nan"))))
        self.losses.extend([step_loss] * steps)
        if self.after_first_step is not None and self.first_step is None:
            sync(self.model)
            self.first_step = self.after_first_step()
        if not math.isfinite(step_loss) or (self.stop_above is not None and step_loss > self.stop_above):
            self.model.stop_training = True
        if self.val is not None and self.every and len(self.losses) % self.every == 0:
            sync(self.model)
            self.val_losses.append((len(self.losses), self.val()))


class Trainer:
    """Short trainings of the model on prepared batches, always from the snapshot it started from."""

    def __init__(self, ctx: Context, snapshot: Snapshot) -> None:
        self.ctx, self.snapshot = ctx, snapshot
        rng = np.random.default_rng(ctx.seed)
        self.bs = min(ctx.batch_size, len(ctx.x))
        self.order = np.concatenate([rng.permutation(len(ctx.x)) for _ in range(64)])

    def run(
        self,
        steps: int,
        *,
        lrs: Sequence[float] | None = None,
        batch: np.ndarray | None = None,
        zero_inputs: bool = False,
        val_every: int = 0,
        stop_above: float | None = None,
        after_first_step: Callable[[], Any] | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
    ) -> StepRecorder:
        """Train ``steps`` steps (prepared batches, or one ``batch`` repeated) and record each step's loss."""
        ctx = self.ctx
        if batch is not None:
            idx = np.tile(batch, steps)
        else:
            need = steps * self.bs
            idx = self.order[:need] if need <= len(self.order) else np.resize(self.order, need)
        x = ctx.x[idx]
        if zero_inputs:
            x = np.zeros_like(x)
        val = None
        if val_every and ctx.x_val is not None:
            xv, yv = ctx.x_val[:1024], ctx.y_val[:1024]
            val = lambda: ctx.total_loss(xv, yv)  # noqa: E731
        recorder = StepRecorder(
            lrs=lrs, val=val, every=val_every, stop_above=stop_above, after_first_step=after_first_step
        )
        ctx.model.fit(
            x,
            ctx.y[idx],
            batch_size=len(batch) if batch is not None else self.bs,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[*callbacks, recorder],
            class_weight=ctx.class_weight,
        )
        sync(ctx.model)
        return recorder
