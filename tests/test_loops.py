"""losslab.loops: the hand-written loop agrees with model.fit, each one-line edit plants the slip it names, and the
training-loop notebook shows that very loop and plants its slips by editing it."""

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
    slip: str = "correct",
    *,
    lr: float = 0.05,
    batch_size: int = 32,
    epochs: int = 1,
    **model: object,
) -> tuple[keras.Model, loops.LoopRun]:
    net = loops.digits_model(**model)
    return net, loops.slipped(slip)(net, keras.optimizers.SGD(lr), split, epochs=epochs, batch_size=batch_size)


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


def test_step_before_backward_applies_cleared_gradients(small: data.Split) -> None:
    """PyTorch's zero_grad(), forward, step(), backward(): every step applies the cleared gradients, so no weight
    ever moves and nothing raises, though each batch's gradient is computed (and is not zero)."""
    before = [w.copy() for w in loops.digits_model().get_weights()]
    net, slipped = _run(small, "step_before_backward", epochs=2)
    assert slipped.update_norm and all(u == 0.0 for u in slipped.update_norm)
    assert all(g > 0 for g in slipped.grad_norm)
    for a, b in zip(before, net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("batch_size", [16, 64])
def test_summed_loss_scales_the_step_with_the_batch(small: data.Split, batch_size: int) -> None:
    _, mean = _run(small, batch_size=batch_size)
    _, summed = _run(small, "summed_loss", batch_size=batch_size)
    assert summed.update_norm[0] / mean.update_norm[0] == pytest.approx(batch_size, rel=1e-3)
    assert summed.batch_loss[0] == pytest.approx(batch_size * mean.batch_loss[0], rel=1e-5)  # as the loop computed it


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
        loops.slipped("forgot_zero_grad")
    with pytest.raises(ValueError, match="between 1 and the 256 training examples"):
        loops.train(net, keras.optimizers.SGD(), small, batch_size=1000)
    with pytest.raises(ValueError, match="exactly one line"):
        loops.edit(loops.train, delete="grads = ")  # two lines hold it
    with pytest.raises(ValueError, match="edit one line"):
        loops.edit(loops.train, delete="x", replace="y", by="z")


def test_each_slip_is_one_line_of_the_loop_changed(capsys) -> None:
    """edit prints exactly the line it deleted or changed (a move prints it removed and put back elsewhere)."""
    import inspect

    lines = inspect.getsource(loops.train).splitlines()
    for slip, change in loops.SLIP_EDITS.items():
        edited = loops.edit(loops.train, **change)
        printed = [line for line in capsys.readouterr().out.splitlines() if line]
        assert edited.__name__ == "train" and edited is not loops.train
        assert len(printed) == (1 if "delete" in change else 2), (slip, printed)
        assert all(line[0] in "+-" and line[1:] in lines or line[0] == "+" for line in printed), (slip, printed)


def test_the_notebook_shows_the_loop_and_plants_slips_by_editing_it() -> None:
    """The training-loop notebook's loop cell is losslab.loops.train, every slip is a loops.edit of it (no slip=
    flag), no loop module imports another chapter's package, and no single run's outcome is prose."""
    import inspect
    import re

    from losslab import notebooks
    from tests.support import REPO

    cells = notebooks.read(REPO / "solutions/02_optimizers/training_loop_tutorial.ipynb").cells
    code = [c.source for c in cells if c.cell_type == "code"]
    prose = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    loop = re.sub(r"  # noqa.*", "", inspect.getsource(loops.train)).strip()
    assert loop in code and len(loop.splitlines()) <= 16
    assert sum(c.count("loops.edit(train") for c in code) == 5 and not any("slip=" in c for c in code)
    for certainty in ("the stale one overshoots", "even looks *better*", "(lower here)", "the loss explodes."):
        assert certainty not in prose
    assert all(len(c.splitlines()) <= 30 for c in code)
    source = inspect.getsource(loops)
    assert "clinic" not in source and "doctor" not in source


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
