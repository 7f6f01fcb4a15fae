"""doctor.treat (losslab/doctor/treat.py): prescriptions retrained on copies, verdicts from the runs that agree
with a longer independent retraining, manual prescriptions that say so, and the learner's model untouched."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from losslab import doctor
from losslab.doctor.patient import Run, score
from losslab.doctor.treat import improved, noise, verdict
from tests import doctor_heldout


def _state(model: keras.Model) -> list[np.ndarray]:
    return [np.array(v.numpy()) for v in (*model.variables, *model.optimizer.variables)]


def _config(model: keras.Model) -> list[dict]:
    return [{**layer.get_config(), "trainable": layer.trainable} for layer in model.layers]


def test_verdict_rules() -> None:
    assert improved(0.5, 0.6) and not improved(0.5, 0.51) and not improved(0.9, 0.905)
    assert not improved(0.5, 0.6, noise=0.06) and improved(0.5, 0.6, noise=0.04)
    steady, shaky = Run((), scores=[0.5, 0.5, 0.5, 0.5]), Run((), scores=[0.4, 0.6, 0.4, 0.6])
    assert noise(steady) == 0.0 and noise(steady, shaky) == pytest.approx(np.std([0.6, 0.4, 0.6]))
    assert improved(float("nan"), 0.9, chance=0.1) and not improved(0.9, float("nan"))
    assert verdict(True, True) == "fixed" and verdict(True, False) == "helped" and verdict(False, True) == "no better"
    assert verdict(False, True, about_training=False) == "fixed"
    assert verdict(True, False, about_training=False) == "no better"


def test_score_is_in_the_same_units_whatever_the_labels() -> None:
    y = np.array([0, 0, 0, 1])
    probabilities = np.array([[0.6], [0.2], [0.3], [0.9]])  # one of three 0s wrong: recalls 2/3 and 1
    assert score("classification", probabilities, y, "binary_crossentropy") == pytest.approx(5 / 6)
    logits = keras.losses.BinaryCrossentropy(from_logits=True)
    assert score("classification", np.array([[0.1], [-2.0], [-3.0], [4.0]]), y, logits) == pytest.approx(5 / 6)
    assert score("classification", np.array([[0.1], [0.2], [0.3], [0.9]]), 2 * y - 1, "binary_crossentropy") == 1.0
    target = np.array([1.0, 2.0, 3.0])
    assert score("regression", target.reshape(-1, 1), target, "mse") == 1.0
    assert score("regression", np.full((3, 1), 2.0), target, "mse") == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits_frozen", "diabetes_sigmoid_output", "digits_huge_init"])
def test_treat_never_changes_the_learners_model(name: str) -> None:
    trial = next(t for t in doctor_heldout.TRIALS if t.name == name)
    p = trial.build(0)
    p.model.fit(p.x[:64], p.y[:64], epochs=1, verbose=0)  # an optimizer with state
    before, config, loss = _state(p.model), _config(p.model), p.model.loss
    treatment = doctor.treat(p.model, p.x, p.y, **p.fit)
    assert treatment.applied and treatment.applied[0].run.scores, str(treatment)  # it trained copies
    for b, a in zip(before, _state(p.model), strict=True):
        np.testing.assert_array_equal(a, b)
    assert _config(p.model) == config and p.model.loss is loss


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, fix",
    [
        ("cancer_raw_features", "standardize"),
        ("wine_sgd_too_fast", "rate"),
        ("digits_frozen", "unfreeze"),
        ("digits_softmax", "weights"),  # healthy: class weights on balanced classes should not help
    ],
)
def test_a_verdict_agrees_with_a_longer_independent_retraining(name: str, fix: str) -> None:
    """The treatment's verdict, from runs of the patient's own budget, against a retraining written here by hand
    (the fix as a learner would write it), three times as long and from another seed."""
    from sklearn.preprocessing import StandardScaler

    trial = next(t for t in doctor_heldout.TRIALS if t.name == name)
    p = trial.build(0)
    causes = {"weights": ["class_imbalance"]}.get(fix)
    treatment = doctor.treat(p.model, p.x, p.y, causes=causes, **p.fit)
    assert treatment.applied, str(treatment)
    step = treatment.applied[0]

    def long_run(seed: int, fixed: bool) -> float:
        q = trial.build(seed)
        x, y = q.x, q.y
        x_val, y_val = q.fit["validation_data"]
        fit = {k: v for k, v in q.fit.items() if k not in {"validation_data", "epochs"}}
        model = q.model
        if fixed and fix == "standardize":
            scaler = StandardScaler().fit(x)
            x, x_val = scaler.transform(x), scaler.transform(x_val)
        elif fixed and fix == "rate":
            model.compile(keras.optimizers.SGD(float(step.change.split("-> ")[-1])), model.loss)
        elif fixed and fix == "unfreeze":
            model.trainable = True
            model.compile(keras.optimizers.Adam(), model.loss)
        elif fixed and fix == "weights":
            counts = np.bincount(y)
            fit["class_weight"] = {c: len(y) / (len(counts) * n) for c, n in enumerate(counts)}
        model.fit(x, y, epochs=3 * q.fit["epochs"], verbose=0, **fit)
        outputs = np.asarray(keras.ops.convert_to_numpy(model(x_val, training=False)))
        return score(treatment.kind, outputs, y_val, model.loss)

    untreated, treated = long_run(1, False), long_run(1, True)
    longer_says_better = improved(untreated, treated, treatment.chance)
    assert longer_says_better == (step.verdict in {"fixed", "helped"}), (str(treatment), untreated, treated)


@pytest.mark.slow
def test_a_prescription_that_is_the_learners_says_so_and_names_the_check() -> None:
    p = doctor_heldout.digits_noisy_labels(0)
    treatment = doctor.examine(p.model, p.x, p.y, **p.fit).treat()
    (step,) = treatment.steps
    assert step.cause == "label_noise" and step.run is None and step.check == "label_quality"
    assert "only=['label_quality']" in str(treatment) and treatment.verdict == "not applied"


@pytest.mark.slow
def test_treatment_figure_shows_before_and_after() -> None:
    import matplotlib.pyplot as plt

    p = doctor_heldout.wine_sgd_too_fast(0)
    treatment = doctor.treat(p.model, p.x, p.y, **p.fit)
    fig = treatment.figure()
    left, right = fig.axes[:2]
    labels = [line.get_label() for line in left.get_lines()]
    assert {"untreated: training", "treated: training"} <= set(labels)
    assert len(right.get_lines()) >= 2 and "lr_too_high" in left.get_title(loc="left")
    plt.close(fig)


def test_treat_refuses_a_report_without_its_patient() -> None:
    with pytest.raises(ValueError, match="examine"):
        doctor.Report([]).treat()


class _Weights(keras.callbacks.Callback):
    def on_train_end(self, logs=None) -> None:
        self.weights = [np.array(w) for w in self.model.get_weights()]


@pytest.mark.slow
def test_monitor_offers_the_examination_on_an_alarm(capsys) -> None:
    p = doctor_heldout.wine_sgd_too_fast(0)
    fit = {k: v for k, v in p.fit.items() if k != "validation_data"}
    start = [np.array(w) for w in p.model.get_weights()]
    monitor = doctor.TrainingMonitor(
        data=(p.x, p.y), validation_data=p.fit["validation_data"], batch_size=16, examine_on_alarm=True
    )
    recorder = _Weights()
    p.model.fit(p.x, p.y, verbose=0, callbacks=[recorder, monitor], **fit)
    out = capsys.readouterr().out
    assert monitor.findings and "can examine this model" in out
    assert monitor.report is not None and monitor.report.causes() == ["lr_too_high"]
    for now, end in zip(p.model.get_weights(), recorder.weights, strict=True):
        np.testing.assert_array_equal(now, end)  # the examination ran from the start and put the end back
    np.testing.assert_array_equal(monitor.report.patient.weights[0], start[0])


def test_monitor_examines_only_when_asked() -> None:
    with pytest.raises(ValueError, match="data="):
        doctor.TrainingMonitor(examine_on_alarm=True)
    monitor = doctor.TrainingMonitor()
    with pytest.raises(ValueError, match="data="):
        monitor.examine()


# The held-out patients whose prescription is the learner's to apply (labels, the validation set, the output layer)
MANUAL = {"digits_noisy_labels", "digits_val_from_train", "digits_mse_on_classes"}


@pytest.mark.slow
@pytest.mark.system
@pytest.mark.parametrize("trial", [t for t in doctor_heldout.TRIALS if t.cause], ids=lambda t: t.name)
def test_every_held_out_treatment_is_fixed_or_left_to_the_learner(trial: doctor_heldout.Trial) -> None:
    treatment = doctor_heldout.examine(trial).treat()
    if trial.name in MANUAL:
        assert treatment.verdict == "not applied" and all(s.check for s in treatment.steps), str(treatment)
    else:
        assert treatment.verdict == "fixed" and treatment.steps[-1].cause == trial.cause, str(treatment)
