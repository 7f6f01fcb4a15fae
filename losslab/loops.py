"""The training loop of chapter 2 part 3, written out on every Keras backend, and the one-line edits that plant
the slips of seed 001 in it.

``model.fit`` computes the gradients of each batch, applies them once, and switches Dropout and BatchNorm
between training and inference. ``train`` below is that loop in 15 lines, written the way PyTorch users write
it: ``grads`` plays the part of the ``.grad`` fields PyTorch keeps on each weight, so clearing it is
``optimizer.zero_grad()`` and adding into it is what ``loss.backward()`` does. Only ``loss_and_gradients``
depends on the backend (TensorFlow's ``GradientTape``, ``jax.value_and_grad`` of Keras' stateless call, PyTorch's
``backward()``); it is the one gradient helper of the loop.

``edit(loop, ...)`` returns a copy of a loop function with one line deleted, moved or changed, and prints the
edit: that is how the notebook (and the learner) plants each slip. ``SLIP_EDITS`` names the five edits of the
seed's checklist; the exercise's hidden tests apply them to ``train`` to make slipped loops the learner has not
seen. ``LoopRun`` is what a loop logs: per step the loss, the norm of the batch's own gradient, the norm of what
was applied and of the weight change; per epoch the validation figures as the loop measured them, the same in
inference mode, and whether BatchNorm's statistics moved.
"""

from __future__ import annotations

import difflib
import inspect
import math
import textwrap
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import keras
import numpy as np

from losslab import data
from losslab.messages import N_, _

# The one-line edits that plant each slip in ``train`` (keyword arguments of ``edit``), and what each does.
SLIP_EDITS: dict[str, dict[str, str]] = {
    "no_zero_grad": {"delete": "grads = zeros_like(model)  # optimizer.zero_grad()"},
    "step_before_backward": {
        "move": "optimizer.apply(grads, model.trainable_variables)  # optimizer.step()",
        "above": "grads = [g + n for g, n in zip(grads, new, strict=True)]  # backward() adds into .grad",
    },
    "summed_loss": {"replace": 'reduction="sum_over_batch_size"', "by": 'reduction="sum"'},
    "always_inference": {"replace": "x, y, training=True)", "by": "x, y, training=False)"},
    "never_eval": {"replace": "split.y_val, training=False)", "by": "split.y_val, training=True)"},
}
SLIPS: dict[str, str] = {  # the descriptions are marked N_: the grader shows them through gettext
    "correct": N_("the correct loop"),
    "no_zero_grad": N_("gradients never reset between steps"),
    "step_before_backward": N_("optimizer.step() before backward() has added this batch's gradients"),
    "summed_loss": N_("the loss summed over the batch instead of averaged"),
    "always_inference": N_("training=False in the training step (Dropout off, BatchNorm frozen)"),
    "never_eval": N_("training=True left on when evaluating"),
}


# ------------------------------------------------------------------------------------------ the loop


def train(model, optimizer, split, *, epochs=3, batch_size=32, seed=0):
    """The training loop by hand: logits, integer labels, the loss averaged over each batch."""
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum_over_batch_size")
    log = LoopRun(model, split, batch_size)
    grads = zeros_like(model)  # PyTorch keeps these in each weight's .grad
    for epoch in range(epochs):
        for x, y in batches(split, batch_size, seed=seed + epoch):
            grads = zeros_like(model)  # optimizer.zero_grad()
            loss, new = loss_and_gradients(model, loss_fn, x, y, training=True)  # forward, loss.backward()
            grads = [g + n for g, n in zip(grads, new, strict=True)]  # backward() adds into .grad
            optimizer.apply(grads, model.trainable_variables)  # optimizer.step()
            log.step(loss, new, grads)
        log.epoch(evaluate(model, split.x_val, split.y_val, training=False))
    return log


def zeros_like(model: keras.Model) -> list:
    """One zero tensor per trainable weight: the cleared ``.grad`` fields."""
    return [keras.ops.zeros(v.shape, dtype=v.dtype) for v in model.trainable_variables]


