"""The debugging clinic: one broken training per cause of "the loss won't go down", each with its fix.

Used by solutions/04_debugging/debugging_part{1,2}_tutorial.ipynb (the clinic), by tests/test_doctor.py (the training
doctor must name the planted cause of every case and stay quiet on the healthy baselines), by
tests/test_clinic.py, and by ``make bench`` (tools/bench.py).

A ``Case`` is data: the cause it plants (an id from ``losslab.doctor.CAUSES``), a function building the
broken ``Setup`` (a compiled model, its data and its ``fit`` arguments), one building the fixed setup, the
healthy baseline the doctor must not complain about (usually the fix), and the measurement that tells a
failed training from a working one. Every builder is plain Keras code, short enough to read in the notebook
(``show(case)`` prints the broken and the fixed builder side by side). Each training takes a few seconds on a
2-core CPU: small sklearn datasets, small models, few epochs.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import keras
import numpy as np
from keras import ops

from losslab import data

# ------------------------------------------------------------------------------------------- data


@cache
def _digits(scale: bool = True) -> data.Split:
    return data.digits(scale=scale)


@cache
def _wine(scale: bool = True) -> data.Split:
    return data.wine(scale=scale)


@cache
def _breast_cancer() -> data.Split:
    return data.breast_cancer()


def _split(name: str, x: np.ndarray, y: np.ndarray, *, test_size: float, seed: int,
           class_names: tuple[str, ...], scale: bool = True) -> data.Split:
    """A stratified train/validation split, standardized on the training part unless scale=False."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)
    if scale:
        scaler = StandardScaler().fit(x_train)
        x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    return data.Split(name, x_train.astype(np.float32), x_val.astype(np.float32), y_train.astype(np.int64),
                      y_val.astype(np.int64), class_names=class_names)


@cache
def _rare_events(seed: int = 0) -> data.Split:
    """3,000 examples, 10 features, about 1.5% positives: the class-imbalance case (TFi)."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=3000, n_features=10, n_informative=4, n_redundant=2, weights=[0.985],
                               flip_y=0.0, class_sep=1.0, random_state=seed)
    return _split("rare_events", x, y, test_size=0.2, seed=seed, class_names=("common", "rare"))


@cache
def _many_features(seed: int = 0) -> data.Split:
    """250 training examples, 40 features of which only 5 are informative, 5% flipped labels: memorisable."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=500, n_features=40, n_informative=5, n_redundant=0, flip_y=0.05,
                               random_state=seed)
    return _split("many_features", x, y, test_size=0.5, seed=seed, class_names=("a", "b"))


@cache
def _moons(seed: int = 0) -> data.Split:
    """Two interleaved half-moons, 1,000 points with noise: a curved boundary a straight line cannot draw."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=1000, noise=0.2, random_state=seed)
    return _split("moons", x, y, test_size=0.2, seed=seed, class_names=("upper", "lower"), scale=False)


def noisy_labels(y: np.ndarray, fraction: float, n_classes: int, seed: int = 0) -> np.ndarray:
    """A copy of `y` where `fraction` of the labels are replaced by a random class (which may be the same)."""
    rng = np.random.default_rng(seed)
    y = np.array(y, copy=True)
    picked = rng.random(len(y)) < fraction
    y[picked] = rng.integers(0, n_classes, picked.sum())
    return y


def small_subset(split: data.Split, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` training examples, the same number from every class."""
    rng = np.random.default_rng(seed)
    classes = np.unique(split.y_train)
    per_class = n // len(classes)
    index = np.concatenate(
        [rng.choice(np.flatnonzero(split.y_train == c), per_class, replace=False) for c in classes]
    )
    rng.shuffle(index)
    return split.x_train[index], split.y_train[index]


# ----------------------------------------------------------------------------------------- models


