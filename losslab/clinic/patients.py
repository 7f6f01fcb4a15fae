"""The clinic's patients: one builder per broken training and one per fix, short plain Keras code that
``show(case)`` prints side by side in the notebook."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from losslab.clinic.builders import InputNorm, error_rate, logits_loss, mlp
from losslab.clinic.datasets import (
    _breast_cancer,
    _digits,
    _many_features,
    _moons,
    _rare_events,
    _wine,
    noisy_labels,
)
from losslab.clinic.setup import Setup


def _digits_setup(model: keras.Model, *, epochs: int = 6, batch_size: int = 32, **fit: Any) -> Setup:
    d = _digits()
    return Setup(model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=epochs, batch_size=batch_size, **fit))


# ----------------------------------------------------------------------------------- the cases: builders
# Each builder takes a seed and returns a fresh Setup. Broken ones mark the planted cause with "# <- cause".


def digits_baseline(seed: int = 0) -> Setup:
    """Healthy: standardized digits, MLP 64-64-10 with logits, Adam 1e-3, batch 32."""
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return _digits_setup(model)


def digits_sgd(seed: int = 0) -> Setup:
    """Healthy: the same MLP trained by plain SGD at a learning rate a sweep picks (0.1)."""
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss=logits_loss(), metrics=["accuracy"])
    return _digits_setup(model)


def lr_too_high(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1.0),  # <- learning rate 1000x Adam's default
        loss=logits_loss(),
        metrics=["accuracy"],
    )
    return _digits_setup(model)


def lr_too_low(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=1e-4),  # <- 1000x smaller than SGD needs here
        loss=logits_loss(),
        metrics=["accuracy"],
    )
    return _digits_setup(model)


def unscaled_inputs(seed: int = 0) -> Setup:
    wine = _wine(scale=False)  # <- raw features: 0.13 to 1680
    keras.utils.set_random_seed(seed)
    model = mlp(13, 3, hidden=(32,))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=logits_loss(), metrics=["accuracy"])
    return Setup(model, wine.x_train, wine.y_train, (wine.x_val, wine.y_val), dict(epochs=15, batch_size=16))


def wine_scaled(seed: int = 0) -> Setup:
    wine = _wine(scale=True)  # StandardScaler fitted on the training split
    keras.utils.set_random_seed(seed)
    model = mlp(13, 3, hidden=(32,))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=logits_loss(), metrics=["accuracy"])
    return Setup(model, wine.x_train, wine.y_train, (wine.x_val, wine.y_val), dict(epochs=15, batch_size=16))


def label_noise(seed: int = 0) -> Setup:
    d = _digits()
    y_train = noisy_labels(d.y_train, 0.5, 10, seed=1)  # <- half the labels replaced by a random class
    y_val = noisy_labels(d.y_val, 0.5, 10, seed=2)
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return Setup(model, d.x_train, y_train, (d.x_val, y_val), dict(epochs=8, batch_size=32))


def clean_labels(seed: int = 0) -> Setup:
    """label_noise's fix: the same MLP, optimizer, batch and 8 epochs on the clean labels."""
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return _digits_setup(model, epochs=8)


def _binary_mlp(n_inputs: int, output_bias: float | None = None) -> keras.Sequential:
    bias = keras.initializers.Constant(output_bias) if output_bias is not None else "zeros"
    return keras.Sequential(
        [
            keras.Input(shape=(n_inputs,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid", bias_initializer=bias),
        ]
    )


def _binary_metrics() -> list:
    return ["accuracy", keras.metrics.Recall(name="recall"), keras.metrics.AUC(curve="PR", name="pr_auc")]


def class_imbalance(seed: int = 0) -> Setup:
    d = _rare_events()  # <- about 1.5% positives, trained as if the classes were balanced
    keras.utils.set_random_seed(seed)
    model = _binary_mlp(d.n_features)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=_binary_metrics())
    return Setup(model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=10, batch_size=128))


def class_imbalance_fixed(seed: int = 0) -> Setup:
    d = _rare_events()
    positives, negatives = int(d.y_train.sum()), int((d.y_train == 0).sum())
    keras.utils.set_random_seed(seed)
    model = _binary_mlp(d.n_features, output_bias=math.log(positives / negatives))  # starts at the prior
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=_binary_metrics())
    weights = {0: (positives + negatives) / (2 * negatives), 1: (positives + negatives) / (2 * positives)}
    return Setup(model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=10, batch_size=128, class_weight=weights))


def activation_loss_mismatch(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)  # linear output: logits
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",  # <- expects probabilities (from_logits=False)
        metrics=["accuracy"],
    )
    return _digits_setup(model)


def label_format(seed: int = 0) -> Setup:
    d = _breast_cancer()
    y_train, y_val = 2 * d.y_train - 1, 2 * d.y_val - 1  # <- labels -1 / +1, as for an SVM
    keras.utils.set_random_seed(seed)
    model = _binary_mlp(d.n_features)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    return Setup(model, d.x_train, y_train, (d.x_val, y_val), dict(epochs=10, batch_size=32))


def breast_cancer_baseline(seed: int = 0) -> Setup:
    d = _breast_cancer()  # labels 0 / 1
    keras.utils.set_random_seed(seed)
    model = _binary_mlp(d.n_features)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    return Setup(model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=10, batch_size=32))


def vanishing_gradients(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10, hidden=(64,) * 10, activation="sigmoid")  # <- 10 sigmoid layers, Glorot init
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return _digits_setup(model, epochs=10)  # deep networks start slower


def deep_relu_he(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10, hidden=(64,) * 10, activation="relu", init="he_normal")  # ReLU + He init
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return _digits_setup(model, epochs=10)  # deep networks start slower


