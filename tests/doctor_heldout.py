"""A held-out set of trainings for the training doctor: written apart from its checks and from the clinic.

Each patient is a training as a practitioner writes it (scikit-learn's bundled data sets, ``train_test_split``,
``keras.Sequential`` with string losses and softmax/sigmoid outputs) with one planted cause, or a healthy control
(``cause=None``) of every kind: multi-class, binary, one-hot, regression, bounded regression, small data.
Nothing here is imported by the doctor; tests/test_doctor_heldout.py examines every patient, and
``python -m tests.doctor_heldout`` prints the rates (named, false alarms, planted cause first and alone),
``python -m tests.doctor_heldout --treat`` the time and verdict of each planted cause's treatment.

Every patient gets validation data and at least 100 updates, so that only its planted cause is there to name.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np


@dataclass
class Patient:
    """A compiled model with its data and fit arguments (what ``doctor.examine`` and ``doctor.treat`` take)."""

    model: keras.Model
    x: np.ndarray
    y: np.ndarray
    fit: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Trial:
    name: str
    cause: str | None  # the planted cause (an id of losslab.doctor.CAUSES), None for a healthy control
    build: Callable[[int], Patient]


def _sk(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    loader = getattr(datasets, f"load_{name}")
    d = loader()
    return np.asarray(d.data, np.float32), np.asarray(d.target)


def _split(x, y, seed, stratify=True, test_size=0.25):
    from sklearn.model_selection import train_test_split

    return train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y if stratify else None)


def _scale(x_train, x_val):
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train).astype(np.float32), scaler.transform(x_val).astype(np.float32)


def _dense(n_in: int, hidden: tuple[int, ...], out: int, activation: str | None, **kw: Any) -> keras.Sequential:
    layers: list = [keras.Input((n_in,))]
    layers += [keras.layers.Dense(h, activation="relu", **kw) for h in hidden]
    layers.append(keras.layers.Dense(out, activation=activation, **kw))
    return keras.Sequential(layers)


def _classify(name: str, seed: int, *, scale: bool = True):
    x, y = _sk(name)
    xt, xv, yt, yv = _split(x, y, seed)
    if scale:
        xt, xv = _scale(xt, xv)
    return xt, xv, yt.astype(np.int64), yv.astype(np.int64)


def _diabetes(seed: int, *, standardize_target: bool = True):
    x, y = _sk("diabetes")
    xt, xv, yt, yv = _split(x, y, seed, stratify=False)
    xt, xv = _scale(xt, xv)
    yt, yv = yt.astype(np.float32), yv.astype(np.float32)
    if standardize_target:
        mean, std = yt.mean(), yt.std()
        yt, yv = (yt - mean) / std, (yv - mean) / std
    return xt, xv, yt, yv


def _patient(model, xt, yt, xv, yv, *, epochs=10, batch_size=32, **fit):
    return Patient(model, xt, yt, dict(validation_data=(xv, yv), epochs=epochs, batch_size=batch_size, **fit))


# ------------------------------------------------------------------------------------------ healthy controls


def digits_softmax(seed: int) -> Patient:
    xt, xv, yt, yv = _classify("digits", seed)
    keras.utils.set_random_seed(seed)
    model = _dense(64, (32,), 10, "softmax")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return _patient(model, xt, yt, xv, yv)


def cancer_sigmoid(seed: int) -> Patient:
    xt, xv, yt, yv = _classify("breast_cancer", seed)
    keras.utils.set_random_seed(seed)
    model = _dense(30, (16,), 1, "sigmoid")
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return _patient(model, xt, yt, xv, yv, epochs=15)


def wine_onehot(seed: int) -> Patient:
    xt, xv, yt, yv = _classify("wine", seed)
    keras.utils.set_random_seed(seed)
    model = _dense(13, (16,), 3, "softmax")
    model.compile(keras.optimizers.Adam(0.01), "categorical_crossentropy", metrics=["accuracy"])
    eye = np.eye(3, dtype=np.float32)
    return _patient(model, xt, eye[yt], xv, eye[yv], epochs=30, batch_size=16)


def diabetes_linear(seed: int) -> Patient:
    xt, xv, yt, yv = _diabetes(seed)
    keras.utils.set_random_seed(seed)
    model = _dense(10, (32,), 1, None)
    model.compile(keras.optimizers.Adam(0.01), "mse")
    return _patient(model, xt, yt, xv, yv, epochs=15)


def diabetes_bounded(seed: int) -> Patient:
    """A sigmoid output for targets scaled into [0, 1]: the range it can produce holds every target."""
    from sklearn.preprocessing import MinMaxScaler

    xt, xv, yt, yv = _diabetes(seed, standardize_target=False)
    scaler = MinMaxScaler().fit(yt.reshape(-1, 1))
    yt, yv = (scaler.transform(v.reshape(-1, 1)).astype(np.float32).reshape(-1) for v in (yt, yv))
    keras.utils.set_random_seed(seed)
    model = _dense(10, (32,), 1, "sigmoid")
    model.compile(keras.optimizers.Adam(0.01), "mse")
    return _patient(model, xt, yt, xv, yv, epochs=15)


def iris_shuffled_split(seed: int) -> Patient:
    """validation_split after shuffling the (class-sorted) iris rows once."""
    x, y = _sk("iris")
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order].astype(np.int64)
    x = (x - x.mean(0)) / x.std(0)
    keras.utils.set_random_seed(seed)
    model = _dense(4, (16,), 3, "softmax")
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return Patient(model, x, y, dict(validation_split=0.2, epochs=30, batch_size=16))


def moons_logits(seed: int) -> Patient:
    from sklearn.datasets import make_moons

    x, y = make_moons(1000, noise=0.2, random_state=seed)
    xt, xv, yt, yv = _split(x.astype(np.float32), y, seed)
    keras.utils.set_random_seed(seed)
    model = _dense(2, (32, 32), 1, None)
    model.compile(keras.optimizers.Adam(0.01), keras.losses.BinaryCrossentropy(from_logits=True))
    return _patient(model, xt, yt, xv, yv, epochs=10)


def synthetic_many(seed: int) -> Patient:
    from sklearn.datasets import make_classification

    x, y = make_classification(1500, 20, n_informative=8, n_classes=4, random_state=seed)
    xt, xv, yt, yv = _split(x.astype(np.float32), y, seed)
    keras.utils.set_random_seed(seed)
    model = _dense(20, (64,), 4, "softmax")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return _patient(model, xt, yt, xv, yv)


# ------------------------------------------------------------------------------------------- planted causes


def diabetes_sigmoid_output(seed: int) -> Patient:
    """Standardized targets (-2 .. 3) through a sigmoid output that only produces (0, 1)."""
    xt, xv, yt, yv = _diabetes(seed)
    keras.utils.set_random_seed(seed)
    model = _dense(10, (32,), 1, "sigmoid")  # <- cannot produce a negative target
    model.compile(keras.optimizers.Adam(0.01), "mse")
    return _patient(model, xt, yt, xv, yv, epochs=15)


def diabetes_relu_output(seed: int) -> Patient:
    """Standardized targets through a ReLU output: every negative target (about half) is out of reach."""
    xt, xv, yt, yv = _diabetes(seed)
    keras.utils.set_random_seed(seed)
    model = _dense(10, (32,), 1, "relu")  # <- ReLU on the output layer
    model.compile(keras.optimizers.Adam(0.01), "mse")
    return _patient(model, xt, yt, xv, yv, epochs=15)


def digits_mse_on_classes(seed: int) -> Patient:
    """Class numbers 0 .. 9 regressed with one linear unit and MSE."""
    xt, xv, yt, yv = _classify("digits", seed)
    keras.utils.set_random_seed(seed)
    model = _dense(64, (32,), 1, None)
    model.compile("adam", "mse")  # <- a regression loss on class numbers
    return _patient(model, xt, yt, xv, yv)


def cancer_tanh_output(seed: int) -> Patient:
    """Binary cross-entropy on a tanh output: half its range (-1 .. 0) is no probability."""
    xt, xv, yt, yv = _classify("breast_cancer", seed)
    keras.utils.set_random_seed(seed)
    model = _dense(30, (16,), 1, "tanh")  # <- tanh, not sigmoid
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return _patient(model, xt, yt, xv, yv, epochs=15)


def wine_labels_from_one(seed: int) -> Patient:
    """Classes numbered 1, 2, 3 (as in the wine CSV) for three output units."""
    xt, xv, yt, yv = _classify("wine", seed)
    keras.utils.set_random_seed(seed)
    model = _dense(13, (16,), 3, "softmax")
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    return _patient(model, xt, yt + 1, xv, yv + 1, epochs=30, batch_size=16)  # <- labels 1 .. 3


def digits_frozen(seed: int) -> Patient:
    xt, xv, yt, yv = _classify("digits", seed)
    keras.utils.set_random_seed(seed)
    model = _dense(64, (32,), 10, "softmax")
    model.trainable = False  # <- left from a transfer-learning recipe
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return _patient(model, xt, yt, xv, yv)


def wine_sorted_split(seed: int) -> Patient:
    """sklearn's wine rows are sorted by class; validation_split takes the last rows: class 2 only."""
    x, y = _sk("wine")
    x = (x - x.mean(0)) / x.std(0)
    keras.utils.set_random_seed(seed)
    model = _dense(13, (16,), 3, "softmax")
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return Patient(model, x, y.astype(np.int64), dict(validation_split=0.25, epochs=30, batch_size=16))  # <-


