"""losslab.imbalance: the rare-positives data, the three remedies, the evaluation and its figure."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

from losslab import imbalance

matplotlib.use("Agg")

Y = np.array([0] * 18 + [1] * 2)


def test_rare_positives_keeps_the_share_in_both_splits() -> None:
    d = imbalance.rare_positives(n_samples=2000, positive_fraction=0.05, seed=0)
    assert d.x_train.shape == (1600, 10) and d.x_val.shape == (400, 10)
    for y in (d.y_train, d.y_val):
        assert 0.03 < y.mean() < 0.07
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0.0, atol=1e-4)  # standardized on the training part


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.9])
def test_rare_positives_rejects_a_fraction_that_is_not_rare(fraction: float) -> None:
    with pytest.raises(ValueError, match="positive_fraction"):
        imbalance.rare_positives(positive_fraction=fraction)


def test_prior_bias_makes_the_sigmoid_start_at_the_prior() -> None:
    bias = imbalance.prior_bias(Y)
    assert bias == pytest.approx(math.log(2 / 18))
    assert 1 / (1 + math.exp(-bias)) == pytest.approx(Y.mean())


def test_balanced_class_weight_gives_both_classes_the_same_total_weight() -> None:
    weights = imbalance.balanced_class_weight(Y)
    assert weights[1] * 2 == pytest.approx(weights[0] * 18)
    assert weights[0] * 18 + weights[1] * 2 == pytest.approx(len(Y))  # the mean weight stays 1


@pytest.mark.parametrize(
    "y, message",
    [(np.zeros(5), "both classes"), (np.array([0, 1, 2]), "binary labels"), (np.array([]), "binary labels")],
)
def test_remedies_reject_labels_they_cannot_use(y: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        imbalance.prior_bias(y)


def test_oversample_repeats_only_real_positives_until_balanced() -> None:
    x = np.arange(len(Y))[:, None].astype("float32")
    x_over, y_over = imbalance.oversample(x, Y, seed=0)
    assert y_over.sum() == (y_over == 0).sum() == 18
    assert set(x_over[y_over == 1, 0]) <= {18.0, 19.0}  # copies of the two positives, nothing invented
    np.testing.assert_array_equal(np.sort(x_over[y_over == 0, 0]), np.arange(18))  # negatives untouched
    assert not np.array_equal(y_over, np.sort(y_over))  # shuffled
    with pytest.raises(ValueError, match="length"):
        imbalance.oversample(x[:-1], Y)


def test_evaluate_counts_the_confusion_matrix_precision_and_recall() -> None:
    y = np.array([0, 0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.7, 0.2, 0.3, 0.9, 0.4])  # one false alarm, one hit, one miss
    ev = imbalance.evaluate(y, scores)
    np.testing.assert_array_equal(ev.confusion, [[3, 1], [1, 1]])
    assert (ev.precision, ev.recall) == (0.5, 0.5)
    assert 0 < ev.average_precision <= 1
    assert "found 1 of 2 positives, 1 false alarms" in ev.line("x")
    assert imbalance.evaluate(y, np.zeros(6)).precision == 0.0  # no alarm raised: precision reported as 0
    with pytest.raises(ValueError, match="one score per label"):
        imbalance.evaluate(y, scores[:-1])


def test_plot_remedies_draws_a_matrix_and_a_curve_per_remedy() -> None:
    y = np.array([0, 0, 0, 0, 1, 1])
    results = {
        "baseline": imbalance.evaluate(y, [0.1, 0.2, 0.3, 0.4, 0.35, 0.6]),
        "remedy": imbalance.evaluate(y, [0.1, 0.7, 0.2, 0.3, 0.9, 0.8]),
    }
    fig = imbalance.plot_remedies(results, title="t", baseline="baseline")
    assert len(fig.axes) == 4
    assert all(ax.get_title() and ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    assert len(fig.axes[3].get_lines()) == 3  # the remedy's curve, its threshold point, the baseline in gray
