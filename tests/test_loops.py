"""losslab.loops: the hand-written loop agrees with model.fit, and each planted slip does what it says."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from losslab import data, loops


@pytest.fixture(scope="module")
def small() -> data.Split:
    """256 training and 64 validation digits: enough for a few steps, fast on every backend."""
    d = data.digits()
    return data.Split(
        "digits-small", d.x_train[:256], d.x_val[:64], d.y_train[:256], d.y_val[:64], class_names=d.class_names
    )


def _run(
    split: data.Split,
    slip: str | None = None,
    *,
    lr: float = 0.05,
    batch_size: int = 32,
    epochs: int = 1,
    **model: object,
) -> tuple[keras.Model, loops.LoopRun]:
    net = loops.digits_model(**model)
    return net, loops.train(
        net, split, optimizer=keras.optimizers.SGD(lr), epochs=epochs, batch_size=batch_size, slip=slip
    )


def test_correct_loop_matches_fit_on_full_batches(small: data.Split) -> None:
    """With the whole training set as one batch the order does not matter: the loop must reproduce fit."""
    n = len(small.x_train)
    net, run = _run(small, batch_size=n, epochs=3)
    reference = loops.digits_model()
    reference.compile(
        optimizer=keras.optimizers.SGD(0.05), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    history = reference.fit(small.x_train, small.y_train, batch_size=n, epochs=3, shuffle=False, verbose=0)
    for mine, theirs in zip(net.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(run.loss, history.history["loss"], rtol=1e-4)
    assert len(run.update_norm) == 3 and all(u > 0 for u in run.update_norm)


def test_correct_loop_reports_the_inference_mode_evaluation(small: data.Split) -> None:
    net, run = _run(small, dropout=0.5)
    loss, accuracy = loops.evaluate(net, small.x_val, small.y_val)
    assert run.val_loss[-1] == pytest.approx(loss, rel=1e-5) and run.val_accuracy[-1] == pytest.approx(accuracy)
    assert run.history["val_loss"] is run.val_loss


def test_no_zero_grad_adds_every_step_gradients(small: data.Split) -> None:
    """Each step applies the sum of all gradients so far: steps keep growing; the first equals the correct one."""
    _, correct = _run(small)
    _, slipped = _run(small, "no_zero_grad")
    assert slipped.update_norm[0] == pytest.approx(correct.update_norm[0], rel=1e-5)
    growing = slipped.update_norm[:6]
    assert all(b > a for a, b in zip(growing, growing[1:], strict=False)), growing
    assert slipped.update_norm[5] > 3 * correct.update_norm[5]


def test_step_before_backward_applies_the_previous_batch(small: data.Split) -> None:
    """The first step has nothing to apply; the second applies what the correct loop applied first."""
    _, correct = _run(small)
    _, slipped = _run(small, "step_before_backward")
    assert slipped.update_norm[0] == 0.0
    assert slipped.update_norm[1] == pytest.approx(correct.update_norm[0], rel=1e-5)
    assert slipped.update_norm[2] != pytest.approx(correct.update_norm[1], rel=1e-3)  # stale from now on


@pytest.mark.parametrize("batch_size", [16, 64])
def test_summed_loss_scales_the_step_with_the_batch(small: data.Split, batch_size: int) -> None:
    _, mean = _run(small, batch_size=batch_size)
    _, summed = _run(small, "summed_loss", batch_size=batch_size)
    assert summed.update_norm[0] / mean.update_norm[0] == pytest.approx(batch_size, rel=1e-3)
    assert summed.batch_loss[0] == pytest.approx(mean.batch_loss[0], rel=1e-5)  # reported per example


def test_always_inference_never_updates_batchnorm(small: data.Split) -> None:
    net, _ = _run(small, batchnorm=True)
    assert all(mean > 0 and var > 0 for mean, var in loops.batchnorm_statistics(net).values())
    frozen, _ = _run(small, "always_inference", batchnorm=True)
    stats = loops.batchnorm_statistics(frozen)
    assert len(stats) == 2 and all(values == (0.0, 0.0) for values in stats.values())


def test_never_eval_reports_a_training_mode_evaluation(small: data.Split) -> None:
    net, run = _run(small, "never_eval", dropout=0.5)
    loss, _ = loops.evaluate(net, small.x_val, small.y_val)
    assert run.val_loss[-1] != pytest.approx(loss, rel=1e-3)


def test_bad_arguments_say_what_to_do(small: data.Split) -> None:
    net = loops.digits_model()
    with pytest.raises(ValueError, match="'no_zero_grad'"):
        loops.train(net, small, optimizer=keras.optimizers.SGD(), slip="forgot_zero_grad")
    with pytest.raises(ValueError, match="between 1 and the 256 training examples"):
        loops.train(net, small, optimizer=keras.optimizers.SGD(), batch_size=1000)


def test_placement_and_device_mismatch_speak_in_sentences(small: data.Split) -> None:
    where = loops.placement(loops.digits_model(), small.x_val[:4])
    assert set(where) == {"weights", "batch"} and all(isinstance(v, str) and v for v in where.values())
    sentence = loops.torch_device_mismatch()
    assert sentence.endswith(".") or "RuntimeError" in sentence


def test_gradient_code_shows_each_backend_its_own_way() -> None:
    assert "GradientTape" in loops.gradient_code("tensorflow")
    assert "stateless_call" in loops.gradient_code("jax")
    assert "backward()" in loops.gradient_code("torch")
    with pytest.raises(ValueError, match="'tensorflow', 'jax' or 'torch'"):
        loops.gradient_code("numpy")


def test_only_pytorch_adds_gradients_of_repeated_calls(small: data.Split) -> None:
    ratio = loops.repeated_gradient_ratio(loops.digits_model(), small.x_train[:32], small.y_train[:32])
    assert ratio == pytest.approx(2.0 if keras.backend.backend() == "torch" else 1.0, rel=1e-5)
