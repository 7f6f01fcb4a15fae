"""losslab.segmentation: the generated rare-foreground task, the reference Dice loss, IoU and Dice scores."""

from __future__ import annotations

import keras
import matplotlib
import numpy as np
import pytest

from losslab import segmentation

matplotlib.use("Agg")


def test_blob_masks_have_a_rare_foreground_brighter_than_the_background() -> None:
    images, masks = segmentation.blob_masks(200, seed=0)
    assert images.shape == masks.shape == (200, 16, 16, 1)
    assert images.dtype == masks.dtype == np.float32
    assert set(np.unique(masks)) == {0.0, 1.0}
    share = segmentation.foreground_fraction(masks)
    assert 0.01 < share < 0.08, share  # "a few percent"
    assert masks.reshape(200, -1).sum(axis=1).min() >= 1  # every image holds a disc
    assert images[masks == 1].mean() - images[masks == 0].mean() > 0.5  # the disc is brighter, on average


def test_blob_masks_are_reproducible_and_differ_by_seed() -> None:
    a = segmentation.blob_masks(5, seed=3)
    b = segmentation.blob_masks(5, seed=3)
    c = segmentation.blob_masks(5, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("kwargs", [dict(n=0), dict(size=2), dict(radius=(3.0, 1.0)), dict(radius=(1.0, 9.0))])
def test_blob_masks_reject_bad_settings(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="blob_masks|radius"):
        segmentation.blob_masks(**{"n": 4, **kwargs})


def _dice(y_true: np.ndarray, y_pred: np.ndarray, smooth: float = 1.0) -> np.ndarray:
    return keras.ops.convert_to_numpy(segmentation.dice_loss(y_true, keras.ops.convert_to_tensor(y_pred), smooth))


def test_dice_loss_per_image_against_numpy() -> None:
    rng = np.random.default_rng(0)
    y_true = (rng.random((3, 4, 4, 1)) < 0.2).astype("float32")
    y_pred = rng.random((3, 4, 4, 1)).astype("float32")
    overlap = (y_true * y_pred).sum(axis=(1, 2, 3))
    expected = 1 - (2 * overlap + 1) / (y_true.sum(axis=(1, 2, 3)) + y_pred.sum(axis=(1, 2, 3)) + 1)
    np.testing.assert_allclose(_dice(y_true, y_pred), expected, rtol=1e-5)


def test_dice_loss_is_0_for_a_perfect_mask_and_near_1_for_an_empty_prediction() -> None:
    _, masks = segmentation.blob_masks(4, seed=0)
    np.testing.assert_allclose(_dice(masks, masks), 0.0, atol=1e-6)
    empty = _dice(masks, np.zeros_like(masks), smooth=0.0)
    np.testing.assert_allclose(empty, 1.0, atol=1e-6)  # background everywhere cannot lower a Dice loss
    assert np.all(_dice(np.zeros_like(masks), np.zeros_like(masks)) == 0.0)  # nothing to find, nothing found


def test_dice_loss_trains_a_model_on_the_current_backend() -> None:
    images, masks = segmentation.blob_masks(64, seed=1)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((16, 16, 1)), keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=segmentation.dice_loss)
    history = model.fit(images, masks, epochs=3, batch_size=16, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]


def test_iou_and_dice_score() -> None:
    truth = np.array([[1, 1, 0, 0]])
    pred = np.array([[0.9, 0.2, 0.8, 0.1]])  # one hit, one miss, one false alarm
    assert segmentation.iou(truth, pred) == pytest.approx(1 / 3)
    assert segmentation.dice_score(truth, pred) == pytest.approx(2 / 4)
    assert segmentation.iou(truth, np.zeros((1, 4))) == 0.0
    assert segmentation.iou(np.zeros((1, 4)), np.zeros((1, 4))) == 1.0
    assert segmentation.dice_score(np.zeros((1, 4)), np.zeros((1, 4))) == 1.0
    with pytest.raises(ValueError, match="shape"):
        segmentation.iou(truth, np.zeros((1, 5)))
    with pytest.raises(ValueError, match="empty"):
        segmentation.iou(np.zeros((0,)), np.zeros((0,)))


def test_plot_examples_draws_one_row_per_example_with_titles() -> None:
    images, masks = segmentation.blob_masks(3, seed=0)
    fig = segmentation.plot_examples(images, masks, {"model": masks * 0.9}, title="t", count=3)
    assert len(fig.axes) == 3 * 3
    assert fig.axes[2].get_title().startswith("model")
    assert fig._suptitle.get_text() == "t"
