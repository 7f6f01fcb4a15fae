"""Segmentation with a rare foreground: generated masks, a reference Dice loss and IoU (chapter 1, part 2).

``blob_masks`` draws small noisy images with one faint disc each, so that the foreground is a few percent of
the pixels: per-pixel cross-entropy can then score well by predicting background everywhere, while a Dice loss,
which only counts the overlap with the foreground, cannot. ``dice_loss`` is the reference version of the loss the
learner writes in the notebook (the tests check the notebook's against it); ``iou`` and ``dice_score`` measure a
prediction after thresholding, in NumPy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from losslab.messages import _


def blob_masks(
    n: int,
    size: int = 16,
    radius: tuple[float, float] = (1.2, 2.2),
    contrast: float = 1.0,
    noise: float = 0.6,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """`n` images of ``size`` x ``size`` pixels with one disc each, and their masks, both ``(n, size, size, 1)``.

    The disc's radius is drawn from ``radius`` (pixels), its centre anywhere inside the image; the image is the
    mask times ``contrast`` plus Gaussian noise of standard deviation ``noise``. Masks are 0/1 float32.
    """
    if n < 1 or size < 4:
        raise ValueError(
            _("blob_masks needs n >= 1 and size >= 4 pixels, got n={n}, size={size}").format(n=n, size=size)
        )
    low, high = radius
    if not 0 < low <= high < size / 2:
        raise ValueError(
            _("radius must be a range (low, high) with 0 < low <= high < size / 2, got {radius}").format(radius=radius)
        )
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    centres = rng.uniform(high, size - 1 - high, size=(n, 2))
    radii = rng.uniform(low, high, size=n)
    dist2 = (rows[None] - centres[:, 0, None, None]) ** 2 + (cols[None] - centres[:, 1, None, None]) ** 2
    masks = (dist2 <= radii[:, None, None] ** 2).astype(np.float32)
    images = masks * contrast + rng.normal(0.0, noise, size=masks.shape)
    return images[..., None].astype(np.float32), masks[..., None]


def foreground_fraction(masks: Any) -> float:
    """The share of foreground pixels in 0/1 masks."""
    return float(np.mean(np.asarray(masks) > 0.5))


def dice_loss(y_true: Any, y_pred: Any, smooth: float = 1.0) -> Any:
    """Soft Dice loss per image, in ``keras.ops`` (runs on every backend): 1 - (2|A∩B| + s) / (|A| + |B| + s).

    ``y_pred`` are probabilities (a sigmoid output). Sums run over every axis but the first, so each image gets
    its own loss, and Keras averages over the batch. ``smooth`` keeps an empty mask and an empty prediction at
    loss 0 instead of 0 / 0.
    """
    from keras import ops

    y_true = ops.cast(y_true, y_pred.dtype)
    axes = tuple(range(1, len(y_pred.shape)))
    overlap = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return 1.0 - (2.0 * overlap + smooth) / (total + smooth)


def _binary(masks: Any, name: str) -> np.ndarray:
    arr = np.asarray(masks)
    if arr.size == 0:
        raise ValueError(_("{name} is empty: pass the masks of at least one image").format(name=name))
    return arr > 0.5


def iou(y_true: Any, y_pred: Any, threshold: float = 0.5) -> float:
    """Foreground intersection over union over all images, after thresholding the predicted probabilities.

    1 when both are empty (nothing to find, nothing found).
    """
    truth = _binary(y_true, "y_true")
    pred = np.asarray(y_pred) > threshold
    if truth.shape != pred.shape:
        raise ValueError(
            _("masks and predictions differ in shape: {truth} vs {pred}").format(truth=truth.shape, pred=pred.shape)
        )
    union = np.logical_or(truth, pred).sum()
    return 1.0 if union == 0 else float(np.logical_and(truth, pred).sum() / union)


def dice_score(y_true: Any, y_pred: Any, threshold: float = 0.5) -> float:
    """Foreground Dice coefficient 2|A∩B| / (|A| + |B|) over all images, after thresholding; 1 when both empty."""
    truth = _binary(y_true, "y_true")
    pred = np.asarray(y_pred) > threshold
    if truth.shape != pred.shape:
        raise ValueError(
            _("masks and predictions differ in shape: {truth} vs {pred}").format(truth=truth.shape, pred=pred.shape)
        )
    total = truth.sum() + pred.sum()
    return 1.0 if total == 0 else float(2 * np.logical_and(truth, pred).sum() / total)


def plot_examples(
    images: Any,
    masks: Any,
    predictions: Mapping[str, Any],
    *,
    title: str,
    count: int = 4,
    threshold: float = 0.5,
) -> Any:
    """One row per example: the image, its true mask, then each model's predicted probabilities.

    Each prediction panel is titled with the model's name and the pixels above ``threshold``.
    """
    import matplotlib.pyplot as plt

    columns = 2 + len(predictions)
    fig, axes = plt.subplots(count, columns, figsize=(1.9 * columns, 1.9 * count), squeeze=False)
    for row in range(count):
        panels: Sequence[tuple[str, Any, str]] = [
            (_("image"), images[row], "gray"),
            (_("true mask"), masks[row], "magma"),
        ]
        panels = [*panels, *((name, p[row], "magma") for name, p in predictions.items())]
        for col, (name, picture, cmap) in enumerate(panels):
            ax = axes[row][col]
            shown = np.asarray(picture)[..., 0]
            ax.imshow(shown, cmap=cmap, vmin=None if col == 0 else 0, vmax=None if col == 0 else 1)
            label = name if col < 2 else f"{name}\n{int((shown > threshold).sum())} px > {threshold}"
            ax.set_title(label if row == 0 or col >= 2 else "", fontsize="small")
            ax.set_xticks([])
            ax.set_yticks([])
    axes[-1][0].set_xlabel(_("x (pixels)"))
    axes[-1][0].set_ylabel(_("y (pixels)"))
    fig.suptitle(title)
    fig.tight_layout()
    return fig
