"""The training doctor: checks that find why a loss won't go down, and a callback that watches a training.

``examine(model, x, y, validation_data=...)`` runs the checks of CURRICULUM.md ("Checks a training doctor can
run automatically") on any compiled single-input, single-output Keras model and its data, and returns a
``Report``: one ``Finding`` per check with its severity (ok, info, warning, problem), the evidence it measured
and the fix. In a notebook the report shows as a table; elsewhere as text. ``report.causes()`` lists the
causes it names, from the fixed vocabulary ``CAUSES`` that the clinic (``losslab.clinic``) plants.

The doctor trains, but never the learner's model for good: every variable of the model (weights, BatchNorm
statistics, dropout seeds) and of its optimizer is copied before and written back after, so the model leaves
the examination exactly as it came. Short trainings reuse the model's own compiled train step (the learner's
next ``fit`` reuses it too). Gradients come from the active backend (TensorFlow's GradientTape, ``jax.grad``,
or torch's autograd), because Keras 3 has no backend-neutral gradient function.

``TrainingMonitor`` is a Keras callback that watches a real training (NaN, loss stuck at ln K, training loss
rising, validation loss diverging), prints why on stdout and keeps its findings; it can also log gradient
norms and the learning rate into the History (and so into TensorBoard, which does not log gradients itself).

Used by solutions/04_debugging (the clinic and the exercise), tests/test_doctor.py and ``make bench``
(tools/bench.py).
"""

from __future__ import annotations

import math
import random
import re
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

import keras
import numpy as np

SEVERITIES = ("ok", "info", "warning", "problem")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}

# The causes the doctor can name: the vocabulary of the clinic's cases and of the exercise's answers.
CAUSES: dict[str, str] = {
    "lr_too_high": "learning rate too high",
    "lr_too_low": "learning rate too low",
    "unscaled_inputs": "input features not scaled",
    "target_scale": "regression target not scaled",
    "label_noise": "noisy labels",
    "class_imbalance": "class imbalance not handled",
    "activation_loss_mismatch": "output activation and loss do not match",
    "label_format": "labels do not match the loss",
    "vanishing_gradients": "vanishing gradients",
    "bad_initialization": "bad weight initialization",
    "exploding_gradients": "exploding gradients",
    "batch_size": "too few updates (batch size too large for the epochs)",
    "unshuffled_split": "sorted data split without shuffling",
    "data_leak": "duplicates or training/validation overlap",
    "underfitting": "model too small (underfitting)",
    "overfitting": "overfitting",
    "training_flag": "layers never in training mode (Dropout, BatchNorm)",
    "frozen_layers": "frozen layers",
    "reused_model": "model already trained (reused across experiments)",
    "constant_loss": "loss does not depend on the weights",
    "not_reproducible": "runs not reproducible (seeds)",
    "unmonitored": "training not monitored (no validation data)",
}

# Causes that explain a model failing to learn on their own; a failed "overfit one batch" or a flat loss is
# blamed on them before it is blamed on the model's size.
_MECHANICAL = (
    "lr_too_high",
    "lr_too_low",
    "unscaled_inputs",
    "activation_loss_mismatch",
    "label_format",
    "vanishing_gradients",
    "bad_initialization",
    "exploding_gradients",
    "training_flag",
    "frozen_layers",
    "constant_loss",
    "batch_size",
)


# ------------------------------------------------------------------------------------------ the report


@dataclass
class Finding:
    """One check's verdict: severity, what was measured, what to do, and the cause it names (if any)."""

    check: str
    severity: str
    evidence: str
    fix: str = ""
    cause: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in _RANK:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        if self.cause is not None and self.cause not in CAUSES:
            raise ValueError(f"unknown cause {self.cause!r}; known: {sorted(CAUSES)}")

    @property
    def alarming(self) -> bool:
        return _RANK[self.severity] >= _RANK["warning"]

    def line(self) -> str:
        cause = f" [{self.cause}]" if self.cause and self.alarming else ""
        fix = f"\n      fix: {self.fix}" if self.fix and self.alarming else ""
        return f"{self.severity.upper():8s} {self.check}{cause}: {self.evidence}{fix}"


_COLOURS = {"ok": "#2e7d32", "info": "#546e7a", "warning": "#ef6c00", "problem": "#c62828"}


