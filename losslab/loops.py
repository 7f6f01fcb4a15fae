"""A hand-written training loop on every Keras backend, with the slips of seed 001 planted on request.

``model.fit`` computes the gradients of each batch, applies them once, and switches Dropout and BatchNorm
between training and inference. A loop written by hand must do all of that itself, and each part can slip.
``train(model, split, slip=...)`` runs the same loop on the active backend, the way that backend's own code would
write it:

- TensorFlow: ``tf.GradientTape`` records the forward pass and returns fresh gradients;
- JAX: ``jax.value_and_grad`` of a pure function built on Keras' stateless API (``model.stateless_call``,
  ``optimizer.stateless_apply``), with the new state written back into the variables after each step;
- PyTorch: ``loss.backward()`` adds the gradients into each weight's ``.grad``, which the loop must clear
  (PyTorch's ``optimizer.zero_grad()``).

The slips (``SLIPS``): ``"no_zero_grad"`` (gradients never reset: on PyTorch the loop leaves ``.grad`` alone;
TensorFlow and JAX return fresh gradients every step, so the loop adds the previous step's gradients to copy
PyTorch's behaviour), ``"step_before_backward"`` (the update of each step uses the gradients of the batch
before), ``"summed_loss"`` (the loss is summed over the batch, not averaged), ``"always_inference"``
(``training=False`` in the training step) and ``"never_eval"`` (``training=True`` left on for evaluation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from losslab import data

SLIPS: dict[str | None, str] = {
    None: "the correct loop",
    "no_zero_grad": "gradients never reset between steps",
    "step_before_backward": "update applied before this batch's gradients are computed",
    "summed_loss": "loss summed over the batch instead of averaged",
    "always_inference": "training=False in the training step (Dropout off, BatchNorm frozen)",
    "never_eval": "training=True left on when evaluating",
}


@dataclass
class LoopRun:
    """What one hand-written training measured: per step and per epoch."""

    label: str
    slip: str | None
    batch_size: int
    batch_loss: list[float] = field(default_factory=list)  # mean loss of each batch, before its update
    grad_norm: list[float] = field(default_factory=list)  # global norm of the gradient applied at each step
    update_norm: list[float] = field(default_factory=list)  # global norm of the weight change of each step
    loss: list[float] = field(default_factory=list)  # per epoch: mean of the batch losses
    val_loss: list[float] = field(default_factory=list)  # per epoch, in the loop's evaluation mode
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def history(self) -> dict[str, list[float]]:
        """The per-epoch values under the names ``History.history`` uses (for losslab.plots and clinic.compare)."""
        return {"loss": self.loss, "val_loss": self.val_loss, "val_accuracy": self.val_accuracy}

    def __repr__(self) -> str:
        last = (
            f", final val_loss {self.val_loss[-1]:.4g}, val_accuracy {self.val_accuracy[-1]:.3f}"
            if self.val_loss
            else ""
        )
        return f"LoopRun({self.label!r}, {len(self.batch_loss)} steps{last})"


def _check_slip(slip: str | None) -> None:
    if slip not in SLIPS:
        known = ", ".join(repr(s) for s in SLIPS)
        raise ValueError(f"unknown slip {slip!r}: use one of {known}")


def _norm(arrays: Sequence[np.ndarray]) -> float:
    return float(math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays)))


def _numpy(values: Sequence[Any]) -> list[np.ndarray]:
    return [np.array(keras.ops.convert_to_numpy(v)) for v in values]


class _Gradients:
    """Computes (loss, gradients) of one batch on the active backend; ``fresh=False`` keeps PyTorch's sums."""

    def __init__(self, model: keras.Model, loss_fn: keras.losses.Loss) -> None:
        self.model = model
        self.loss_fn = loss_fn
        self.backend = keras.backend.backend()
        self._compiled: dict[bool, Callable] = {}

    def __call__(self, x: np.ndarray, y: np.ndarray, *, training: bool, reset: bool) -> tuple[float, list]:
        """The batch loss (as the loss function reduces it) and one gradient per trainable weight, as NumPy."""
        if self.backend == "tensorflow":
            return self._tensorflow(x, y, training)
        if self.backend == "jax":
            return self._jax(x, y, training)
        if self.backend == "torch":
            return self._torch(x, y, training, reset)
        raise RuntimeError(
            f"losslab.loops has no training loop for the {self.backend!r} backend: "
            "use KERAS_BACKEND=tensorflow, jax or torch"
        )

    def _tensorflow(self, x, y, training):  # noqa: ANN001, ANN202
        import tensorflow as tf

        if training not in self._compiled:
            model, loss_fn = self.model, self.loss_fn

            def step(xb, yb):  # noqa: ANN001, ANN202
                with tf.GradientTape() as tape:  # a new tape each step: its gradients start from zero
                    loss = loss_fn(yb, model(xb, training=training))
                return loss, tape.gradient(loss, model.trainable_variables)

            self._compiled[training] = tf.function(step)  # traced once: eager steps would be several times slower
        loss, grads = self._compiled[training](x, y)
        return float(loss), _numpy(grads)

    def _jax(self, x, y, training):  # noqa: ANN001, ANN202
        import jax

        if training not in self._compiled:
            model, loss_fn = self.model, self.loss_fn

            def pure(trainable, non_trainable, xb, yb):  # noqa: ANN001, ANN202
                out, non_trainable = model.stateless_call(trainable, non_trainable, xb, training=training)
                return loss_fn(yb, out), non_trainable

            self._compiled[training] = jax.jit(jax.value_and_grad(pure, has_aux=True))
        trainable = [v.value for v in self.model.trainable_variables]
        non_trainable = [v.value for v in self.model.non_trainable_variables]
        (loss, non_trainable), grads = self._compiled[training](trainable, non_trainable, x, y)
        # stateless_call returns the new BatchNorm statistics and Dropout seeds: write them back, or they never move
        for variable, value in zip(self.model.non_trainable_variables, non_trainable, strict=True):
            variable.assign(value)
        return float(loss), _numpy(grads)

    def _torch(self, x, y, training, reset):  # noqa: ANN001, ANN202
        import torch

        if reset:  # PyTorch's optimizer.zero_grad(): backward() adds into .grad, so clear it first
            for v in self.model.trainable_variables:
                v.value.grad = None
        loss = self.loss_fn(torch.as_tensor(y), self.model(x, training=training))
        loss.backward()
        grads = [v.value.grad for v in self.model.trainable_variables]
        return float(loss.detach().cpu()), [g.detach().cpu().numpy().copy() for g in grads]


