"""losslab.lr: the range test, the update/weight-ratio probe, one-cycle, schedule and sweep helpers, and the
Keras schedule facts chapter 3 teaches (values at given steps, ReduceLROnPlateau refusing a schedule)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import keras
import matplotlib
import numpy as np
import pytest

from losslab import lr as L
from tests.support import REPO

matplotlib.use("Agg")
schedules = keras.optimizers.schedules


# --------------------------------------------------------------------------------------- pure functions


def test_exponential_ramp_runs_from_start_to_end_geometrically() -> None:
    values = [L.exponential_ramp(i, 1e-7, 10.0, 100) for i in range(100)]
    assert math.isclose(values[0], 1e-7) and math.isclose(values[-1], 10.0, rel_tol=1e-9)
    ratios = np.array(values[1:]) / np.array(values[:-1])
    assert np.allclose(ratios, ratios[0]) and math.isclose(ratios[0], 1e8 ** (1 / 99))


def test_smooth_is_a_bias_corrected_moving_average() -> None:
    assert L.smooth([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])  # bias correction: no pull towards 0
    raw = [3.0, 1.0, 2.0]
    beta, avg, want = 0.9, 0.0, []
    for i, loss in enumerate(raw):
        avg = beta * avg + (1 - beta) * loss
        want.append(avg / (1 - beta ** (i + 1)))
    assert L.smooth(raw, beta) == pytest.approx(want)
    assert L.smooth(raw, beta)[0] == pytest.approx(3.0)


def test_suggestion_is_a_tenth_of_the_minimum_and_ignores_nan() -> None:
    lrs = [1e-3, 1e-2, 1e-1, 1.0, 10.0]
    assert L.suggest_from_minimum(lrs, [2.0, 1.5, 1.0, 3.0, float("nan")]) == pytest.approx(1e-2)
    assert L.suggest_from_minimum(lrs, [2.0, 1.5, float("inf"), 0.5, float("nan")]) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="no finite loss"):
        L.suggest_from_minimum([1.0], [float("nan")])


# --------------------------------------------------------------------------------------- the range test


def _linear_problem(n: int = 512, features: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype("float32")
    y = (x @ rng.standard_normal(features) + 0.1 * rng.standard_normal(n)).astype("float32")
    return x, y


def _linear_model(features: int, optimizer) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(features,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_range_test_suggestion_sits_below_the_divergence_threshold() -> None:
    """For SGD on a least-squares problem, steps diverge above 2 / (largest eigenvalue of the loss's Hessian).
    The range test must find the minimum near that threshold and suggest a rate well below it."""
    x, y = _linear_problem()
    hessian = 2 * (x.T @ x) / len(x)  # of mean((w.x + b - y)^2) in w; the bias adds a curvature of 2
    threshold = 2 / max(np.linalg.eigvalsh(hessian).max(), 2.0)
    test = L.range_test(_linear_model(x.shape[1], keras.optimizers.SGD(0.01)), x, y, batch_size=64)
    assert test.stopped_early and len(test.lrs) < test.num_steps, "the loss diverges long before lr 10"
    # the smoothed loss lags a few steps behind the raw one, so its minimum may sit a little past the
    # threshold; the suggestion, a tenth of it, must be safely below
    assert threshold / 30 < test.lr_at_minimum < 4 * threshold, (test.lr_at_minimum, threshold)
    assert test.suggestion == pytest.approx(test.lr_at_minimum / 10) and test.suggestion < threshold / 2
    assert test.losses == pytest.approx(L.smooth(test.raw_losses, 0.98)[: len(test.losses)], rel=1e-6)


@pytest.mark.parametrize(
    "make_optimizer",
    [lambda: keras.optimizers.SGD(0.05, momentum=0.9), lambda: keras.optimizers.Adam(3e-4)],
    ids=["sgd-momentum", "adam"],
)
def test_range_test_restores_weights_and_optimizer_state(make_optimizer) -> None:
    x, y = _linear_problem()
    model = _linear_model(x.shape[1], make_optimizer())
    twin = _linear_model(x.shape[1], make_optimizer())
    twin.optimizer.build(twin.trainable_variables)
    before = [w.numpy().copy() for w in model.weights]
    lr_before = L.current_lr(model.optimizer)
    test = L.range_test(model, x, y, batch_size=32, num_steps=60)
    assert len(test.lrs) > 10
    for w, b in zip(model.weights, before, strict=True):
        np.testing.assert_array_equal(w.numpy(), b)
    assert L.current_lr(model.optimizer) == pytest.approx(lr_before)
    assert int(model.optimizer.iterations.numpy()) == 0
    for mine, fresh in zip(model.optimizer.variables, twin.optimizer.variables, strict=True):
        np.testing.assert_allclose(mine.numpy(), fresh.numpy(), err_msg=mine.path)
    # and the model trains normally afterwards, from where it started
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def _drive(callback: L.LRRangeTest, means: list[float], batch_indices: list[int]) -> keras.Model:
    model = _linear_model(2, keras.optimizers.SGD(0.01))
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    for batch, mean in zip(batch_indices, means, strict=True):
        callback.on_train_batch_begin(batch)
        callback.on_train_batch_end(batch, {"loss": mean})
        if model.stop_training:
            break
    callback.on_train_end()
    return model


def test_stops_when_the_smoothed_loss_passes_four_times_the_best() -> None:
    losses = [2.0 * 0.95**i for i in range(30)] + [2.0 * 0.95**29 * 1.5**k for k in range(1, 40)]
    test = L.LRRangeTest(num_steps=100)
    model = _drive(test, losses, [0] * len(losses))
    smoothed = L.smooth(losses)
    first = next(i for i, s in enumerate(smoothed) if s > 4 * min(smoothed[: i + 1]))
    assert model.stop_training and test.stopped_early and len(test.losses) == first + 1


def test_stops_at_a_nan_loss_and_after_num_steps() -> None:
    test = L.LRRangeTest(num_steps=50)
    _drive(test, [2.0, 1.9, 1.8, float("nan"), 1.0, 1.0], [0] * 6)
    assert len(test.losses) == 4 and test.stopped_early and test.suggestion == pytest.approx(test.lrs[2] / 10)
    test = L.LRRangeTest(num_steps=12)
    model = _drive(test, [1.0] * 20, [0] * 20)
    assert len(test.lrs) == 12 and model.stop_training and not test.stopped_early
    assert test.lrs[-1] == pytest.approx(10.0)


def test_batch_losses_are_recovered_from_keras_running_means() -> None:
    """In an ordinary fit, logs["loss"] is the epoch's running mean; the callback undoes the averaging."""
    raw = [2.0, 1.0, 3.0, 2.5, 0.5, 4.0, 1.5]
    batches = [0, 1, 2, 3, 0, 1, 2]  # two epochs
    means, sums = [], 0.0
    for batch, loss in zip(batches, raw, strict=True):
        sums = loss if batch == 0 else sums + loss
        means.append(sums / (batch + 1))
    test = L.LRRangeTest(num_steps=50, diverge=100.0)
    _drive(test, means, batches)
    assert test.raw_losses == pytest.approx(raw, rel=1e-6)


def test_the_learning_rate_really_changes_every_step() -> None:
    """A loss whose gradient is 1 everywhere: each SGD step moves the kernel by exactly -lr."""
    kernels = []

    class Probe(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            kernels.append(float(self.model.weights[0].numpy().reshape(-1)[0]))

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input(shape=(1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=lambda y_true, y_pred: keras.ops.mean(y_pred) + 1000.0)
    x, y = np.ones((64, 1), "float32"), np.zeros((64, 1), "float32")
    test = L.LRRangeTest(start_lr=1e-3, end_lr=1.0, num_steps=15)
    model.fit(x, y, batch_size=8, epochs=15, steps_per_epoch=1, verbose=0, callbacks=[test, Probe()])
    steps = -np.diff([0.0, *kernels])
    assert len(test.lrs) == 15 and steps == pytest.approx(test.lrs, rel=1e-4)
    assert float(model.weights[0].numpy()[0, 0]) == 0.0  # restored afterwards


def test_range_test_refuses_a_schedule() -> None:
    x, y = _linear_problem(64, 2)
    model = _linear_model(2, keras.optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.5)))
    with pytest.raises(TypeError, match="float learning rate"):
        L.range_test(model, x, y)
    with pytest.raises(ValueError):
        L.LRRangeTest(start_lr=1.0, end_lr=0.1)


def test_range_test_plot_is_labelled() -> None:
    import matplotlib.pyplot as plt

    test = L.LRRangeTest(num_steps=30)
    _drive(test, [2.0 - 0.03 * i for i in range(25)] + [20.0] * 5, [0] * 30)
    ax = test.plot(title="t")
    assert ax.get_title() == "t" and "learning rate" in ax.get_xlabel() and "nats" in ax.get_ylabel()
    assert ax.get_xscale() == "log" and len(ax.get_legend().get_texts()) == 4
    plt.close("all")


@pytest.mark.slow
def test_learning_rate_changes_every_step_on_jax_too() -> None:
    """On JAX the training state lives outside the model during an epoch; setting the learning rate through
    self.model must still reach every step (run in a fresh interpreter with KERAS_BACKEND=jax)."""
    script = textwrap.dedent("""
        import numpy as np, keras
        from losslab import lr as L
        kernels = []
        class Probe(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                kernels.append(float(self.model.weights[0].numpy().reshape(-1)[0]))
        model = keras.Sequential([keras.Input(shape=(1,)),
                                  keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
        model.compile(optimizer=keras.optimizers.SGD(0.5),
                      loss=lambda t, p: keras.ops.mean(p) + 1000.0)
        test = L.LRRangeTest(start_lr=1e-3, end_lr=1.0, num_steps=12)
        x = np.ones((64, 1), "float32")
        model.fit(x, x, batch_size=8, epochs=4, steps_per_epoch=3, verbose=0, callbacks=[test, Probe()])
        steps = -np.diff([0.0, *kernels])
        assert keras.backend.backend() == "jax"
        assert np.allclose(steps, test.lrs, rtol=1e-4), (steps, test.lrs)
        assert float(model.weights[0].numpy()[0, 0]) == 0.0
        print("ok")
    """)
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ok" in done.stdout, done.stdout + done.stderr


# ------------------------------------------------------------------------------------ update/weight ratio


def test_update_ratio_measures_the_real_step() -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, kernel_initializer="ones", name="layer")])
    # inputs of ones: d mean(y_pred) / d kernel = 1/2 in every entry, so ||dW|| = lr * 0.5 * sqrt(6) while
    # ||W|| = sqrt(6) (a kernel of ones, 3 x 2)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=lambda y_true, y_pred: keras.ops.mean(y_pred))
    probe = L.UpdateRatio(max_steps=3)
    x = np.ones((16, 3), "float32")
    model.fit(x, np.zeros((16, 2), "float32"), batch_size=8, epochs=3, verbose=0, callbacks=[probe])
    ratios = probe.ratios["layer"]
    assert len(ratios) == 3  # max_steps: 6 steps ran, 3 were measured
    first = 0.01 * 0.5 * math.sqrt(6) / math.sqrt(6)
    assert ratios[0] == pytest.approx(first, rel=1e-4)
    assert probe.median()["layer"] == pytest.approx(np.median(ratios))
    assert probe.largest()["layer"] == max(ratios)