def batches(split: data.Split, batch_size: int, *, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The training split in shuffled full batches (the last, smaller one dropped), the order fixed by ``seed``."""
    n = len(split.x_train)
    if not isinstance(batch_size, int) or not 1 <= batch_size <= n:
        raise ValueError(
            _("batch_size must be a whole number between 1 and the {n} training examples, got {batch_size}").format(
                n=n, batch_size=repr(batch_size)
            )
        )
    order = np.random.default_rng(seed).permutation(n)
    for start in range(0, n - batch_size + 1, batch_size):
        index = order[start : start + batch_size]
        yield split.x_train[index], split.y_train[index]


def evaluate(
    model: keras.Model, x: np.ndarray, y: np.ndarray, *, training: bool = False, batch_size: int = 32
) -> tuple[float, float]:
    """Mean cross-entropy (from logits) and accuracy of ``model`` on (x, y), called with ``training``.

    Batches of 32, as ``Model.evaluate`` uses by default (in training mode BatchNorm sees each batch's statistics
    and updates its running averages with them).
    """
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    total, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        logits = model(xb, training=training)
        total += float(keras.ops.convert_to_numpy(loss_fn(yb, logits)))
        correct += int(np.sum(np.argmax(keras.ops.convert_to_numpy(logits), axis=1) == yb))
    return total / len(x), correct / len(x)


# ------------------------------------------------------------------------------ gradients per backend

_COMPILED: dict[tuple, tuple] = {}


def _compiled(kind: str, model: keras.Model, loss_fn: Any, training: bool, build: Callable[[], Callable]) -> Callable:
    """One traced step per (model, loss, mode), kept for the latest model only."""
    key = (kind, id(model), id(loss_fn), training)
    found = _COMPILED.get(key)
    if found is None or found[0] is not model or found[1] is not loss_fn:
        if any(k[1] != id(model) for k in _COMPILED):
            _COMPILED.clear()
        found = _COMPILED[key] = (model, loss_fn, build())
    return found[2]


def _tensorflow_gradients(model, loss_fn, x, y, training):
    import tensorflow as tf

    def step(xb, yb):
        with tf.GradientTape() as tape:  # a new tape each step: its gradients start from zero
            loss = loss_fn(yb, model(xb, training=training))
        return loss, tape.gradient(loss, model.trainable_variables)

    loss, grads = _compiled("tf", model, loss_fn, training, lambda: tf.function(step))(x, y)
    return float(loss), list(grads)


def _jax_gradients(model, loss_fn, x, y, training):
    import jax

    def pure(trainable, non_trainable, xb, yb):
        out, non_trainable = model.stateless_call(trainable, non_trainable, xb, training=training)
        return loss_fn(yb, out), non_trainable

    step = _compiled("jax", model, loss_fn, training, lambda: jax.jit(jax.value_and_grad(pure, has_aux=True)))
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    (loss, non_trainable), grads = step(trainable, non_trainable, x, y)
    # the stateless call returns the new BatchNorm statistics and Dropout seeds: write them back, or they never move
    for variable, value in zip(model.non_trainable_variables, non_trainable, strict=True):
        variable.assign(value)
    return float(loss), list(grads)


def _torch_gradients(model, loss_fn, x, y, training):
    import torch

    weights = [v.value for v in model.trainable_variables]
    loss = loss_fn(torch.as_tensor(y), model(x, training=training))
    loss.backward()  # adds into each weight's .grad: take a copy, then clear it (the loop keeps its own sum)
    grads = [torch.zeros_like(w) if w.grad is None else w.grad.detach().clone() for w in weights]
    for w in weights:
        w.grad = None
    return float(loss.detach().cpu()), grads


_BACKENDS = {"tensorflow": _tensorflow_gradients, "jax": _jax_gradients, "torch": _torch_gradients}


def loss_and_gradients(
    model: keras.Model, loss_fn: Any, x: np.ndarray, y: np.ndarray, *, training: bool
) -> tuple[float, list]:
    """The forward pass and ``loss.backward()``: the batch's loss and one gradient tensor per trainable weight.

    Fresh gradients on every backend (PyTorch's ``.grad`` is copied and cleared), so that adding them up is the
    loop's own, visible, business.
    """
    backend = keras.backend.backend()
    if backend not in _BACKENDS:
        raise RuntimeError(
            _(
                "losslab.loops has no training loop for the {backend} backend: use KERAS_BACKEND=tensorflow, jax or "
                "torch"
            ).format(backend=repr(backend))
        )
    return _BACKENDS[backend](model, loss_fn, x, y, training)


def gradient_code(backend: str | None = None) -> str:
    """The source of ``loss_and_gradients`` for ``backend`` (default: the active one), to read in a notebook."""
    name = backend or keras.backend.backend()
    if name not in _BACKENDS:
        raise ValueError(
            _("no training loop for the {backend} backend: use 'tensorflow', 'jax' or 'torch'").format(
                backend=repr(name)
            )
        )
    return inspect.getsource(_BACKENDS[name])


# ------------------------------------------------------------------------------------------ the log


def _norm(arrays: Sequence[Any]) -> float:
    return float(math.sqrt(sum(float(np.sum(np.square(np.asarray(a, dtype=np.float64)))) for a in arrays)))


def _numpy(values: Sequence[Any]) -> list[np.ndarray]:
    return [np.array(keras.ops.convert_to_numpy(v)) for v in values]


def batchnorm_statistics(model: keras.Model) -> dict[str, tuple[float, float]]:
    """For each BatchNormalization layer: the largest |moving mean| and |moving variance - 1| (both 0 untrained)."""
    found = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            mean = keras.ops.convert_to_numpy(layer.moving_mean)
            var = keras.ops.convert_to_numpy(layer.moving_variance)
            found[layer.name] = (float(np.max(np.abs(mean))), float(np.max(np.abs(var - 1.0))))
    return found


class LoopRun:
    """What a hand-written loop logged, per step and per epoch (``step`` and ``epoch`` are called by the loop)."""

    def __init__(self, model: keras.Model, split: data.Split, batch_size: int, label: str = "") -> None:
        self.model, self.split, self.batch_size, self.label = model, split, batch_size, label
        self.n_classes = int(split.n_classes or 0)
        self.batch_loss: list[float] = []  # the loss of each batch as the loop computed it, before its update
        self.grad_norm: list[float] = []  # norm of the batch's own gradient (what backward() returned)
        self.applied_norm: list[float] = []  # norm of what the loop held in grads after the step
        self.update_norm: list[float] = []  # norm of the weight change since the previous step
        self.val_loss: list[float] = []  # per epoch, as the loop evaluated
        self.val_accuracy: list[float] = []  # per epoch, as the loop evaluated
        self.val_loss_inference: list[float] = []  # per epoch, measured again with training=False
        self.val_accuracy_inference: list[float] = []
        self.batchnorm_moved: bool | None = None  # None: the model has no BatchNorm
        self._weights = _numpy(model.trainable_variables)

    def step(self, loss: float, new: Sequence[Any], grads: Sequence[Any]) -> None:
        now = _numpy(self.model.trainable_variables)
        self.batch_loss.append(float(loss))
        self.grad_norm.append(_norm(_numpy(new)))
        self.applied_norm.append(_norm(_numpy(grads)))
        self.update_norm.append(_norm([a - b for a, b in zip(now, self._weights, strict=True)]))
        self._weights = now

    def epoch(self, evaluation: tuple[float, float]) -> None:
        val_loss, val_accuracy = evaluation
        self.val_loss.append(float(val_loss))
        self.val_accuracy.append(float(val_accuracy))
        inference = evaluate(self.model, self.split.x_val, self.split.y_val)
        self.val_loss_inference.append(inference[0])
        self.val_accuracy_inference.append(inference[1])
        stats = batchnorm_statistics(self.model)
        self.batchnorm_moved = any(m > 0 or v > 0 for m, v in stats.values()) if stats else None

    @property
    def loss(self) -> list[float]:
        """Per epoch: the mean of the batch losses (as the loop computed them)."""
        steps = len(self.batch_loss) // max(1, len(self.val_loss))
        return [float(np.mean(self.batch_loss[i : i + steps])) for i in range(0, steps * len(self.val_loss), steps)]

    @property
    def history(self) -> dict[str, list[float]]:
        """The per-epoch values under the names ``History.history`` uses (for losslab.plots)."""
        return {"loss": self.loss, "val_loss": self.val_loss, "val_accuracy": self.val_accuracy}

    def __repr__(self) -> str:
        last = (
            _(", final val_loss {val_loss}, val_accuracy {val_accuracy}").format(
                val_loss=f"{self.val_loss[-1]:.4g}", val_accuracy=f"{self.val_accuracy[-1]:.3f}"
            )
            if self.val_loss
            else ""
        )
        steps = _("{n} steps").format(n=len(self.batch_loss))
        return f"LoopRun({self.label!r}, {steps}{last})"


# ------------------------------------------------------------------------------------------ edits


def _source(loop: Callable) -> str:
    try:
        return textwrap.dedent(inspect.getsource(loop))
    except (OSError, TypeError) as error:
        raise ValueError(
            _("cannot read the source of {loop}: pass a function defined in a file or a cell").format(loop=repr(loop))
        ) from error


def _line(lines: list[str], text: str) -> int:
    hits = [i for i, line in enumerate(lines) if text in line]
    if len(hits) != 1:
        message = (
            _("no line of the loop contain {text}: give text that appears on exactly one line")
            if not hits
            else _("{n} lines of the loop contain {text}: give text that appears on exactly one line")
        )
        raise ValueError(message.format(n=len(hits), text=repr(text)))
    return hits[0]


def edit(
    loop: Callable,
    *,
    delete: str | None = None,
    move: str | None = None,
    above: str | None = None,
    replace: str | None = None,
    by: str | None = None,
    quiet: bool = False,
) -> Callable:
    """A copy of ``loop`` with one line deleted, moved above another, or changed (``replace`` text by ``by``).

    Prints the edit as a diff unless ``quiet``. The copy runs in the loop's own module or notebook namespace.
    """
    chosen = [delete is not None, move is not None, replace is not None]
    if sum(chosen) != 1 or (move is not None) != (above is not None) or (replace is not None) != (by is not None):
        raise ValueError(_("edit one line: give delete=..., or move=... with above=..., or replace=... with by=..."))
    source = _source(loop)
    lines = source.splitlines()
    if delete is not None:
        del lines[_line(lines, delete)]
    elif move is not None:
        line = lines.pop(_line(lines, move))
        target = _line(lines, above)
        indent = lines[target][: len(lines[target]) - len(lines[target].lstrip())]
        lines.insert(target, indent + line.lstrip())
    else:
        index = _line(lines, replace)
        lines[index] = lines[index].replace(replace, by)
    edited = "\n".join(lines) + "\n"
    if not quiet:
        diff = difflib.unified_diff(source.splitlines(), edited.splitlines(), "correct", "edited", n=0, lineterm="")
        print("\n".join(line for line in diff if not line.startswith(("---", "+++", "@@"))))
    namespace: dict[str, Any] = {}
    exec(compile(edited, f"<edited {loop.__name__}>", "exec"), loop.__globals__, namespace)
    return namespace[loop.__name__]


def slipped(slip: str, loop: Callable = train) -> Callable:
    """``loop`` with the one-line edit of ``slip`` (a key of ``SLIPS``; "correct" returns the loop itself)."""
    if slip not in SLIPS:
        raise ValueError(
            _("unknown slip {slip}: use one of {known}").format(slip=repr(slip), known=", ".join(map(repr, SLIPS)))
        )
    return loop if slip == "correct" else edit(loop, quiet=True, **SLIP_EDITS[slip])


# ------------------------------------------------------------------------------------------ the rest


def digits_model(
    *, dropout: float = 0.0, batchnorm: bool = False, seed: int = 0, n_inputs: int = 64, n_classes: int = 10
) -> keras.Sequential:
    """The course's digits MLP (64-64 ReLU, logits), optionally with BatchNorm and Dropout; seeded."""
    keras.utils.set_random_seed(seed)
    layers: list[keras.layers.Layer] = [keras.Input(shape=(n_inputs,))]
    for _layer in range(2):
        layers.append(keras.layers.Dense(64))
        if batchnorm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Activation("relu"))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(n_classes))
    return keras.Sequential(layers)


