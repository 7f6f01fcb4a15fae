"""losslab.regularize: the gap measured from predictions (penalty-free), digit images, the augmentation block
(active only in training), class subsets for transfer, and transfer_model (a frozen copy, base untouched)."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from losslab import clinic, data
from losslab import regularize as R


@pytest.fixture(scope="module")
def images() -> data.Split:
    return R.digit_images()


class FixedLogits(keras.Model):
    """A model that predicts the same logits for every input (to check gap's arithmetic by hand)."""

    def __init__(self, logits: list[float]) -> None:
        super().__init__()
        self.logits = keras.ops.convert_to_tensor(np.array([logits], np.float32))

    def call(self, x):
        return keras.ops.repeat(self.logits, keras.ops.shape(x)[0], axis=0)


def test_gap_is_cross_entropy_and_accuracy_from_predictions() -> None:
    model = FixedLogits([0.0, math.log(3.0)])  # probabilities 1/4 and 3/4
    x = np.zeros((4, 2), np.float32)
    g = R.gap(model, (x, np.array([1, 1, 1, 1])), (x, np.array([0, 0, 1, 1])))
    assert g.train_loss == pytest.approx(-math.log(0.75), rel=1e-5)
    assert g.val_loss == pytest.approx((-math.log(0.25) - math.log(0.75)) / 2, rel=1e-5)
    assert (g.train_accuracy, g.val_accuracy) == (1.0, 0.5)
    assert g.loss_gap == pytest.approx(g.val_loss - g.train_loss) and g.accuracy_gap == 0.5
    assert "gap +" in str(g)


def test_gap_leaves_out_the_l2_penalty_that_keras_reports() -> None:
    keras.utils.set_random_seed(0)
    split = data.digits()
    model = clinic.mlp(64, 10, (32,), l2=0.1)
    model.compile(optimizer="adam", loss=clinic.logits_loss())
    x, y = split.x_train[:64], split.y_train[:64]
    reported = model.evaluate(x, y, verbose=0)
    measured = R.gap(model, (x, y), (x, y))
    assert reported > measured.train_loss + 0.1  # Keras adds the penalty; gap does not
    assert measured.train_loss == pytest.approx(measured.val_loss)


def test_gap_rejects_labels_the_model_cannot_output() -> None:
    model = FixedLogits([0.0, 0.0])
    x = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        R.gap(model, (x, np.array([0, 2])), (x, np.array([0, 1])))


def test_digit_images_are_8x8x1_in_unit_range(images: data.Split) -> None:
    assert images.x_train.shape[1:] == (8, 8, 1) and images.x_train.dtype == np.float32
    assert images.x_train.min() == 0.0 and images.x_train.max() == 1.0
    assert len(images.x_train) + len(images.x_val) == 1797


def test_digit_images_refuse_a_standardised_split() -> None:
    with pytest.raises(ValueError, match="scale=False"):
        R.digit_images(data.digits())


def test_augmenter_changes_images_in_training_only(images: data.Split) -> None:
    keras.utils.set_random_seed(0)
    block = R.augmenter()
    x = images.x_train[:16]
    assert np.allclose(keras.ops.convert_to_numpy(block(x, training=False)), x)
    moved = keras.ops.convert_to_numpy(block(x, training=True))
    assert moved.shape == x.shape and not np.allclose(moved, x)
    assert moved.min() >= -1e-6 and moved.max() <= 1 + 1e-6  # zero fill, no values out of range


def test_augmenter_refuses_large_factors() -> None:
    with pytest.raises(ValueError, match="small factors"):
        R.augmenter(shift=0.6)


def test_image_mlp_puts_augmentation_in_front_and_trains(images: data.Split) -> None:
    keras.utils.set_random_seed(0)
    model = R.image_mlp((16,), l2=1e-3, dropout=0.2, augment=R.augmenter())
    names = [layer.__class__.__name__ for layer in model.layers]
    assert names[:2] == ["Sequential", "Flatten"] and names.count("Dropout") == 1
    model.compile(optimizer="adam", loss=clinic.logits_loss())
    history = model.fit(images.x_train[:64], images.y_train[:64], epochs=2, verbose=0).history
    assert np.isfinite(history["loss"]).all() and model.output_shape == (None, 10)


def test_class_split_relabels_in_the_order_given(images: data.Split) -> None:
    new = R.class_split(images, [7, 5])
    assert set(new.y_train.tolist()) == {0, 1} and new.class_names == ("7", "5")
    assert np.array_equal(new.x_train[new.y_train == 0], images.x_train[images.y_train == 7])
    assert len(new.y_val) == int(np.isin(images.y_val, [5, 7]).sum())
    with pytest.raises(ValueError, match="distinct labels"):
        R.class_split(images, [5, 11])


def test_transfer_model_copies_and_freezes_the_features(images: data.Split) -> None:
    keras.utils.set_random_seed(0)
    old = R.class_split(images, range(5))
    base = R.small_convnet(5)
    base.compile(optimizer="adam", loss=clinic.logits_loss())
    base.fit(old.x_train[:64], old.y_train[:64], epochs=1, verbose=0)
    before = [w.copy() for w in base.get_weights()]
    x = old.x_train[:8]
    base_features = keras.Sequential(base.layers[:-1]).predict(x, verbose=0)

    frozen = R.transfer_model(base, 3)
    assert np.allclose(frozen.layers[0].predict(x, verbose=0), base_features)
    assert len(frozen.trainable_weights) == 2 and frozen.output_shape == (None, 3)  # the new Dense only

    tuned = R.transfer_model(base, 5, freeze=False)
    tuned.compile(optimizer=keras.optimizers.Adam(1e-2), loss=clinic.logits_loss())
    tuned.fit(x, old.y_train[:8], epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, base.get_weights(), strict=True))  # the base is untouched
    assert not np.allclose(tuned.layers[0].predict(x, verbose=0), base_features)


