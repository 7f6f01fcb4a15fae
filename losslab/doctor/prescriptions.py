"""Prescriptions: for each cause the doctor names, the change to try on a copy of the patient.

A prescription takes the patient and the finding that named the cause and returns either a changed
``Patient`` or, where the change is the learner's to make (the data pipeline, a custom layer's code), a
``Manual``: what to do and the check to run after doing it. Every change is plain Keras: standardize the inputs,
lower or raise the rate, fix the output activation or the loss, unfreeze, shuffle the split, weight the classes...
No prescription touches the learner's model: ``Patient.build`` clones it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import keras
import numpy as np

from losslab import rules
from losslab.doctor.model import fmt, row_keys
from losslab.doctor.patient import Patient, class_labels
from losslab.doctor.report import Finding
from losslab.messages import N_, _


@dataclass(frozen=True)
class Manual:
    """A prescription the doctor cannot apply for you: what to do, and the check to run after doing it."""

    what: str
    check: str  # the doctor's check that names the cause (run it again with examine(only=[check]))


Prescription = Callable[[Patient, Finding], "Patient | Manual"]
PRESCRIPTIONS: dict[str, Prescription] = {}


def prescribes(*causes: str) -> Callable[[Prescription], Prescription]:
    def register(fn: Prescription) -> Prescription:
        for cause in causes:
            PRESCRIPTIONS[cause] = fn
        return fn

    return register


def _last_layer_fn(patient: Patient, **changes: object) -> Callable[[keras.layers.Layer], keras.layers.Layer]:
    """A clone function that rebuilds the model's last layer with some configuration changed."""
    last = [layer for layer in patient.model.layers if getattr(layer, "kernel", None) is not None][-1]
    previous = patient.layer_fn

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        if layer is last:
            return layer.__class__.from_config({**layer.get_config(), **changes})
        return previous(layer) if previous else layer.__class__.from_config(layer.get_config())

    return clone


def _after_last_kernel(patient: Patient) -> list[keras.layers.Layer]:
    layers = patient.model.layers
    last = max(i for i, layer in enumerate(layers) if getattr(layer, "kernel", None) is not None)
    return [layer for layer in layers[last + 1 :] if not layer.weights]


@prescribes("lr_too_high", "lr_too_low")
def change_rate(patient: Patient, finding: Finding) -> Patient | Manual:
    lr = patient.learning_rate
    if lr is None:
        return Manual(_("the optimizer follows a schedule: scale its initial rate"), finding.check)
    suggestion = finding.values.get("suggestion")
    if not suggestion:
        suggestion = lr / 10 if finding.cause == "lr_too_high" else lr * 10
    return patient.with_optimizer(
        _("learning rate {before} -> {after}").format(before=fmt(lr), after=fmt(float(suggestion))),
        learning_rate=suggestion,
    )