def mlp(
    n_inputs: int,
    n_outputs: int,
    hidden: tuple[int, ...] = (64, 64),
    *,
    activation: str = "relu",
    init: Any = "glorot_uniform",
    output_activation: str | None = None,
    dropout: float = 0.0,
    l2: float = 0.0,
    batchnorm: bool = False,
) -> keras.Sequential:
    """A plain MLP: Dense layers (optionally with BatchNorm, Dropout and L2), then `n_outputs` units."""
    regularizer = keras.regularizers.L2(l2) if l2 else None
    layers: list[keras.layers.Layer] = [keras.Input(shape=(n_inputs,))]
    for units in hidden:
        layers.append(keras.layers.Dense(units, kernel_initializer=init, kernel_regularizer=regularizer))
        if batchnorm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Activation(activation))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(n_outputs, activation=output_activation, kernel_initializer=init))
    return keras.Sequential(layers)


def logits_loss() -> keras.losses.Loss:
    """The course's default for integer labels and a linear output layer."""
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@keras.saving.register_keras_serializable(package="losslab")
class InputNorm(keras.layers.Layer):
    """Normalises inputs with BatchNormalization; ``always_inference=True`` plants the training-flag bug."""

    def __init__(self, always_inference: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.always_inference = always_inference
        self.norm = keras.layers.BatchNormalization(momentum=0.9)  # running averages settle in ~30 steps

    def call(self, x, training=None):  # noqa: ANN001
        if self.always_inference:
            return self.norm(x, training=False)  # the bug: BatchNorm never sees training=True
        return self.norm(x, training=training)

    def get_config(self) -> dict:
        return {**super().get_config(), "always_inference": self.always_inference}


def error_rate(y_true, y_pred):  # noqa: ANN001
    """The fraction of misclassified examples: what we care about, so why not minimise it directly?
    Because ``sign`` is flat: its gradient is 0 everywhere, so the weights never move and the loss is a
    constant. (A loss that caps or rounds every example behaves the same way.)"""
    true_score = ops.take_along_axis(y_pred, ops.reshape(ops.cast(y_true, "int32"), (-1, 1)), axis=1)[:, 0]
    wrong = ops.sign(ops.max(y_pred, axis=1) - true_score)  # 1 when another class scores higher, else 0
    return ops.mean(wrong)


# ------------------------------------------------------------------------------------------ setups


class EagerValidation(keras.callbacks.Callback):
    """Adds ``val_loss`` and ``val_<metric>`` to the logs at the end of every epoch, from one forward pass
    over the validation data: what ``fit(validation_data=...)`` reports (tests/test_clinic.py compares them),
    minus the compile time of Keras' evaluation function. Place it before callbacks that read ``val_*``."""

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray) -> None:
        super().__init__()
        self.x_val, self.y_val = x_val, y_val

    def on_epoch_end(self, epoch, logs=None) -> None:  # noqa: ANN001
        if logs is None:
            return
        model = self.model
        sync = getattr(model, "jax_state_sync", None)
        if sync is not None:
            sync()
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
            print(f"The {keras.backend.backend()} backend refused to train this setup: {self.refused}")
            return False
        self.refused = None
        return True

    def examine(self, **kwargs: Any):  # noqa: ANN201 - a losslab.doctor.Report
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


def _digits_setup(model: keras.Model, *, epochs: int = 6, batch_size: int = 32, **fit: Any) -> Setup:
    d = _digits()
    return Setup(
        model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=epochs, batch_size=batch_size, **fit)
    )


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
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=_binary_metrics()
    )
    return Setup(model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=10, batch_size=128))


def class_imbalance_fixed(seed: int = 0) -> Setup:
    d = _rare_events()
    positives, negatives = int(d.y_train.sum()), int((d.y_train == 0).sum())
    keras.utils.set_random_seed(seed)
    model = _binary_mlp(d.n_features, output_bias=math.log(positives / negatives))  # starts at the prior
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=_binary_metrics()
    )
    weights = {0: (positives + negatives) / (2 * negatives), 1: (positives + negatives) / (2 * positives)}
    return Setup(
        model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=10, batch_size=128, class_weight=weights)
    )


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
    )  # <- N(0, 1): 8x too large for 64 inputs
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
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.05), loss=logits_loss(), metrics=["accuracy"]
    )
    d = _digits()
    return _digits_setup(model, batch_size=len(d.x_train))  # <- full batch: one update per epoch