def digits_sorted_holdout(seed: int) -> Patient:
    """Rows sorted by class, then the first 1300 for training and the rest for validation."""
    x, y = _sk("digits")
    order = np.argsort(y, kind="stable")  # <- sorted by class before a cut
    x, y = x[order] / 16.0, y[order].astype(np.int64)
    x = ((x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1)).astype(np.float32)
    keras.utils.set_random_seed(seed)
    model = _dense(64, (32,), 10, "softmax")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return _patient(model, x[:1300], y[:1300], x[1300:], y[1300:])


def digits_val_from_train(seed: int) -> Patient:
    """The validation set drawn from the training rows."""
    xt, _, yt, _ = _classify("digits", seed)
    keras.utils.set_random_seed(seed)
    pick = np.random.default_rng(seed).choice(len(xt), 300, replace=False)
    model = _dense(64, (32,), 10, "softmax")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return _patient(model, xt, yt, xt[pick], yt[pick])  # <- validation rows are training rows


def moons_linear(seed: int) -> Patient:
    """Interleaved half-moons with no hidden layer: a straight boundary."""
    from sklearn.datasets import make_moons

    x, y = make_moons(1000, noise=0.05, random_state=seed)
    xt, xv, yt, yv = _split(x.astype(np.float32), y, seed)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])  # <- no hidden layer
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    return _patient(model, xt, yt, xv, yv, epochs=10)


