"""Learning-rate tools: the LR range test, an update/weight-ratio probe, one-cycle, sweeps and schedule plots.

Used by course/03_learning_rates (the tutorial, and the exercise's reference range test through
losslab/grading/learning_rates.py); chapter 4's training doctor can reuse ``range_test`` and ``UpdateRatio``.

Everything here is backend-agnostic Keras 3. Two Keras facts shape the code:

- **Setting the learning rate from a callback.** An optimizer built with a float learning rate holds it in a
  variable, so ``self.model.optimizer.learning_rate = value`` assigns it on every backend. An optimizer built
  with a ``LearningRateSchedule`` has no variable to assign: Keras raises ``TypeError`` (that is why
  ``ReduceLROnPlateau`` cannot be combined with a schedule object). On JAX, Keras keeps the training state
  outside the model during an epoch and copies it back when a callback reads ``self.model``; so reach the
  optimizer through ``self.model`` in every hook, never through a reference saved earlier, or the new value
  is overwritten at the end of the epoch.
- **Batch logs are running means.** In ``on_train_batch_end``, ``logs["loss"]`` is the mean loss of the epoch
  so far, not the loss of that batch. ``range_test`` therefore trains one batch per Keras epoch (the mean is
  reset at each epoch, so it *is* the batch's loss); ``LRRangeTest`` also recovers batch losses from the
  running mean when it is used in an ordinary ``fit``, with ``RunningMean`` (the one helper for it: the
  doctor's step recorder and ``batches.StepLog`` use it too).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np

from losslab.messages import N_, _

__all__ = [
    "LRRangeTest",
    "RunningMean",
    "OneCycle",
    "UpdateRatio",
    "TrainingState",
    "range_test",
    "exponential_ramp",
    "smooth",
    "suggest_from_minimum",
    "schedule_values",
    "plot_schedules",
    "regions",
    "plot_sweep",
    "current_lr",
]


# ------------------------------------------------------------------------------------------ helpers


def _numpy(value: Any) -> np.ndarray:
    """A variable's or tensor's value as a NumPy array, on any backend."""
    if isinstance(value, keras.Variable):
        return np.array(value.numpy())
    return np.array(keras.ops.convert_to_numpy(value))


class RunningMean:
    """Undoes Keras' running mean of the batch logs: ``undo(batch, logs["loss"])`` in ``on_train_batch_end``
    returns ``(loss, steps)``, the mean loss of the batches since the previous report and how many they were
    (more than 1 when ``steps_per_execution`` reports every few steps). A batch index that does not grow starts
    a new epoch, as Keras' mean does.

    Keras weights each batch by its number of examples. Give ``samples`` (training examples) and ``batch_size``
    so that the short last batch of an epoch is undone exactly; without them every batch counts as full, which
    is exact when ``batch_size`` divides ``samples``.
    """

    def __init__(self, *, samples: int | None = None, batch_size: int | None = None) -> None:
        if (samples is None) != (batch_size is None) or (batch_size is not None and batch_size < 1):
            raise ValueError(
                _(
                    "give both samples and batch_size (a positive number of examples per batch), or neither; "
                    "got samples={samples}, batch_size={batch_size}"
                ).format(samples=samples, batch_size=batch_size)
            )
        self.samples, self.batch_size = samples, batch_size
        self._mean, self._count, self._weight = 0.0, 0, 0.0

    def _weight_of(self, count: int) -> float:
        if self.samples is None or self.batch_size is None:
            return float(count)
        return float(min(count * self.batch_size, self.samples))

    def undo(self, batch: int, mean: float) -> tuple[float, int]:
        count = int(batch) + 1
        if count <= self._count:  # a new epoch: Keras' mean starts again
            self._mean, self._count, self._weight = 0.0, 0, 0.0
        weight = self._weight_of(count)
        added = weight - self._weight
        loss = (weight * mean - self._weight * self._mean) / added if added > 0 else mean
        steps = count - self._count
        self._mean, self._count, self._weight = mean, count, weight
        return loss, steps


def current_lr(optimizer: Any) -> float:
    """The learning rate the optimizer will use for its next step, as a float (works for schedules too)."""
    return float(_numpy(optimizer.learning_rate))


def _set_lr(model: keras.Model, value: float) -> None:
    optimizer = model.optimizer  # reached through the model each time: on JAX this syncs the training state
    if isinstance(optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        raise TypeError(
            _(
                "this optimizer was built with a LearningRateSchedule, so its learning rate cannot be set from a "
                "callback. Compile the model with a float learning rate (e.g. SGD(learning_rate=0.01)) for the "
                "range test or ReduceLROnPlateau."
            )
        )
    optimizer.learning_rate = float(value)


def exponential_ramp(step: int, start_lr: float, end_lr: float, num_steps: int) -> float:
    """The range test's learning rate at ``step`` (0-based): start_lr at step 0, end_lr at num_steps - 1."""
    if num_steps < 2:
        return float(start_lr)
    return float(start_lr * (end_lr / start_lr) ** (step / (num_steps - 1)))