@dataclass
class Report:
    """The doctor's findings; ``str(report)`` is text, a notebook shows an HTML table."""

    findings: list[Finding]
    seconds: float = 0.0
    title: str = "Training doctor"

    def causes(self, min_severity: str = "warning") -> list[str]:
        """The causes named by findings at least as severe as `min_severity`, most severe first."""
        floor = _RANK[min_severity]
        ranked = sorted(
            (f for f in self.findings if f.cause and _RANK[f.severity] >= floor),
            key=lambda f: -_RANK[f.severity],
        )
        return list(dict.fromkeys(f.cause for f in ranked))

    def names(self, cause: str) -> bool:
        """True when a warning or a problem names `cause`."""
        if cause not in CAUSES:
            raise KeyError(f"unknown cause {cause!r}; known: {sorted(CAUSES)}")
        return cause in self.causes()

    @property
    def alarms(self) -> list[Finding]:
        """Warnings and problems, most severe first."""
        return sorted((f for f in self.findings if f.alarming), key=lambda f: -_RANK[f.severity])

    @property
    def worst(self) -> str:
        return max((f.severity for f in self.findings), key=_RANK.__getitem__, default="ok")

    def finding(self, check: str) -> Finding:
        """The (most severe) finding of one check; KeyError listing the checks otherwise."""
        found = [f for f in self.findings if f.check == check]
        if not found:
            raise KeyError(f"no finding for {check!r}; checks: {sorted({f.check for f in self.findings})}")
        return max(found, key=lambda f: _RANK[f.severity])

    def only(self, *checks: str) -> Report:
        """The findings of some checks only, e.g. to show the one that names a cause."""
        return Report([f for f in self.findings if f.check in checks], self.seconds, self.title)

    def summary(self) -> str:
        causes = self.causes()
        verdict = (
            "nothing alarming"
            if not causes
            else "suspects: " + ", ".join(f"{c} ({CAUSES[c]})" for c in causes)
        )
        n = len(self.findings)
        return f"{self.title}: {n} finding{'' if n == 1 else 's'} in {self.seconds:.1f} s; {verdict}"

    def __str__(self) -> str:
        ordered = sorted(self.findings, key=lambda f: -_RANK[f.severity])
        return "\n".join([self.summary(), *("  " + f.line() for f in ordered)])

    def __repr__(self) -> str:
        return f"<Report {self.summary()}>"

    def _repr_html_(self) -> str:
        rows = []
        for f in sorted(self.findings, key=lambda f: -_RANK[f.severity]):
            badge = (
                f'<span style="background:{_COLOURS[f.severity]};color:white;padding:1px 6px;'
                f'border-radius:3px">{f.severity}</span>'
            )
            cause = f"<br><code>{escape(f.cause)}</code>" if f.cause and f.alarming else ""
            fix = escape(f.fix) if f.alarming else ""
            rows.append(
                f"<tr><td>{badge}</td><td><b>{escape(f.check)}</b>{cause}</td>"
                f"<td style='text-align:left'>{escape(f.evidence)}</td>"
                f"<td style='text-align:left'>{fix}</td></tr>"
            )
        return (
            f"<p><b>{escape(self.summary())}</b></p><table><thead><tr><th>severity</th><th>check</th>"
            f"<th>evidence (measured)</th><th>fix</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )


# ------------------------------------------------------------------------------------ what the model is


@dataclass(frozen=True)
class LossInfo:
    """What the compiled loss is: its kind, whether it expects logits, and a callable computing it."""

    kind: str  # sparse_ce | ce | bce | regression | other | custom | unknown
    name: str
    from_logits: bool | None
    fn: Callable | None


_KINDS = {
    "sparse_categorical_crossentropy": "sparse_ce",
    "categorical_crossentropy": "ce",
    "categorical_focal_crossentropy": "ce",
    "binary_crossentropy": "bce",
    "binary_focal_crossentropy": "bce",
    "mean_squared_error": "regression",
    "mse": "regression",
    "mean_absolute_error": "regression",
    "mae": "regression",
    "huber": "regression",
    "log_cosh": "regression",
    "logcosh": "regression",
    "mean_squared_logarithmic_error": "regression",
    "msle": "regression",
    "mean_absolute_percentage_error": "regression",
    "mape": "regression",
    "hinge": "other",
    "squared_hinge": "other",
    "categorical_hinge": "other",
    "kl_divergence": "other",
    "poisson": "other",
    "cosine_similarity": "other",
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def loss_info(loss: Any) -> LossInfo:
    """Classify a compiled loss given as a string, a ``keras.losses.Loss`` or a function."""
    if loss is None:
        return LossInfo("unknown", "none", None, None)
    if isinstance(loss, str):
        name = loss.lower()
        try:
            fn = keras.losses.get(loss)
        except (ValueError, TypeError):
            fn = None
        return LossInfo(
            _KINDS.get(name, "custom"),
            name,
            False if _KINDS.get(name) in {"sparse_ce", "ce", "bce"} else None,
            fn,
        )
    if isinstance(loss, keras.losses.Loss):
        name = _snake(type(loss).__name__)
        config = loss.get_config() if hasattr(loss, "get_config") else {}
        kind = _KINDS.get(name) or _KINDS.get(str(config.get("name", "")), "custom")
        return LossInfo(kind, name, config.get("from_logits"), loss)
    if callable(loss):
        name = getattr(loss, "__name__", type(loss).__name__)
        builtin = getattr(keras.losses, name, None) is loss
        kind = _KINDS.get(name, "custom") if builtin else "custom"
        return LossInfo(kind, name, False if kind in {"sparse_ce", "ce", "bce"} else None, loss)
    return LossInfo("unknown", type(loss).__name__, None, None)


def _output_kind(pred: np.ndarray) -> str:
    """'probabilities' (rows in [0, 1] summing to 1), 'bounded' (each value in [0, 1]) or 'logits'."""
    if pred.size == 0 or not np.all(np.isfinite(pred)):
        return "non-finite"
    in01 = float(pred.min()) >= 0.0 and float(pred.max()) <= 1.0
    if in01 and pred.ndim > 1 and pred.shape[-1] > 1 and np.allclose(pred.sum(-1), 1.0, atol=1e-3):
        return "probabilities"
    return "bounded" if in01 else "logits"


def _last_activation(model: keras.Model) -> str | None:
    """The name of the activation of the model's last layer, when the model says it."""
    layers = getattr(model, "layers", [])
    for layer in reversed(layers):
        if isinstance(layer, keras.layers.Softmax):
            return "softmax"
        activation = getattr(layer, "activation", None)
        if activation is not None:
            return getattr(activation, "__name__", str(activation))
        if isinstance(layer, (keras.layers.Dropout, keras.layers.InputLayer)):
            continue
        break
    return None


def _all_layers(model: keras.Model) -> list:
    try:
        return list(model._flatten_layers(include_self=False, recursive=True))
    except Exception:  # noqa: BLE001 - an exotic model: the top-level layers will do
        return list(getattr(model, "layers", []))


def _is_kernel(variable: Any) -> bool:
    return len(variable.shape) >= 2


def _short(path: str) -> str:
    parts = str(path).split("/")
    return "/".join(parts[-2:]) if len(parts) > 1 else parts[0]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _fmt(x: float) -> str:
    if x is None or not np.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax != 0 and (ax < 1e-3 or ax >= 1e5):
        return f"{x:.2e}"
    return f"{x:.3g}" if ax < 100 else f"{x:,.0f}"


# --------------------------------------------------------------------------------- backend primitives


_JAX_GRADIENTS: dict[int, tuple] = {}


def gradients(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """The training loss on (x, y) and its gradient for every trainable variable, in training mode.

    Keras 3 has no backend-neutral gradient function, so this switches on the backend. It may update
    BatchNorm statistics (TensorFlow, torch): call it inside ``_Snapshot`` when the model must not change.
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
            np.zeros(v.shape, np.float32) if g is None else np.asarray(g)
            for g, v in zip(grads, variables, strict=True)
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
        return float(loss), [
            np.zeros(v.shape, np.float32) if g is None else g.detach().cpu().numpy()
            for g, v in zip(grads, variables, strict=True)
        ]
    raise NotImplementedError(f"gradients on the {backend!r} backend are not supported")


def _sync(model: keras.Model) -> None:
    """On JAX, fit keeps the live weights outside the model until an epoch ends: bring them back."""
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None and getattr(model, "_jax_state", None):
        sync()


class _Snapshot:
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
        _sync(self.model)
        for variable, value in (*self.variables, *self.opt):
            variable.assign(value)
        for key, value in self.attributes.items():
            setattr(self.model, key, value)
        random.setstate(self.py_random)
        np.random.set_state(self.np_random)


class _StepRecorder(keras.callbacks.Callback):
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
        self._mean, self._count = 0.0, 0

    def on_train_batch_begin(self, batch, logs=None) -> None:  # noqa: ANN001
        if self.lrs is not None:
            _sync(self.model)
            self.model.optimizer.learning_rate = float(self.lrs[min(len(self.losses), len(self.lrs) - 1)])

    def on_epoch_begin(self, epoch, logs=None) -> None:  # noqa: ANN001
        self._mean, self._count = 0.0, 0

    def on_train_batch_end(self, batch, logs=None) -> None:  # noqa: ANN001
        mean = float((logs or {}).get("loss", float("nan")))
        steps = int(batch) + 1 - self._count  # steps since the last report (steps_per_execution > 1)
        total = mean * (int(batch) + 1) - self._mean * self._count
        step_loss = total / max(steps, 1)
        self.losses.extend([step_loss] * max(steps, 1))
        self._mean, self._count = mean, int(batch) + 1
        if self.after_first_step is not None and self.first_step is None:
            _sync(self.model)
            self.first_step = self.after_first_step()
        if not math.isfinite(step_loss) or (self.stop_above is not None and step_loss > self.stop_above):
            self.model.stop_training = True
        if self.val is not None and self.every and len(self.losses) % self.every == 0:
            _sync(self.model)
            self.val_losses.append((len(self.losses), self.val()))


# --------------------------------------------------------------------------------------- the patient


@dataclass
class _Context:
    model: keras.Model
    x: np.ndarray
    y: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    batch_size: int
    epochs: int | None
    validation_split: float | None
    class_weight: dict | None
    shuffle: bool
    history: dict | None
    build: Callable[[], keras.Model] | None
    quick: bool
    seed: int
    loss: LossInfo
    pred0: np.ndarray = None  # untrained outputs on a sample
    sample: np.ndarray = None  # indices of that sample
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    fatal: str | None = None  # set when Keras could not even train this model with these labels

    def add(
        self, check: str, severity: str, evidence: str, fix: str = "", cause: str | None = None, **values: Any
    ) -> Finding:
        finding = Finding(check, severity, evidence, fix, cause, values)
        self.findings.append(finding)
        return finding

    # ---- derived facts
    @property
    def units(self) -> int:
        return int(self.pred0.shape[-1]) if self.pred0.ndim > 1 else 1

    @property
    def classification(self) -> bool:
        return self.loss.kind in {"sparse_ce", "ce", "bce"}

    def labels(self, y: np.ndarray | None = None) -> np.ndarray | None:
        """Integer class labels (from integers or one-hot rows), or None for regression."""
        y = self.y if y is None else y
        if not self.classification:
            return None
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            return y.argmax(axis=1)
        flat = y.reshape(-1)
        if self.loss.kind == "bce":
            return (flat > 0.5).astype(int)
        return flat.astype(int)

    def probabilities(self, pred: np.ndarray) -> np.ndarray:
        """Class probabilities (n, K) from the model's outputs, for any output type the loss accepts."""
        if self.loss.kind == "bce" or self.units == 1:
            p = pred.reshape(-1)
            p = _sigmoid(p) if self.loss.from_logits else np.clip(p, 0.0, 1.0)
            return np.stack([1 - p, p], axis=1)
        if self.loss.from_logits:
            return _softmax(pred)
        p = np.clip(pred, 1e-12, None)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        _sync(self.model)
        return np.asarray(
            keras.ops.convert_to_numpy(self.model(x, training=self.batchnorm)), dtype=np.float64
        )

    @property
    def batchnorm(self) -> bool:
        if "batchnorm" not in self.facts:
            self.facts["batchnorm"] = any(
                isinstance(layer, keras.layers.BatchNormalization) for layer in _all_layers(self.model)
            )
        return self.facts["batchnorm"]

    def data_loss(self, x: np.ndarray, y: np.ndarray, weighted: bool = False) -> float:
        """The compiled loss alone (no regularization); inference mode, except for models with BatchNorm,
        which train on batch statistics (the caller restores the statistics a training-mode call updates).
        ``weighted``: weight the examples by the class_weight given to fit, as the training loss does."""
        _sync(self.model)
        y_pred = self.model(x, training=self.batchnorm)
        fn = self.loss.fn
        if fn is None:
            return float(
                keras.ops.convert_to_numpy(self.model.compute_loss(x=x, y=y, y_pred=y_pred, training=False))
            )
        y = np.asarray(y)
        if self.loss.kind != "sparse_ce" and y.ndim == len(y_pred.shape) - 1 and y_pred.shape[-1] == 1:
            y = y.reshape(*y.shape, 1)  # what Keras' compiled loss does for (n,) labels and (n, 1) outputs
        if np.issubdtype(y.dtype, np.integer) and self.loss.kind != "sparse_ce":
            y = y.astype(np.float32)
        if weighted and self.class_weight and self.classification:
            weights = np.array([self.class_weight.get(int(c), 1.0) for c in self.labels(y)], dtype=np.float32)
            if isinstance(fn, keras.losses.Loss):
                return float(keras.ops.convert_to_numpy(fn(y, y_pred, sample_weight=weights)))
            per_example = np.asarray(keras.ops.convert_to_numpy(fn(y, y_pred)), dtype=np.float64).reshape(-1)
            return float((per_example * weights).mean())
        return float(keras.ops.convert_to_numpy(keras.ops.mean(fn(y, y_pred))))

    def total_loss(self, x: np.ndarray, y: np.ndarray) -> float:
        """What Keras reports as the loss: compiled loss plus regularization, inference mode."""
        _sync(self.model)
        y_pred = self.model(x, training=False)
        return float(
            keras.ops.convert_to_numpy(self.model.compute_loss(x=x, y=y, y_pred=y_pred, training=False))
        )


def _as_array(a: Any, what: str) -> np.ndarray:
    if isinstance(a, (list, tuple)) and a and not np.isscalar(a[0]) and not isinstance(a[0], (list, tuple)):
        raise TypeError(f"the doctor examines single-input, single-output models: {what} should be one array")
    try:
        return np.asarray(a)
    except Exception as exc:  # noqa: BLE001
        raise TypeError(
            f"{what} should be a NumPy array (got {type(a).__name__}); pass arrays, not a dataset"
        ) from exc


# ------------------------------------------------------------------------------------ static checks


def _check_activation_vs_loss(ctx: _Context) -> None:
    loss, kind = ctx.loss, _output_kind(ctx.pred0)
    declared = _last_activation(ctx.model)
    seen = f"the outputs are {kind} (range {_fmt(ctx.pred0.min())} to {_fmt(ctx.pred0.max())}" + (
        f", last activation '{declared}')" if declared else ")"
    )
    ctx.facts["output_kind"] = kind
    if kind == "non-finite":
        ctx.add(
            "activation_vs_loss",
            "problem",
            "the untrained model already outputs NaN or inf",
            "check the initialization and the inputs for NaN/inf",
            "bad_initialization",
        )
        return
    if loss.kind in {"sparse_ce", "ce", "bce"}:
        squash = "softmax" if loss.kind != "bce" else "sigmoid"
        if loss.from_logits is False and kind == "logits":
            ctx.add(
                "activation_vs_loss",
                "problem",
                f"{loss.name} expects probabilities (from_logits=False), but {seen}",
                f"either use {loss.name} with from_logits=True (keep the linear output) or put a {squash} "
                "on the output layer",
                "activation_loss_mismatch",
            )
            return
        if loss.from_logits and kind in {"probabilities", "bounded"} and declared in {"softmax", "sigmoid"}:
            ctx.add(
                "activation_vs_loss",
                "problem",
                f"{loss.name} has from_logits=True, so it applies a {squash} itself, but {seen}: "
                f"the {squash} is applied twice",
                f"remove the {declared} from the last layer, or use from_logits=False",
                "activation_loss_mismatch",
            )
            return
        if loss.kind == "bce" and ctx.units > 1 and kind == "probabilities":
            ctx.add(
                "activation_vs_loss",
                "warning",
                f"binary cross-entropy on {ctx.units} softmax outputs treats each class as a separate yes/no",
                "for one label per example use (sparse_)categorical_crossentropy",
                "activation_loss_mismatch",
            )
            return
        ctx.add("activation_vs_loss", "ok", f"{loss.name} (from_logits={loss.from_logits}) and {seen}")
        metric_names = [getattr(m, "name", str(m)) for m in _compiled_metric_objects(ctx.model)]
        if (
            loss.kind == "bce"
            and loss.from_logits
            and ctx.units == 1
            and any("accuracy" in str(n) for n in metric_names)
        ):
            ctx.add(
                "activation_vs_loss",
                "warning",
                "'accuracy' on one logit output thresholds the logit at 0.5, not at 0 (probability 0.5)",
                "use keras.metrics.BinaryAccuracy(threshold=0.0) with logits",
            )
        return
    if loss.kind == "regression":
        integer_labels = np.issubdtype(ctx.y.dtype, np.integer) or (
            np.all(np.mod(ctx.y, 1) == 0) and len(np.unique(ctx.y)) <= 20
        )
        if integer_labels and len(np.unique(ctx.y)) >= 3 and ctx.units == 1:
            ctx.add(
                "activation_vs_loss",
                "warning",
                f"{loss.name} on {len(np.unique(ctx.y))} integer labels treats class 9 as 'more' "
                "than class 1",
                "if these are classes, use one output per class and sparse_categorical_crossentropy",
                "activation_loss_mismatch",
            )
            return
        if kind == "probabilities" and ctx.units > 1:
            ctx.add(
                "activation_vs_loss",
                "warning",
                f"{loss.name} on softmax outputs: a regression loss on probabilities learns slowly",
                "use a cross-entropy loss for classes",
                "activation_loss_mismatch",
            )
            return
        ctx.add("activation_vs_loss", "ok", f"{loss.name} (regression) and {seen}")
        return
    ctx.add("activation_vs_loss", "info", f"{loss.name}: a custom or uncommon loss; {seen}. Not checked.")


def _compiled_metric_objects(model: keras.Model) -> list:
    compiled = getattr(model, "_compile_metrics", None)
    try:
        return list(getattr(compiled, "_user_metrics", None) or getattr(compiled, "metrics", []) or [])
    except Exception:  # noqa: BLE001
        return []


def _check_labels_vs_loss(ctx: _Context) -> None:
    y, loss, units = np.asarray(ctx.y), ctx.loss, ctx.units
    if loss.kind in {"custom", "unknown", "other"}:
        ctx.add(
            "labels_vs_loss",
            "info",
            f"labels of shape {y.shape}; {loss.name} is not a loss the doctor "
            "knows, so the labels were not checked against it",
        )
        return
    if not np.all(np.isfinite(y.astype(np.float64))):
        ctx.fatal = "labels contain NaN or inf"
        ctx.add(
            "labels_vs_loss",
            "problem",
            "the labels contain NaN or inf",
            "drop or repair those rows",
            "label_format",
        )
        return
    one_hot = y.ndim == 2 and y.shape[1] > 1 and set(np.unique(y)) <= {0, 1} and np.all(y.sum(1) == 1)
    integer = (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)) and np.all(np.mod(y, 1) == 0)
    values = np.unique(y)
    shown = ", ".join(_fmt(float(v)) for v in values[:6]) + (" ..." if len(values) > 6 else "")
    if loss.kind == "sparse_ce":
        if one_hot:
            ctx.fatal = "one-hot labels with a sparse loss"
            ctx.add(
                "labels_vs_loss",
                "problem",
                f"one-hot labels of shape {y.shape} with {loss.name}, which "
                "expects one integer class per example: Keras stops with a shape error",
                "use categorical_crossentropy for one-hot labels, or pass y.argmax(axis=1)",
                "label_format",
            )
        elif not integer:
            ctx.fatal = "non-integer labels"
            ctx.add(
                "labels_vs_loss",
                "problem",
                f"labels with values {shown} are not class numbers",
                "classification needs integer labels 0 .. K-1; for numbers to predict use a regression loss",
                "label_format",
            )
        elif values.min() < 0 or values.max() >= units:
            ctx.fatal = "labels out of range"
            ctx.add(
                "labels_vs_loss",
                "problem",
                f"labels run from {int(values.min())} to {int(values.max())}, "
                f"but the model has {units} output units (classes 0 .. {units - 1})",
                "renumber the classes 0 .. K-1 and give the output layer K units",
                "label_format",
            )
        else:
            ctx.add(
                "labels_vs_loss",
                "ok",
                f"integer labels 0 .. {int(values.max())} for {units} output units and {loss.name}",
            )
        return
    if loss.kind == "ce":
        if integer and y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and units > 1):
            ctx.fatal = "integer labels with a one-hot loss"
            ctx.add(
                "labels_vs_loss",
                "problem",
                f"integer labels of shape {y.shape} with {loss.name}, which "
                "expects one-hot rows: Keras stops with a shape error",
                "use sparse_categorical_crossentropy for integer labels, or one-hot encode them",
                "label_format",
            )
        elif y.ndim == 2 and y.shape[1] != units:
            ctx.fatal = "label width"
            ctx.add(
                "labels_vs_loss",
                "problem",
                f"one-hot rows have {y.shape[1]} columns, the model {units} outputs",
                "one column per class, as many output units",
                "label_format",
            )
        elif not np.allclose(y.sum(axis=-1), 1.0, atol=1e-3):
            ctx.add(
                "labels_vs_loss",
                "problem",
                "label rows do not sum to 1: they are not class distributions",
                "one-hot (or probability) rows that sum to 1",
                "label_format",
            )
        else:
            ctx.add("labels_vs_loss", "ok", f"one-hot labels with {y.shape[1]} columns and {loss.name}")
        return
    if loss.kind == "bce":
        if values.min() < 0 or values.max() > 1:
            ctx.add(
                "labels_vs_loss",
                "problem",
                f"binary cross-entropy needs labels in [0, 1], found {shown}: "
                "the loss can go negative and the accuracy compares with impossible values",
                "map the labels to 0 and 1 (for -1/+1: (y + 1) / 2); for more than two classes use "
                "sparse_categorical_crossentropy",
                "label_format",
            )
        elif units > 1 and not (y.ndim == 2 and y.shape[1] == units):
            ctx.fatal = "label width"
            ctx.add(
                "labels_vs_loss",
                "problem",
                f"{units} outputs but labels of shape {y.shape}",
                "one sigmoid unit for a yes/no label",
                "label_format",
            )
        else:
            ctx.add("labels_vs_loss", "ok", f"labels {shown} with {loss.name} and {units} output unit(s)")
        return
    # regression
    ctx.add("labels_vs_loss", "ok", f"real-valued targets of shape {y.shape} with {loss.name}")


def _first_weights_input(ctx: _Context, x: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """What the first layer with weights sees: the inputs after any leading layers (e.g. normalisation)."""
    layers = getattr(ctx.model, "layers", None)
    if not isinstance(ctx.model, keras.Sequential) or not layers:
        return x, []
    h, before = x, []
    for layer in layers:
        if getattr(layer, "kernel", None) is not None:
            break
        h = layer(h, training=True)
        before.append(layer.name)
    return np.asarray(keras.ops.convert_to_numpy(h), dtype=np.float64), before


def _check_input_scale(ctx: _Context) -> None:
    x = ctx.x.reshape(len(ctx.x), -1).astype(np.float64)
    sample = x[ctx.sample]
    seen, before = _first_weights_input(ctx, ctx.x[ctx.sample])
    seen = seen.reshape(len(seen), -1)
    rms = np.sqrt((seen**2).mean(axis=0))
    live = rms[rms > 1e-8]
    raw_rms = np.sqrt((sample**2).mean(axis=0))
    worst = int(np.argmax(rms))
    ctx.facts["input_rms_max"] = float(rms.max()) if rms.size else 0.0
    lo, hi = float(sample.min()), float(sample.max())
    through = f" after {', '.join(before)}" if before else ""
    if before and raw_rms.max() > 3 and rms.max() <= 3:
        ctx.add(
            "input_scale",
            "ok",
            f"raw features reach {_fmt(hi)}, but the model normalises them first "
            f"({', '.join(before)}): the first weights see values of size {_fmt(float(rms.max()))} at most",
        )
        return
    if rms.size and rms.max() > 10:
        ctx.add(
            "input_scale",
            "problem",
            f"features range from {_fmt(lo)} to {_fmt(hi)}{through}; feature "
            f"{worst} has root-mean-square {_fmt(float(rms[worst]))} (standardized features have 1)",
            "standardize: subtract the training mean and divide by the training standard deviation "
            "(StandardScaler fitted on the training split)",
            "unscaled_inputs",
            rms_max=float(rms.max()),
        )
    elif rms.size and (rms.max() > 3 or (live.size and live.max() / live.min() > 100)):
        ctx.add(
            "input_scale",
            "warning",
            f"features{through} have root-mean-square from {_fmt(float(live.min()))}"
            f" to {_fmt(float(live.max()))}: not on one scale",
            "standardize the features",
            "unscaled_inputs",
            rms_max=float(rms.max()),
        )
    else:
        ctx.add(
            "input_scale",
            "ok",
            f"features{through} have root-mean-square at most {_fmt(float(rms.max()))}"
            " (standardized or similar)",
        )


def _check_target_scale(ctx: _Context) -> None:
    if ctx.loss.kind != "regression":
        return
    y = ctx.y.astype(np.float64)
    mean, std = float(y.mean()), float(y.std())
    if std > 0 and (abs(mean) / std > 2 or std > 10 or std < 0.01):
        ctx.add(
            "target_scale",
            "warning",
            f"the target has mean {_fmt(mean)} and standard deviation {_fmt(std)}: "
            "an untrained model predicts about 0, so the first losses and gradients are huge",
            "standardize the target (and undo it for predictions), or initialise the output bias to the "
            "target mean",
            "target_scale",
            mean=mean,
            std=std,
        )
    else:
        ctx.add("target_scale", "ok", f"target mean {_fmt(mean)}, standard deviation {_fmt(std)}")


def _prior(ctx: _Context) -> np.ndarray | None:
    labels = ctx.labels()
    if labels is None:
        return None
    k = 2 if ctx.loss.kind == "bce" else max(ctx.units, int(labels.max()) + 1)
    return np.bincount(labels, minlength=k) / len(labels)


def _check_class_prior(ctx: _Context) -> None:
    if not ctx.classification or ctx.fatal:
        return
    prior = _prior(ctx)
    k = len(prior)
    rare = int(np.argmin(prior))
    share = float(prior[rare])
    ratio = float(prior.max() / max(share, 1e-12))
    if share == 0:
        ctx.add(
            "class_prior",
            "warning",
            f"class {rare} never occurs in the training labels",
            "check the labels, or reduce the number of output units",
        )
        return
    if ratio < 10 and share >= 0.05:
        ctx.add("class_prior", "ok", f"class shares from {share:.1%} to {float(prior.max()):.1%}")
        return
    predicted = ctx.probabilities(ctx.pred0).mean(axis=0)
    start = float(predicted[rare])
    handled = []
    if ctx.class_weight:
        handled.append(f"class_weight {ctx.class_weight}")
    if 0.5 <= start / share <= 2:
        handled.append(f"the untrained model already predicts {start:.1%} for it (output bias set)")
    evidence = (
        f"class {rare} is {share:.1%} of the training labels ({int(round(share * len(ctx.y)))} of "
        f"{len(ctx.y)}); always predicting the majority already scores accuracy {float(prior.max()):.1%}"
    )
    if handled:
        ctx.add(
            "class_prior",
            "info",
            evidence
            + "; handled: "
            + "; ".join(handled)
            + ". Judge the model by recall and PR-AUC, not accuracy.",
        )
        return
    bias = math.log(share / (1 - share)) if k == 2 else None
    fix = (
        "initialise the output bias to log(pos/neg)"
        + (f" = {bias:.2f}" if bias is not None else "")
        + ", pass class_weight to fit, and report recall and PR-AUC instead of accuracy"
    )
    ctx.add(
        "class_prior",
        "warning",
        evidence + f"; the untrained model predicts {start:.1%} on average",
        fix,
        "class_imbalance",
        share=share,
    )


def _check_data_hygiene(ctx: _Context) -> None:
    def rows(a: np.ndarray) -> np.ndarray:
        a = np.ascontiguousarray(a.reshape(len(a), -1))
        return a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).reshape(-1)

    notes, worst, cause = [], "ok", None
    train_rows = rows(ctx.x)
    unique = len(np.unique(train_rows))
    dup = 1 - unique / len(train_rows)
    if dup > 0.05:
        notes.append(f"{dup:.0%} of the training rows are exact duplicates")
        worst, cause = "warning", "data_leak"
    if ctx.x_val is not None:
        overlap = float(np.isin(rows(ctx.x_val), train_rows).mean())
        if overlap > 0.02:
            notes.append(
                f"{overlap:.0%} of the validation rows also appear in the training data: the "
                "validation score is optimistic"
            )
            worst, cause = "warning", "data_leak"
    labels = ctx.labels(ctx.facts.get("all_labels"))
    if labels is not None and len(labels) > 20:
        changes = float(np.mean(labels[1:] != labels[:-1]))
        prior = _prior(ctx)
        expected = 1 - float((prior**2).sum())
        ctx.facts["sortedness"] = 1 - changes / max(expected, 1e-9)
        if changes < 0.5 * expected:
            if ctx.validation_split:
                cut = int(len(labels) * (1 - ctx.validation_split))
                classes = sorted(set(labels[cut:].tolist()))
                notes.append(
                    f"the labels are sorted (only {changes:.1%} of neighbours differ, {expected:.0%} "
                    f"if shuffled) and validation_split={ctx.validation_split} takes the last rows: the "
                    f"validation data holds only classes {classes}"
                )
                worst, cause = "problem", "unshuffled_split"
            elif not ctx.shuffle:
                notes.append("the labels are sorted and shuffle=False: every batch holds one class")
                worst, cause = "warning", "unshuffled_split"
            else:
                notes.append(
                    "the labels are sorted; fit shuffles the training batches, but shuffle before any split"
                )
                worst = max(worst, "info", key=_RANK.__getitem__)
    if not notes:
        ctx.add(
            "data_hygiene",
            "ok",
            f"{len(train_rows)} training rows, {dup:.1%} duplicates"
            + ("" if ctx.x_val is None else ", no training/validation overlap")
            + ("" if labels is None else ", labels in no particular order"),
        )
        return
    fix = {
        "unshuffled_split": "shuffle the rows once before splitting (or split with "
        "sklearn.model_selection.train_test_split(..., stratify=y))",
        "data_leak": "remove duplicates and make sure no example is in both splits",
    }.get(cause, "")
    ctx.add("data_hygiene", worst, "; ".join(notes), fix, cause)


def _check_trainable(ctx: _Context) -> None:
    layers = [layer for layer in _all_layers(ctx.model) if layer.weights and not layer._layers]
    frozen = [
        layer
        for layer in layers
        if not layer.trainable and layer.trainable_weights == [] and any(_is_kernel(w) for w in layer.weights)
    ]
    n_total = sum(int(np.prod(w.shape)) for w in ctx.model.weights)
    n_train = sum(int(np.prod(w.shape)) for w in ctx.model.trainable_weights)
    if n_train == 0:
        ctx.add(
            "trainable_weights",
            "problem",
            f"none of the model's {n_total:,} weights is trainable: fit changes nothing",
            "set model.trainable = True (or the layers you mean to train), then compile again",
            "frozen_layers",
        )
        return
    if frozen:
        names = ", ".join(layer.name for layer in frozen)
        ctx.add(
            "trainable_weights",
            "warning",
            f"{len(frozen)} layer(s) with weights are frozen ({names}): "
            f"{n_total - n_train:,} of {n_total:,} weights will not train. Fine for a pretrained base, not "
            "for layers that were never trained",
            "layer.trainable = True for layers that must learn, then compile again",
            "frozen_layers",
            frozen=[layer.name for layer in frozen],
        )
        return
    ctx.add("trainable_weights", "ok", f"all {n_train:,} weights train")


def _check_training_mode(ctx: _Context, snapshot: _Snapshot) -> None:
    kinds = (
        keras.layers.Dropout,
        keras.layers.BatchNormalization,
        keras.layers.GaussianNoise,
        keras.layers.GaussianDropout,
        keras.layers.AlphaDropout,
        keras.layers.SpatialDropout1D,
    )
    special = [layer for layer in _all_layers(ctx.model) if isinstance(layer, kinds)]
    if not special:
        return
    xb = ctx.x[ctx.sample[: max(ctx.batch_size, 8)]]
    a = np.asarray(keras.ops.convert_to_numpy(ctx.model(xb, training=True)))
    b = np.asarray(keras.ops.convert_to_numpy(ctx.model(xb, training=False)))
    snapshot.restore()
    names = ", ".join(sorted({type(layer).__name__ for layer in special}))
    if np.array_equal(a, b):
        ctx.add(
            "training_mode",
            "problem",
            f"the model holds {names}, yet its output in training mode equals "
            "its output in inference mode: those layers never see training=True",
            "pass `training` on in custom layers' call (or leave it out: Keras passes it for you); "
            "never hard-code training=False inside a model",
            "training_flag",
        )
    else:
        ctx.add(
            "training_mode",
            "ok",
            f"{names} behave differently in training and inference mode, as they "
            "should (largest output difference " + _fmt(float(np.abs(a - b).max())) + ")",
        )


def _check_training_budget(ctx: _Context) -> None:
    n = len(ctx.x)
    steps = math.ceil(n / ctx.batch_size)
    if ctx.epochs is None:
        ctx.add(
            "training_budget",
            "info",
            f"batch size {ctx.batch_size}: {steps} updates per epoch (pass epochs= to check the total)",
        )
        return
    total = steps * ctx.epochs
    if total < 100:
        ctx.add(
            "training_budget",
            "warning",
            f"batch size {ctx.batch_size} on {n} examples gives {steps} "
            f"update(s) per epoch: {ctx.epochs} epochs are only {total} updates",
            "smaller batches (32 to 256) give more updates per epoch; when you change the batch size, tune "
            "the learning rate again",
            "batch_size",
            updates=total,
        )
    else:
        ctx.add("training_budget", "ok", f"{ctx.epochs} epochs x {steps} batches = {total:,} updates")


def _check_monitoring(ctx: _Context) -> None:
    if ctx.x_val is None:
        ctx.add(
            "monitoring",
            "warning",
            "no validation data: nothing shows when the model stops generalising",
            "pass validation_data (or validation_split after shuffling), plot both curves, and consider "
            "TrainingMonitor / TensorBoard",
            "unmonitored",
        )
    else:
        ctx.add("monitoring", "ok", f"validation data: {len(ctx.x_val)} examples")


# ------------------------------------------------------------------------------------ measured checks


def _baseline_loss(ctx: _Context) -> float | None:
    """The best loss without looking at the inputs: the label prior's entropy, or the target's variance."""
    kind = ctx.loss.kind
    if kind in {"sparse_ce", "ce", "bce"}:
        prior = _prior(ctx)
        return _entropy(prior) if prior is not None else None
    if kind == "regression":
        y = ctx.y.astype(np.float64)
        if "absolute" in ctx.loss.name or ctx.loss.name == "mae":
            return float(np.abs(y - np.median(y, axis=0)).mean())
        if "squared" in ctx.loss.name or ctx.loss.name == "mse":
            return float(y.var(axis=0).mean())
    return None


def _uniform_loss(ctx: _Context) -> tuple[float | None, str]:
    """The loss an untrained model should start near, and how it is computed."""
    kind = ctx.loss.kind
    if kind in {"sparse_ce", "ce"}:
        return math.log(ctx.units), f"ln {ctx.units} for {ctx.units} classes"
    if kind == "bce":
        return math.log(2), "ln 2 for a yes/no output"
    if kind == "regression":
        y = ctx.y.astype(np.float64)
        if "squared" in ctx.loss.name or ctx.loss.name == "mse":
            return float((y**2).mean()), "mean^2 + variance of the target (predicting 0)"
        if "absolute" in ctx.loss.name or ctx.loss.name == "mae":
            return float(np.abs(y).mean()), "mean |target| (predicting 0)"
    return None, ""


def _check_initial_loss(ctx: _Context) -> None:
    xs, ys = ctx.x[ctx.sample], ctx.y[ctx.sample]
    measured = ctx.data_loss(xs, ys)
    ctx.facts["initial_loss"] = measured
    expected, how = _uniform_loss(ctx)
    baseline = _baseline_loss(ctx)
    iterations = int(keras.ops.convert_to_numpy(ctx.model.optimizer.iterations)) if ctx.model.optimizer else 0
    if not math.isfinite(measured):
        ctx.add(
            "initial_loss",
            "problem",
            f"the untrained loss is {measured}",
            "look for NaN/inf in the inputs and a loss that takes the log of 0",
            "bad_initialization",
        )
        return
    if expected is None:
        ctx.add(
            "initial_loss", "info", f"initial loss {_fmt(measured)} (no expected value for {ctx.loss.name})"
        )
        return
    if any(f.check == "labels_vs_loss" and f.alarming for f in ctx.findings):
        ctx.add(
            "initial_loss",
            "info",
            f"initial loss {_fmt(measured)}; no expectation holds while the labels do not fit the loss",
        )
        return
    base = f"initial loss {_fmt(measured)}, expected about {_fmt(expected)} ({how})"
    if baseline is not None and measured < 0.5 * baseline and baseline > 1e-6:
        steps = f"; its optimizer has already taken {iterations} steps" if iterations else ""
        ctx.add(
            "initial_loss",
            "warning",
            f"{base}: far below even the best input-free guess "
            f"({_fmt(baseline)}), so the model has already been trained{steps}",
            "build (and compile) a fresh model for every experiment; otherwise each one continues the last",
            "reused_model",
            measured=measured,
            expected=expected,
        )
        return
    margin = 0.5 if ctx.classification else 0.0  # nats: a random init easily starts 0.3 above ln 2
    if measured > 1.5 * expected and measured - expected > margin:
        unscaled = ctx.facts.get("input_rms_max", 0) > 3
        mismatch = any(f.cause == "activation_loss_mismatch" for f in ctx.findings)
        cause = "unscaled_inputs" if unscaled else None if mismatch else "bad_initialization"
        why = (
            "the inputs are not scaled"
            if unscaled
            else "the output and the loss disagree"
            if mismatch
            else "the initial weights are too large (or the last layer's are)"
        )
        ctx.add(
            "initial_loss",
            "problem",
            f"{base}: {measured / expected:.1f}x too high; likely because {why}",
            "standardize the inputs; use Keras' default initializers (Glorot, He for ReLU)",
            cause,
            measured=measured,
            expected=expected,
        )
        return
    ctx.add("initial_loss", "ok", base, measured=measured, expected=expected)


def _check_gradients(ctx: _Context, snapshot: _Snapshot) -> None:
    variables = ctx.model.trainable_variables
    if not variables:
        return
    rng = np.random.default_rng(ctx.seed)
    n_batches = 2 if ctx.quick else 6
    per_batch, global_norms = [], []
    for _ in range(n_batches):
        idx = rng.choice(len(ctx.x), size=min(ctx.batch_size, len(ctx.x)), replace=False)
        _, grads = gradients(ctx.model, ctx.x[idx], ctx.y[idx])
        norms = [float(np.linalg.norm(g)) for g in grads]
        per_batch.append(norms)
        global_norms.append(float(np.sqrt(np.nansum(np.square(norms)))))
        snapshot.restore()
    norms = np.array(per_batch).mean(axis=0)
    kernels = [i for i, v in enumerate(variables) if _is_kernel(v)]
    weights = [float(np.linalg.norm(np.asarray(v.numpy()))) for v in variables]
    table = {_short(variables[i].path): norms[i] for i in kernels}
    ctx.facts["grad_norms"] = table
    ctx.facts["grad_global_p90"] = float(np.percentile(global_norms, 90))
    shown = ", ".join(f"{k} {_fmt(v)}" for k, v in list(table.items())[:12])
    if not np.all(np.isfinite(norms)):
        ctx.add(
            "gradient_norms",
            "problem",
            "some gradients are NaN or inf: " + shown,
            "find the first NaN (inputs, log of 0, too large a learning rate); clip gradients "
            "(global_clipnorm) only as a guard",
            "exploding_gradients",
            norms=table,
        )
        return
    if np.all(norms == 0):
        ctx.add(
            "gradient_norms",
            "problem",
            "every gradient is exactly 0: the loss does not depend on the "
            "weights (a custom loss that returns a constant, or that goes through sign, round, argmax or a "
            "cap that saturates)",
            "use a loss that changes smoothly with the predictions, e.g. Keras' own cross-entropy",
            "constant_loss",
            norms=table,
        )
        return
    if not kernels:
        ctx.add("gradient_norms", "info", "no weight matrices to compare: " + shown)
        return
    first, last = norms[kernels[0]], norms[kernels[-1]]
    ratio = first / last if last > 0 else float("nan")
    relative = max((norms[i] / weights[i] for i in kernels if weights[i] > 0), default=0.0)
    ctx.facts["grad_ratio"] = ratio
    ctx.facts["grad_relative"] = relative
    evidence = (
        f"gradient norms per weight matrix, input to output: {shown}; first/last = {_fmt(ratio)}; "
        f"90th percentile of the total norm over {n_batches} batches {_fmt(ctx.facts['grad_global_p90'])}"
    )
    dead = [k for k, i in zip(table, kernels, strict=True) if norms[i] == 0]
    if dead:
        ctx.add(
            "gradient_norms",
            "warning",
            evidence + f"; no gradient at all reaches {', '.join(dead)}",
            "dead ReLUs (every unit off for every input, often after too large a step) or a layer the loss "
            "does not depend on: lower the learning rate and rebuild; He init or LeakyReLU help",
            None,
            norms=table,
        )
    elif len(kernels) >= 2 and ratio < 1e-3:
        ctx.add(
            "gradient_norms",
            "problem",
            evidence + ": the gradient vanishes on its way to the first layers",
            "ReLU (or GELU) with He initialization, BatchNormalization, or fewer layers; saturating "
            "activations (sigmoid, tanh) in deep stacks starve the first layers",
            "vanishing_gradients",
            norms=table,
            ratio=ratio,
        )
    elif (len(kernels) >= 2 and ratio > 1e3) or relative > 3:
        ctx.add(
            "gradient_norms",
            "problem",
            evidence + f"; the largest gradient is {_fmt(relative)}x the norm "
            "of its weights: one step would throw the weights far away",
            "standardize the inputs and check the initialization; clip with global_clipnorm near the 90th "
            f"percentile ({_fmt(ctx.facts['grad_global_p90'])}) as a guard, not a cure",
            "exploding_gradients",
            norms=table,
            ratio=ratio,
        )
    else:
        ctx.add("gradient_norms", "ok", evidence, norms=table, ratio=ratio)


def _lr_variable(model: keras.Model) -> float | None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not isinstance(getattr(optimizer, "_learning_rate", None), keras.Variable):
        return None
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class _Trainer:
    """Short trainings of the model on prepared batches, always from the snapshot it started from."""

    def __init__(self, ctx: _Context, snapshot: _Snapshot) -> None:
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
    ) -> _StepRecorder:
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
        recorder = _StepRecorder(
            lrs=lrs, val=val, every=val_every, stop_above=stop_above, after_first_step=after_first_step
        )
        ctx.model.fit(
            x,
            ctx.y[idx],
            batch_size=len(batch) if batch is not None else self.bs,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[recorder],
            class_weight=ctx.class_weight,
        )
        _sync(ctx.model)
        return recorder


