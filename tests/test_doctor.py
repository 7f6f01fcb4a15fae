"""The training doctor (losslab/doctor.py): it names the cause planted in every clinic case, stays quiet on
the healthy baselines, leaves the model exactly as it found it, and its callback fires on broken trainings
only."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from losslab import clinic, data, doctor

BASELINES = {c.baseline.__name__: c.baseline for c in clinic.CASES}


# ------------------------------------------------------------------------------- the core promise


@pytest.mark.slow
@pytest.mark.parametrize("case", clinic.CASES, ids=lambda c: c.cause)
def test_names_the_planted_cause(case: clinic.Case) -> None:
    report = case.broken(0).examine()
    assert report.names(case.cause), f"{case.cause} not named; the doctor said:\n{report}"
    if case.cause in {"unscaled_inputs", "target_scale", "bad_initialization"}:
        # a rate is not "too high" for a model its data or its initialization throws off (doctor/diagnosis.py, 1a)
        assert "lr_too_high" not in report.causes(), f"a secondary cause that is not there:\n{report}"
    tool = [f for f in report.alarms if f.cause == case.cause]
    assert all(f.evidence and f.fix for f in tool), "every alarm needs measured evidence and a fix"


@pytest.mark.slow
@pytest.mark.parametrize("build", BASELINES.values(), ids=list(BASELINES))
def test_quiet_on_healthy_baselines(build) -> None:
    report = build(0).examine()
    assert not report.alarms, f"alarms on a healthy baseline:\n{report}"


# ---------------------------------------------------------------------------- it changes nothing


def _state(model: keras.Model) -> list[np.ndarray]:
    return [np.array(v.numpy()) for v in (*model.variables, *model.optimizer.variables)]


@pytest.mark.slow
@pytest.mark.parametrize("builder", [clinic.training_flag_fixed, clinic.regularized, clinic.lr_too_low])
def test_model_is_left_unchanged(builder) -> None:
    setup = builder(0)
    setup.model.fit(setup.x[:64], setup.y[:64], epochs=1, batch_size=32, verbose=0)  # a used optimizer
    before, lr, history = _state(setup.model), float(setup.model.optimizer.learning_rate), setup.model.history
    setup.examine()
    after = _state(setup.model)
    assert len(before) == len(after)
    for b, a in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    assert float(setup.model.optimizer.learning_rate) == lr
    assert setup.model.history is history


# --------------------------------------------------------------------------------- single checks


def _digits_model(loss, output_activation=None, units: int = 10) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = clinic.mlp(64, units, hidden=(16,), output_activation=output_activation)
    model.compile(optimizer="adam", loss=loss)
    return model


def test_one_hot_labels_with_the_sparse_loss_are_caught_before_keras_fails() -> None:
    d = data.digits()
    one_hot = np.eye(10, dtype=np.float32)[d.y_train]
    report = doctor.examine(
        _digits_model(clinic.logits_loss()),
        d.x_train,
        one_hot,
        validation_data=(d.x_val, np.eye(10)[d.y_val]),
    )
    assert report.causes() == ["label_format"]
    assert "categorical_crossentropy" in report.finding("labels_vs_loss").fix


def test_labels_out_of_range_and_softmax_with_logits_loss() -> None:
    d = data.digits()
    report = doctor.examine(_digits_model(clinic.logits_loss()), d.x_train, d.y_train + 1, skip=["curves"])
    assert report.names("label_format")
    assert "10" in report.finding("labels_vs_loss").evidence
    double = _digits_model(clinic.logits_loss(), output_activation="softmax")
    report = doctor.examine(double, d.x_train, d.y_train, validation_data=(d.x_val, d.y_val))
    assert report.names("activation_loss_mismatch")
    assert "twice" in report.finding("activation_vs_loss").evidence


def test_label_check_reads_labels_as_losses_does() -> None:
    """issue 14: the doctor's label checks read a label array with loss_names.label_format, the course's one
    reading, instead of a copy: soft rows with the sparse loss, and negative class numbers, are not class
    numbers (Keras would stop), and the message says what the labels look like."""
    from losslab.loss_names import label_format

    d = data.digits()
    soft = np.full((len(d.y_train), 10), 0.02, dtype=np.float32)
    soft[np.arange(len(d.y_train)), d.y_train] = 0.82
    report = doctor.examine(_digits_model(clinic.logits_loss()), d.x_train, soft, skip=["curves"])
    assert report.names("label_format")
    assert str(label_format(soft)) in report.finding("labels_vs_loss").evidence
    negative = d.y_train.astype(np.int64) - 1
    report = doctor.examine(_digits_model(clinic.logits_loss()), d.x_train, negative, skip=["curves"])
    assert report.names("label_format") and "not class numbers" in report.finding("labels_vs_loss").evidence


def test_unscaled_regression_target() -> None:
    d = data.diabetes()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    report = doctor.examine(model, d.x_train, d.y_train, validation_data=(d.x_val, d.y_val))
    assert report.names("target_scale")
    finding = report.finding("initial_loss")
    expected = float((d.y_train.astype(np.float64) ** 2).mean())
    assert math.isclose(finding.values["expected"], expected, rel_tol=1e-6)


def test_uncompiled_model_is_refused() -> None:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="compiled"):
        doctor.examine(model, np.zeros((8, 4)), np.zeros(8))


@pytest.mark.parametrize(
    "loss, kind, logits",
    [
        ("sparse_categorical_crossentropy", "sparse_ce", False),
        (keras.losses.SparseCategoricalCrossentropy(from_logits=True), "sparse_ce", True),
        (keras.losses.categorical_crossentropy, "ce", False),
        (keras.losses.BinaryCrossentropy(from_logits=True), "bce", True),
        ("mse", "regression", None),
        (keras.losses.Huber(), "regression", None),
        (clinic.error_rate, "custom", None),
    ],
)
def test_loss_info(loss, kind, logits) -> None:
    info = doctor.loss_info(loss)
    assert (info.kind, info.from_logits) == (kind, logits)


@pytest.mark.parametrize("backend_model", ["mlp", "batchnorm"])
def test_gradients_match_finite_differences(backend_model: str) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 5)).astype(np.float32), rng.integers(0, 3, 16)
    keras.utils.set_random_seed(1)
    layers = [keras.Input((5,)), keras.layers.Dense(4, activation="tanh")]
    if backend_model == "batchnorm":
        layers.append(keras.layers.BatchNormalization())
    model = keras.Sequential([*layers, keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=clinic.logits_loss())
    loss, grads = doctor.gradients(model, x, y)
    kernel = model.trainable_variables[0]
    base = np.array(kernel.numpy(), dtype=np.float64)
    for index in [(0, 0), (2, 3), (4, 1)]:
        numeric = []
        for sign in (1, -1):
            shifted = base.copy()
            shifted[index] += sign * 1e-2
            kernel.assign(shifted.astype(np.float32))
            numeric.append(doctor.gradients(model, x, y)[0])
        kernel.assign(base.astype(np.float32))
        estimate = (numeric[0] - numeric[1]) / 2e-2
        assert math.isclose(grads[0][index], estimate, rel_tol=0.05, abs_tol=1e-3), (
            index,
            grads[0][index],
            estimate,
        )
    assert math.isfinite(loss)


# -------------------------------------------------------------------------------------- the report


def test_report_api() -> None:
    findings = [
        doctor.Finding("a", "ok", "fine"),
        doctor.Finding("b", "warning", "x is 3", "do y", "batch_size"),
        doctor.Finding("c", "problem", "z is NaN", "do w", "lr_too_high"),
        doctor.Finding("d", "info", "note", cause="overfitting"),
    ]
    report = doctor.Report(findings, 1.0)
    assert report.causes() == ["lr_too_high", "batch_size"]
    assert report.names("batch_size") and not report.names("overfitting")
    assert report.worst == "problem" and report.finding("b").fix == "do y"
    text, html = str(report), report._repr_html_()
    assert "z is NaN" in text and "do w" in text and "<table>" in html and "x is 3" in html
    with pytest.raises(KeyError):
        report.names("not_a_cause")
    with pytest.raises(ValueError):
        doctor.Finding("e", "fatal", "?")
    with pytest.raises(ValueError):
        doctor.Finding("e", "ok", "?", cause="made_up")


# ------------------------------------------------------------------------------------ the callback


@pytest.mark.slow
def test_monitor_quiet_on_a_healthy_training() -> None:
    monitor = doctor.TrainingMonitor(gradient_batch=None)
    clinic.digits_baseline(0).train(callbacks=[monitor])
    assert monitor.findings == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "builder, kind, cause",
    [
        (clinic.lr_too_high, "stuck", "lr_too_high"),
        (clinic.overfitting, "diverging", "overfitting"),
    ],
)
def test_monitor_explains_broken_trainings(builder, kind: str, cause: str, capsys) -> None:
    monitor = doctor.TrainingMonitor()
    builder(0).train(epochs=15, callbacks=[monitor])
    assert [f.check for f in monitor.findings] == [kind] and monitor.causes == [cause]
    assert "TrainingMonitor:" in capsys.readouterr().out


def test_monitor_stops_at_nan_and_says_why(capsys) -> None:
    d = data.diabetes()  # raw targets 25..346 with plain SGD: the loss overflows in the first epoch
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    monitor = doctor.TrainingMonitor()
    history = model.fit(d.x_train, d.y_train, epochs=5, batch_size=32, verbose=0, callbacks=[monitor])
    assert [f.check for f in monitor.findings] == ["nan"]
    assert len(history.history["loss"]) == 1, "stop_on_nan should end the training in the epoch of the NaN"
    assert "became" in capsys.readouterr().out


def test_monitor_sees_a_rising_loss() -> None:
    d = data.wine()
    keras.utils.set_random_seed(0)
    model = clinic.mlp(13, 3, hidden=(32,))
    model.compile(optimizer=keras.optimizers.SGD(1.0, momentum=0.9), loss=clinic.logits_loss())
    monitor = doctor.TrainingMonitor(verbose=False)
    model.fit(d.x_train, d.y_train, epochs=8, batch_size=16, verbose=0, callbacks=[monitor])
    assert "rising" in [f.check for f in monitor.findings] and "lr_too_high" in monitor.causes


def test_monitor_logs_gradient_norms_and_learning_rate() -> None:
    d = data.wine()
    keras.utils.set_random_seed(0)
    model = clinic.mlp(13, 3, hidden=(8,))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=clinic.logits_loss())
    monitor = doctor.TrainingMonitor(gradient_batch=(d.x_train[:32], d.y_train[:32]), verbose=False)
    history = model.fit(d.x_train, d.y_train, epochs=3, verbose=0, callbacks=[monitor]).history
    norms = [k for k in history if k.startswith("grad_norm/")]
    assert "grad_norm/total" in norms and len(norms) == 3  # two kernels and the total
    assert all(v > 0 for v in history["grad_norm/total"]) and history["learning_rate"] == pytest.approx([0.01] * 3)


def test_read_tensorboard(tmp_path) -> None:
    pytest.importorskip("tensorflow")
    pytest.importorskip("tensorboard", reason="keras.callbacks.TensorBoard needs the tensorboard package")
    d = data.iris()
    keras.utils.set_random_seed(0)
    model = clinic.mlp(4, 3, hidden=(8,))
    model.compile(optimizer="adam", loss=clinic.logits_loss())
    history = model.fit(
        d.x_train,
        d.y_train,
        epochs=3,
        verbose=0,
        callbacks=[keras.callbacks.TensorBoard(log_dir=str(tmp_path))],
    ).history
    scalars = doctor.read_tensorboard(str(tmp_path))
    steps, values = zip(*scalars["train"]["epoch_loss"], strict=True)
    assert steps == (0, 1, 2)
    np.testing.assert_allclose(values, history["loss"], rtol=1e-6)
