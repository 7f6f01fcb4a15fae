"""losslab.batches: per-step loss and learning rate of a fit, gradient noise per batch size, class-sorted data."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from losslab import batches, data

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _model(optimizer: object, seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input(shape=(64,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(10)]
    )
    model.compile(optimizer=optimizer, loss=LOSS)
    return model


@pytest.fixture(scope="module")
def digits() -> data.Split:
    return data.digits()


def test_step_log_recovers_the_loss_of_each_batch(digits: data.Split) -> None:
    x, y = digits.x_train[:200], digits.y_train[:200]
    model = _model(keras.optimizers.SGD(0.0))  # no update: every batch's loss is the untrained model's
    log = batches.StepLog(log_lr=False, samples=200, batch_size=32)  # the last batch holds 8 examples
    model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, callbacks=[log])
    expected = [float(LOSS(y[i : i + 32], model.predict(x[i : i + 32], verbose=0))) for i in range(0, 200, 32)]
    assert len(log.losses) == 2 * len(expected)
    np.testing.assert_allclose(log.losses, expected * 2, rtol=1e-4)  # not the running mean Keras logs
    assert list(log.steps) == list(range(1, 15)) and log.lrs == []
    with pytest.raises(ValueError, match="give both samples and batch_size"):
        batches.StepLog(samples=200)


def test_step_log_reads_the_schedule_at_every_step(digits: data.Split) -> None:
    schedule = keras.optimizers.schedules.ExponentialDecay(0.5, decay_steps=10, decay_rate=0.5)
    model = _model(keras.optimizers.SGD(schedule))
    log = batches.StepLog()
    model.fit(digits.x_train[:160], digits.y_train[:160], batch_size=16, epochs=3, verbose=0, callbacks=[log])
    assert log.iterations == list(range(30))  # the optimizer's own count, across epochs
    np.testing.assert_allclose(log.lrs, 0.5 * 0.5 ** (np.arange(30) / 10), rtol=1e-5)


def test_gradient_norms_spread_more_for_small_batches(digits: data.Split) -> None:
    model = _model(keras.optimizers.SGD(0.1))
    before = [w.copy() for w in model.get_weights()]
    small = batches.gradient_norms(model, digits.x_train, digits.y_train, 2, batches=20)
    large = batches.gradient_norms(model, digits.x_train, digits.y_train, 256, batches=20)
    assert small.shape == large.shape == (20,) and np.all(small > 0)
    assert small.std() / small.mean() > 2 * large.std() / large.mean()
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))  # not trained
    again = batches.gradient_norms(model, digits.x_train, digits.y_train, 2, batches=20)
    np.testing.assert_allclose(small, again, rtol=1e-5)  # the seed fixes the batches


def test_gradient_norms_refuse_impossible_batches(digits: data.Split) -> None:
    model = _model("sgd")
    with pytest.raises(ValueError, match="batch_size must be between 1 and"):
        batches.gradient_norms(model, digits.x_train[:10], digits.y_train[:10], 11)
    with pytest.raises(ValueError, match="at least 2 batches"):
        batches.gradient_norms(model, digits.x_train, digits.y_train, 8, batches=1)


def test_class_sorted_orders_by_label_and_keeps_the_pairs() -> None:
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.array([2, 0, 1, 0, 2, 1])
    xs, ys = batches.class_sorted(x, y)
    assert list(ys) == [0, 0, 1, 1, 2, 2]
    assert [int(row[0]) // 2 for row in xs] == [1, 3, 2, 5, 0, 4]  # stable within a class
    with pytest.raises(ValueError, match="one integer label per example"):
        batches.class_sorted(x, y[:5])
