"""Backend primitives: gradients on every backend, a snapshot of a model to restore, per-step recording and
short trainings from the snapshot.

Keras 3 has no backend-neutral gradient function, so ``gradients`` switches on the backend. The doctor never
changes the learner's model for good: every experiment runs inside a ``Snapshot`` and is undone.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from losslab.lr import RunningMean

if TYPE_CHECKING:
    from losslab.doctor.context import Context


_JAX_GRADIENTS: dict[int, tuple] = {}


def gradients(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """The training loss on (x, y) and its gradient for every trainable variable, in training mode.

    Keras 3 has no backend-neutral gradient function, so this switches on the backend. It may update
    BatchNorm statistics (TensorFlow, torch): call it inside ``Snapshot`` when the model must not change.
    """
    backend = keras.backend.backend()
    variables = model.trainable_variables
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        grads = tape.gradient(loss, [v.value for v in variables])
        grads = [
            np.zeros(v.shape, np.float32) if g is None else np.asarray(g) for g, v in zip(grads, variables, strict=True)
        ]
        return float(loss), grads
    if backend == "jax":
        import jax

        step = _JAX_GRADIENTS.get(id(model))
        if step is None or step[0] is not model:

            def loss_fn(trainable, non_trainable, metrics_vars, x, y):  # noqa: ANN001, ANN202
                y_pred, new_non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
                loss, _ = model.stateless_compute_loss(
                    trainable, new_non_trainable, metrics_vars, x=x, y=y, y_pred=y_pred, training=True
                )
                return loss

            step = (model, jax.jit(jax.value_and_grad(loss_fn)))
            _JAX_GRADIENTS.clear()  # keep one model's compiled function, not every model's
            _JAX_GRADIENTS[id(model)] = step
        loss, grads = step[1](
            [v.value for v in variables],
            [v.value for v in model.non_trainable_variables],
            [v.value for v in model.metrics_variables],
            x,
            y,
        )
        return float(loss), [np.asarray(g) for g in grads]
    if backend == "torch":  # pragma: no cover - torch is not installed on the course's test machines
        import torch

        values = [v.value for v in variables]
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        grads = torch.autograd.grad(loss, values, allow_unused=True)
        return float(loss.detach()), [
            np.zeros(v.shape, np.float32) if g is None else g.detach().cpu().numpy()
            for g, v in zip(grads, variables, strict=True)
        ]
    raise NotImplementedError(f"gradients on the {backend!r} backend are not supported")


def sync(model: keras.Model) -> None:
    """On JAX, fit keeps the live weights outside the model until an epoch ends: bring them back."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None and getattr(model, "_jax_state", None):
        sync()


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

    def on_train_batch_begin(self, batch, logs=None) -> None:  # noqa: ANN001
        if self.lrs is not None:
            sync(self.model)
            self.model.optimizer.learning_rate = float(self.lrs[min(len(self.losses), len(self.lrs) - 1)])

    def on_train_batch_end(self, batch, logs=None) -> None:  # noqa: ANN001
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