def smooth(raw_losses: Sequence[float], beta: float = 0.98) -> list[float]:
    """Exponentially weighted moving average with bias correction (fastai's smoothed loss).

    avg_i = beta * avg_(i-1) + (1 - beta) * loss_i with avg_(-1) = 0, and the value reported is
    avg_i / (1 - beta ** (i + 1)), so early values are not pulled towards 0.
    """
    out, avg = [], 0.0
    for i, loss in enumerate(raw_losses):
        avg = beta * avg + (1.0 - beta) * float(loss)
        out.append(avg / (1.0 - beta ** (i + 1)))
    return out


def suggest_from_minimum(lrs: Sequence[float], smoothed: Sequence[float]) -> float:
    """fastai's rule: one tenth of the learning rate at which the smoothed loss was lowest."""
    values = np.asarray(smoothed, dtype=np.float64)
    if values.size == 0 or not np.isfinite(values).any():
        raise ValueError(_("no finite loss recorded: run the range test first"))
    best = int(np.nanargmin(np.where(np.isfinite(values), values, np.nan)))
    return float(lrs[best]) / 10.0


class TrainingState:
    """A copy of a model's weights and its optimizer's variables (iterations, learning rate, momentum...).

    ``TrainingState.capture(model)`` builds the optimizer first if it has not run a step yet, so that its
    slots (momentum, Adam's moments) exist and are saved with their starting values; ``restore(model)`` puts
    everything back.
    """

    def __init__(self, weights: list[np.ndarray], optimizer_values: list[np.ndarray]) -> None:
        self.weights, self.optimizer_values = weights, optimizer_values

    @classmethod
    def capture(cls, model: keras.Model) -> TrainingState:
        optimizer = model.optimizer
        if optimizer is not None and not optimizer.built:
            optimizer.build(model.trainable_variables)
        weights = [_numpy(v) for v in model.weights]
        opt_values = [_numpy(v) for v in optimizer.variables] if optimizer else []
        return cls(weights, opt_values)

    def restore(self, model: keras.Model) -> None:
        for variable, value in zip(model.weights, self.weights, strict=True):
            variable.assign(value)
        if model.optimizer is not None:
            for variable, value in zip(model.optimizer.variables, self.optimizer_values, strict=True):
                variable.assign(value)


# ------------------------------------------------------------------------------------ the range test