def _smooth_end(losses: Sequence[float], frac: float = 0.2) -> float:
    arr = np.asarray(losses, dtype=np.float64)
    if arr.size == 0:
        return float("nan")
    if not np.all(np.isfinite(arr)):
        return float("nan")
    k = max(1, int(len(arr) * frac))
    return float(arr[-k:].mean())


def _kernel_values(model: keras.Model) -> dict[str, np.ndarray]:
    return {v.path: np.array(v.numpy(), copy=True) for v in model.trainable_variables if _is_kernel(v)}


def _check_update_ratio(ctx: _Context) -> None:
    """One step of the learner's optimizer, measured during the probe: |change| / |weights| per matrix."""
    before, after = ctx.facts.get("kernels_before"), ctx.facts.get("kernels_after")
    if not before or not after:
        return
    ratios = {}
    for path, w in before.items():
        norm = float(np.linalg.norm(w))
        if norm > 0 and path in after:
            ratios[_short(path)] = float(np.linalg.norm(after[path] - w) / norm)
    if not ratios:
        return
    values = np.array(list(ratios.values()))
    median = float(np.median(values)) if np.all(np.isfinite(values)) else float("nan")
    ctx.facts["update_ratio"] = median
    lr = _lr_variable(ctx.model)
    shown = ", ".join(f"{k} {_fmt(v)}" for k, v in list(ratios.items())[:8])
    evidence = (
        f"one step of your optimizer{'' if lr is None else f' (learning rate {_fmt(lr)})'} changes the "
        f"weight matrices by {shown} of their norm (median {_fmt(median)}; about 1e-3 is typical)"
    )
    if not math.isfinite(median) or median > 0.3:
        ctx.add(
            "update_ratio",
            "warning",
            evidence + ": steps that large throw the weights around",
            "lower the learning rate (a sweep finds how far)",
            "lr_too_high",
            ratios=ratios,
        )
    elif median < 3e-6:
        ctx.add(
            "update_ratio",
            "warning",
            evidence + ": steps that small barely move the weights",
            "raise the learning rate (a sweep finds how far)",
            "lr_too_low",
            ratios=ratios,
        )
    else:
        ctx.add("update_ratio", "ok" if 1e-5 <= median <= 0.05 else "info", evidence, ratios=ratios)