@prescribes("unscaled_inputs")
def standardize_inputs(patient: Patient, finding: Finding) -> Patient:
    x = patient.x.reshape(len(patient.x), -1).astype(np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 0, std, 1.0)

    def scale(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        return ((a.reshape(len(a), -1) - mean) / std).reshape(a.shape).astype(np.float32)

    return patient.but(
        _("inputs standardized (training mean and standard deviation)"), x=scale(patient.x), x_val=scale(patient.x_val)
    )


@prescribes("target_scale")
def standardize_target(patient: Patient, finding: Finding) -> Patient:
    mean, std = float(patient.y.mean()), float(patient.y.std()) or 1.0

    def scale(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else ((a - mean) / std).astype(np.float32)

    return patient.but(
        _("target standardized (subtract {mean}, divide by {std}; undo it for predictions)").format(
            mean=fmt(mean), std=fmt(std)
        ),
        y=scale(patient.y),
        y_val=scale(patient.y_val),
    )


@prescribes("output_range", "activation_loss_mismatch")
def fix_output(patient: Patient, finding: Finding) -> Patient | Manual:
    kind = rules.loss_kind(patient.loss)
    spec = rules.describe_loss(patient.loss)
    if _after_last_kernel(patient):
        return Manual(_("remove the activation layer after the last Dense layer (or change it)"), finding.check)
    if kind == "regression":
        try:
            fmt_y = rules.label_format(patient.y).kind
        except ValueError:
            fmt_y = "continuous"
        if fmt_y in {"integer", "binary"}:
            return Manual(
                _(
                    "these targets are classes: give the output layer one unit per class and use "
                    "sparse_categorical_crossentropy (the output layer's shape changes, so it is yours to rebuild)"
                ),
                finding.check,
            )
        return patient.but(
            _("no activation on the regression output"), layer_fn=_last_layer_fn(patient, activation=None)
        )
    if kind in rules.CLASSIFICATION_KINDS:
        units = int(patient.model.outputs[0].shape[-1]) if getattr(patient.model, "outputs", None) else 1
        if kind == "bce" or units == 1:
            loss = keras.losses.BinaryCrossentropy(from_logits=True)
        elif kind == "ce":
            loss = keras.losses.CategoricalCrossentropy(from_logits=True)
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return patient.but(
            _("linear output with {loss}(from_logits=True)").format(loss=rules.loss_class_name(spec.name)),
            layer_fn=_last_layer_fn(patient, activation=None),
            loss=loss,
        )
    return Manual(
        _("choose a loss and an output activation that fit the labels (losslab.losses.explain)"), finding.check
    )


@prescribes("label_format")
def fix_labels(patient: Patient, finding: Finding) -> Patient | Manual:
    kind = rules.loss_kind(patient.loss)
    y, yv = np.asarray(patient.y), None if patient.y_val is None else np.asarray(patient.y_val)
    units = int(patient.model.outputs[0].shape[-1]) if getattr(patient.model, "outputs", None) else 1
    if kind == "sparse_ce" and y.ndim == 2 and y.shape[1] > 1:
        return patient.but(
            _("labels as class numbers (y.argmax(axis=1))"), y=y.argmax(1), y_val=_map(yv, lambda a: a.argmax(1))
        )
    if kind == "ce" and (y.ndim == 1 or y.shape[-1] == 1) and units > 1:
        eye = np.eye(units, dtype=np.float32)
        return patient.but(
            _("labels one-hot encoded (keras.utils.to_categorical)"),
            y=eye[y.reshape(-1).astype(int)],
            y_val=_map(yv, lambda a: eye[a.reshape(-1).astype(int)]),
        )
    if kind == "bce" and set(np.unique(y).tolist()) <= {-1, 1, -1.0}:
        return patient.but(
            _("labels -1/+1 mapped to 0/1"),
            y=(y > 0).astype(np.float32),
            y_val=_map(yv, lambda a: (a > 0).astype(np.float32)),
        )
    if kind == "sparse_ce" and y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        values = np.unique(np.concatenate([y, yv]) if yv is not None else y)
        if len(values) <= units:
            lookup = {int(v): i for i, v in enumerate(values)}
            renumber = np.vectorize(lookup.__getitem__)
            return patient.but(
                _("classes {classes} renumbered 0 .. {last}").format(classes=values.tolist(), last=len(values) - 1),
                y=renumber(y),
                y_val=_map(yv, renumber),
            )
    return Manual(_("make the labels the format the loss expects (losslab.losses.explain(y, model))"), finding.check)


def _map(a: np.ndarray | None, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray | None:
    return None if a is None else fn(a)


@prescribes("frozen_layers")
def unfreeze(patient: Patient, finding: Finding) -> Patient:
    return patient.but(_("every layer trainable (model.trainable = True, then compile)"), unfreeze=True)


@prescribes("unshuffled_split")
def shuffle_split(patient: Patient, finding: Finding) -> Patient | Manual:
    if patient.x_val is None:
        return patient.but(_("shuffle=True in fit"), shuffle=True)
    x = np.concatenate([patient.x, patient.x_val])
    y = np.concatenate([patient.y, patient.y_val])
    order = np.random.default_rng(0).permutation(len(x))
    cut = len(patient.x)
    return patient.but(
        _("rows shuffled once before the split (same sizes)"),
        x=x[order[:cut]],
        y=y[order[:cut]],
        x_val=x[order[cut:]],
        y_val=y[order[cut:]],
        shuffle=True,
    )


@prescribes("data_leak")
def drop_overlap(patient: Patient, finding: Finding) -> Patient | Manual:
    if patient.x_val is None:
        return Manual(_("remove the duplicate rows from the data, then split"), finding.check)

    keep = ~np.isin(row_keys(patient.x_val), row_keys(patient.x))
    if keep.sum() < 10:
        return Manual(
            _("the validation data are almost all training rows: hold out rows the model never sees"), finding.check
        )
    return patient.but(
        _("{n} validation rows that are also training rows removed").format(n=int((~keep).sum())),
        x_val=patient.x_val[keep],
        y_val=patient.y_val[keep],
    )


@prescribes("class_imbalance")
def weight_classes(patient: Patient, finding: Finding) -> Patient:
    labels = class_labels(patient.y)
    counts = np.bincount(labels)
    weights = {c: float(len(labels) / (len(counts) * n)) for c, n in enumerate(counts) if n > 0}
    shown = ", ".join(f"{c}: {w:.2g}" for c, w in weights.items())
    return patient.but(_("class_weight {{{weights}}} (balanced)").format(weights=shown), class_weight=weights)


@prescribes("bad_initialization", "reused_model")
def reinitialize(patient: Patient, finding: Finding) -> Patient:
    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        if "kernel_initializer" in config:
            config["kernel_initializer"] = {"class_name": "GlorotUniform", "config": {}}
        return layer.__class__.from_config(config)

    return patient.but(
        _("fresh weights from Keras' default initializer (glorot_uniform)"), weights=None, layer_fn=clone
    )


@prescribes("vanishing_gradients")
def relu_he(patient: Patient, finding: Finding) -> Patient:
    last = [layer for layer in patient.model.layers if getattr(layer, "kernel", None) is not None][-1]

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        if layer is not last and config.get("activation") in {"sigmoid", "tanh"}:
            config["activation"] = "relu"
        if layer is not last and "kernel_initializer" in config:
            config["kernel_initializer"] = {"class_name": "HeNormal", "config": {}}
        if type(layer).__name__ == "Activation" and config.get("activation") in {"sigmoid", "tanh"}:
            config["activation"] = "relu"
        return layer.__class__.from_config(config)

    return patient.but(
        _("hidden activations ReLU with He initialization (fresh weights)"), weights=None, layer_fn=clone
    )


@prescribes("exploding_gradients")
def clip(patient: Patient, finding: Finding) -> Patient:
    p90 = finding.values.get("p90")
    norm = float(p90) if p90 and np.isfinite(p90) and p90 > 0 else 1.0
    lr = patient.learning_rate
    changed = patient.with_optimizer(f"global_clipnorm={fmt(norm)}", global_clipnorm=norm)
    if lr is not None:
        changed = changed.with_optimizer(
            _("learning rate {before} -> {after}").format(before=fmt(lr), after=fmt(lr / 10)), learning_rate=lr / 10
        )
    return changed


@prescribes("batch_size")
def smaller_batches(patient: Patient, finding: Finding) -> Patient:
    return patient.but(_("batch size {before} -> 32").format(before=patient.batch_size), batch_size=32)


@prescribes("underfitting")
def wider(patient: Patient, finding: Finding) -> Patient | Manual:
    dense = [layer for layer in patient.model.layers if isinstance(layer, keras.layers.Dense)]
    if len(dense) < 2:
        return patient.but(
            _("a hidden layer of 64 ReLU units added before the output (fresh weights)"),
            weights=None,
            layer_fn=_add_hidden(dense[-1]) if dense else None,
        )
    hidden = dense[:-1]

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        if layer in hidden:
            config["units"] = max(64, 4 * int(config["units"]))
        return layer.__class__.from_config(config)

    return patient.but(_("hidden layers 4x wider, at least 64 units (fresh weights)"), weights=None, layer_fn=clone)


def _add_hidden(output: keras.layers.Layer) -> Callable[[keras.layers.Layer], keras.layers.Layer]:
    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        new = layer.__class__.from_config(layer.get_config())
        if layer is output:
            hidden = keras.layers.Dense(64, activation="relu")
            return keras.Sequential([hidden, new])
        return new

    return clone


@prescribes("overfitting")
def stop_early(patient: Patient, finding: Finding) -> Patient:
    return patient.but(
        "EarlyStopping(patience=3, restore_best_weights=True)",
        callbacks=lambda: [keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)],
    )


# Their texts are marked with N_ and translated when prescribed (the language is the learner's at that time).
MANUAL = {
    "label_noise": Manual(
        N_(
            "find the labels the model contradicts most confidently and check them by hand: relabel or drop the "
            "wrong ones (the labels are your data, the doctor cannot know the right ones)"
        ),
        "label_quality",
    ),
    "training_flag": Manual(
        N_("pass `training` on in the custom layer's call (never hard-code training=False)"), "training_mode"
    ),
    "constant_loss": Manual(
        N_("use a loss that changes smoothly with the predictions (losslab.losses.suggest_loss(y))"), "gradient_norms"
    ),
    "not_reproducible": Manual(
        N_("call keras.utils.set_random_seed(seed) at the start of every experiment"), "determinism"
    ),
    "unmonitored": Manual(N_("pass validation_data (or validation_split after shuffling)"), "monitoring"),
}


def prescription(cause: str, patient: Patient, finding: Finding) -> Patient | Manual:
    """The change to try for ``cause`` (a ``Manual`` where it is the learner's to make)."""
    if cause in PRESCRIPTIONS:
        return PRESCRIPTIONS[cause](patient, finding)
    if cause in MANUAL:
        return replace(MANUAL[cause], what=_(MANUAL[cause].what))
    return Manual(_("no automatic prescription for this cause"), finding.check)
