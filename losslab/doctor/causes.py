"""The causes the doctor can name: the vocabulary of the clinic's cases and of the exercise's answers.

Plain data, no Keras: the report, the clinic and the grading read it without loading a backend.
"""

from __future__ import annotations

CAUSES: dict[str, str] = {
    "lr_too_high": "learning rate too high",
    "lr_too_low": "learning rate too low",
    "unscaled_inputs": "input features not scaled",
    "target_scale": "regression target not scaled",
    "label_noise": "noisy labels",
    "class_imbalance": "class imbalance not handled",
    "activation_loss_mismatch": "output activation and loss do not match",
    "output_range": "the output activation cannot produce the targets",
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
MECHANICAL: tuple[str, ...] = (
    "lr_too_high",
    "lr_too_low",
    "unscaled_inputs",
    "activation_loss_mismatch",
    "output_range",
    "label_format",
    "target_scale",
    "vanishing_gradients",
    "bad_initialization",
    "exploding_gradients",
    "training_flag",
    "frozen_layers",
    "constant_loss",
    "batch_size",
)
