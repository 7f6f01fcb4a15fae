"""A patient the treatment can copy and change: the learner's model (only read), its data and fit arguments.

``Patient.build()`` returns a fresh compiled copy of the model with the same starting weights (``clone_model`` +
``set_weights``), with whatever a prescription changed: the layers' configuration, the loss, the optimizer's
settings, the data, the fit arguments. ``train(patient)`` trains one copy for the patient's budget and records
per epoch the training loss, the validation loss and a score in the same units whatever the prescription
changed (balanced accuracy for a classification, R^2 for a regression), so before and after compare.
"""

from __future__ import annotations

import dataclasses
import math
import random
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from losslab import rules
from losslab.backend import sync
from losslab.loss_names import label_format


@dataclass(frozen=True)
class Patient:
    """Everything one retraining needs; prescriptions return changed copies (``patient.but(...)``)."""

    model: keras.Model  # the learner's: read (config, weights, optimizer settings), never trained
    x: np.ndarray
    y: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    epochs: int
    batch_size: int
    class_weight: dict | None = None
    shuffle: bool = True
    loss: Any = None
    optimizer: dict = field(default_factory=dict)  # keras.optimizers.serialize of the learner's optimizer
    weights: list[np.ndarray] | None = None  # None: the clone's own fresh initialization
    layer_fn: Callable[[keras.layers.Layer], keras.layers.Layer] | None = None
    unfreeze: bool = False
    callbacks: Callable[[], list] | None = None
    changes: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        model: keras.Model,
        x: np.ndarray,
        y: np.ndarray,
        x_val: np.ndarray | None,
        y_val: np.ndarray | None,
        *,
        epochs: int | None,
        batch_size: int | None,
        class_weight: dict | None = None,
        shuffle: bool = True,
    ) -> Patient:
        sync(model)
        return cls(
            model,
            x,
            y,
            x_val,
            y_val,
            int(epochs or 10),
            int(batch_size or 32),
            class_weight,
            shuffle,
            model.loss,
            keras.optimizers.serialize(model.optimizer),
            [np.array(w, copy=True) for w in model.get_weights()],
        )

    def but(self, change: str, **fields: Any) -> Patient:
        """A copy with some fields replaced and ``change`` added to what was prescribed."""
        return dataclasses.replace(self, changes=(*self.changes, change), **fields)

    def with_optimizer(self, change: str, **settings: Any) -> Patient:
        config = {**self.optimizer, "config": {**self.optimizer["config"], **settings}}
        return self.but(change, optimizer=config)

    @property
    def learning_rate(self) -> float | None:
        lr = self.optimizer.get("config", {}).get("learning_rate")
        return float(lr) if isinstance(lr, (int, float)) else None

    def build(self, seed: int = 0) -> keras.Model:
        """A fresh compiled copy of the model, changed as prescribed, from the same starting weights."""
        keras.utils.set_random_seed(seed)
        clone = keras.models.clone_model(self.model, clone_function=self.layer_fn)
        if self.unfreeze:
            clone.trainable = True
            for layer in clone._flatten_layers(include_self=False, recursive=True):
                layer.trainable = True
        if self.weights is not None:
            clone.set_weights(self.weights)
        clone.compile(optimizer=keras.optimizers.deserialize(self.optimizer), loss=self.loss)
        return clone


def score_kind(patient: Patient) -> str:
    """``classification`` or ``regression``: from the loss, or from the labels for a loss Keras does not know."""
    kind = rules.loss_kind(patient.loss)
    if kind in rules.CLASSIFICATION_KINDS:
        return "classification"
    if kind == "regression":
        return "regression"
    try:
        labels = label_format(patient.y).kind
    except ValueError:
        return "regression"
    return "classification" if labels in {"binary", "integer", "one-hot"} else "regression"


def class_labels(y: np.ndarray) -> np.ndarray:
    """Integer classes from integer labels, one-hot rows, or one column read as yes/no (above 0.5)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    flat = y.reshape(-1)
    if np.issubdtype(flat.dtype, np.floating) and not np.all(flat == np.round(flat)):
        return (flat > 0.5).astype(int)
    if flat.min() < 0:  # -1/+1 labels: the negative class is 0
        return (flat > 0).astype(int)
    return flat.astype(int)


def predicted_classes(outputs: np.ndarray, loss: Any) -> np.ndarray:
    """The class each output row predicts (a threshold at 0 for one logit, 0.5 for one probability)."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    logits = rules.loss_kind(loss) in rules.CLASSIFICATION_KINDS and rules.describe_loss(loss).from_logits
    return (outputs.reshape(-1) > (0.0 if logits else 0.5)).astype(int)