class LRRangeTest(keras.callbacks.Callback):
    """The learning-rate range test (Smith 2015, fastai's ``lr_find``) as a Keras callback.

    For at most ``num_steps`` optimizer steps the learning rate grows exponentially from ``start_lr`` to
    ``end_lr``; each batch's loss is recorded and smoothed (``smooth``: beta 0.98 with bias correction).
    Training stops early once the smoothed loss exceeds ``diverge`` times the best smoothed loss so far.
    At the end the model's weights and the optimizer's state (iterations, learning rate, momentum) are put
    back as they were, so the test costs no training. ``suggestion`` is one tenth of the learning rate at the
    smoothed loss's minimum.

    Recorded: ``lrs``, ``raw_losses``, ``losses`` (smoothed), ``best_loss``, ``stopped_early``.
    Run it with ``range_test(model, x, y)``, which trains one batch per Keras epoch.
    """

    def __init__(
        self,
        start_lr: float = 1e-7,
        end_lr: float = 10.0,
        num_steps: int = 100,
        beta: float = 0.98,
        diverge: float = 4.0,
    ) -> None:
        super().__init__()
        if not 0 < start_lr < end_lr:
            raise ValueError(
                _("need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}").format(
                    start_lr=start_lr, end_lr=end_lr
                )
            )
        if num_steps < 2:
            raise ValueError(_("num_steps must be at least 2, got {n}").format(n=num_steps))
        self.start_lr, self.end_lr, self.num_steps = float(start_lr), float(end_lr), int(num_steps)
        self.beta, self.diverge = float(beta), float(diverge)
        self._reset()

    def _reset(self) -> None:
        self.lrs: list[float] = []
        self.raw_losses: list[float] = []
        self.losses: list[float] = []
        self.best_loss = math.inf
        self.stopped_early = False
        self._avg = 0.0
        self._running = RunningMean()
        self._state: TrainingState | None = None

    def lr_at(self, step: int) -> float:
        return exponential_ramp(step, self.start_lr, self.end_lr, self.num_steps)

    # Keras hooks --------------------------------------------------------------------------------------

    def on_train_begin(self, logs=None) -> None:
        self._reset()
        self._state = TrainingState.capture(self.model)

    def on_train_batch_begin(self, batch, logs=None) -> None:
        if len(self.lrs) < self.num_steps:
            _set_lr(self.model, self.lr_at(len(self.lrs)))

    def on_train_batch_end(self, batch, logs=None) -> None:
        if len(self.lrs) >= self.num_steps:
            return
        raw, _ = self._running.undo(batch, float((logs or {})["loss"]))  # logs["loss"] is the epoch's mean
        step = len(self.lrs)
        self.lrs.append(self.lr_at(step))
        self.raw_losses.append(raw)
        if math.isfinite(raw):
            self._avg = self.beta * self._avg + (1.0 - self.beta) * raw
            smoothed = self._avg / (1.0 - self.beta ** (step + 1))
        else:
            smoothed = math.inf
        self.losses.append(smoothed)
        self.best_loss = min(self.best_loss, smoothed)
        if not smoothed <= self.diverge * self.best_loss:
            self.stopped_early = True
            self.model.stop_training = True
        elif len(self.lrs) >= self.num_steps:
            self.model.stop_training = True

    def on_train_end(self, logs=None) -> None:
        if self._state is not None:
            self._state.restore(self.model)
            self._state = None

    # results ------------------------------------------------------------------------------------------

    @property
    def lr_at_minimum(self) -> float:
        """The learning rate at which the smoothed loss was lowest."""
        return self.suggestion * 10.0

    @property
    def suggestion(self) -> float:
        """One tenth of the learning rate at the smoothed loss's minimum (fastai's ``minimum`` rule)."""
        return suggest_from_minimum(self.lrs, self.losses)

    def plot(self, ax=None, *, title: str = N_("Learning-rate range test"), raw: bool = True):
        """Smoothed loss against learning rate (log axis), the minimum and the suggestion marked."""
        import matplotlib.pyplot as plt

        if ax is None:
            _fig, ax = plt.subplots(figsize=(7, 4))
        lrs = np.asarray(self.lrs)
        smoothed = np.asarray(self.losses, dtype=np.float64)
        if raw:
            ax.plot(lrs, self.raw_losses, color="0.75", linewidth=0.8, label=_("loss of each batch"))
        ax.plot(lrs, smoothed, color="C0", linewidth=2, label=_("smoothed loss"))
        minimum, suggestion = f"{self.lr_at_minimum:.3g}", f"{self.suggestion:.3g}"
        ax.axvline(self.lr_at_minimum, color="C3", linestyle=":", label=_("minimum at {lr}").format(lr=minimum))
        ax.axvline(self.suggestion, color="C2", linestyle="--", label=_("suggestion {lr}").format(lr=suggestion))
        finite = smoothed[np.isfinite(smoothed)]
        if finite.size:
            low, high = finite.min(), max(finite[0], finite.min()) * self.diverge * 1.1
            ax.set_ylim(max(0.0, low - 0.1 * (high - low)), high)
        ax.set_xscale("log")
        ax.set_xlabel(_("learning rate (log scale)"))
        ax.set_ylabel(_("training loss (nats)"))
        ax.set_title(_(title) if title else title)  # the default is a message; _("") is the catalog's header
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
        return ax