def test_transfer_model_needs_a_sequential_with_hidden_layers() -> None:
    with pytest.raises(ValueError, match="at least one hidden layer"):
        R.transfer_model(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]), 2)


# ------------------------------------------------------------------- facts chapter 4 states (issue 22)


def test_keras_l2_adds_l_times_the_sum_of_squares_without_a_half() -> None:
    """Part 4 and quiz l2-penalty-form: keras.regularizers.L2(l) adds l * sum(w**2); (lambda/2)*||w||^2 is
    L2(lambda / 2)."""
    w = np.array([[1.0, -2.0], [3.0, 0.5]], dtype="float32")
    penalty = float(keras.ops.convert_to_numpy(keras.regularizers.L2(1e-3)(keras.ops.convert_to_tensor(w))))
    assert penalty == pytest.approx(1e-3 * float(np.sum(w**2)), rel=1e-5)
    assert penalty != pytest.approx(0.5 * 1e-3 * float(np.sum(w**2)), rel=1e-3)
    model = clinic.mlp(4, 2, hidden=(3,), l2=1e-3)
    kernel = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][0].kernel
    total = float(sum(keras.ops.convert_to_numpy(loss) for loss in model.losses))
    assert total == pytest.approx(1e-3 * float(np.sum(keras.ops.convert_to_numpy(kernel) ** 2)), rel=1e-5)


class _Scripted(keras.callbacks.Callback):
    """Writes a scripted 'score' into the logs (lowest at epoch `best`) and keeps a copy of the weights of every
    epoch, before EarlyStopping (listed after it) reads the logs."""

    def __init__(self, scores: list[float]) -> None:
        super().__init__()
        self.scores, self.weights = scores, []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs["score"] = self.scores[epoch]
        self.weights.append([w.copy() for w in self.model.get_weights()])


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_restores_the_best_weights_after_a_full_run(restore: bool) -> None:
    """Keras 3's EarlyStopping(restore_best_weights=True) sets the best epoch's weights back in on_train_end, also
    when it never stopped the training (patient 16, quiz early-stopping-full-run); without it the last epoch's
    weights stay."""
    scores = [5.0, 4.0, 3.0, 1.0, 2.0, 2.5, 3.0, 2.2]  # best at epoch 4 (index 3); patience never runs out
    keras.utils.set_random_seed(0)
    model = clinic.mlp(4, 2, hidden=(8,))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=clinic.logits_loss())
    script = _Scripted(scores)
    stop = keras.callbacks.EarlyStopping(
        monitor="score", mode="min", patience=len(scores), restore_best_weights=restore
    )
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.integers(0, 2, 64)
    history = model.fit(x, y, epochs=len(scores), batch_size=16, verbose=0, callbacks=[script, stop]).history
    assert len(history["loss"]) == len(scores) and stop.stopped_epoch == 0  # a full run, never stopped
    expected = script.weights[3] if restore else script.weights[-1]
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), expected, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(script.weights[3], script.weights[-1], strict=True))