def _apply(model: keras.Model, optimizer: keras.optimizers.Optimizer, grads: list[np.ndarray]) -> float:
    """One optimizer step with these gradients; returns the global norm of the weight change."""
    before = _numpy(model.trainable_variables)
    if keras.backend.backend() == "jax":  # the stateless route, as a jitted JAX train step would take it
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        trainable, opt_state = optimizer.stateless_apply(
            [v.value for v in optimizer.variables],
            [keras.ops.convert_to_tensor(g) for g in grads],
            [v.value for v in model.trainable_variables],
        )
        for variable, value in zip(model.trainable_variables, trainable, strict=True):
            variable.assign(value)
        for variable, value in zip(optimizer.variables, opt_state, strict=True):
            variable.assign(value)
    else:
        optimizer.apply([keras.ops.convert_to_tensor(g) for g in grads], model.trainable_variables)
    after = _numpy(model.trainable_variables)
    return _norm([a - b for a, b in zip(after, before, strict=True)])


def evaluate(
    model: keras.Model, x: np.ndarray, y: np.ndarray, *, training: bool = False, batch_size: int = 32
) -> tuple[float, float]:
    """Mean cross-entropy (from logits) and accuracy of ``model`` on (x, y), called with ``training``.

    Batches of 32, as ``Model.evaluate`` uses by default (in training mode BatchNorm sees each batch's statistics).
    """
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    total, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        logits = model(xb, training=training)
        total += float(keras.ops.convert_to_numpy(loss_fn(yb, logits)))
        correct += int(np.sum(np.argmax(keras.ops.convert_to_numpy(logits), axis=1) == yb))
    return total / len(x), correct / len(x)


