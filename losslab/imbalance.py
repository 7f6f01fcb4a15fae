"""Class imbalance, one remedy at a time (chapter 1, part 2): the data, the three remedies, and their report.

The remedies for a rare positive class are kept apart so that each can be trained alone against the baseline:

- ``prior_bias``: the output bias log(pos/neg), so that the untrained sigmoid already predicts the prior (TFi);
- ``balanced_class_weight``: weights that make both classes count equally in the loss;
- ``oversample``: the positives repeated until both classes have as many training examples (resampling).

``evaluate`` measures a trained model's scores (precision, recall, confusion matrix, average precision) and
``plot_remedies`` draws a confusion matrix and a precision-recall curve per remedy in one figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from losslab import data
from losslab.messages import _


def rare_positives(n_samples: int = 4000, positive_fraction: float = 0.03, seed: int = 0) -> data.Split:
    """A binary task whose class 1 is rare: ``make_classification`` with 10 features, split 80/20 stratified,
    standardized on the training part. Large enough that the validation part holds a few dozen positives."""
    if not 0 < positive_fraction < 0.5:
        raise ValueError(
            _("positive_fraction is the share of the rare class: between 0 and 0.5, got {fraction}").format(
                fraction=positive_fraction
            )
        )
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=n_samples,
        n_features=10,
        n_informative=4,
        n_redundant=2,
        weights=[1 - positive_fraction],
        flip_y=0.0,
        class_sep=1.0,
        random_state=seed,
    )
    return data._split(
        "rare_positives",
        x,
        y,
        classification=True,
        scale=True,
        seed=seed,
        val_fraction=0.2,
        class_names=("common", "rare"),
    )


def _counts(y: Any) -> tuple[int, int]:
    labels = np.asarray(y).ravel()
    if labels.size == 0 or not np.isin(labels, (0, 1)).all():
        raise ValueError(
            _("expected binary labels 0/1 (1 = the rare class); got {labels}").format(
                labels=np.unique(labels)[:10].tolist() if labels.size else _("no labels")
            )
        )
    positives = int(labels.sum())
    negatives = int(labels.size - positives)
    if positives == 0 or negatives == 0:
        raise ValueError(
            _(
                "both classes must occur in the training labels: {positives} positives, {negatives} negatives. "
                "Split with stratify=y so that each part holds some of both."
            ).format(positives=positives, negatives=negatives)
        )
    return positives, negatives


def prior_bias(y: Any) -> float:
    """The output bias log(pos / neg): a sigmoid output then starts at the share of positives."""
    positives, negatives = _counts(y)
    return math.log(positives / negatives)


def balanced_class_weight(y: Any) -> dict[int, float]:
    """``class_weight`` for ``model.fit`` that makes both classes weigh as much in the loss: n / (2 n_class)."""
    positives, negatives = _counts(y)
    total = positives + negatives
    return {0: total / (2 * negatives), 1: total / (2 * positives)}


def oversample(x: Any, y: Any, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Repeat the rare class's examples (drawn with replacement) until both classes are as frequent; shuffled.

    Only for the training split: the validation split must keep the real class shares.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(_("x and y differ in length: {x} vs {y}").format(x=len(x), y=len(y)))
    positives, negatives = _counts(y)
    rare = 1 if positives < negatives else 0
    rng = np.random.default_rng(seed)
    extra = rng.choice(np.flatnonzero(y == rare), size=abs(negatives - positives), replace=True)
    index = np.concatenate([np.arange(len(y)), extra])
    rng.shuffle(index)
    return x[index], y[index]


@dataclass(frozen=True)
class Evaluation:
    """A binary classifier's scores on one split, at one threshold."""

    y_true: np.ndarray
    scores: np.ndarray  # predicted probability of class 1
    threshold: float
    precision: float
    recall: float
    average_precision: float  # area under the precision-recall curve, threshold-free
    confusion: np.ndarray  # [[TN, FP], [FN, TP]]

    def line(self, name: str) -> str:
        (tn, fp), (fn, tp) = self.confusion
        return _(
            "{name} recall {recall}  precision {precision}  AP {ap}   found {tp} of {positives} positives, "
            "{fp} false alarms"
        ).format(
            name=f"{name:22}",
            recall=f"{self.recall:.3f}",
            precision=f"{self.precision:.3f}",
            ap=f"{self.average_precision:.3f}",
            tp=tp,
            positives=tp + fn,
            fp=fp,
        )


def evaluate(y_true: Any, scores: Any, threshold: float = 0.5) -> Evaluation:
    """Precision and recall at ``threshold``, the confusion matrix and the average precision of ``scores``."""
    from sklearn.metrics import average_precision_score, confusion_matrix

    truth = np.asarray(y_true).ravel().astype(int)
    probs = np.asarray(scores, dtype=float).ravel()
    if truth.shape != probs.shape:
        raise ValueError(
            _("one score per label expected: {labels} labels, {scores} scores").format(
                labels=truth.size, scores=probs.size
            )
        )
    _counts(truth)
    predicted = (probs > threshold).astype(int)
    matrix = confusion_matrix(truth, predicted, labels=[0, 1])
    tp, fp, fn = matrix[1, 1], matrix[0, 1], matrix[1, 0]
    return Evaluation(
        truth,
        probs,
        threshold,
        float(tp / (tp + fp)) if tp + fp else 0.0,
        float(tp / (tp + fn)),
        float(average_precision_score(truth, probs)),
        matrix,
    )


def plot_remedies(results: Mapping[str, Evaluation], *, title: str, baseline: str | None = None) -> Any:
    """One column per remedy: its confusion matrix on top, its precision-recall curve below.

    The ``baseline`` run's curve is drawn in gray behind each other curve, for comparison.
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    fig, axes = plt.subplots(2, len(results), figsize=(3.3 * len(results), 6.4), squeeze=False)
    reference = results.get(baseline) if baseline else None
    for col, (name, ev) in enumerate(results.items()):
        top, bottom = axes[0][col], axes[1][col]
        top.imshow(ev.confusion, cmap="Blues")
        for (i, j), count in np.ndenumerate(ev.confusion):
            top.text(
                j, i, str(count), ha="center", va="center", color="white" if count > ev.confusion.max() / 2 else "black"
            )
        top.set_xticks([0, 1], [_("common"), _("rare")])
        top.set_yticks([0, 1], [_("common"), _("rare")])
        heading = f"{name}\n" + _("threshold {threshold}").format(threshold=ev.threshold)
        top.set(title=heading, xlabel=_("predicted class"), ylabel=_("true class"))
        if reference is not None and name != baseline:
            p, r, _thresholds = precision_recall_curve(reference.y_true, reference.scores)
            bottom.plot(r, p, color="gray", linewidth=1, label=baseline)
        p, r, _thresholds = precision_recall_curve(ev.y_true, ev.scores)
        bottom.plot(r, p, color=f"C{col}", label=f"{name} (AP {ev.average_precision:.2f})")
        bottom.plot(
            [ev.recall],
            [ev.precision],
            "o",
            color=f"C{col}",
            label=_("at threshold {threshold}").format(threshold=ev.threshold),
        )
        bottom.set(
            xlabel=_("recall (share of positives found)"),
            ylabel=_("precision (share of alarms that are right)"),
            xlim=(0, 1.02),
            ylim=(0, 1.05),
            title=_("precision-recall curve"),
        )
        bottom.grid(True, alpha=0.3)
        bottom.legend(fontsize="x-small", loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