def placement(model: keras.Model, x: np.ndarray) -> dict[str, str]:
    """Where the backend keeps the model's first weight and where it puts a NumPy batch given to the model."""
    backend = keras.backend.backend()
    weight = model.trainable_variables[0].value
    batch = keras.ops.convert_to_tensor(x)
    if backend == "jax":
        return {"weights": str(next(iter(weight.devices()))), "batch": str(next(iter(batch.devices())))}
    if backend == "torch":
        return {"weights": str(weight.device), "batch": str(batch.device)}
    return {"weights": weight.device or "default", "batch": batch.device or "default"}


def torch_device_mismatch() -> str:
    """What raw PyTorch says when a weight is on the GPU and a batch on the CPU, or why it cannot be shown here."""
    try:
        import torch
    except ImportError:
        return _("PyTorch is not installed in this environment, so the raw-PyTorch case is skipped.")
    if not torch.cuda.is_available():
        return _("No GPU visible to PyTorch: with one device there is nothing to mismatch, so this case is skipped.")
    weight = torch.ones(3, 3, device="cuda")
    batch = torch.ones(2, 3)  # a new tensor is on the CPU unless told otherwise
    try:
        batch @ weight
    except RuntimeError as error:
        return _("raw PyTorch raised RuntimeError: {error}").format(error=error)
    return _("raw PyTorch multiplied a CPU batch by a GPU weight without an error (this PyTorch moves data itself).")