def digits_bottleneck(seed: int) -> Patient:
    """Ten classes squeezed through one hidden unit."""
    xt, xv, yt, yv = _classify("digits", seed)
    keras.utils.set_random_seed(seed)
    model = _dense(64, (1,), 10, "softmax")  # <- one hidden unit
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return _patient(model, xt, yt, xv, yv)


def digits_noisy_labels(seed: int) -> Patient:
    """Half the training labels replaced by random classes; the validation labels are clean."""
    xt, xv, yt, yv = _classify("digits", seed)
    rng = np.random.default_rng(seed)
    flip = rng.random(len(yt)) < 0.5
    yt = np.where(flip, rng.integers(0, 10, len(yt)), yt)  # <- 50 % random labels
    keras.utils.set_random_seed(seed)
    model = _dense(64, (64,), 10, "softmax")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return _patient(model, xt, yt, xv, yv)


def cancer_raw_features(seed: int) -> Patient:
    xt, xv, yt, yv = _classify("breast_cancer", seed, scale=False)  # <- areas in the thousands
    keras.utils.set_random_seed(seed)
    model = _dense(30, (16,), 1, "sigmoid")
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return _patient(model, xt, yt, xv, yv, epochs=15)


def diabetes_raw_target(seed: int) -> Patient:
    xt, xv, yt, yv = _diabetes(seed, standardize_target=False)  # <- targets 25 .. 346
    keras.utils.set_random_seed(seed)
    model = _dense(10, (32,), 1, None)
    model.compile("adam", "mse")
    return _patient(model, xt, yt, xv, yv, epochs=15)


