"""The causes the doctor can name: the vocabulary of the clinic's cases and of the exercise's answers.

Plain data, no Keras: the report, the clinic and the grading read it without loading a backend.
"""

from __future__ import annotations

from losslab.messages import N_

# Each description is shown through gettext (``_(CAUSES[cause])``): marked here with N_ for the catalogue.
CAUSES: dict[str, str] = {
    "lr_too_high": N_("learning rate too high"),
    "lr_too_low": N_("learning rate too low"),
    "unscaled_inputs": N_("input features not scaled"),
    "target_scale": N_("regression target not scaled"),
    "label_noise": N_("noisy labels"),
    "class_imbalance": N_("class imbalance not handled"),
    "activation_loss_mismatch": N_("output activation and loss do not match"),
    "output_range": N_("the output activation cannot produce the targets"),
    "label_format": N_("labels do not match the loss"),
    "vanishing_gradients": N_("vanishing gradients"),
    "bad_initialization": N_("bad weight initialization"),
    "exploding_gradients": N_("exploding gradients"),
    "batch_size": N_("too few updates (batch size too large for the epochs)"),
    "unshuffled_split": N_("sorted data split without shuffling"),
    "data_leak": N_("duplicates or training/validation overlap"),
    "underfitting": N_("model too small (underfitting)"),
    "overfitting": N_("overfitting"),
    "training_flag": N_("layers never in training mode (Dropout, BatchNorm)"),
    "frozen_layers": N_("frozen layers"),
    "reused_model": N_("model already trained (reused across experiments)"),
    "constant_loss": N_("loss does not depend on the weights"),
    "not_reproducible": N_("runs not reproducible (seeds)"),
    "unmonitored": N_("training not monitored (no validation data)"),
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