def train(
    model: keras.Model,
    split: data.Split,
    *,
    optimizer: keras.optimizers.Optimizer,
    epochs: int = 3,
    batch_size: int = 32,
    slip: str | None = None,
    seed: int = 0,
    label: str | None = None,
) -> LoopRun:
    """Train ``model`` (logits, integer labels) on ``split`` with a hand-written loop, one ``slip`` planted.

    The batches are shuffled every epoch with ``seed`` (so two runs with the same seed see the same batches).
    The loss is cross-entropy from logits, averaged over the batch (summed for ``slip="summed_loss"``). After
    every epoch the validation split is evaluated with ``training=False`` (``True`` for ``slip="never_eval"``).
    """
    _check_slip(slip)
    if len(split.x_train) < batch_size or batch_size < 1:
        raise ValueError(
            f"batch_size must be between 1 and the {len(split.x_train)} training examples, got {batch_size}"
        )
    reduction = "sum" if slip == "summed_loss" else "sum_over_batch_size"
    gradients = _Gradients(model, keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction))
    run = LoopRun(label or SLIPS[slip], slip, batch_size)
    rng = np.random.default_rng(seed)
    carried: list[np.ndarray] | None = None  # TF/JAX copy of PyTorch's un-cleared .grad
    pending: list[np.ndarray] | None = None  # the previous batch's gradients, for step_before_backward
    training = slip != "always_inference"
    native_sum = keras.backend.backend() == "torch"
    n = len(split.x_train)
    for _ in range(epochs):
        order = rng.permutation(n)
        seen = []
        for start in range(0, n - batch_size + 1, batch_size):  # full batches only, like drop_remainder
            index = order[start : start + batch_size]
            xb, yb = split.x_train[index], split.y_train[index]
            loss, grads = gradients(xb, yb, training=training, reset=slip != "no_zero_grad")
            if slip == "no_zero_grad" and not native_sum:
                carried = grads if carried is None else [c + g for c, g in zip(carried, grads, strict=True)]
                grads = carried
            per_example = loss / batch_size if slip == "summed_loss" else loss
            run.batch_loss.append(per_example)
            seen.append(per_example)
            if slip == "step_before_backward":
                # forward pass, then optimizer.step() with what the last backward() left, then backward(): the
                # gradients of this batch (taken at the weights before the step) wait for the next step
                grads, pending = pending, grads
                if grads is None:
                    run.grad_norm.append(0.0)
                    run.update_norm.append(0.0)
                    continue
            run.grad_norm.append(_norm(grads))
            run.update_norm.append(_apply(model, optimizer, grads))
        run.loss.append(float(np.mean(seen)))
        val_loss, val_acc = evaluate(model, split.x_val, split.y_val, training=slip == "never_eval")
        run.val_loss.append(val_loss)
        run.val_accuracy.append(val_acc)
    return run


def digits_model(*, dropout: float = 0.0, batchnorm: bool = False, seed: int = 0) -> keras.Sequential:
    """The course's digits MLP (64-64-10, ReLU, logits), optionally with BatchNorm and Dropout; seeded."""
    from losslab import clinic

    keras.utils.set_random_seed(seed)
    return clinic.mlp(64, 10, (64, 64), dropout=dropout, batchnorm=batchnorm)


