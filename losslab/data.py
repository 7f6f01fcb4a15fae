"""The course's datasets, shipped inside scikit-learn or generated here (nothing is downloaded), split the
same way everywhere.

Every loader returns a ``Split``: a stratified (for classification) 80/20 train/validation split with a fixed
seed, features as float32, and a StandardScaler fitted on the training split only when ``scale=True``.
Used by every chapter and exercise; docs/curriculum.md's measured figures use exactly these splits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from losslab.messages import N_, _


@dataclass(frozen=True)
class Split:
    """A train/validation split. ``y_*`` are integer class labels or float regression targets."""

    name: str
    x_train: np.ndarray
    x_val: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    feature_names: tuple[str, ...] = ()
    class_names: tuple[str, ...] = ()
    info: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def __repr__(self) -> str:
        kind = f"{self.n_classes} classes" if self.class_names else "regression"
        return (
            f"Split({self.name!r}: train {self.x_train.shape}, val {self.x_val.shape}, {kind}, "
            f"scaled={self.info.get('scaled', False)})"
        )


def _split(name, x, y, *, classification, scale, seed, val_fraction, feature_names=(), class_names=()):
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=val_fraction, random_state=seed, stratify=y if classification else None
    )
    info = {"scaled": scale, "seed": seed, "val_fraction": val_fraction}
    if scale:
        scaler = StandardScaler().fit(x_train)  # fitted on the training split only: no validation leak
        x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
        info["scaler"] = scaler
    y_dtype = np.int64 if classification else np.float32
    return Split(
        name,
        np.asarray(x_train, np.float32),
        np.asarray(x_val, np.float32),
        np.asarray(y_train, y_dtype),
        np.asarray(y_val, y_dtype),
        tuple(map(str, feature_names)),
        tuple(map(str, class_names)),
        info,
    )


def digits(*, scale: bool = True, seed: int = 0, val_fraction: float = 0.2) -> Split:
    """8x8 handwritten digits, 1797 x 64 pixels valued 0-16, 10 classes: the course's mini-MNIST."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return _split(
        N_("digits"),  # a dataset's name: shown through losslab.shown
        d.data,
        d.target,
        classification=True,
        scale=scale,
        seed=seed,
        val_fraction=val_fraction,
        feature_names=d.feature_names,
        class_names=range(10),
    )


def breast_cancer(*, scale: bool = True, seed: int = 0, val_fraction: float = 0.2) -> Split:
    """569 tumours x 30 features; label 1 = benign (357), 0 = malignant (212)."""
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    return _split(
        "breast_cancer",
        d.data,
        d.target,
        classification=True,
        scale=scale,
        seed=seed,
        val_fraction=val_fraction,
        feature_names=d.feature_names,
        class_names=d.target_names,
    )


def wine(*, scale: bool = True, seed: int = 0, val_fraction: float = 0.2) -> Split:
    """178 wines x 13 chemical features whose ranges span 0.13 to 1680: the input-scaling demo. 3 classes."""
    from sklearn.datasets import load_wine

    d = load_wine()
    return _split(
        N_("wine"),  # a dataset's name: shown through losslab.shown
        d.data,
        d.target,
        classification=True,
        scale=scale,
        seed=seed,
        val_fraction=val_fraction,
        feature_names=d.feature_names,
        class_names=d.target_names,
    )


def iris(*, scale: bool = True, seed: int = 0, val_fraction: float = 0.2) -> Split:
    """150 flowers x 4 measurements (cm), 3 species: tiny warm-ups."""
    from sklearn.datasets import load_iris

    d = load_iris()
    return _split(
        N_("iris"),  # a dataset's name: shown through losslab.shown
        d.data,
        d.target,
        classification=True,
        scale=scale,
        seed=seed,
        val_fraction=val_fraction,
        feature_names=d.feature_names,
        class_names=d.target_names,
    )


def diabetes(*, scale: bool = True, seed: int = 0, val_fraction: float = 0.2) -> Split:
    """442 patients x 10 features; target: disease progression after one year (25 to 346). Not scaled here:
    scaling the target is a lesson of chapter 1 (see ``standardize_target``)."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    return _split(
        N_("diabetes"),  # a dataset's name: shown through losslab.shown
        d.data,
        d.target,
        classification=False,
        scale=scale,
        seed=seed,
        val_fraction=val_fraction,
        feature_names=d.feature_names,
    )


def smooth_surface(n: int = 6000, *, scale: bool = True, seed: int = 0, val_fraction: float = 1 / 3) -> Split:
    """A generated, noise-free regression: ``y = sin(3 x0) cos(2 x1) + x2**2 / 2 - x0 x3`` with the four inputs
    drawn uniformly from [-1, 1]. No noise is added, so the best possible mean squared error is 0: whatever loss
    remains belongs to the model and the optimizer, not to the data (chapter 3's Adam experiment)."""
    if n < 10:
        raise ValueError(_("smooth_surface needs at least 10 samples to split, got n={n}").format(n=n))
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 4))
    y = np.sin(3 * x[:, 0]) * np.cos(2 * x[:, 1]) + 0.5 * x[:, 2] ** 2 - x[:, 0] * x[:, 3]
    return _split(
        "smooth surface",
        x,
        y,
        classification=False,
        scale=scale,
        seed=seed,
        val_fraction=val_fraction,
        feature_names=("x0", "x1", "x2", "x3"),
    )


@dataclass(frozen=True)
class TargetScaler:
    """Standardize regression targets with the training split's mean and std, and undo it for reporting."""

    mean: float
    std: float

    @classmethod
    def fit(cls, y_train: np.ndarray) -> TargetScaler:
        return cls(float(np.mean(y_train)), float(np.std(y_train)))

    def transform(self, y: np.ndarray) -> np.ndarray:
        return ((np.asarray(y, np.float32) - self.mean) / self.std).astype(np.float32)

    def inverse(self, y_scaled: np.ndarray) -> np.ndarray:
        return np.asarray(y_scaled, np.float32) * self.std + self.mean