def batch_size_fixed(seed: int = 0) -> Setup:
    keras.utils.set_random_seed(seed)
    model = mlp(64, 10)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.05), loss=logits_loss(), metrics=["accuracy"]
    )
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
    return Setup(
        model, x, y, None, dict(epochs=8, batch_size=32, validation_split=0.2)
    )  # <- last 20%: 8s and 9s


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
    return Setup(
        model, d.x_train, d.y_train, (d.x_val, d.y_val), dict(epochs=20, batch_size=32, callbacks=[stop])
    )


def training_flag(seed: int = 0) -> Setup:
    wine = _wine(scale=False)  # raw features: BatchNorm is meant to normalise them
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
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=1e-4), loss=logits_loss(), metrics=["accuracy"]
    )
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


# ------------------------------------------------------------------------------------- measurements


def final(metric: str) -> Callable[[Setup], float]:
    """The last epoch's value of `metric` in the setup's history."""

    def measure(setup: Setup) -> float:
        return float(setup.history[metric][-1])

    measure.__name__ = f"final {metric}"
    return measure


def overfit_ratio(setup: Setup) -> float:
    """Validation loss of the model that training returns, divided by the lowest validation loss seen."""
    x_val, y_val = setup.validation_data
    returned = float(setup.model.evaluate(x_val, y_val, verbose=0, return_dict=True)["loss"])
    return returned / min(setup.history["val_loss"])


def has_validation(setup: Setup) -> float:
    """1.0 when the history holds a validation curve, 0.0 when the training was flown blind."""
    return float(any(k.startswith("val_") for k in setup.history))


def first_loss_ratio(setup: Setup) -> float:
    """First-epoch training loss divided by ln K: about 1 for a fresh classifier, far less if reused."""
    n_classes = int(np.max(setup.y)) + 1
    return setup.history["loss"][0] / math.log(n_classes)


def repeat_difference(setup: Setup) -> float:
    """Train a second model from ``setup.build()`` with the same arguments; the gap between the two final
    training losses (0 when the experiment is reproducible)."""
    again = Setup(setup.build(), setup.x, setup.y, setup.validation_data, dict(setup.fit))
    again.train()
    return abs(setup.history["loss"][-1] - again.history["loss"][-1])