def range_test(model: keras.Model, x: Any, y: Any, *, batch_size: int = 32, callback: Any = None, **kwargs: Any) -> Any:
    """Run a range test on a compiled model and return the callback (``.suggestion``, ``.plot()``).

    Trains one batch per Keras epoch (``steps_per_epoch=1``, shuffled), so that ``logs["loss"]`` in the
    callback is the loss of that batch. ``callback`` may be any range-test callback with a ``num_steps``
    attribute (the exercise passes the learner's own); otherwise ``LRRangeTest(**kwargs)`` is used.
    """
    if getattr(model, "optimizer", None) is None:
        raise ValueError(_("compile the model (with an optimizer and a loss) before the range test"))
    if isinstance(model.optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        raise TypeError(
            _("the range test sets the learning rate itself: compile with a float learning rate, not a schedule")
        )
    if callback is None:
        callback = LRRangeTest(**kwargs)
    elif kwargs:
        raise TypeError(_("pass either a callback or LRRangeTest's arguments, not both"))
    steps = int(callback.num_steps)
    model.fit(
        x, y, batch_size=batch_size, epochs=steps, steps_per_epoch=1, shuffle=True, verbose=0, callbacks=[callback]
    )
    return callback


# ------------------------------------------------------------------------------- update/weight ratio


class UpdateRatio(keras.callbacks.Callback):
    """Per-kernel ||W_after - W_before|| / ||W_before|| of each optimizer step (CS231n's ~1e-3 heuristic).

    The update is measured, not computed from gradients: each kernel is copied before the step and compared
    after it, so it works on every backend and for every optimizer. ``max_steps`` limits the measurement to
    the first steps of a training (copying weights every step costs a little time).
    ``ratios``: {layer name: [ratio per measured step]}; ``median()``: {layer name: median ratio}.
    """

    def __init__(self, max_steps: int | None = None, every: int = 1) -> None:
        super().__init__()
        self.max_steps, self.every = max_steps, max(1, int(every))
        self.ratios: dict[str, list[float]] = {}
        self._step = 0
        self._before: list[np.ndarray] | None = None

    def _kernels(self) -> list[tuple[str, Any]]:
        out = []
        for layer in self.model.layers:
            for variable in layer.trainable_weights:
                if len(variable.shape) >= 2:
                    out.append((layer.name if len(layer.trainable_weights) <= 2 else variable.path, variable))
        return out

    def _measuring(self) -> bool:
        return (self.max_steps is None or self._step < self.max_steps) and self._step % self.every == 0

    def on_train_batch_begin(self, batch, logs=None) -> None:
        self._before = None
        if self._measuring():
            self._before = [_numpy(v) for _, v in self._kernels()]

    def on_train_batch_end(self, batch, logs=None) -> None:
        if self._before is not None:
            for (name, variable), before in zip(self._kernels(), self._before, strict=True):
                after = _numpy(variable).astype(np.float64)
                # a diverging run overflows: record inf / NaN, without warnings on stderr
                with np.errstate(over="ignore", invalid="ignore"):
                    norm = float(np.linalg.norm(before.astype(np.float64)))
                    change = float(np.linalg.norm(after - before))
                    ratio = change / norm if norm > 0 else math.inf
                self.ratios.setdefault(name, []).append(ratio)
        self._step += 1

    def median(self) -> dict[str, float]:
        """{layer name: median ratio over the measured steps} (NaN if a step's ratio was NaN)."""
        return {name: float(np.median(values)) for name, values in self.ratios.items()}

    def largest(self) -> dict[str, float]:
        """{layer name: largest ratio of a single measured step}."""
        return {name: float(np.max(values)) for name, values in self.ratios.items()}


# ------------------------------------------------------------------------------------------ one-cycle


@keras.saving.register_keras_serializable(package="losslab")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """fastai's one-cycle learning rate: a cosine rise from max_lr / div_factor to max_lr over the first
    ``pct_start`` of ``total_steps``, then a cosine fall to max_lr / (div_factor * final_div_factor).

    Counted in optimizer steps, like every Keras schedule. (fastai also cycles momentum the other way;
    Keras optimizers keep a fixed momentum, so this schedule covers the learning rate only.)
    """

    def __init__(
        self,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.25,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        name: str = "OneCycle",
    ) -> None:
        super().__init__()
        if total_steps < 2:
            raise ValueError(_("total_steps must be at least 2, got {n}").format(n=total_steps))
        if not 0.0 < pct_start < 1.0:
            raise ValueError(_("pct_start must be between 0 and 1, got {pct_start}").format(pct_start=pct_start))
        self.max_lr, self.total_steps, self.pct_start = float(max_lr), int(total_steps), float(pct_start)
        self.div_factor, self.final_div_factor, self.name = float(div_factor), float(final_div_factor), name

    @property
    def warmup_steps(self) -> int:
        return max(1, int(round(self.pct_start * self.total_steps)))

    def __call__(self, step):
        ops = keras.ops
        step = ops.cast(step, "float32")
        start = self.max_lr / self.div_factor
        end = start / self.final_div_factor
        warm = float(self.warmup_steps)
        rise = ops.clip(step / warm, 0.0, 1.0)
        fall = ops.clip((step - warm) / max(1.0, self.total_steps - warm), 0.0, 1.0)
        up = start + (self.max_lr - start) * 0.5 * (1.0 - ops.cos(math.pi * rise))
        down = end + (self.max_lr - end) * 0.5 * (1.0 + ops.cos(math.pi * fall))
        return ops.where(step < warm, up, down)

    def get_config(self) -> dict[str, Any]:
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "name": self.name,
        }


