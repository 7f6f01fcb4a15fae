"""The debugging exercise's checks (losslab/grading/debugging.py) and its patients' data
(losslab/clinic/datasets.py): the reasoned answers are multiple choice, the cleaning bug of patient 3 is one the
doctor does not name, the data with gaps is what the exercise says it is, and patient 4's check refuses a network
without its depth before it trains anything. The fixes themselves are graded end to end by the round trip
(tests/test_grading.py, tests/submissions/04_debugging.py)."""

from __future__ import annotations

import numpy as np
import pytest

from losslab import data, doctor
from losslab.clinic import sensors, with_missing
from losslab.grading import core, debugging


def test_with_missing_leaves_one_gap_in_the_asked_fraction_of_rows() -> None:
    x = np.arange(200 * 5, dtype=np.float32).reshape(200, 5)
    spoiled = with_missing(x, 0.15, seed=0)
    gaps = np.isnan(spoiled)
    assert gaps.any(axis=1).sum() == 30 and gaps.sum() == 30
    assert np.array_equal(spoiled[~gaps], x[~gaps]) and not np.isnan(x).any()
    assert np.array_equal(np.isnan(with_missing(x, 0.15, seed=0)), gaps)
    assert not np.array_equal(np.isnan(with_missing(x, 0.15, seed=1)), gaps)


def test_sensors_span_eight_orders_of_magnitude_and_differ_by_seed() -> None:
    split = sensors(seed=0)
    spread = split.x_train.std(axis=0)
    assert split.n_features == 8 and split.n_classes == 3
    assert spread.max() / spread.min() > 1e6
    assert not np.allclose(split.x_train[:5], sensors(seed=3).x_train[:5])


@pytest.mark.parametrize("name", sorted(debugging.ANSWERS))
def test_answers_take_the_right_letter_only(name: str, capsys) -> None:
    choices, expected, _ = debugging.ANSWERS[name]
    debugging.check_answer(name, f" {expected.upper()} ")
    assert f"{name}: {expected}" in capsys.readouterr().out
    for wrong in (c for c in choices if c != expected):
        with pytest.raises(core.GradingError, match=f"{name}: not '{wrong}'"):
            debugging.check_answer(name, wrong)
    with pytest.raises(core.GradingError, match="should be one of"):
        debugging.check_answer(name, "unscaled_inputs")  # a cause's name earns nothing here


def test_the_doctor_does_not_name_the_cleaning_bug() -> None:
    """Patient 3: the labels drift away from their rows; the doctor's report names no cause (so answer_3 is the
    learner's finding, not the doctor's)."""
    split = data.breast_cancer()
    x = with_missing(split.x_train, debugging.MISSING_FRACTION, seed=0)
    complete = ~np.isnan(x).any(axis=1)
    x_bad, y_bad = x[complete], split.y_train[: complete.sum()]
    assert (y_bad != split.y_train[complete]).mean() > 0.3  # the bug is really planted
    report = doctor.examine(
        debugging.patient_3_model(split.n_features),
        x_bad,
        y_bad,
        validation_data=(split.x_val, split.y_val),
        epochs=debugging.CLEANING_EPOCHS,
    )
    assert report.causes() == []


def test_the_deep_network_must_keep_its_depth() -> None:
    """Patient 4: a shallow network would train, but it is not the patient cured; refused before any training."""
    from losslab import depth

    def shallow(n_inputs: int, n_outputs: int):
        return depth.deep_mlp(n_inputs, n_outputs, depth=2, activation="relu", init="he_normal")

    with pytest.raises(core.GradingError, match="Keep the depth"):
        debugging.check_deep_model(shallow)
    with pytest.raises(core.GradingError, match="build_deep_model raised"):
        debugging.check_deep_model(lambda n_inputs: None)


def test_few_examples_is_a_small_wide_problem_that_differs_by_seed() -> None:
    from losslab.clinic import few_examples

    split = few_examples(seed=1, n_features=80, n_classes=3)
    assert split.x_train.shape == (100, 80) and split.x_val.shape == (500, 80)
    assert set(np.unique(split.y_train)) == {0, 1, 2}
    assert np.allclose(split.x_train.mean(axis=0), 0, atol=1e-5)  # standardized on the training rows
    assert not np.allclose(split.x_train[:5, :50], few_examples(seed=0).x_train[:5])


def test_the_wide_network_must_keep_its_size() -> None:
    """Patient 5: a smaller network is refused before any training, and so is a builder that returns no model."""
    import keras

    def small(n_inputs: int, n_outputs: int):
        return keras.Sequential([keras.Input(shape=(n_inputs,)), keras.layers.Dense(16), keras.layers.Dense(n_outputs)])

    with pytest.raises(core.GradingError, match="not by shrinking it"):
        debugging.check_regularized_model(small)
    with pytest.raises(core.GradingError, match="should return a keras Model"):
        debugging.check_regularized_model(lambda n_inputs, n_outputs: None)
    with pytest.raises(core.GradingError, match="build_regularized_model raised"):
        debugging.check_regularized_model(lambda n_inputs: None)


@pytest.mark.parametrize(
    ("fix", "match"),
    [
        ((0.6, 0.80), None),  # validation loss 0.6 of the control's, same accuracy: passes
        ((0.95, 0.80), "0.95 times the unregularized"),  # too close to the control
        ((0.6, 0.70), "no longer learns the task"),  # lower loss, but the accuracy dropped by 0.10
        ((float("nan"), 0.80), "nan times the unregularized"),
    ],
)
def test_the_regularized_network_must_beat_the_control(monkeypatch, capsys, fix, match) -> None:
    """The messages, with the training mocked: the control measures (1.0, 0.80) on every dataset."""
    from losslab.models import mlp

    def build(n_inputs: int, n_outputs: int):
        return mlp(n_inputs, n_outputs, debugging.WIDE_HIDDEN, l2=1e-2)

    def measured(builder, split, seed=0):
        return fix if builder is build else (1.0, 0.80)

    monkeypatch.setattr(debugging, "train_wide", measured)
    if match is None:
        debugging.check_regularized_model(build)
        assert "0.600 / 1.000" in capsys.readouterr().out
    else:
        with pytest.raises(core.GradingError, match=match):
            debugging.check_regularized_model(build)


def test_l2_beats_the_wide_patient_and_a_token_penalty_does_not() -> None:
    """Trained for real on the notebook's dataset: L2 of 1e-2 clears the margin, L2 of 1e-9 is the patient."""
    from losslab.clinic import few_examples
    from losslab.models import mlp

    split = few_examples(seed=0)
    control, control_accuracy = debugging.train_wide(debugging.patient_5_model, split)
    fixed, accuracy = debugging.train_wide(lambda n, k: mlp(n, k, debugging.WIDE_HIDDEN, l2=1e-2), split)
    token, _ = debugging.train_wide(lambda n, k: mlp(n, k, debugging.WIDE_HIDDEN, l2=1e-9), split)
    assert fixed / control <= debugging.WIDE_MARGIN
    assert accuracy >= control_accuracy - debugging.WIDE_ACCURACY_SLACK
    assert token / control > debugging.WIDE_MARGIN