# -------------------------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One patient of the clinic: a planted cause, the broken setup, the fix and how to tell them apart."""

    cause: str  # an id from losslab.doctor.CAUSES
    title: str
    category: str  # the row of the seed article's final checklist this case belongs to
    broken: Callable[[int], Setup]
    fixed: Callable[[int], Setup]
    measure: Callable[[Setup], float]
    goal: float  # the fixed training reaches it, the broken one does not
    higher_is_better: bool = True
    symptom: str = ""  # what the curves show
    tool: str = ""  # the doctor's check (or other tool) that finds the cause
    fix: str = ""  # the fix in one line
    healthy: Callable[[int], Setup] | None = None  # the doctor must stay quiet here; defaults to `fixed`

    @property
    def baseline(self) -> Callable[[int], Setup]:
        return self.healthy or self.fixed

    def reaches_goal(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        return value >= self.goal if self.higher_is_better else value <= self.goal

    @property
    def goal_text(self) -> str:
        name = getattr(self.measure, "__name__", "measure").replace("_", " ")
        return f"{name} {'>=' if self.higher_is_better else '<='} {self.goal:g}"


VAL_ACC = final("val_accuracy")

CASES: tuple[Case, ...] = (
    Case(
        "lr_too_high",
        "Learning rate too high",
        "learning rate",
        lr_too_high,
        digits_baseline,
        VAL_ACC,
        0.9,
        symptom="a huge first loss, then stuck at ln 10 = 2.30: the model collapsed to a constant guess",
        tool="lr_sweep",
        fix="lower the learning rate to what a short sweep finds (Adam 1e-3 here)",
    ),
    Case(
        "lr_too_low",
        "Learning rate too low",
        "learning rate",
        lr_too_low,
        digits_sgd,
        VAL_ACC,
        0.9,
        symptom="the loss creeps down so slowly that it looks flat",
        tool="lr_sweep",
        fix="raise the learning rate to what a short sweep finds (SGD 0.1 here)",
    ),
    Case(
        "unscaled_inputs",
        "Unscaled inputs",
        "data",
        unscaled_inputs,
        wine_scaled,
        VAL_ACC,
        0.9,
        symptom="a first loss around 30x ln 3, then a jagged curve",
        tool="input_scale",
        fix="standardize the features with statistics of the training split",
    ),
    Case(
        "label_noise",
        "Label noise",
        "data",
        label_noise,
        digits_baseline,
        VAL_ACC,
        0.9,
        symptom="training accuracy stalls far below 1 while the loss stays high",
        tool="label_quality",
        fix="clean the labels: look at the examples the model contradicts confidently",
    ),
    Case(
        "class_imbalance",
        "Class imbalance",
        "data",
        class_imbalance,
        class_imbalance_fixed,
        final("val_recall"),
        0.6,
        symptom="accuracy 0.98 and a low loss, yet most rare cases are missed (low recall)",
        tool="class_prior",
        fix="output bias log(pos/neg) and class_weight; report recall and PR-AUC",
    ),
    Case(
        "activation_loss_mismatch",
        "Output activation and loss disagree",
        "loss function",
        activation_loss_mismatch,
        digits_baseline,
        VAL_ACC,
        0.9,
        symptom="it trains, but worse than it should, and differently on each backend",
        tool="activation_vs_loss",
        fix="linear output with from_logits=True (or softmax with the default)",
    ),
    Case(
        "label_format",
        "Labels in the wrong format",
        "loss function",
        label_format,
        breast_cancer_baseline,
        final("val_accuracy"),
        0.9,
        symptom="a negative cross-entropy, and an accuracy that never passes the share of +1 labels",
        tool="labels_vs_loss",
        fix="binary_crossentropy wants labels 0 and 1",
    ),
    Case(
        "vanishing_gradients",
        "Vanishing gradients",
        "optimizer and gradients",
        vanishing_gradients,
        deep_relu_he,
        VAL_ACC,
        0.9,
        symptom="the loss sits at ln 10 = 2.30 from the first epoch: nothing reaches the first layers",
        tool="gradient_norms",
        fix="ReLU with He initialization (or BatchNorm) in deep networks",
    ),
    Case(
        "bad_initialization",
        "Bad initialization",
        "initialization and randomness",
        bad_initialization,
        he_initialization,
        VAL_ACC,
        0.9,
        symptom="a first loss in the hundreds or thousands instead of ln 10",
        tool="initial_loss",
        fix="He (ReLU) or Glorot (tanh, sigmoid) initialization: Keras' defaults",
    ),
    Case(
        "exploding_gradients",
        "Exploding gradients",
        "optimizer and gradients",
        exploding_gradients,
        exploding_clipped,
        VAL_ACC,
        0.5,
        symptom="the loss jumps to huge values and the model collapses to chance",
        tool="gradient_norms",
        fix="normalize the inputs (the cure); global_clipnorm limits the damage",
        healthy=digits_sgd,
    ),
    Case(
        "batch_size",
        "Too few updates (full batch)",
        "batch size and shuffling",
        batch_size,
        batch_size_fixed,
        VAL_ACC,
        0.9,
        symptom="the loss falls smoothly but stops far from zero: 10 epochs are only 10 updates",
        tool="training_budget",
        fix="smaller batches (more updates per epoch), and retune the learning rate",
    ),
    Case(
        "unshuffled_split",
        "Sorted data and validation_split",
        "batch size and shuffling",
        unshuffled_split,
        shuffled_split,
        VAL_ACC,
        0.9,
        symptom="training accuracy near 1, validation accuracy near 0",
        tool="data_hygiene",
        fix="shuffle before splitting: validation_split takes the last rows",
    ),
    Case(
        "underfitting",
        "A model too small (underfitting)",
        "model capacity",
        underfitting,
        moons_mlp,
        VAL_ACC,
        0.93,
        symptom="training and validation loss level off together, well above zero",
        tool="overfit_one_batch",
        fix="a bigger model (hidden layers)",
    ),
    Case(
        "overfitting",
        "Overfitting",
        "model capacity",
        overfitting,
        regularized,
        overfit_ratio,
        1.15,
        higher_is_better=False,
        symptom="training loss falls to 0 while validation loss turns and rises",
        tool="curves",
        fix="Dropout, L2 and EarlyStopping(restore_best_weights=True); more data",
    ),
    Case(
        "training_flag",
        "BatchNorm stuck in inference mode",
        "implementation",
        training_flag,
        training_flag_fixed,
        VAL_ACC,
        0.9,
        symptom="the normalisation layer does not normalise: it trains as if the inputs were raw",
        tool="training_mode",
        fix="pass `training` through (or leave it out: Keras passes it for you)",
    ),
    Case(
        "frozen_layers",
        "Frozen layers",
        "implementation",
        frozen_layers,
        unfrozen,
        VAL_ACC,
        0.9,
        symptom="training stalls early: only the output layer learns, on top of random features",
        tool="trainable_weights",
        fix="unfreeze: layer.trainable = True, then compile again",
    ),
    Case(
        "reused_model",
        "A model that keeps training across experiments",
        "implementation",
        reused_model,
        fresh_model,
        first_loss_ratio,
        0.5,
        symptom="experiment 2 starts where experiment 1 ended: a first loss far below ln 10",
        tool="initial_loss",
        fix="build a fresh model for every experiment",
        healthy=digits_baseline,
    ),
    Case(
        "constant_loss",
        "A custom loss that returns a constant",
        "loss function",
        constant_loss,
        digits_baseline,
        VAL_ACC,
        0.9,
        symptom="the loss is exactly the same number at every epoch",
        tool="gradient_norms",
        fix="a loss that depends on the predictions everywhere (here: Keras' own cross-entropy)",
    ),
    Case(
        "not_reproducible",
        "No seed: runs differ",
        "initialization and randomness",
        not_reproducible,
        reproducible,
        repeat_difference,
        0.0,
        higher_is_better=False,
        symptom="the same code gives another curve each time it runs",
        tool="determinism",
        fix="keras.utils.set_random_seed(seed) at the start of every experiment; compare over several seeds",
    ),
    Case(
        "unmonitored",
        "Training without validation",
        "logging",
        unmonitored,
        overfitting,
        has_validation,
        1.0,
        symptom="a training loss that falls nicely: nothing shows the model getting worse on new data",
        tool="monitoring",
        fix="validation_data, curves on a log axis, TensorBoard, a monitor callback",
        healthy=regularized,
    ),
)


_TRAINED: dict[tuple[str, int], Setup] = {}


def trained(builder: Callable[[int], Setup], seed: int = 0, progress: str | None = None) -> Setup:
    """``builder(seed)``, trained once: several cases share a fix (the digits baseline fixes four of them),
    so the notebook trains it once and reuses the result."""
    key = (builder.__name__, seed)
    if key not in _TRAINED:
        setup = builder(seed)
        setup.train(progress=progress)
        _TRAINED[key] = setup
    return _TRAINED[key]


def compare(
    runs: dict[str, Setup],
    metric: str = "loss",
    *,
    title: str,
    ylabel: str | None = None,
    log_y: bool = False,
    validation: bool = True,
    ax=None,  # noqa: ANN001
):  # noqa: ANN201 - a matplotlib Axes
    """Training curves of several trained setups on one axis (validation dashed), via losslab.plots."""
    from losslab import plots

    histories = {label: setup.history for label, setup in runs.items() if not setup.refused}
    return plots.curves(
        histories, metric, title=title, ylabel=ylabel, log_y=log_y, validation=validation, ax=ax
    )


@dataclass
class Results:
    """What each case measured, for the checklist table at the end of the clinic."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def record(self, case_: Case, broken: Setup, fixed: Setup, report: Any) -> dict[str, Any]:
        """Measure both trained setups with the case's measure and keep the row, with the checks of `report`
        (a losslab.doctor.Report, or a monitor's name) that named the cause; returns the row."""
        if isinstance(report, str):
            named_by = report
        else:
            named_by = ", ".join(dict.fromkeys(f.check for f in report.alarms if f.cause == case_.cause))
        row = {
            "category": case_.category,
            "cause": case_.cause,
            "title": case_.title,
            "measure": getattr(case_.measure, "__name__", "measure"),
            # a setup the backend refused to train has no value, and reaches no goal
            "broken": math.nan if broken.refused else case_.measure(broken),
            "fixed": math.nan if fixed.refused else case_.measure(fixed),
            "named_by": named_by or "not named",
            "fix": case_.fix,
            "goal": case_.goal_text,
            "broken_refused": broken.refused,
            "fixed_refused": fixed.refused,
        }
        row["ok"] = (not case_.reaches_goal(row["broken"])) and case_.reaches_goal(row["fixed"])
        self.rows = [r for r in self.rows if r["cause"] != case_.cause] + [row]
        print(
            f"{case_.title}: {row['measure']} {_value(row, 'broken')} broken -> {_value(row, 'fixed')} fixed "
            f"(goal: {row['goal']}{'' if row['ok'] else ', NOT as expected'}); found by {row['named_by']}"
        )
        return row

    def _repr_html_(self) -> str:
        from html import escape

        order = [c.category for c in CASES]
        rows = sorted(self.rows, key=lambda r: order.index(r["category"]))
        body = []
        for r in rows:
            cells = [
                r["category"],
                r["title"],
                f"{r['measure']}: {_value(r, 'broken')} -> {_value(r, 'fixed')}",
                r["named_by"],
                r["fix"],
            ]
            body.append(
                "<tr>"
                + "".join(f"<td style='text-align:left'>{escape(str(c))}</td>" for c in cells)
                + "</tr>"
            )
        head = "".join(
            f"<th>{h}</th>" for h in ("checklist row", "case", "measured: broken -> fixed", "found by", "fix")
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"

    def __str__(self) -> str:
        return "\n".join(
            f"{r['category']:<28}{r['title']:<44}{_value(r, 'broken'):>9} -> {_value(r, 'fixed'):<9}{r['named_by']}"
            for r in self.rows
        )


def _value(row: dict[str, Any], which: str) -> str:
    """A measured value for the table, or "refused" where the backend would not train the setup."""
    return "refused" if row.get(f"{which}_refused") else f"{row[which]:.3g}"


def case(cause: str) -> Case:
    """The clinic's case for `cause`; KeyError listing them otherwise."""
    for c in CASES:
        if c.cause == cause:
            return c
    raise KeyError(f"no clinic case {cause!r}; the cases are {[c.cause for c in CASES]}")


def show(case_: Case) -> None:
    """Print the broken builder's source, then the fixed one's: the code the learner should compare."""
    for label, fn in (("broken", case_.broken), ("fixed", case_.fixed)):
        print(f"# --- {label}: {fn.__name__}")
        print(textwrap.dedent(inspect.getsource(fn)).strip())
        print()