def synthetic_rare_class(seed: int) -> Patient:
    from sklearn.datasets import make_classification

    x, y = make_classification(3000, 10, n_informative=4, weights=[0.97], flip_y=0, random_state=seed)
    xt, xv, yt, yv = _split(x.astype(np.float32), y, seed)
    keras.utils.set_random_seed(seed)
    model = _dense(10, (16,), 1, "sigmoid")
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])  # <- no class_weight, accuracy only
    return _patient(model, xt, yt, xv, yv, epochs=5)


def digits_huge_init(seed: int) -> Patient:
    xt, xv, yt, yv = _classify("digits", seed)
    keras.utils.set_random_seed(seed)
    init = keras.initializers.RandomNormal(stddev=3.0)  # <- weights 30x too large
    model = _dense(64, (32,), 10, "softmax", kernel_initializer=init)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return _patient(model, xt, yt, xv, yv)


def wine_sgd_too_fast(seed: int) -> Patient:
    xt, xv, yt, yv = _classify("wine", seed)
    keras.utils.set_random_seed(seed)
    model = _dense(13, (32,), 3, "softmax")
    model.compile(keras.optimizers.SGD(8.0), "sparse_categorical_crossentropy")  # <- rate 8
    return _patient(model, xt, yt, xv, yv, epochs=30, batch_size=16)


def cancer_sgd_too_slow(seed: int) -> Patient:
    xt, xv, yt, yv = _classify("breast_cancer", seed)
    keras.utils.set_random_seed(seed)
    model = _dense(30, (16,), 1, "sigmoid")
    model.compile(keras.optimizers.SGD(1e-5), "binary_crossentropy")  # <- rate 1e-5
    return _patient(model, xt, yt, xv, yv, epochs=15)


TRIALS: tuple[Trial, ...] = (
    Trial("digits_softmax", None, digits_softmax),
    Trial("cancer_sigmoid", None, cancer_sigmoid),
    Trial("wine_onehot", None, wine_onehot),
    Trial("diabetes_linear", None, diabetes_linear),
    Trial("diabetes_bounded", None, diabetes_bounded),
    Trial("iris_shuffled_split", None, iris_shuffled_split),
    Trial("moons_logits", None, moons_logits),
    Trial("synthetic_many", None, synthetic_many),
    Trial("diabetes_sigmoid_output", "output_range", diabetes_sigmoid_output),
    Trial("diabetes_relu_output", "output_range", diabetes_relu_output),
    Trial("cancer_tanh_output", "activation_loss_mismatch", cancer_tanh_output),
    Trial("digits_mse_on_classes", "activation_loss_mismatch", digits_mse_on_classes),
    Trial("wine_labels_from_one", "label_format", wine_labels_from_one),
    Trial("digits_frozen", "frozen_layers", digits_frozen),
    Trial("wine_sorted_split", "unshuffled_split", wine_sorted_split),
    Trial("digits_sorted_holdout", "unshuffled_split", digits_sorted_holdout),
    Trial("digits_val_from_train", "data_leak", digits_val_from_train),
    Trial("moons_linear", "underfitting", moons_linear),
    Trial("digits_bottleneck", "underfitting", digits_bottleneck),
    Trial("digits_noisy_labels", "label_noise", digits_noisy_labels),
    Trial("cancer_raw_features", "unscaled_inputs", cancer_raw_features),
    Trial("diabetes_raw_target", "target_scale", diabetes_raw_target),
    Trial("synthetic_rare_class", "class_imbalance", synthetic_rare_class),
    Trial("digits_huge_init", "bad_initialization", digits_huge_init),
    Trial("wine_sgd_too_fast", "lr_too_high", wine_sgd_too_fast),
    Trial("cancer_sgd_too_slow", "lr_too_low", cancer_sgd_too_slow),
)