# ------------------------------------------------------------------------------- schedules as values


def schedule_values(schedule: Any, steps: int | Sequence[int]) -> np.ndarray:
    """The learning rate a schedule (or a float) gives at each step: ``schedule_values(s, 1000)``."""
    steps = np.arange(int(steps)) if isinstance(steps, (int, np.integer)) else np.asarray(steps)
    if isinstance(schedule, (int, float)):
        return np.full(steps.shape, float(schedule))
    try:  # one call for all steps when the schedule is written with element-wise ops
        values = _numpy(schedule(keras.ops.convert_to_tensor(steps.astype("int32")))).astype(np.float64)
        if values.shape == steps.shape:
            return values
    except Exception:  # schedules with ops.cond (CosineDecay) take one step at a time
        pass
    return np.array([float(_numpy(schedule(int(step)))) for step in steps], dtype=np.float64)


def plot_schedules(
    schedules: Mapping[str, Any],
    total_steps: int,
    *,
    title: str = N_("Learning-rate schedules"),
    steps_per_epoch: int | None = None,
    log_y: bool = False,
    ax=None,
):
    """Learning rate against optimizer step for several schedules. A value may also be an array of the
    learning rate per step (a run driven by a callback, such as ReduceLROnPlateau)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 4))
    for index, (label, schedule) in enumerate(schedules.items()):
        if isinstance(schedule, (np.ndarray, list, tuple)):
            values = np.asarray(schedule, dtype=np.float64)
            ax.plot(np.arange(values.size), values, color=f"C{index % 10}", label=label)
        else:
            ax.plot(np.arange(total_steps), schedule_values(schedule, total_steps), color=f"C{index % 10}", label=label)
    if steps_per_epoch:
        for boundary in range(steps_per_epoch, total_steps, steps_per_epoch):
            ax.axvline(boundary, color="0.6", linewidth=0.8, linestyle=":", zorder=0)
    ax.set_title(_(title) if title else title)  # the default is a message; _("") is the catalog's header
    if steps_per_epoch:
        ax.set_xlabel(_("optimizer step (dotted lines: epochs of {n} steps)").format(n=steps_per_epoch))
    else:
        ax.set_xlabel(_("optimizer step"))
    ax.set_ylabel(_("learning rate (log scale)") if log_y else _("learning rate"))
    if log_y:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return ax


# ------------------------------------------------------------------------------------------ sweeps


def regions(learning_rates: Sequence[float], scores: Sequence[float], tolerance: float) -> list[str]:
    """Label each learning rate of a sweep "too low", "good" or "too high" from the sweep's own results.

    ``scores``: higher is better (e.g. final validation accuracy; NaN counts as a failure). A run is "good"
    when its score is within ``tolerance`` of the best score; the others are "too low" or "too high"
    depending on which side of the best learning rate they lie.
    """
    lrs = np.asarray(learning_rates, dtype=np.float64)
    values = np.asarray(scores, dtype=np.float64)
    if lrs.shape != values.shape or lrs.size == 0:
        raise ValueError(_("need one score per learning rate"))
    if np.any(np.diff(lrs) <= 0):
        raise ValueError(_("learning rates must be given in increasing order"))
    finite = np.where(np.isfinite(values), values, -np.inf)
    best = int(np.argmax(finite))
    out = []
    for i, value in enumerate(finite):
        if value >= finite[best] - tolerance:
            out.append("good")
        else:
            out.append("too low" if i < best else "too high")
    return out


# The regions' names are keys (regions() returns them, the exercise's checks compare them); a legend shows them
# through _.
REGION_COLOURS = {N_("too low"): "#9ecae1", N_("good"): "#a1d99b", N_("too high"): "#fc9272"}


def plot_sweep(
    learning_rates: Sequence[float],
    final_losses: Sequence[float],
    labels: Sequence[str],
    *,
    title: str,
    ylabel: str = N_("final training loss (nats, log scale)"),
    markers: Mapping[str, float] | None = None,
    ax=None,
):
    """Final loss against learning rate (log-log), each region shaded; NaN losses drawn as a red x at the
    top. ``markers`` adds labeled vertical lines (e.g. {"range test suggestion": 0.13})."""
    import matplotlib.pyplot as plt

    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 4))
    lrs = np.asarray(learning_rates, dtype=np.float64)
    losses = np.asarray(final_losses, dtype=np.float64)
    edges = np.sqrt(lrs[1:] * lrs[:-1])
    left = np.concatenate([[lrs[0] / 2], edges])
    right = np.concatenate([edges, [lrs[-1] * 2]])
    shown = set()
    for lo, hi, label in zip(left, right, labels, strict=True):
        ax.axvspan(lo, hi, color=REGION_COLOURS[label], alpha=0.5, zorder=0, label=None if label in shown else _(label))
        shown.add(label)
    finite = np.isfinite(losses)
    ax.plot(lrs[finite], losses[finite], "o-", color="k", label=_("final loss"))
    if (~finite).any():
        top = losses[finite].max() * 3 if finite.any() else 1.0
        ax.plot(lrs[~finite], np.full((~finite).sum(), top), "x", color="C3", markersize=10, mew=2, label="NaN / inf")
    for index, (name, value) in enumerate((markers or {}).items()):
        ax.axvline(value, color=f"C{(index + 2) % 10}", linestyle="--", label=f"{name}: {value:.3g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(left[0], right[-1])
    ax.set_xlabel(_("learning rate (log scale)"))
    ax.set_ylabel(_(ylabel) if ylabel else ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return ax
