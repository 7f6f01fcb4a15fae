"""The training doctor on trainings it never saw (tests/doctor_heldout.py, written apart from the checks and the
clinic): it names every planted cause, first and alone, and raises no alarm on the healthy controls."""

from __future__ import annotations

import numpy as np
import pytest

from losslab import doctor, rules
from tests import doctor_heldout

BROKEN = [t for t in doctor_heldout.TRIALS if t.cause]
HEALTHY = [t for t in doctor_heldout.TRIALS if not t.cause]


def test_the_held_out_set_plants_known_causes_and_has_controls_of_every_kind() -> None:
    assert all(t.cause in doctor.CAUSES for t in BROKEN)
    assert len(HEALTHY) >= 6 and len({t.cause for t in BROKEN}) >= 12
    kinds = {rules.loss_kind(t.build(0).model.loss) for t in HEALTHY}
    assert kinds == {"sparse_ce", "ce", "bce", "regression"}


@pytest.mark.slow
@pytest.mark.parametrize("trial", BROKEN, ids=lambda t: t.name)
def test_names_the_planted_cause_first_and_alone(trial: doctor_heldout.Trial) -> None:
    report = doctor_heldout.examine(trial)
    assert report.causes() == [trial.cause], f"{trial.name}: planted {trial.cause}; the doctor said:\n{report}"
    assert all(f.evidence and f.fix for f in report.alarms)


@pytest.mark.slow
@pytest.mark.parametrize("trial", HEALTHY, ids=lambda t: t.name)
def test_no_alarm_on_a_healthy_control(trial: doctor_heldout.Trial) -> None:
    report = doctor_heldout.examine(trial)
    assert not report.alarms, f"alarms on the healthy {trial.name}:\n{report}"


@pytest.mark.parametrize(
    "activation, units, low, high",
    [
        ("sigmoid", 1, 0.0, 1.0),
        ("tanh", 3, -1.0, 1.0),
        ("relu", 2, 0.0, np.inf),
        ("linear", 1, -np.inf, np.inf),
        ("softmax", 1, 1.0, 1.0),
        ("softmax", 4, 0.0, 1.0),
        ("elu", 1, -1.0, np.inf),
    ],
)
def test_activation_range_is_measured(activation: str, units: int, low: float, high: float) -> None:
    import keras

    lo, hi = rules.activation_range(keras.activations.get(activation), units)
    assert lo == pytest.approx(low, abs=1e-3) and hi == pytest.approx(high, abs=1e-3)


def test_output_range_rule_reasons_from_the_range() -> None:

    import keras

    y = np.linspace(-2, 2, 101)
    assert [p.cause for p in rules.output_range(0.0, 1.0, 1, "mse", y)] == ["output_range"]
    assert rules.output_range(-np.inf, np.inf, 1, "mse", y) == []
    assert rules.output_range(-3.0, 3.0, 1, "mse", y) == []
    # logits squeezed into (-1, 1): at most e / (e + 9 / e) = 45 % for the right one of 10 classes
    logits = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    (problem,) = rules.output_range(-1.0, 1.0, 10, logits)
    assert "45%" in problem.message
    assert rules.output_range(-np.inf, np.inf, 10, logits) == []
    # one softmax unit is always 1: label 0 is out of reach
    assert [p.cause for p in rules.output_range(1.0, 1.0, 1, "binary_crossentropy")] == ["output_range"]


def test_the_doctor_and_chapter_one_read_one_rule_table() -> None:
    """One softmax unit on 0/1 labels: losses.check_units (chapter 1) and the doctor's finding carry the same
    message, from losslab/rules.py."""
    import keras

    from losslab import losses

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 4)).astype(np.float32), rng.integers(0, 2, 200)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.add(keras.layers.Activation("softmax"))
    model.compile("adam", "binary_crossentropy")
    (message,) = losses.check_units(y, 1, "softmax", "binary_crossentropy")
    report = doctor.examine(model, x, y, validation_data=(x, y), only=["labels_vs_loss"])
    assert report.names("output_range")
    assert any(f.evidence == message for f in report.alarms)
