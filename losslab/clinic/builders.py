"""The clinic's building blocks: the course's MLP, its default loss, a normalising layer and a flat loss."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from losslab.models import mlp  # noqa: F401 - the course's MLP, built in losslab/models.py


def logits_loss() -> keras.losses.Loss:
    """The course's default for integer labels and a linear output layer."""
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@keras.saving.register_keras_serializable(package="losslab")
class InputNorm(keras.layers.Layer):
    """Normalizes inputs with BatchNormalization; ``always_inference=True`` plants the training-flag bug."""

    def __init__(self, always_inference: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.always_inference = always_inference
        self.norm = keras.layers.BatchNormalization(momentum=0.9)  # running averages settle in ~30 steps

    def call(self, x, training=None):
        if self.always_inference:
            return self.norm(x, training=False)  # the bug: BatchNorm never sees training=True
        return self.norm(x, training=training)

    def get_config(self) -> dict:
        return {**super().get_config(), "always_inference": self.always_inference}


def error_rate(y_true, y_pred):
    """The fraction of misclassified examples: what we care about, so why not minimize it directly?
    Because ``sign`` is flat: its gradient is 0 everywhere, so the weights never move and the loss is a
    constant. (A loss that caps or rounds every example behaves the same way.)"""
    true_score = ops.take_along_axis(y_pred, ops.reshape(ops.cast(y_true, "int32"), (-1, 1)), axis=1)[:, 0]
    wrong = ops.sign(ops.max(y_pred, axis=1) - true_score)  # 1 when another class scores higher, else 0
    return ops.mean(wrong)


# ------------------------------------------------------------------------------------------ setups
