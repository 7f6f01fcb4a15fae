"""``Setup``: a compiled model with its data and fit arguments, ready to train or to examine."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from losslab.backend import sync
from losslab.messages import _


class EagerValidation(keras.callbacks.Callback):
    """Adds ``val_loss`` and ``val_<metric>`` to the logs at the end of every epoch, from one forward pass
    over the validation data: what ``fit(validation_data=...)`` reports (tests/test_clinic.py compares them),
    minus the compile time of Keras' evaluation function. Place it before callbacks that read ``val_*``."""

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray) -> None:
        super().__init__()
        self.x_val, self.y_val = x_val, y_val

    def on_epoch_end(self, epoch, logs=None) -> None:
        if logs is None:
            return
        model = self.model
        sync(model)
        y_pred = model(self.x_val, training=False)
        loss = model.compute_loss(x=self.x_val, y=self.y_val, y_pred=y_pred, training=False)
        model.reset_metrics()
        results = model.compute_metrics(self.x_val, self.y_val, y_pred, sample_weight=None)
        logs["val_loss"] = float(keras.ops.convert_to_numpy(loss))
        for name, value in results.items():
            if name != "loss":
                logs[f"val_{name}"] = float(keras.ops.convert_to_numpy(value))
        model.reset_metrics()


@dataclass
class Setup:
    """A compiled model with its data and the arguments of ``model.fit``: one training, ready to run.

    ``build`` (optional) rebuilds an equivalent fresh model; the doctor's determinism check uses it.
    """

    model: keras.Model
    x: np.ndarray
    y: np.ndarray
    validation_data: tuple[np.ndarray, np.ndarray] | None = None
    fit: dict[str, Any] = field(default_factory=dict)
    build: Callable[[], keras.Model] | None = None
    history: dict[str, list[float]] | None = None
    refused: str | None = None  # the backend's error, when it would not train this setup (train_or_refuse)

    def train(
        self,
        *,
        epochs: int | None = None,
        callbacks: list | None = None,
        progress: str | None = None,
    ) -> dict[str, list[float]]:
        """``model.fit`` with this setup's data and arguments; returns (and keeps) the history dict.

        The validation metrics come from ``EagerValidation``, not ``fit(validation_data=...)``: the same
        numbers, without compiling an evaluation function for each of the clinic's forty small models.
        """
        from losslab.progress import EpochProgress

        kwargs = dict(self.fit)
        if epochs is not None:
            kwargs["epochs"] = epochs
        callbacks = list(callbacks or []) + list(kwargs.pop("callbacks", []))
        x, y, validation = self.x, self.y, self.validation_data
        split = kwargs.pop("validation_split", None)
        if split and validation is None:  # exactly what Keras does: the last rows, before any shuffling
            cut = int(math.floor(len(x) * (1.0 - split)))
            x, y, validation = x[:cut], y[:cut], (x[cut:], y[cut:])
        if validation is not None:
            callbacks.insert(0, EagerValidation(*validation))
        if progress:
            callbacks.append(EpochProgress(progress))
        history = self.model.fit(x, y, verbose=0, callbacks=callbacks, **kwargs)
        self.history = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        return self.history

    def train_or_refuse(self, errors: tuple[type[Exception], ...] = (RuntimeError,), **kwargs: Any) -> bool:
        """``train(**kwargs)``, except that an error of one of the `errors` types is printed and kept in
        ``refused`` instead of stopping the notebook; returns whether the setup trained.

        For the cases whose outcome depends on the Keras backend: PyTorch checks, for example, that the targets of
        a binary cross-entropy lie in [0, 1] and raises, where TensorFlow and JAX compute a meaningless loss.
        """
        try:
            self.train(**kwargs)
        except errors as error:
            lines = str(error).strip().splitlines()
            self.history, self.refused = None, f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]
            print(
                _("The {backend} backend refused to train this setup: {error}").format(
                    backend=keras.backend.backend(), error=self.refused
                )
            )
            return False
        self.refused = None
        return True

    def examine(self, **kwargs: Any):  # a losslab.doctor.Report
        """The training doctor on this setup, with its fit arguments (batch size, epochs, split...)."""
        from losslab import doctor

        fit = {
            k: v
            for k, v in self.fit.items()
            if k in {"batch_size", "epochs", "validation_split", "class_weight", "shuffle"}
        }
        return doctor.examine(
            self.model,
            self.x,
            self.y,
            validation_data=self.validation_data,
            build=self.build,
            history=self.history,
            **{**fit, **kwargs},
        )
