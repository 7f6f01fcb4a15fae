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