def batchnorm_statistics(model: keras.Model) -> dict[str, tuple[float, float]]:
    """For each BatchNormalization layer: the largest |moving mean| and |moving variance - 1| (both 0 untrained)."""
    found = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            mean = keras.ops.convert_to_numpy(layer.moving_mean)
            var = keras.ops.convert_to_numpy(layer.moving_variance)
            found[layer.name] = (float(np.max(np.abs(mean))), float(np.max(np.abs(var - 1.0))))
    return found


def placement(model: keras.Model, x: np.ndarray) -> dict[str, str]:
    """Where the backend keeps the model's first weight and where it puts a NumPy batch given to the model."""
    backend = keras.backend.backend()
    weight = model.trainable_variables[0].value
    batch = keras.ops.convert_to_tensor(x)
    if backend == "jax":
        where = {"weights": str(next(iter(weight.devices()))), "batch": str(next(iter(batch.devices())))}
    elif backend == "torch":
        where = {"weights": str(weight.device), "batch": str(batch.device)}
    else:
        where = {"weights": weight.device or "default", "batch": batch.device or "default"}
    return where


def torch_device_mismatch() -> str:
    """What raw PyTorch says when a weight is on the GPU and a batch on the CPU, or why it cannot be shown here."""
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed in this environment, so the raw-PyTorch case is skipped."
    if not torch.cuda.is_available():
        return "No GPU visible to PyTorch: with one device there is nothing to mismatch, so this case is skipped."
    weight = torch.ones(3, 3, device="cuda")
    batch = torch.ones(2, 3)  # a new tensor is on the CPU unless told otherwise
    try:
        batch @ weight
    except RuntimeError as error:
        return f"raw PyTorch raised RuntimeError: {error}"
    return "raw PyTorch multiplied a CPU batch by a GPU weight without an error (this PyTorch moves data itself)."


def gradient_code(backend: str | None = None) -> str:
    """The source of the loop's gradient step for ``backend`` (default: the active one), to read in a notebook."""
    import inspect

    name = backend or keras.backend.backend()
    method = getattr(_Gradients, f"_{name}", None)
    if method is None:
        raise ValueError(f"no training loop for the {name!r} backend: use 'tensorflow', 'jax' or 'torch'")
    return inspect.getsource(method)


def plot_per_step(
    runs: dict[str, LoopRun],
    key: str = "batch_loss",
    *,
    ax: Any = None,
    title: str = "",
    ylabel: str = "",
    per_example: bool = False,
    log_y: bool = True,
) -> Any:
    """One curve per run of a per-step series (``batch_loss``, ``grad_norm`` or ``update_norm``).

    ``per_example=True`` puts the training examples seen on the x axis, so that runs with other batch sizes line up.
    """
    import matplotlib.pyplot as plt

    if key not in {"batch_loss", "grad_norm", "update_norm"}:
        raise ValueError(f"key must be 'batch_loss', 'grad_norm' or 'update_norm', got {key!r}")
    ax = ax or plt.subplots(figsize=(8, 3.6))[1]
    for label, run in runs.items():
        values = np.asarray(getattr(run, key), dtype=float)
        steps = np.arange(1, len(values) + 1) * (run.batch_size if per_example else 1)
        ax.plot(steps, values, label=label, linewidth=1.2)
    if log_y:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel("training examples seen" if per_example else "step (one batch each)")
    ax.set_ylabel(ylabel or key.replace("_", " "))
    ax.legend(fontsize="small")
    return ax


def repeated_gradient_ratio(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Ask the backend twice for the gradient of the same batch without clearing anything in between.

    Returns the norm of the second answer over the first: 1 where gradients come fresh from each call (TensorFlow's
    tape, ``jax.grad``), 2 where ``backward()`` adds into ``.grad`` (PyTorch).
    """
    gradients = _Gradients(model, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    _, first = gradients(x, y, training=False, reset=True)
    _, second = gradients(x, y, training=False, reset=False)
    return _norm(second) / _norm(first)