def test_update_ratio_survives_a_diverging_run(recwarn) -> None:
    x, y = _linear_problem(256, 8)
    model = _linear_model(8, keras.optimizers.SGD(1e4))
    probe = L.UpdateRatio()
    model.fit(x, y * 1e10, epochs=2, batch_size=32, verbose=0, callbacks=[probe])
    values = next(iter(probe.ratios.values()))
    assert len(values) == 16 and not np.isfinite(values).all()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# -------------------------------------------------------------------------------------------- one-cycle


def test_one_cycle_shape() -> None:
    schedule = L.OneCycle(1.0, total_steps=200, pct_start=0.25, div_factor=25.0, final_div_factor=1e4)
    values = L.schedule_values(schedule, 201)
    assert values[0] == pytest.approx(1 / 25, rel=1e-5)
    assert int(np.argmax(values)) == 50 and values[50] == pytest.approx(1.0)
    assert values[200] == pytest.approx(1 / 25 / 1e4, rel=1e-3)
    assert np.all(np.diff(values[:51]) > 0) and np.all(np.diff(values[50:]) <= 1e-9)


def test_one_cycle_serializes_and_trains(tmp_path) -> None:
    schedule = L.OneCycle(0.3, total_steps=40, pct_start=0.3)
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(again, L.OneCycle) and again.get_config() == schedule.get_config()
    x, y = _linear_problem(128, 4)
    model = _linear_model(4, keras.optimizers.SGD(learning_rate=schedule))
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=True)
    restored = loaded.optimizer._learning_rate
    assert isinstance(restored, L.OneCycle) and restored.get_config() == schedule.get_config()


