"""The clinic (losslab/clinic.py): every cause of seed 001 has a case, every broken case fails by its own
measure and every fix reaches it, and the builders are reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from losslab import clinic, doctor

# The causes the chapter must teach (docs/curriculum.md, chapter 4: every cause of seed 001's checklist).
REQUIRED = {
    "lr_too_high",
    "lr_too_low",
    "unscaled_inputs",
    "label_noise",
    "class_imbalance",
    "activation_loss_mismatch",
    "label_format",
    "vanishing_gradients",
    "bad_initialization",
    "exploding_gradients",
    "batch_size",
    "unshuffled_split",
    "underfitting",
    "overfitting",
    "training_flag",
    "frozen_layers",
    "reused_model",
    "constant_loss",
    "not_reproducible",
    "unmonitored",
}
# The rows of the seed article's final checklist, plus the sections it teaches outside the table.
CATEGORIES = {
    "learning rate",
    "data",
    "model capacity",
    "loss function",
    "optimizer and gradients",
    "implementation",
    "logging",
    "batch size and shuffling",
    "initialization and randomness",
}


def test_every_required_cause_has_exactly_one_case() -> None:
    causes = [c.cause for c in clinic.CASES]
    assert len(causes) == len(set(causes)), "two cases plant the same cause"
    assert set(causes) == REQUIRED
    assert set(causes) <= set(doctor.CAUSES)
    assert {c.category for c in clinic.CASES} == CATEGORIES


def test_cases_are_described() -> None:
    for case in clinic.CASES:
        assert case.title and case.symptom and case.fix and case.tool, case.cause
        assert case.broken is not case.fixed
        assert case.goal_text


def test_lookup_and_show(capsys) -> None:
    assert clinic.case("batch_size").broken is clinic.batch_size
    with pytest.raises(KeyError, match="lr_too_high"):
        clinic.case("nothing")
    clinic.show(clinic.case("lr_too_high"))
    out = capsys.readouterr().out
    assert "learning_rate=1.0" in out and "# --- fixed: digits_baseline" in out


def test_noisy_labels_and_subsets() -> None:
    y = np.arange(1000) % 10
    noisy = clinic.noisy_labels(y, 0.5, 10, seed=3)
    changed = float(np.mean(noisy != y))
    assert 0.4 < changed < 0.5  # half are redrawn, a tenth of those land on the same class
    np.testing.assert_array_equal(noisy, clinic.noisy_labels(y, 0.5, 10, seed=3))
    x, yy = clinic.small_subset(clinic._digits(), 100)
    assert len(x) == 100 and np.bincount(yy).tolist() == [10] * 10


def test_builders_are_reproducible() -> None:
    a, b = clinic.lr_too_low(0), clinic.lr_too_low(0)
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    c = clinic.lr_too_low(1)
    assert not np.array_equal(a.model.get_weights()[0], c.model.get_weights()[0])


@pytest.mark.slow
@pytest.mark.parametrize("case", clinic.CASES, ids=lambda c: c.cause)
def test_broken_fails_and_fix_trains(case: clinic.Case) -> None:
    broken, fixed = case.broken(0), case.fixed(0)
    broken.train()
    fixed.train()
    bad, good = case.measure(broken), case.measure(fixed)
    assert not case.reaches_goal(bad), f"{case.cause}: the broken setup reached {case.goal_text} ({bad:.4g})"
    assert case.reaches_goal(good), f"{case.cause}: the fix missed {case.goal_text} ({good:.4g})"


def test_a_setup_the_backend_refuses_is_shown_as_refused(capsys) -> None:
    """PyTorch refuses binary cross-entropy targets outside [0, 1] (patient 7) where TensorFlow and JAX train on:
    train_or_refuse keeps the error, the curves skip the setup, and the checklist says "refused"."""
    import keras

    class Refuse(keras.callbacks.Callback):
        def on_train_begin(self, logs=None) -> None:
            raise RuntimeError("all elements of target should be between 0 and 1\n(more detail)")

    case = clinic.case("label_format")
    broken, fixed = case.broken(0), case.fixed(0)
    assert broken.train_or_refuse(callbacks=[Refuse()]) is False
    assert broken.refused == "RuntimeError: all elements of target should be between 0 and 1"
    assert broken.history is None and "refused to train" in capsys.readouterr().out
    assert fixed.train_or_refuse() is True and fixed.refused is None
    assert len(fixed.history["loss"]) == fixed.fit["epochs"]
    with pytest.raises(ValueError, match="not an error it may refuse with"):

        def wrong(logs=None) -> None:
            raise ValueError("not an error it may refuse with")

        fixed.train_or_refuse(epochs=1, callbacks=[keras.callbacks.LambdaCallback(on_train_begin=wrong)])

    import matplotlib.pyplot as plt

    ax = clinic.compare({"refused": broken, "trained": fixed}, title="curves")
    labels = [line.get_label() for line in ax.get_lines()]
    plt.close(ax.figure)
    assert any("trained" in label for label in labels) and not any("refused" in label for label in labels)
    results = clinic.Results()
    row = results.record(case, broken, fixed, "a test")
    assert row["ok"] and np.isnan(row["broken"]) and row["broken_refused"]
    assert "refused -&gt; 0.9" in results._repr_html_() and "refused" in str(results)