def examine(trial: Trial, seed: int = 0):  # a losslab.doctor.Report
    from losslab import doctor

    p = trial.build(seed)
    return doctor.examine(p.model, p.x, p.y, **p.fit)


@dataclass
class Outcome:
    trial: Trial
    causes: list[str]
    seconds: float

    @property
    def named(self) -> bool:
        return self.trial.cause in self.causes

    @property
    def first_and_alone(self) -> bool:
        return self.causes == [self.trial.cause]

    @property
    def false_alarm(self) -> bool:
        return self.trial.cause is None and bool(self.causes)


def run(trials: tuple[Trial, ...] = TRIALS, seed: int = 0) -> list[Outcome]:
    outcomes = []
    for trial in trials:
        started = time.perf_counter()
        report = examine(trial, seed)
        outcomes.append(Outcome(trial, report.causes(), time.perf_counter() - started))
    return outcomes


def rates(outcomes: list[Outcome]) -> dict[str, float]:
    broken = [o for o in outcomes if o.trial.cause]
    healthy = [o for o in outcomes if not o.trial.cause]
    return {
        "named": sum(o.named for o in broken) / max(len(broken), 1),
        "first_and_alone": sum(o.first_and_alone for o in broken) / max(len(broken), 1),
        "first": sum(bool(o.causes) and o.causes[0] == o.trial.cause for o in broken) / max(len(broken), 1),
        "false_alarms": sum(o.false_alarm for o in healthy) / max(len(healthy), 1),
        "broken": len(broken),
        "healthy": len(healthy),
        "median_s": float(np.median([o.seconds for o in outcomes])),
        "max_s": float(max(o.seconds for o in outcomes)),
    }


def treat_times(trials: tuple[Trial, ...], seed: int = 0) -> None:
    """Print ``report.treat()``'s wall time (the examination excluded) and verdict for every planted cause."""
    seconds = []
    for trial in trials:
        if not trial.cause:
            continue
        report = examine(trial, seed)
        started = time.perf_counter()
        treatment = report.treat()
        seconds.append(time.perf_counter() - started)
        tried = [s.cause for s in treatment.steps]
        print(f"treat {trial.name:26s} {seconds[-1]:5.1f} s  verdict {treatment.verdict:12s} tried {tried}")
    if seconds:
        print(
            f"backend {keras.backend.backend()}: {len(seconds)} treatments, median {np.median(seconds):.1f} s, "
            f"max {max(seconds):.1f} s"
        )


def main(argv: list[str]) -> int:
    names = {a for a in argv if not a.startswith("--")}
    trials = tuple(t for t in TRIALS if not names or t.name in names)
    if "--treat" in argv:
        treat_times(trials)
        return 0
    outcomes = run(trials)
    for o in outcomes:
        mark = "ok " if (o.first_and_alone if o.trial.cause else not o.causes) else "NO " if not o.named else "~  "
        print(f"{mark} {o.trial.name:26s} planted {o.trial.cause or '-':20s} named {o.causes}  {o.seconds:.1f} s")
    r = rates(outcomes)
    print(
        f"backend {keras.backend.backend()}: planted cause named {r['named']:.0%}, first {r['first']:.0%}, "
        f"first and alone {r['first_and_alone']:.0%} of {r['broken']}; false alarms on {r['false_alarms']:.0%} of "
        f"{r['healthy']} healthy; examination median {r['median_s']:.1f} s, max {r['max_s']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
