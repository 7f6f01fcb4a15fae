"""The patient: the model, its data and its fit arguments, the facts measured so far and the findings.

Built by ``examine`` with keyword arguments only. A check reports with ``ctx.add(severity, evidence, fix,
cause, **values)``: the finding carries the id of the check that is running, so a check cannot misspell it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from losslab.backend import sync
from losslab.doctor.backend import Snapshot, Trainer
from losslab.doctor.facts import Facts
from losslab.doctor.model import CLASSIFICATION, LossInfo, all_layers, sigmoid, softmax
from losslab.doctor.report import Finding
from losslab.messages import _


@dataclass(kw_only=True)
class Context:
    """Everything one examination knows. ``pred0``: the untrained outputs on ``sample`` (row indices)."""

    model: keras.Model
    x: np.ndarray
    y: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    batch_size: int = 32
    epochs: int | None = None
    validation_split: float | None = None
    class_weight: dict | None = None
    shuffle: bool = True
    history: Any = None
    build: Callable[[], keras.Model] | None = None
    quick: bool = True
    seed: int = 0
    loss: LossInfo
    all_labels: np.ndarray | None = None  # training + validation labels when validation_split cut them
    pred0: np.ndarray | None = None
    sample: np.ndarray | None = None
    findings: list[Finding] = field(default_factory=list)
    facts: Facts = field(default_factory=Facts)
    fatal: str | None = None  # set when Keras could not even train this model with these labels
    snapshot: Snapshot | None = None
    trainer: Trainer | None = None
    current: str = ""  # the id of the check that is running

    def add(
        self,
        severity: str,
        evidence: str,
        fix: str = "",
        cause: str | None = None,
        *,
        check: str | None = None,
        **values: Any,
    ) -> Finding:
        """Record a finding of the running check (``check=`` only for the runner's own findings)."""
        finding = Finding(check or self.current, severity, evidence, fix, cause, values)
        self.findings.append(finding)
        return finding

    @property
    def units(self) -> int:
        """The model's output width."""
        return int(self.pred0.shape[-1]) if self.pred0.ndim > 1 else 1

    @property
    def classification(self) -> bool:
        """A classification loss (sparse, one-hot or binary cross-entropy)."""
        return self.loss.kind in CLASSIFICATION

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
            p = sigmoid(p) if self.loss.from_logits else np.clip(p, 0.0, 1.0)
            return np.stack([1 - p, p], axis=1)
        if self.loss.from_logits:
            return softmax(pred)
        p = np.clip(pred, 1e-12, None)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The model's outputs as float64 (training mode only for BatchNorm models)."""
        sync(self.model)
        return np.asarray(keras.ops.convert_to_numpy(self.model(x, training=self.batchnorm)), dtype=np.float64)

    @functools.cached_property
    def batchnorm(self) -> bool:
        """Whether the model holds BatchNormalization (its outputs are then taken in training mode)."""
        return any(isinstance(layer, keras.layers.BatchNormalization) for layer in all_layers(self.model))

    def data_loss(self, x: np.ndarray, y: np.ndarray, weighted: bool = False) -> float:
        """The compiled loss alone (no regularization); inference mode, except for models with BatchNorm,
        which train on batch statistics (the caller restores the statistics a training-mode call updates).
        ``weighted``: weight the examples by the class_weight given to fit, as the training loss does."""
        sync(self.model)
        y_pred = self.model(x, training=self.batchnorm)
        fn = self.loss.fn
        if fn is None:
            return float(keras.ops.convert_to_numpy(self.model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)))
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
        sync(self.model)
        y_pred = self.model(x, training=False)
        return float(keras.ops.convert_to_numpy(self.model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)))


def as_array(a: Any, what: str) -> np.ndarray:
    """``a`` as one NumPy array; TypeError saying what to pass for lists of arrays and datasets."""
    if isinstance(a, (list, tuple)) and a and not np.isscalar(a[0]) and not isinstance(a[0], (list, tuple)):
        raise TypeError(
            _("the doctor examines single-input, single-output models: {what} should be one array").format(what=what)
        )
    try:
        return np.asarray(a)
    except Exception as exc:
        raise TypeError(
            _("{what} should be a NumPy array (got {type}); pass arrays, not a dataset").format(
                what=what, type=type(a).__name__
            )
        ) from exc