# ------------------------------------------------------------------------- Keras schedules, as taught


def test_exponential_decay_counts_steps() -> None:
    values = L.schedule_values(schedules.ExponentialDecay(0.1, 100, 0.5), [0, 100, 200])
    assert values == pytest.approx([0.1, 0.05, 0.025], rel=1e-5)


def test_cosine_decay_steps_exclude_the_warmup() -> None:
    cosine = schedules.CosineDecay(0.0, 1000, warmup_target=1e-3, warmup_steps=100)
    assert L.schedule_values(cosine, [0, 50, 100, 600, 1100]) == pytest.approx([0, 5e-4, 1e-3, 5e-4, 0], abs=1e-9)


@pytest.mark.parametrize("optimizer, same_steps", [(keras.optimizers.Adam, True), (keras.optimizers.SGD, False)])
def test_adam_steps_do_not_shrink_with_the_gradient(optimizer, same_steps) -> None:
    """Chapter 3 part 2's claim, checked against Keras: Adam's step is lr * m / (sqrt(v) + eps), so a gradient
    100 times smaller gives the same steps (until it nears epsilon = 1e-7); SGD's steps shrink with it."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    steps = []
    for scale in (1.0, 1e-2):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
        model.compile(optimizer=optimizer(1e-3), loss=lambda t, p, s=scale: s * keras.ops.mean((t - p) ** 2))
        before = [w.copy() for w in model.get_weights()]
        model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        steps.append(np.concatenate([(a - b).ravel() for a, b in zip(model.get_weights(), before, strict=True)]))
    ratio = np.linalg.norm(steps[1]) / np.linalg.norm(steps[0])
    if same_steps:
        assert ratio == pytest.approx(1.0, rel=1e-2)
    else:
        assert ratio == pytest.approx(1e-2, rel=1e-2)


def _adam_mean_step(gradient, steps=300, tail=100, lr=1e-3):
    """Mean |step| of keras Adam over the last `tail` of `steps` steps, each weight fed gradient(t) (one row)."""
    w = keras.Variable(np.zeros(gradient(0).shape, dtype="float32"))
    adam = keras.optimizers.Adam(learning_rate=lr)
    sizes = []
    for t in range(steps):
        before = keras.ops.convert_to_numpy(w).copy()
        adam.apply_gradients([(keras.ops.convert_to_tensor(gradient(t).astype("float32")), w)])
        if t >= steps - tail:
            sizes.append(np.mean(np.abs(keras.ops.convert_to_numpy(w) - before)))
    return float(np.mean(sizes))


def test_adam_steps_shrink_when_the_gradient_is_mostly_noise() -> None:
    """Chapter 3 part 2's claim, checked against Keras: m / sqrt(v) is scale-free (a gradient 1000 times smaller
    gives the same steps), but when the gradient is noise around zero, as near a minimum, m averages the noise
    away while sqrt(v) keeps its size: the steps shrink to a fraction of the learning rate, whatever the scale."""
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(300, 2000))
    steps = {}
    for scale in (1.0, 1e-3):
        steps["signal", scale] = _adam_mean_step(lambda t, s=scale: np.full(2000, s))
        steps["noise", scale] = _adam_mean_step(lambda t, s=scale: s * noise[t])
    for kind in ("signal", "noise"):  # the scale of the gradient does not matter
        assert steps[kind, 1e-3] == pytest.approx(steps[kind, 1.0], rel=0.02)
    assert steps["signal", 1.0] == pytest.approx(1e-3, rel=0.02)  # a steady gradient: steps of the learning rate
    # pure noise: |m| is about sqrt((1 - beta_1) / (1 + beta_1)) = 0.23 of sqrt(v), E|step| about 0.18 lr
    assert 0.1e-3 < steps["noise", 1.0] < 0.3e-3


def test_reduce_lr_on_plateau_refuses_a_schedule_object() -> None:
    plateau = keras.callbacks.ReduceLROnPlateau()
    assert (plateau.monitor, plateau.factor, plateau.patience) == ("val_loss", 0.1, 10)
    x, y = _linear_problem(64, 2)
    model = _linear_model(2, keras.optimizers.SGD(schedules.CosineDecay(0.1, decay_steps=100)))
    eager = keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=1, min_delta=1e6)
    with pytest.raises(TypeError, match="not settable"):
        model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[eager])
    model = _linear_model(2, keras.optimizers.SGD(0.1))
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[eager])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.01])


def test_schedule_values_of_a_float_and_an_element_wise_schedule() -> None:
    assert L.schedule_values(0.3, 4) == pytest.approx([0.3] * 4)
    piecewise = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.1, 0.01])
    assert L.schedule_values(piecewise, [0, 10, 11, 21]) == pytest.approx([1.0, 1.0, 0.1, 0.01])


def test_plot_schedules_accepts_schedules_and_recorded_rates() -> None:
    import matplotlib.pyplot as plt

    ax = L.plot_schedules(
        {"exp": schedules.ExponentialDecay(0.1, 10, 0.5), "recorded": np.full(30, 0.05)},
        30,
        steps_per_epoch=10,
        title="s",
    )
    assert ax.get_title() == "s" and "step" in ax.get_xlabel() and "learning rate" in ax.get_ylabel()
    assert [len(line.get_xdata()) for line in ax.get_lines()[:2]] == [30, 30]
    plt.close("all")


# ------------------------------------------------------------------------------------------ sweeps


def test_regions_are_read_from_the_scores() -> None:
    lrs = [1e-4, 1e-3, 1e-2, 0.1, 1.0, 3.0, 10.0]
    scores = [0.14, 0.27, 0.92, 0.97, 0.965, 0.10, float("nan")]
    assert L.regions(lrs, scores, tolerance=0.02) == ["too low"] * 3 + ["good"] * 2 + ["too high"] * 2
    assert L.regions(lrs, scores, tolerance=0.1) == ["too low"] * 2 + ["good"] * 3 + ["too high"] * 2
    with pytest.raises(ValueError, match="increasing"):
        L.regions([1.0, 0.1], [0.5, 0.6], 0.1)
    with pytest.raises(ValueError, match="one score per"):
        L.regions([0.1, 1.0], [0.5], 0.1)


def test_plot_sweep_marks_regions_and_nan() -> None:
    import matplotlib.pyplot as plt

    ax = L.plot_sweep(
        [0.01, 0.1, 1.0, 10.0],
        [0.5, 0.02, 2.3, float("nan")],
        ["too low", "good", "too high", "too high"],
        title="sweep",
        markers={"suggestion": 0.13},
    )
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"too low", "good", "too high", "NaN / inf", "final loss"} <= set(texts)
    assert any(t.startswith("suggestion") for t in texts) and ax.get_xscale() == "log"
    plt.close("all")


# ------------------------------------------------------------------------ the exercise's reference


def test_grading_reference_agrees_with_the_library() -> None:
    """The grading module's independent reference and losslab.lr give the same suggestion."""
    from losslab.grading import fresh

    checks = fresh("learning_rates")
    x, y = checks._data("wine")
    model = checks._model(x, y, "adam", 0)
    keras.utils.set_random_seed(0)
    library = L.range_test(model, x, y, batch_size=32).suggestion
    assert checks.reference_suggestion("wine", "adam") == pytest.approx(library, rel=1e-6)


def test_chapter_3_states_what_holds_about_adam_and_batches() -> None:
    """The prose of chapter 3 parts 2 and 3 says what the tests above show (scale-free, but shrinking under noise), and
    no single run's outcome is written as a certainty."""
    from losslab import notebooks

    part2 = "\n".join(
        c.source
        for name in ("learning_rates_part2_tutorial", "learning_rates_part3_tutorial")
        for c in notebooks.read(REPO / f"solutions/03_learning_rates/{name}.ipynb").cells
    )
    assert "mostly *noise*" in part2 and "def adam_step_size" in part2
    assert "steps stay about as large as the rate" not in part2
    assert "at a given learning rate they need a lower" not in part2
    assert "ends\nwell above" not in part2 and "lowered, it drops within an epoch" not in part2
    bank = (REPO / "losslab/quizbank/03_learning_rates.yaml").read_text(encoding="utf-8")
    assert "divides each weight's step by the gradient's running size" in bank
    assert "scales each parameter's step" not in bank and "in the tutorial the run" not in bank
    assert "whatever the gradient" not in bank, "Adam's step shrinks when the gradient is mostly noise (part 3)"