def _check_probe(ctx: _Context, trainer: _Trainer) -> dict:
    """A short training at your learning rate; the curve rules read it (and the history, if given)."""
    steps = 120 if ctx.quick else 400
    if ctx.epochs:
        steps = min(steps, max(40, ctx.epochs * math.ceil(len(ctx.x) / trainer.bs)))
    every = max(1, steps // 10)
    ctx.facts["kernels_before"] = _kernel_values(ctx.model)
    rec = trainer.run(steps, val_every=every, after_first_step=lambda: _kernel_values(ctx.model))
    ctx.facts["kernels_after"] = rec.first_step
    probe = {"losses": rec.losses, "val": rec.val_losses, "steps": steps}
    ctx.facts["probe"] = probe
    ctx.facts["probe_model_outputs"] = ctx.predict(ctx.x[ctx.sample])
    if ctx.x_val is not None:
        ctx.facts["probe_val_outputs"] = ctx.predict(ctx.x_val[:1024])
    trainer.snapshot.restore()
    return probe


def _curve_rules(
    ctx: _Context, train: Sequence[float], val: Sequence[float] | None, unit: str, source: str
) -> None:
    """NaN, explosion, stuck at ln K, training loss rising, validation diverging: read from a loss curve."""
    check = "curves" if source == "probe" else "history"
    train = np.asarray(train, dtype=np.float64)
    if train.size < 3:
        return
    uniform, _ = _uniform_loss(ctx)
    baseline = _baseline_loss(ctx)
    chance = baseline if baseline is not None else uniform
    where = (
        f"in {len(train)} {unit}s of training at your learning rate"
        if source == "probe"
        else f"in your history ({len(train)} {unit}s)"
    )
    chunks = np.array_split(train, min(10, len(train)))
    means = np.array([c.mean() if np.all(np.isfinite(c)) else np.nan for c in chunks])
    if not np.all(np.isfinite(train)):
        first = int(np.argmax(~np.isfinite(train)))
        ctx.add(
            check,
            "problem",
            f"the loss became NaN/inf at {unit} {first + 1} {where}",
            "lower the learning rate; standardize inputs and targets; TerminateOnNaN stops the run, it does "
            "not fix it",
            "lr_too_high",
        )
        return
    start, end, low = float(means[0]), float(means[-1]), float(means.min())
    ctx.facts[f"{check}_end"] = end
    spike = float(train[: max(3, len(train) // 5)].max())
    stuck = (
        chance is not None
        and ctx.classification
        and abs(end - chance) < 0.03 * max(chance, 1e-6)
        and abs(means[-3:].max() - means[-3:].min()) < 0.03 * max(chance, 1e-6)
    )
    if stuck:
        after_spike = spike > 3 * max(chance, 1e-6)
        ctx.add(
            check,
            "problem",
            f"the loss sits at {_fmt(end)}, the loss of always guessing the label prior "
            f"({_fmt(chance)}) {where}"
            + (f", after a spike to {_fmt(spike)}" if after_spike else "")
            + ": the model predicts the same for every input",
            "after a spike: lower the learning rate; from the start: check gradients (vanishing, dead units) "
            "and the loss",
            None
            if not after_spike
            else "exploding_gradients"
            if ctx.facts.get("grad_relative", 0) > 3
            else "lr_too_high",
            end=end,
            chance=chance,
        )
        return
    if end > 1.2 * low and end > low + 0.05 and len(means) >= 4:
        ctx.add(
            check,
            "problem",
            f"the training loss rises: lowest {_fmt(low)}, now {_fmt(end)} {where}",
            "a rising training loss means steps that overshoot (lower the learning rate) or a bug",
            "lr_too_high",
            start=start,
            end=end,
        )
        return
    if val is not None and len(val) >= 4 and ctx.class_weight and source == "probe":
        val = None  # with class_weight the training loss is weighted and the validation loss is not
    if val is not None and len(val) >= 4:
        v = np.asarray(val, dtype=np.float64)
        best = int(np.nanargmin(v))
        tail = v[-3:]
        if (
            np.all(np.isfinite(tail))
            and np.all(tail > 1.1 * v[best])
            and v[-1] > 1.2 * v[best]
            and v[-1] - v[best] > 0.05
            and best < len(v) - 3
            and end < start
        ):
            ctx.add(
                check,
                "warning",
                f"validation loss fell to {_fmt(float(v[best]))}, then rose to "
                f"{_fmt(float(v[-1]))} while the training loss kept falling to {_fmt(end)} {where}",
                "regularize (Dropout, L2), get more data, or stop early "
                "(EarlyStopping(restore_best_weights=True))",
                "overfitting",
                val_best=float(v[best]),
                val_end=float(v[-1]),
            )
            return
    ctx.add(
        check,
        "ok",
        f"loss {_fmt(start)} -> {_fmt(end)} {where}"
        + (
            ""
            if val is None or len(val) == 0
            else f"; validation {_fmt(float(val[0]))} -> {_fmt(float(val[-1]))}"
        ),
        start=start,
        end=end,
    )


def _check_label_quality(ctx: _Context) -> None:
    if not ctx.classification or ctx.fatal or "probe_model_outputs" not in ctx.facts:
        return
    if any(f.cause in {"label_format", "activation_loss_mismatch"} for f in ctx.findings if f.alarming):
        return
    parts = []
    for name, outputs, y in (
        ("training", ctx.facts["probe_model_outputs"], ctx.y[ctx.sample]),
        ("validation", ctx.facts.get("probe_val_outputs"), None if ctx.y_val is None else ctx.y_val[:1024]),
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
    ctx.facts["contradicted"] = dict(parts)
    evidence = (
        "after the short training, the model gives less than 10% probability to the label of "
        + ", ".join(f"{v:.1%} of the {n} examples" for n, v in parts)
    )
    end = ctx.facts.get("curves_end")
    learnt = end is not None and _baseline_loss(ctx) is not None and end < 0.9 * _baseline_loss(ctx)
    if worst > 0.15 and learnt:
        ctx.add(
            "label_quality",
            "warning",
            evidence + ": many labels disagree with what the rest of the data teaches",
            "inspect the examples the model contradicts most confidently; fix or drop wrong labels",
            "label_noise",
            contradicted=worst,
        )
    else:
        ctx.add("label_quality", "ok", evidence, contradicted=worst)


def _check_input_independent(ctx: _Context, trainer: _Trainer) -> None:
    steps = 60 if ctx.quick else 200
    xs, ys = ctx.x[ctx.sample], ctx.y[ctx.sample]
    again = trainer.run(steps)  # the probe's first steps again: also the determinism check
    ctx.facts["repeat"] = again.losses
    r = ctx.data_loss(xs, ys, weighted=True)
    trainer.snapshot.restore()
    trainer.run(steps, zero_inputs=True)
    z = ctx.data_loss(np.zeros_like(xs), ys, weighted=True)
    trainer.snapshot.restore()
    ctx.facts["zero_inputs"] = (r, z)
    if not (math.isfinite(r) and math.isfinite(z)):
        ctx.add(
            "zeroed_inputs", "info", f"after {steps} steps: real inputs {_fmt(r)}, zeroed inputs {_fmt(z)}"
        )
        return
    evidence = (
        f"after {steps} steps the loss (without regularization) is {_fmt(r)} with the real inputs and "
        f"{_fmt(z)} with all inputs set to 0"
    )
    if r >= 0.95 * z:
        ctx.add(
            "zeroed_inputs",
            "warning",
            evidence + ": the inputs do not help the model",
            "check that inputs and labels belong together (shuffled separately? noisy labels?) and that "
            "the model can use them",
            "label_noise",
            real=r,
            zero=z,
        )
    else:
        ctx.add("zeroed_inputs", "ok", evidence, real=r, zero=z)


def _check_overfit_one_batch(ctx: _Context, trainer: _Trainer) -> None:
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
    ctx.facts["one_batch"] = (start, end, accuracy)
    evidence = f"{steps} steps on one batch of {size}: loss {_fmt(start)} -> {_fmt(end)}" + (
        "" if accuracy is None else f", batch accuracy {accuracy:.0%}"
    )
    if math.isfinite(end) and (accuracy == 1.0 if accuracy is not None else end < 0.1 * start):
        ctx.add(
            "overfit_one_batch", "ok", evidence + ": the model can memorise a batch", start=start, end=end
        )
        return
    if math.isfinite(end) and math.isfinite(start) and abs(end - start) <= 1e-6 * max(abs(start), 1):
        ctx.add(
            "overfit_one_batch",
            "problem",
            evidence + ": the loss did not move at all",
            "something stops learning entirely: a constant loss, zero gradients or frozen weights",
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
            "overfit_one_batch",
            "info",
            evidence + ": still falling when the probe stopped, so not conclusive",
            start=start,
            end=end,
        )
        return
    ctx.add(
        "overfit_one_batch",
        "warning",
        evidence + ": the loss levelled off before the model memorised one batch",
        "a model that cannot fit one batch is too small or broken: add units or layers, then "
        "check the other findings",
        "underfitting",
        start=start,
        end=end,
    )


def _check_lr(ctx: _Context, trainer: _Trainer) -> None:
    lr = _lr_variable(ctx.model)
    if lr is None:
        ctx.add(
            "lr_sweep",
            "info",
            "the optimizer uses a schedule (or has none): the range test needs a constant "
            "learning rate, skipped",
        )
        return
    steps = 100 if ctx.quick else 200
    grid = np.logspace(-6, 1, steps)
    probe = ctx.facts.get("probe", {})
    start = ctx.facts.get("initial_loss", float("nan"))
    rec = trainer.run(steps, lrs=grid, stop_above=max(4 * start, 4 * (_uniform_loss(ctx)[0] or 0), 10.0))
    trainer.snapshot.restore()
    losses = np.asarray(rec.losses, dtype=np.float64)
    smooth = _ema(losses)
    n = len(smooth)
    if n < 10 or not np.any(np.isfinite(smooth)):
        ctx.add("lr_sweep", "info", "the range test stopped at once: the loss blew up at the smallest rates")
        return
    best = int(np.nanargmin(smooth[:n]))
    lr_min = float(grid[best])
    suggestion = lr_min / 10
    ctx.facts["lr_suggestion"] = suggestion
    at_edge = best >= len(grid) - 3
    baseline = _baseline_loss(ctx)
    first = _smooth_start(probe.get("losses", []))
    end = _smooth_end(probe.get("losses", []))
    fall = 1 - end / first if math.isfinite(first) and first > 0 and math.isfinite(end) else float("nan")
    at_chance = (
        baseline is not None and math.isfinite(end) and abs(end - baseline) < 0.05 * max(baseline, 1e-9)
    )
    ctx.facts["progress"] = fall
    evidence = (
        f"range test (learning rate 1e-6 -> 10 over {steps} steps): lowest smoothed loss at {_fmt(lr_min)}, "
        f"suggesting about {_fmt(suggestion)}; yours is {_fmt(lr)}; in the short training at your rate "
        f"the loss went {_fmt(first)} -> {_fmt(end)}"
        + (f", the loss of an input-free guess ({_fmt(baseline)})" if at_chance else "")
    )
    if at_edge:
        evidence += "; the lowest loss is at the edge of the range"
    if float(np.nanmax(smooth) - np.nanmin(smooth)) < 0.01 * max(abs(float(np.nanmin(smooth))), 1e-9):
        ctx.add("lr_sweep", "info", evidence + ": the loss does not respond to the learning rate at all")
        return
    poor = not math.isfinite(fall) or fall < 0.2 or at_chance
    if poor and lr > 10 * suggestion:
        ctx.add(
            "lr_sweep",
            "problem",
            evidence + ": your rate is far above the range where the loss falls, and "
            "the loss does not fall at it",
            f"try about {_fmt(suggestion)} (then tune by factors of 3)",
            "lr_too_high",
            lr=lr,
            suggestion=suggestion,
        )
    elif poor and lr < suggestion / 30:
        ctx.add(
            "lr_sweep",
            "problem",
            evidence + ": your rate is far below the range where the loss falls fast, "
            "and the loss barely moves at it",
            f"try about {_fmt(suggestion)} (then tune by factors of 3)",
            "lr_too_low",
            lr=lr,
            suggestion=suggestion,
        )
    else:
        ctx.add("lr_sweep", "ok" if not poor else "info", evidence, lr=lr, suggestion=suggestion)


def _smooth_start(losses: Sequence[float], frac: float = 0.1) -> float:
    arr = np.asarray(losses, dtype=np.float64)
    if arr.size == 0 or not np.all(np.isfinite(arr[: max(1, int(len(arr) * frac))])):
        return float("nan")
    return float(arr[: max(1, int(len(arr) * frac))].mean())


def _ema(values: np.ndarray, beta: float = 0.9) -> np.ndarray:
    out, avg = np.empty_like(values), 0.0
    for i, v in enumerate(values):
        avg = beta * avg + (1 - beta) * v
        out[i] = avg / (1 - beta ** (i + 1))
    return out


def _check_determinism(ctx: _Context, trainer: _Trainer) -> None:
    if "repeat" not in ctx.facts:
        ctx.facts["repeat"] = trainer.run(60 if ctx.quick else 200).losses
        trainer.snapshot.restore()
    a, b = ctx.facts.get("probe", {}).get("losses", []), ctx.facts.get("repeat", [])
    if not a or not b:
        return
    steps = min(len(a), len(b))
    a, b = a[:steps], b[:steps]
    same = np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    notes = [
        f"the same start trained twice for {steps} steps gives "
        + ("identical losses" if same else f"different losses ({_fmt(a[-1])} vs {_fmt(b[-1])})")
    ]
    if not same:
        ctx.add(
            "determinism",
            "warning",
            notes[0] + ": something in the training is not seeded or not deterministic",
            "keras.utils.set_random_seed(seed); avoid unseeded NumPy generators in the data pipeline",
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
        equal = len(first) == len(second) and all(
            np.array_equal(p, q) for p, q in zip(first, second, strict=True)
        )
        if not equal:
            gap = max(
                float(np.abs(p - q).max()) for p, q in zip(first, second, strict=True) if p.shape == q.shape
            )
            ctx.add(
                "determinism",
                "warning",
                notes[0] + "; but two calls of your build function start from "
                f"different weights (largest difference {_fmt(gap)}): each experiment depends on what ran "
                "before it",
                "call keras.utils.set_random_seed(seed) at the start of every experiment, and "
                "compare settings over a few seeds",
                "not_reproducible",
            )
            return
        notes.append("two calls of your build function give identical weights")
    ctx.add("determinism", "ok", "; ".join(notes))


def _check_history(ctx: _Context) -> None:
    if not ctx.history:
        return
    data = getattr(ctx.history, "history", ctx.history)
    if "loss" not in data:
        return
    _curve_rules(ctx, data["loss"], data.get("val_loss"), "epoch", "history")


def _resolve(ctx: _Context) -> None:
    """Differential diagnosis: blame a failure on its likeliest cause and drop the consequences."""

    def demote(f: Finding, why: str) -> None:
        f.cause = None
        f.severity = "info"
        f.evidence += f" ({why})"

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
    }
    for f in alarms:
        if f.check in {"lr_sweep", "update_ratio"} and f.cause == "lr_too_low" and blocked:
            demote(f, "a larger rate would only push harder against " + ", ".join(CAUSES[c] for c in blocked))
        elif (
            f.check in {"lr_sweep", "update_ratio"} and f.cause in {"lr_too_low", "lr_too_high"} and distorted
        ):
            demote(f, "not trusted while " + ", ".join(CAUSES[c] for c in sorted(distorted)) + " distorts it")
    named = {f.cause for f in ctx.findings if f.alarming and f.cause}
    mechanical = [c for c in _MECHANICAL if c in named]
    problems = {f.cause for f in ctx.findings if f.severity == "problem" and f.cause in _MECHANICAL}
    split = "unshuffled_split" in named
    for f in ctx.findings:
        if not f.alarming:
            continue
        # 2. A model that cannot learn at all cannot memorise a batch either.
        if f.check == "overfit_one_batch" and f.cause == "underfitting" and mechanical:
            f.cause = mechanical[0]
            f.evidence += f" (explained by {CAUSES[mechanical[0]]})"
        elif (
            f.check == "overfit_one_batch"
            and f.cause == "constant_loss"
            and "constant_loss"
            not in {g.cause for g in ctx.findings if g.check == "gradient_norms" and g.alarming}
        ):
            others = [c for c in ("frozen_layers", "lr_too_low", "vanishing_gradients") if c in named]
            if others:
                f.cause = others[0]
        # 3. Conclusions drawn from the data need a model that learns and an honest validation split.
        elif f.check in {"zeroed_inputs", "label_quality"} and (mechanical or split):
            demote(
                f,
                "not trusted while "
                + CAUSES["unshuffled_split" if split else mechanical[0]]
                + " is unresolved",
            )
        elif f.check in {"curves", "history"} and f.cause == "overfitting" and (problems or split):
            demote(
                f,
                "look again once "
                + CAUSES["unshuffled_split" if split else sorted(problems)[0]]
                + " is fixed",
            )
        elif (
            f.check in {"curves", "history"}
            and f.severity == "problem"
            and (f.cause is None or (f.cause == "lr_too_high" and "lr_too_high" not in problems))
        ):
            root = [c for c in mechanical if c != "lr_too_high"]
            if root:
                f.cause = root[0]


# ------------------------------------------------------------------------------------------ examine


CHECKS = (
    "activation_vs_loss",
    "labels_vs_loss",
    "input_scale",
    "target_scale",
    "initial_loss",
    "overfit_one_batch",
    "zeroed_inputs",
    "gradient_norms",
    "update_ratio",
    "lr_sweep",
    "class_prior",
    "data_hygiene",
    "curves",
    "determinism",
    "label_quality",
    "trainable_weights",
    "training_mode",
    "training_budget",
    "monitoring",
    "history",
)


def examine(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    validation_data: tuple | None = None,
    validation_split: float | None = None,
    batch_size: int | None = 32,
    epochs: int | None = None,
    class_weight: dict | None = None,
    shuffle: bool = True,
    history: Any = None,
    build: Callable[[], keras.Model] | None = None,
    quick: bool = True,
    seed: int = 0,
    only: Iterable[str] | None = None,
    skip: Iterable[str] = (),
) -> Report:
    """Run the doctor's checks on a compiled model and its training data; return a ``Report``.

    Pass what you pass to ``fit`` (validation_data or validation_split, batch_size, epochs, class_weight,
    shuffle), and optionally a ``history`` to read its curves and a ``build`` function (no arguments,
    returns a fresh compiled model) to check that experiments are reproducible. ``quick=True`` keeps it to a
    few seconds for small models; ``quick=False`` trains longer probes. ``only`` runs just the named checks
    (and what they need), ``skip`` leaves checks out; the names are in ``CHECKS``.
    The model (weights, BatchNorm statistics, optimizer state) is restored exactly before returning.
    """
    started = time.perf_counter()
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", False):
        raise ValueError("examine needs a compiled model: call model.compile(optimizer=..., loss=...) first")
    x, y = _as_array(x, "x"), _as_array(y, "y")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    x_val = y_val = None
    if validation_data is not None:
        x_val, y_val = _as_array(validation_data[0], "x_val"), _as_array(validation_data[1], "y_val")
    elif validation_split:
        cut = int(len(x) * (1 - validation_split))
        x, x_val, y, y_val = x[:cut], x[cut:], y[:cut], y[cut:]
    x = x.astype(np.float32) if x.dtype.kind in "fiub" else x
    if x_val is not None and x_val.dtype.kind in "fiub":
        x_val = x_val.astype(np.float32)
    ctx = _Context(
        model,
        x,
        y,
        x_val,
        y_val,
        int(batch_size or 32),
        epochs,
        validation_split,
        class_weight,
        shuffle,
        history,
        build,
        quick,
        seed,
        loss_info(model.loss),
    )
    if validation_split and validation_data is None:
        ctx.facts["all_labels"] = np.concatenate([y, y_val])  # sortedness is a property of the whole array
    unknown = (set(only or ()) | set(skip)) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown check(s) {sorted(unknown)}; the checks are {list(CHECKS)}")
    wanted = (set(only) if only is not None else set(CHECKS)) - set(skip)
    rng = np.random.default_rng(seed)
    ctx.sample = np.sort(rng.choice(len(ctx.x), size=min(len(ctx.x), 1024), replace=False))

    with warnings.catch_warnings():  # the report says what Keras would warn about, with evidence
        warnings.simplefilter("ignore")
        _run_checks(ctx, wanted)
    return Report(ctx.findings, time.perf_counter() - started)


# What each check needs measured first (it reads the facts those measurements leave behind).
_NEEDS = {
    "curves": {"initial_loss", "gradient_norms"},
    "update_ratio": {"curves"},
    "label_quality": {"curves"},
    "lr_sweep": {"curves"},
    "determinism": {"curves"},
    "overfit_one_batch": {"initial_loss"},
}
_STATIC = (
    "trainable_weights",
    "activation_vs_loss",
    "labels_vs_loss",
    "input_scale",
    "target_scale",
    "class_prior",
    "data_hygiene",
    "training_budget",
    "monitoring",
    "training_mode",
)


def _closure(wanted: set[str]) -> set[str]:
    needed = set(wanted) | set(_STATIC)  # static checks are cheap and inform the others' conclusions
    while True:
        more = set().union(*(_NEEDS.get(c, set()) for c in needed)) - needed
        if not more:
            return needed
        needed |= more


def _run_checks(ctx: _Context, wanted: set[str]) -> None:
    model, run = ctx.model, _closure(wanted)
    snapshot = _Snapshot(model)
    try:
        ctx.pred0 = ctx.predict(ctx.x[ctx.sample])
        snapshot.restore()
        static = [
            ("trainable_weights", _check_trainable),
            ("activation_vs_loss", _check_activation_vs_loss),
            ("labels_vs_loss", _check_labels_vs_loss),
            ("input_scale", _check_input_scale),
            ("target_scale", _check_target_scale),
            ("class_prior", _check_class_prior),
            ("data_hygiene", _check_data_hygiene),
            ("training_budget", _check_training_budget),
            ("monitoring", _check_monitoring),
        ]
        for name, fn in static:
            _guard(ctx, name, fn, ctx)
        _guard(ctx, "training_mode", _check_training_mode, ctx, snapshot)
        if ctx.fatal:
            ctx.add(
                "training",
                "info",
                f"training checks skipped: Keras cannot train with these labels ({ctx.fatal})",
            )
        else:
            if "initial_loss" in run:
                _guard(ctx, "initial_loss", _check_initial_loss, ctx)
                snapshot.restore()
            if "gradient_norms" in run:
                _guard(ctx, "gradient_norms", _check_gradients, ctx, snapshot)
                for f in ctx.findings:
                    if f.check == "gradient_norms" and "grad_global_p90" in ctx.facts:
                        f.values["p90"] = ctx.facts["grad_global_p90"]
            trainer = _Trainer(ctx, snapshot)
            if "curves" in run:
                probe = _guard(ctx, "curves", _check_probe, ctx, trainer)
                snapshot.restore()
                if probe:
                    _curve_rules(ctx, probe["losses"], [v for _, v in probe["val"]] or None, "step", "probe")
                    for name, fn in (
                        ("update_ratio", _check_update_ratio),
                        ("label_quality", _check_label_quality),
                    ):
                        if name in run:
                            _guard(ctx, name, fn, ctx)
            for name, fn in (
                ("lr_sweep", _check_lr),
                ("overfit_one_batch", _check_overfit_one_batch),
                ("zeroed_inputs", _check_input_independent),
            ):
                if name in run:
                    _guard(ctx, name, fn, ctx, trainer)
                    snapshot.restore()
            if "determinism" in run:
                _guard(ctx, "determinism", _check_determinism, ctx, trainer)
                snapshot.restore()
        if "history" in run:
            _guard(ctx, "history", _check_history, ctx)
        _resolve(ctx)
        ctx.findings[:] = [f for f in ctx.findings if f.check in wanted or f.check == "training"]
    finally:
        snapshot.restore()


def _guard(ctx: _Context, name: str, fn: Callable, *args: Any) -> Any:
    """Run one check; a check that raises becomes a finding instead of ending the examination."""
    started = time.perf_counter()
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - the report says what went wrong
        message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        ctx.add(
            name,
            "problem",
            f"the check could not run: {type(exc).__name__}: {message}",
            "Keras cannot train this model on these data as they are: read the error above",
        )
        return None
    finally:
        ctx.facts.setdefault("seconds", {})[name] = time.perf_counter() - started


# ------------------------------------------------------------------------------------- the callback


class TrainingMonitor(keras.callbacks.Callback):
    """Watches a training and says why it goes wrong: NaN, stuck at ln K, training loss rising, validation
    loss diverging. Messages print on stdout once per kind; ``monitor.findings`` keeps them.

    ``n_classes``: for the ln K rule (read from the model's output when omitted; None for regression).
    ``stop_on_nan``: stop the training at the first NaN (the message explains it; nothing is hidden).
    ``gradient_batch``: an (x, y) batch; when given, the gradient norm of every weight matrix and the learning
    rate are added to the logs each epoch, so History and TensorBoard record them.
    """

    def __init__(
        self,
        n_classes: int | None = None,
        *,
        patience: int = 3,
        stop_on_nan: bool = True,
        gradient_batch: tuple[np.ndarray, np.ndarray] | None = None,
        verbose: bool = True,
    ) -> None:
        super().__init__()
        self.n_classes, self.patience, self.stop_on_nan = n_classes, patience, stop_on_nan
        self.gradient_batch, self.verbose = gradient_batch, verbose
        self.findings: list[Finding] = []
        self.losses: list[float] = []
        self.val_losses: list[float] = []

    @property
    def causes(self) -> list[str]:
        return list(dict.fromkeys(f.cause for f in self.findings if f.cause))

    def _say(self, kind: str, evidence: str, fix: str, cause: str | None, severity: str = "problem") -> None:
        if any(f.check == kind for f in self.findings):
            return
        finding = Finding(kind, severity, evidence, fix, cause)
        self.findings.append(finding)
        if self.verbose:
            print(f"TrainingMonitor: {evidence}. Fix: {fix}.", flush=True)

    def on_train_begin(self, logs=None) -> None:  # noqa: ANN001
        self.findings, self.losses, self.val_losses = [], [], []
        if self.n_classes is None:
            info = loss_info(getattr(self.model, "loss", None))
            if info.kind in {"sparse_ce", "ce"}:
                units = self.model.outputs[0].shape[-1] if getattr(self.model, "outputs", None) else None
                self.n_classes = int(units) if units else None
            elif info.kind == "bce":
                self.n_classes = 2

    def on_train_batch_end(self, batch, logs=None) -> None:  # noqa: ANN001
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            epoch = len(self.losses) + 1
            self._say(
                "nan",
                f"the loss became {float(loss)} in epoch {epoch}, batch {int(batch) + 1}",
                "lower the learning rate, standardize inputs and targets, look for log(0) in a custom loss",
                "lr_too_high",
            )
            if self.stop_on_nan:
                self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None) -> None:  # noqa: ANN001
        logs = logs if logs is not None else {}
        if "loss" not in logs:
            return
        loss = float(logs["loss"])
        self.losses.append(loss)
        if "val_loss" in logs:
            self.val_losses.append(float(logs["val_loss"]))
        if self.gradient_batch is not None:
            self._log_gradients(logs)
        if not math.isfinite(loss):
            return
        p = self.patience
        stuck = False
        if self.n_classes and len(self.losses) >= p:
            chance = math.log(self.n_classes)
            recent = self.losses[-p:]
            stuck = all(abs(v - chance) < 0.05 * chance for v in recent)
            if stuck:
                spike = max(self.losses) > 3 * chance
                self._say(
                    "stuck",
                    f"the loss has sat at {recent[-1]:.3f}, close to ln {self.n_classes} = {chance:.3f}, for "
                    f"{p} epochs"
                    + (f" after a spike to {max(self.losses):.4g}" if spike else "")
                    + ": the model gives every input the same prediction",
                    "lower the learning rate: the large steps threw the weights where every unit is dead or "
                    "saturated"
                    if spike
                    else "check the gradients (vanishing, dead units), the loss and the learning rate",
                    "lr_too_high" if spike else None,
                )
        if (
            not stuck
            and len(self.losses) > p
            and self.losses[-1] > 1.05 * self.losses[-p - 1]
            and all(b > a for a, b in zip(self.losses[-p - 1 : -1], self.losses[-p:], strict=True))
        ):
            self._say(
                "rising",
                f"the training loss has risen for {p} epochs in a row "
                f"({self.losses[-p - 1]:.4g} -> {loss:.4g})",
                "lower the learning rate; a training loss that rises is never overfitting",
                "lr_too_high",
            )
        v = self.val_losses
        if len(v) > p:
            best = min(v)
            train_falling = self.losses[-1] < self.losses[-p - 1]
            if (
                v[-1] > 1.1 * best
                and all(b > a for a, b in zip(v[-p - 1 : -1], v[-p:], strict=True))
                and train_falling
            ):
                self._say(
                    "diverging",
                    f"validation loss has risen for {p} epochs (best {best:.4g}, now {v[-1]:.4g}) "
                    "while the training loss falls",
                    "the model is overfitting: regularize (Dropout, L2) or "
                    "stop early (EarlyStopping(restore_best_weights=True))",
                    "overfitting",
                    "warning",
                )

    def _log_gradients(self, logs: dict) -> None:
        x, y = self.gradient_batch
        _, grads = gradients(self.model, x, y)
        total = 0.0
        for v, g in zip(self.model.trainable_variables, grads, strict=True):
            norm = float(np.linalg.norm(g))
            total += norm**2
            if _is_kernel(v):
                logs[f"grad_norm/{_short(v.path)}"] = norm
        logs["grad_norm/total"] = math.sqrt(total)
        lr = _lr_variable(self.model)
        if lr is not None:
            logs["learning_rate"] = lr


# ---------------------------------------------------------------------------------------------- misc


def tensorboard_available() -> bool:
    """Whether keras.callbacks.TensorBoard can write (it needs TensorFlow and the tensorboard package)."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("tensorflow", "tensorboard"))


def read_tensorboard(logdir: str) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """The scalars the TensorBoard callback wrote under `logdir`: {run: {tag: [(step, value), ...]}}.

    Reads the event files with TensorFlow's record reader (the TensorBoard callback needs TensorFlow
    installed anyway); no TensorBoard server is started.
    """
    from pathlib import Path

    import tensorflow as tf

    out: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for path in sorted(Path(logdir).rglob("events.out.tfevents.*")):
        run = str(path.parent.relative_to(logdir))
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.HasField("tensor"):
                    array = tf.make_ndarray(value.tensor)
                    if array.dtype.kind not in "fiub" or array.size != 1:
                        continue  # not a scalar: the model's config as text, a histogram, an image
                    number = float(array.reshape(-1)[0])
                elif value.HasField("simple_value"):
                    number = float(value.simple_value)
                else:
                    continue
                out.setdefault(run, {}).setdefault(value.tag, []).append((int(event.step), number))
    return out
