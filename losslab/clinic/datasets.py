"""The clinic's data: small sklearn datasets, split and scaled once (cached), and ways to spoil them."""

from __future__ import annotations

from functools import cache

import numpy as np

from losslab import data
from losslab.messages import _


@cache
def _digits(scale: bool = True) -> data.Split:
    return data.digits(scale=scale)


@cache
def _wine(scale: bool = True) -> data.Split:
    return data.wine(scale=scale)


@cache
def _breast_cancer() -> data.Split:
    return data.breast_cancer()


def _split(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    test_size: float,
    seed: int,
    class_names: tuple[str, ...],
    scale: bool = True,
) -> data.Split:
    """A stratified train/validation split, standardized on the training part unless scale=False."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)
    if scale:
        scaler = StandardScaler().fit(x_train)
        x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    return data.Split(
        name,
        x_train.astype(np.float32),
        x_val.astype(np.float32),
        y_train.astype(np.int64),
        y_val.astype(np.int64),
        class_names=class_names,
    )


@cache
def _rare_events(seed: int = 0) -> data.Split:
    """3,000 examples, 10 features, about 1.5% positives: the class-imbalance case (TFi)."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=3000,
        n_features=10,
        n_informative=4,
        n_redundant=2,
        weights=[0.985],
        flip_y=0.0,
        class_sep=1.0,
        random_state=seed,
    )
    return _split("rare_events", x, y, test_size=0.2, seed=seed, class_names=("common", "rare"))


@cache
def _many_features(seed: int = 0) -> data.Split:
    """250 training examples, 40 features of which only 5 are informative, 5% flipped labels: memorisable."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=500, n_features=40, n_informative=5, n_redundant=0, flip_y=0.05, random_state=seed
    )
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
    index = np.concatenate([rng.choice(np.flatnonzero(split.y_train == c), per_class, replace=False) for c in classes])
    rng.shuffle(index)
    return split.x_train[index], split.y_train[index]


def sensors(seed: int = 0) -> data.Split:
    """400 readings of 8 sensors in different units (spreads from 0.01 to 1,000,000, offsets up to 10**6),
    3 classes: generated, so every seed is a dataset no notebook has shown (the debugging exercise)."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    x, y = make_classification(
        n_samples=400,
        n_features=8,
        n_informative=5,
        n_redundant=1,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=1.5,
        random_state=seed,
    )
    x = x * 10.0 ** np.arange(-2, 6) + 10.0 ** np.arange(-1, 7)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)
    return data.Split(
        "sensors",
        x_train.astype(np.float32),
        x_val.astype(np.float32),
        y_train.astype(np.int64),
        y_val.astype(np.int64),
        class_names=("a", "b", "c"),
    )


def few_examples(seed: int = 0, n_features: int = 50, n_classes: int = 2) -> data.Split:
    """100 training and 500 validation examples of a generated problem with many features, 5 of them
    informative, and 5% of the labels flipped, standardized on the training part: a wide network memorizes
    it. Every seed and shape is a dataset no notebook has shown (the debugging exercise's patient 5)."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=600,
        n_features=n_features,
        n_informative=5,
        n_redundant=0,
        n_classes=n_classes,
        flip_y=0.05,
        class_sep=1.5,
        random_state=seed,
    )
    name = _("generated ({features} features, {classes} classes)").format(features=n_features, classes=n_classes)
    return _split(name, x, y, test_size=500, seed=seed, class_names=tuple(str(k) for k in range(n_classes)))


def with_missing(x: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """A copy of `x` where `fraction` of the rows have one measurement missing (NaN), at random places."""
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float32, copy=True)
    rows = rng.choice(len(x), int(fraction * len(x)), replace=False)
    x[rows, rng.integers(0, x.shape[1], len(rows))] = np.nan
    return x