def bad_initialization(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(
        64, 10, hidden=(64, 64, 64), init=keras.initializers.RandomNormal(stddev=1.0)
    )  # <- N(0, 1): std 1, 5.7x He's sqrt(2/64)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return _digits_setup(model)


def he_initialization(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10, hidden=(64, 64, 64), init="he_normal")  # std sqrt(2 / fan_in)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return _digits_setup(model)


def exploding_gradients(seed: int = 0) -> Setup:
    d = _digits(scale=False)  # <- raw pixels 0..16 make the gradients large ...
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.5),  # <- ... and plain SGD takes them as they are
        loss=logits_loss(),
        metrics=["accuracy"],
    )
    return Setup(model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=8, batch_size=32))


def exploding_clipped(seed: int = 0) -> Setup:
    d = _digits(scale=False)
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.5, global_clipnorm=1.0),  # clip: a band-aid
        loss=logits_loss(),
        metrics=["accuracy"],
    )
    return Setup(model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=8, batch_size=32))


def batch_size(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss=logits_loss(), metrics=["accuracy"])
    d = _digits()
    return _digits_setup(model, batch_size=len(d.x_train))  # <- full batch: one update per epoch


def batch_size_fixed(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss=logits_loss(), metrics=["accuracy"])
    return _digits_setup(model, batch_size=32)  # 45 updates per epoch


def _sorted_digits() -> tuple[np.ndarray, np.ndarray]:
    d = _digits()
    x = np.concatenate([d.x_train, d.x_val])
    y = np.concatenate([d.y_train, d.y_val])
    order = np.argsort(y, kind="stable")  # the file lists the 0s, then the 1s, ...
    return x[order], y[order]


def unshuffled_split(seed: int = 0) -> Setup:
    x, y = _sorted_digits()
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return Setup(model, x, y, None, dict(epochs=8, batch_size=32, validation_split=0.2))  # <- last 20%: 8s and 9s


def shuffled_split(seed: int = 0) -> Setup:
    x, y = _sorted_digits()
    order = np.random.default_rng(0).permutation(len(y))  # shuffle once, before splitting
    x, y = x[order], y[order]
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return Setup(model, x, y, None, dict(epochs=8, batch_size=32, validation_split=0.2))


def underfitting(seed: int = 0) -> Setup:
    d = _moons()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")]
    )  # <- a straight line
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=["accuracy"])
    return Setup(model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=10, batch_size=32))


def moons_mlp(seed: int = 0) -> Setup:
    d = _moons()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(2,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=["accuracy"])
    return Setup(model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=10, batch_size=32))


def overfitting(seed: int = 0) -> Setup:
    d = _many_features()  # <- 250 examples, 40 features (35 of them noise) ...
    keras.utils.set_random_seed(seed)
    model = mlp(40, 2, hidden=(256, 256))  # <- ... and 77,000 weights
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return Setup(model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=20, batch_size=32))


def regularized(seed: int = 0) -> Setup:
    d = _many_features()
    keras.utils.set_random_seed(seed)
    model = mlp(40, 2, hidden=(256, 256), dropout=0.5, l2=1e-2)  # Dropout and L2
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)  # and EarlyStopping
    return Setup(model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=20, batch_size=32, callbacks=[stop]))


def training_flag(seed: int = 0) -> Setup:
    wine = _wine(scale=False)  # raw features: BatchNorm is meant to normalize them
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(13,)),
            InputNorm(always_inference=True),  # <- BatchNorm never in training mode
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(3),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=logits_loss(), metrics=["accuracy"])
    return Setup(model, wine.x_train, wine.y_train, (wine.x_val, wine.y_val), dict(epochs=15, batch_size=16))


def training_flag_fixed(seed: int = 0) -> Setup:
    wine = _wine(scale=False)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(13,)),
            InputNorm(),  # passes `training` on: batch statistics while training
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(3),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=logits_loss(), metrics=["accuracy"])
    return Setup(model, wine.x_train, wine.y_train, (wine.x_val, wine.y_val), dict(epochs=15, batch_size=16))


def frozen_layers(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10, hidden=(16, 64))
    for layer in model.layers[:-1]:
        layer.trainable = False  # <- "freeze the base", but the base was never trained
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return _digits_setup(model, epochs=8)


def unfrozen(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10, hidden=(16, 64))  # every layer trains
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    return _digits_setup(model, epochs=8)


def reused_model(seed: int = 0) -> Setup:
    d = _digits()
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
    model.fit(d.x_train, d.y_train, epochs=3, batch_size=32, verbose=0)  # experiment 1: Adam
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=1e-4),  # <- experiment 2 reuses the trained model
        loss=logits_loss(),
        metrics=["accuracy"],
    )
    return _digits_setup(model)


def fresh_model(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)  # experiment 2 on a model built for it
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-4), loss=logits_loss(), metrics=["accuracy"])
    return _digits_setup(model)


def constant_loss(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=error_rate,  # <- counts mistakes: its gradient is 0 everywhere
        metrics=["accuracy"],
    )
    return _digits_setup(model)


def not_reproducible(seed: int = 0) -> Setup:
    def build() -> keras.Model:
        model = mlp(64, 10)  # <- no seed: each call starts from other random weights
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
        return model

    keras.utils.set_random_seed(seed)
    setup = _digits_setup(build(), epochs=3)
    setup.build = build
    return setup


def reproducible(seed: int = 0) -> Setup:
    def build() -> keras.Model:
        keras.utils.set_random_seed(seed)  # seed every experiment
        model = mlp(64, 10)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=logits_loss(), metrics=["accuracy"])
        return model

    setup = _digits_setup(build(), epochs=3)
    setup.build = build
    return setup


def unmonitored(seed: int = 0) -> Setup:
    setup = overfitting(seed)
    setup.validation_data = None  # <- nothing to compare the training loss with
    return setup
