"""losslab.data: the shipped datasets, split and scaled the same way everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from losslab import data


@pytest.mark.parametrize(
    "loader, n, features, classes",
    [
        (data.digits, 1797, 64, 10),
        (data.breast_cancer, 569, 30, 2),
        (data.wine, 178, 13, 3),
        (data.iris, 150, 4, 3),
        (data.diabetes, 442, 10, 0),
    ],
)
def test_shapes_split_and_dtypes(loader, n, features, classes) -> None:
    split = loader()
    assert split.x_train.shape[0] + split.x_val.shape[0] == n
    assert split.n_features == features and split.n_classes == classes
    assert split.x_train.dtype == np.float32 and split.x_val.dtype == np.float32
    assert abs(split.x_val.shape[0] - round(0.2 * n)) <= 1
    assert repr(split).startswith(f"Split('{split.name}'")


def test_scaler_is_fitted_on_the_training_split_only() -> None:
    split = data.wine()
    assert np.allclose(split.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(split.x_train.std(axis=0), 1, atol=1e-4)
    assert not np.allclose(split.x_val.mean(axis=0), 0, atol=1e-3)  # validation keeps its own offsets
    raw = data.wine(scale=False)
    assert raw.x_train.max() > 1000 and not raw.info["scaled"]


def test_classification_splits_are_stratified_and_deterministic() -> None:
    a, b = data.digits(), data.digits()
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_val, b.y_val)
    counts = np.bincount(a.y_val, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # 360 validation digits, about 36 per class
    other = data.digits(seed=1)
    assert not np.array_equal(a.y_val, other.y_val)


def test_target_scaler_round_trip() -> None:
    split = data.diabetes()
    scaler = data.TargetScaler.fit(split.y_train)
    scaled = scaler.transform(split.y_train)
    assert abs(float(scaled.mean())) < 1e-5 and abs(float(scaled.std()) - 1) < 1e-4
    assert np.allclose(scaler.inverse(scaled), split.y_train, rtol=1e-5)


def test_smooth_surface_is_noise_free_deterministic_and_split() -> None:
    raw = data.smooth_surface(600, scale=False)
    assert raw.x_train.shape == (400, 4) and raw.x_val.shape == (200, 4) and raw.n_classes == 0
    assert raw.x_train.min() >= -1 and raw.x_train.max() <= 1
    x = raw.x_val.astype(np.float64)  # the target is the formula itself, without added noise
    formula = np.sin(3 * x[:, 0]) * np.cos(2 * x[:, 1]) + 0.5 * x[:, 2] ** 2 - x[:, 0] * x[:, 3]
    assert np.allclose(raw.y_val, formula, atol=1e-5)
    again, other = data.smooth_surface(600, scale=False), data.smooth_surface(600, scale=False, seed=1)
    assert np.array_equal(raw.x_train, again.x_train) and not np.array_equal(raw.x_train, other.x_train)
    scaled = data.smooth_surface(600)
    assert np.allclose(scaled.x_train.std(axis=0), 1, atol=1e-4) and np.array_equal(scaled.y_val, raw.y_val)
    with pytest.raises(ValueError, match="at least 10"):
        data.smooth_surface(5)