def score(kind: str, outputs: np.ndarray, y: np.ndarray, loss: Any) -> float:
    """Balanced accuracy (classification: the mean recall over the classes present) or R^2 (regression)."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if not np.all(np.isfinite(outputs)):
        return float("nan")
    if kind == "classification":
        truth, guess = class_labels(y), predicted_classes(outputs, loss)
        recalls = [float(np.mean(guess[truth == c] == c)) for c in np.unique(truth)]
        return float(np.mean(recalls))
    target = np.asarray(y, dtype=np.float64).reshape(len(outputs), -1)
    pred = outputs.reshape(len(outputs), -1)
    if pred.shape != target.shape:
        return float("nan")
    variance = float(((target - target.mean(axis=0)) ** 2).mean())
    return 1.0 - float(((pred - target) ** 2).mean()) / max(variance, 1e-12)


def chance_score(kind: str, y: np.ndarray) -> float:
    """The score of a model that ignores its inputs: 1/K balanced accuracy, R^2 of 0."""
    return 1.0 / max(len(np.unique(class_labels(y))), 1) if kind == "classification" else 0.0


@dataclass
class Run:
    """One retraining: per-epoch curves, the final score, and the backend's error if it refused to train."""

    changes: tuple[str, ...]
    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    refused: str | None = None
    seconds: float = 0.0

    @property
    def final(self) -> float:
        """The last epoch's score (NaN when the training diverged or was refused)."""
        return self.scores[-1] if self.scores else float("nan")


class _EpochScore(keras.callbacks.Callback):
    """The validation loss (one forward pass) and the score after every epoch."""

    def __init__(self, run: Run, kind: str, x: np.ndarray, y: np.ndarray, loss: Any) -> None:
        super().__init__()
        self.run, self.kind, self.x, self.y, self.loss_obj = run, kind, x, y, loss

    def on_epoch_end(self, epoch, logs=None) -> None:
        sync(self.model)
        y_pred = self.model(self.x, training=False)
        val_loss = self.model.compute_loss(x=self.x, y=self.y, y_pred=y_pred, training=False)
        self.run.val_loss.append(float(keras.ops.convert_to_numpy(val_loss)))
        outputs = np.asarray(keras.ops.convert_to_numpy(y_pred))
        self.run.scores.append(score(self.kind, outputs, self.y, self.loss_obj))
        self.run.loss.append(float((logs or {}).get("loss", float("nan"))))


class _StopOnNaN(keras.callbacks.Callback):
    """Stops a run whose loss is no longer finite (quietly: the run's scores say it diverged)."""

    def on_train_batch_end(self, batch, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.model.stop_training = True


def train(patient: Patient, seed: int = 0) -> Run:
    """Train a fresh copy of the patient for its budget; the global random states are put back after."""
    with warnings.catch_warnings():  # e.g. "no trainable weights": the treatment's own runs say what happened
        warnings.simplefilter("ignore")
        return _train(patient, seed)


def _train(patient: Patient, seed: int) -> Run:
    import time

    started = time.perf_counter()
    states = random.getstate(), np.random.get_state()
    run = Run(patient.changes)
    kind = score_kind(patient)
    x_val, y_val = (patient.x_val, patient.y_val) if patient.x_val is not None else (patient.x, patient.y)
    try:
        model = patient.build(seed)
        callbacks = [_EpochScore(run, kind, x_val, y_val, patient.loss)]
        callbacks += [_StopOnNaN(), *(patient.callbacks() if patient.callbacks else [])]
        model.fit(
            patient.x,
            patient.y,
            epochs=patient.epochs,
            batch_size=patient.batch_size,
            class_weight=patient.class_weight,
            shuffle=patient.shuffle,
            verbose=0,
            callbacks=callbacks,
        )
        restored = [c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping) and c.stopped_epoch]
        if restored and restored[0].best_weights is not None:  # the returned model is the best epoch's
            sync(model)
            outputs = np.asarray(keras.ops.convert_to_numpy(model(x_val, training=False)))
            run.scores.append(score(kind, outputs, y_val, patient.loss))
    except Exception as exc:  # the backend refused these data: the run says why
        lines = str(exc).strip().splitlines()
        run.refused = f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
    if run.scores and not math.isfinite(run.scores[-1]):
        run.scores[-1] = float("nan")
    run.seconds = time.perf_counter() - started
    return run