def repeated_gradient_ratio(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Ask the backend twice for the gradient of the same batch without clearing anything in between.

    Returns the norm of the second answer over the first: 1 where gradients come fresh from each call (TensorFlow's
    tape, ``jax.grad``), 2 where ``backward()`` adds into ``.grad`` (PyTorch).
    """
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if keras.backend.backend() != "torch":
        first = loss_and_gradients(model, loss_fn, x, y, training=False)[1]
        second = loss_and_gradients(model, loss_fn, x, y, training=False)[1]
        return _norm(_numpy(second)) / _norm(_numpy(first))
    import torch

    weights = [v.value for v in model.trainable_variables]
    for w in weights:
        w.grad = None
    norms = []
    for _twice in range(2):  # backward() twice, no zero_grad() between
        loss_fn(torch.as_tensor(y), model(x, training=False)).backward()
        norms.append(_norm([w.grad.detach().cpu().numpy() for w in weights if w.grad is not None]))
    for w in weights:
        w.grad = None
    return norms[1] / norms[0]


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
    """One curve per run of a per-step series (``batch_loss``, ``grad_norm``, ``applied_norm`` or ``update_norm``).

    ``per_example=True`` puts the training examples seen on the x axis, so that runs with other batch sizes line up.
    """
    import matplotlib.pyplot as plt

    if key not in {"batch_loss", "grad_norm", "applied_norm", "update_norm"}:
        raise ValueError(
            _("key must be 'batch_loss', 'grad_norm', 'applied_norm' or 'update_norm', got {key}").format(key=repr(key))
        )
    ax = ax or plt.subplots(figsize=(8, 3.6))[1]
    for label, run in runs.items():
        values = np.asarray(getattr(run, key), dtype=float)
        steps = np.arange(1, len(values) + 1) * (run.batch_size if per_example else 1)
        ax.plot(steps, np.where(values > 0, values, np.nan) if log_y else values, label=label, linewidth=1.2)
    if log_y:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(_("training examples seen") if per_example else _("step (one batch each)"))
    ax.set_ylabel(ylabel or key.replace("_", " "))
    ax.legend(fontsize="small")
    return ax
