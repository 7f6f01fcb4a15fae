"""Behaviour checks for the learning-rates exercise.

The exercise is solutions/03_learning_rates/learning_rates_exercise.ipynb.

Hidden tests call them through ``losslab.grading.fresh("learning_rates")``. Each check raises GradingError
with a message for the learner, or prints what it measured and returns None (never a number: nbgrader
would read it as partial credit).

The range test is checked in pieces, so that one mistake costs one test: the ramp, the smoothing and the
suggestion as plain functions; the callback driven step by step with made-up losses (it must train each
step at the learning rate it records, and stop where its *own* smoothed losses say so); a real run that
must leave weights and optimizer as they were; and real runs on datasets the notebook never shows,
compared with the reference implementation below (written independently of ``losslab.lr``, so nothing a
notebook changes there reaches it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from losslab.grading.core import GradingError, as_choice, as_float, as_floats, call, require, require_each
from losslab.messages import N_, _

DIVERGE = 4.0
SUGGESTION_FACTOR = 3.0  # the learner's suggestion must be within this factor of the reference's
BUDGET_EPOCHS = 3
BUDGET_BATCH = 32
BUDGET_TARGET_LOSS = 0.1  # training cross-entropy after BUDGET_EPOCHS epochs of SGD on digits


# ------------------------------------------------------------------------------------------ helpers


def _ramp_expected(step: int, start: float, end: float, num_steps: int) -> float:
    return start * (end / start) ** (step / (num_steps - 1))


def _smooth_expected(raw: Sequence[float], beta: float) -> list[float]:
    out, avg = [], 0.0
    for i, loss in enumerate(raw):
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta ** (i + 1)))
    return out


def _suggestion_of(callback: Any) -> float:
    value = getattr(callback, "suggestion", None)
    require(value is not None, _("the callback needs a suggestion() method"))
    value = call("suggestion()", value) if callable(value) else value
    return as_float(value, "suggestion()")


# ------------------------------------------------------------------------------- the three functions


def check_range_lr(range_lr: Callable) -> None:
    """range_lr(step, start_lr, end_lr, num_steps): exponential, start_lr at step 0, end_lr at the last."""
    require(callable(range_lr), _("range_lr should be a function"))
    for start, end, n in ((1e-7, 10.0, 100), (1e-5, 1.0, 50), (1e-3, 3.0, 12)):
        values = [
            as_float(
                call(f"range_lr({s}, {start:g}, {end:g}, {n})", range_lr, s, start, end, n),
                f"range_lr({s}, {start:g}, {end:g}, {n})",
            )
            for s in range(n)
        ]
        require(
            all(math.isfinite(v) and v > 0 for v in values),
            _(
                "range_lr must return positive learning rates; for start_lr={start:g}, end_lr={end:g} it gave "
                "{first}..."
            ).format(start=start, end=end, first=[round(v, 8) for v in values[:4]]),
        )
        require(
            math.isclose(values[0], start, rel_tol=1e-4),
            _("range_lr(0, {start:g}, {end:g}, {n}) should be start_lr = {start:g}, got {got:.6g}").format(
                start=start, end=end, n=n, got=values[0]
            ),
        )
        ratios = [b / a for a, b in zip(values, values[1:], strict=False)]
        require(
            max(ratios) / min(ratios) < 1 + 1e-4,
            _(
                "the ramp from {start:g} to {end:g} is not exponential: each step should multiply the "
                "learning rate by the same factor, but the factors go from {low:.4g} to "
                "{high:.4g}. A straight line on a log axis needs "
                "start_lr * (end_lr / start_lr) ** (step / (num_steps - 1))."
            ).format(start=start, end=end, low=min(ratios), high=max(ratios)),
        )
        low, high = (end / start) ** (1 / n), (end / start) ** (1 / (n - 1))
        require(
            low * (1 - 1e-4) <= ratios[0] <= high * (1 + 1e-4),
            _("in {n} steps the ramp should go from {start:g} to {end:g}; it reaches {got:.4g} at step {last}").format(
                n=n, start=start, end=end, got=values[-1], last=n - 1
            ),
        )
    print(_("range_lr: exponential ramps from start_lr to end_lr, checked for three settings"))


def check_smooth(smooth: Callable) -> None:
    """smooth(raw_losses, beta): bias-corrected exponential moving average, one value per loss."""
    require(callable(smooth), _("smooth should be a function"))
    rng = np.random.default_rng(7)
    cases = [
        ([2.0] * 5, 0.98),
        (list(2.3 - 0.01 * np.arange(40) + 0.3 * rng.standard_normal(40)), 0.98),
        ([5.0, 1.0, 3.0, 0.5, 4.0, 2.0], 0.9),
    ]
    for raw, beta in cases:
        got = as_floats(call("smooth", smooth, list(raw), beta), "smooth(raw_losses, beta)")
        want = _smooth_expected(raw, beta)
        require(
            len(got) == len(want),
            _("smooth should return one value per loss: {n} losses gave {got} values").format(n=len(raw), got=len(got)),
        )
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            if not math.isclose(g, w, rel_tol=1e-4, abs_tol=1e-9):
                hint = ""
                if math.isclose(g, raw[i], rel_tol=1e-6):
                    hint = _(" It returned the raw loss: nothing was averaged.")
                elif i == 0 and math.isclose(g, (1 - beta) * raw[0], rel_tol=1e-4):
                    hint = _(
                        " The first value is (1 - beta) * loss: the average starts at 0 and needs the "
                        "bias correction, dividing by 1 - beta ** (i + 1)."
                    )
                shown = [round(float(r), 3) for r in raw[:6]]
                raise GradingError(
                    _("smooth({shown}..., beta={beta}) gives {got:.6g} at position {i}, expected {want:.6g}.").format(
                        shown=shown, beta=beta, got=g, i=i, want=w
                    )
                    + hint
                )
    print(_("smooth: bias-corrected moving average, checked on three sequences"))


def check_suggest(suggest_lr: Callable) -> None:
    """suggest_lr(lrs, smoothed_losses): a tenth of the lr at the lowest smoothed loss, NaN ignored."""
    require(callable(suggest_lr), _("suggest_lr should be a function"))
    lrs = [1e-6 * 10 ** (i / 10) for i in range(60)]
    shapes = {  # the curves' names are marked with N_ and shown through gettext
        N_("a valley in the middle"): [3.0 - 2.0 * math.exp(-(((i - 38) / 9) ** 2)) for i in range(60)],
        N_("a valley early on"): [2.0 - 1.5 * math.exp(-(((i - 15) / 6) ** 2)) + 0.05 * i for i in range(60)],
        N_("a valley, then NaN at the end"): [3.0 - 2.0 * math.exp(-(((i - 30) / 8) ** 2)) for i in range(59)]
        + [float("nan")],
    }
    for name, losses in shapes.items():
        finite = [v if math.isfinite(v) else math.inf for v in losses]
        at_min = lrs[int(np.argmin(finite))]
        got = as_float(call("suggest_lr", suggest_lr, list(lrs), list(losses)), "suggest_lr(lrs, losses)")
        if not math.isclose(got, at_min / 10, rel_tol=1e-6):
            hint = ""
            if math.isclose(got, at_min, rel_tol=1e-6):
                hint = _(" That is the minimum itself: the rule takes one tenth of it.")
            elif "NaN" in name:
                hint = _(" A NaN loss must be ignored (np.nanargmin), not taken as the minimum.")
            raise GradingError(
                _(
                    "for {name} the lowest loss is at lr {at_min:.3g}, so the suggestion is "
                    "{wanted:.3g}; suggest_lr returned {got:.3g}."
                ).format(name=_(name), at_min=at_min, wanted=at_min / 10, got=got)
                + hint
            )
    print(_("suggest_lr: one tenth of the learning rate at the minimum, NaN ignored"))


# --------------------------------------------------------------------- the callback, step by step


def _tiny_model():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
    return model


def _make(callback_class: Any, **kwargs: Any) -> Any:
    import keras

    require(
        isinstance(callback_class, type) and issubclass(callback_class, keras.callbacks.Callback),
        _("RangeTest should be a class that subclasses keras.callbacks.Callback"),
    )
    return call("RangeTest(...)", lambda: callback_class(**kwargs))


def _drive(callback_class: Any, losses: Sequence[float], *, start: float, end: float, num_steps: int):
    """Feed made-up batch losses through the callback's hooks as Keras's fit does (one batch per epoch).

    Returns (callback, the lr the optimizer held at each step, steps run, whether the callback stopped).
    """
    model = _tiny_model()
    callback = _make(callback_class, start_lr=start, end_lr=end, num_steps=num_steps)
    callback.set_model(model)
    callback.set_params({"epochs": len(losses), "steps": 1, "verbose": 0})
    model.stop_training = False
    call("on_train_begin", callback.on_train_begin, {})
    used, steps, stopped = [], 0, False
    for step, loss in enumerate(losses):
        call("on_epoch_begin", callback.on_epoch_begin, step, {})
        call("on_train_batch_begin", callback.on_train_batch_begin, 0, {})
        used.append(float(model.optimizer.learning_rate.numpy()))
        call("on_train_batch_end", callback.on_train_batch_end, 0, {"loss": float(loss)})
        call("on_epoch_end", callback.on_epoch_end, step, {"loss": float(loss)})
        steps += 1
        if model.stop_training:
            stopped = True
            break
    call("on_train_end", callback.on_train_end, {})
    return callback, used, steps, stopped


def _recorded(callback: Any, name: str, steps: int) -> list[float]:
    values = getattr(callback, name, None)
    require(values is not None, _("the callback should record self.{name}").format(name=name))
    values = as_floats(list(values), f"self.{name}")
    require(
        len(values) == steps,
        _("after {steps} steps self.{name} holds {n} values; record one per step").format(
            steps=steps, name=name, n=len(values)
        ),
    )
    return values


def _expected_steps(smoothed: Sequence[float], num_steps: int) -> int:
    """Where a range test must stop, judged on its own smoothed losses: at the first value above 4x the best
    so far (or NaN), else after num_steps."""
    best = math.inf
    for i, value in enumerate(smoothed):
        best = min(best, value) if math.isfinite(value) else best
        if not value <= DIVERGE * best:
            return i + 1
        if i + 1 >= num_steps:
            return num_steps
    return len(smoothed)


def _check_run(
    callback_class: Any, losses: Sequence[float], *, start: float, end: float, num_steps: int, story: str
) -> None:
    callback, used, steps, stopped = _drive(callback_class, losses, start=start, end=end, num_steps=num_steps)
    lrs = _recorded(callback, "lrs", steps)
    smoothed = _recorded(callback, "losses", steps)
    for i, (u, r) in enumerate(zip(used, lrs, strict=True)):
        require(
            math.isclose(u, r, rel_tol=1e-4),
            _(
                "at step {i} the optimizer trained with learning rate {used:.4g}, but the callback recorded "
                "{recorded:.4g}: set self.model.optimizer.learning_rate before each step (in on_train_batch_begin)"
            ).format(i=i, used=u, recorded=r),
        )
    require(all(b > a for a, b in zip(lrs, lrs[1:], strict=False)), _("the recorded learning rates should grow"))
    expected = _expected_steps(smoothed, num_steps)
    story = _(story)
    if steps < expected:
        raise GradingError(
            _(
                "{story}: the callback stopped after {steps} steps, but its own smoothed loss "
                "({loss:.3g}) was not above 4 x its best ({best:.3g}) and num_steps={num_steps} was not reached"
            ).format(
                story=story, steps=steps, loss=smoothed[steps - 1], best=min(smoothed[:steps]), num_steps=num_steps
            )
        )
    if steps > expected or not stopped:
        if expected == num_steps:
            reason = _("after {num_steps} steps (num_steps)").format(num_steps=num_steps)
        else:
            best = min(v for v in smoothed[:expected] if math.isfinite(v))
            reason = _("at step {step}, where its smoothed loss {loss:.3g} passed 4 x the best {best:.3g}").format(
                step=expected - 1, loss=smoothed[expected - 1], best=best
            )
            if math.isnan(smoothed[expected - 1]):
                reason += _(" (a NaN counts as diverged)")
        ran = (
            _("ran on for {steps} steps").format(steps=steps)
            if stopped
            else _("never set self.model.stop_training = True")
        )
        raise GradingError(
            _("{story}: the test should have stopped {reason}, but it {ran}").format(
                story=story, reason=reason, ran=ran
            )
        )


def check_callback_steps(callback_class: Any) -> None:
    """Driven with made-up losses: trains each step at the lr it records; stops where its own smoothed loss
    passes 4x its best (or is NaN), or after num_steps."""
    falling = [2.3 * 0.97**i for i in range(40)]
    _check_run(
        callback_class,
        falling + [falling[-1] * 1.3**k for k in range(1, 80)],
        start=1e-5,
        end=1.0,
        num_steps=110,
        story=N_("with a loss that falls, then explodes"),
    )
    _check_run(
        callback_class,
        [2.0 - 0.02 * i for i in range(20)] + [float("nan")] * 10,
        start=1e-5,
        end=1.0,
        num_steps=50,
        story=N_("with a loss that turns NaN at step 20"),
    )
    _check_run(
        callback_class,
        [1.0 + 0.01 * math.sin(i) for i in range(45)],
        start=1e-4,
        end=1e-2,
        num_steps=30,
        story=N_("with num_steps=30 and a loss that never explodes"),
    )
    print(
        _(
            "callback: trains each step at the learning rate it records; stops at 4x the best smoothed loss, "
            "at NaN, and after num_steps"
        )
    )


# ------------------------------------------------------------------------------------------ real runs


def _data(name: str):
    from losslab import data

    if name == "breast_cancer":
        split = data.breast_cancer(seed=3)
        return split.x_train, split.y_train
    if name == "wine":
        split = data.wine(seed=5)
        return split.x_train, split.y_train
    if name == "blobs":
        from sklearn.datasets import make_classification
        from sklearn.preprocessing import StandardScaler

        x, y = make_classification(
            n_samples=600, n_features=20, n_informative=8, n_classes=4, n_clusters_per_class=1, random_state=3
        )
        return StandardScaler().fit_transform(x).astype("float32"), y.astype("int64")
    raise ValueError(name)


def _model(x, y, optimizer: str, seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(x.shape[1],)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(int(np.max(y)) + 1),
        ]
    )
    opt = {
        "sgd": lambda: keras.optimizers.SGD(learning_rate=0.01),
        "momentum": lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
        "adam": lambda: keras.optimizers.Adam(learning_rate=1e-3),
    }[optimizer]()
    model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _run(callback: Any, model, x, y, seed: int) -> Any:
    import keras

    keras.utils.set_random_seed(seed)
    steps = int(getattr(callback, "num_steps", 100))
    call(
        _("the range test"),
        lambda: model.fit(
            x, y, batch_size=32, epochs=steps, steps_per_epoch=1, shuffle=True, verbose=0, callbacks=[callback]
        ),
    )
    return callback


def _reference_callback(num_steps: int = 100) -> Any:
    """fastai's recipe, written independently of losslab.lr: the reference the learner is compared with."""
    import keras

    class ReferenceRangeTest(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.num_steps, self.lrs, self.losses, self.best, self.avg = num_steps, [], [], math.inf, 0.0

        def on_train_begin(self, logs=None):
            optimizer = self.model.optimizer
            if not optimizer.built:
                optimizer.build(self.model.trainable_variables)
            self.saved = [v.numpy() for v in self.model.weights + optimizer.variables]

        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.learning_rate = _ramp_expected(len(self.lrs), 1e-7, 10.0, self.num_steps)

        def on_train_batch_end(self, batch, logs=None):
            step = len(self.lrs)
            loss = float(logs["loss"])
            self.lrs.append(_ramp_expected(step, 1e-7, 10.0, self.num_steps))
            self.avg = 0.98 * self.avg + 0.02 * loss
            smoothed = self.avg / (1 - 0.98 ** (step + 1)) if math.isfinite(loss) else math.inf
            self.losses.append(smoothed)
            self.best = min(self.best, smoothed)
            if not smoothed <= DIVERGE * self.best or step + 1 >= self.num_steps:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            variables = self.model.weights + self.model.optimizer.variables
            for variable, value in zip(variables, self.saved, strict=True):
                variable.assign(value)

        def suggestion(self) -> float:
            values = np.where(np.isfinite(self.losses), self.losses, np.inf)
            return self.lrs[int(np.argmin(values))] / 10

    return ReferenceRangeTest()


def reference_suggestion(dataset: str, optimizer: str, seed: int = 0) -> float:
    """The reference range test's suggestion on one of the hidden datasets (the unit tests use it too)."""
    x, y = _data(dataset)
    return _run(_reference_callback(), _model(x, y, optimizer, seed), x, y, seed).suggestion()


def check_restores(callback_class: Any) -> None:
    """After a real range test the weights and the optimizer (step counter, learning rate, momentum) are
    back to what they were."""
    x, y = _data("blobs")
    model, twin = _model(x, y, "momentum", 0), _model(x, y, "momentum", 0)
    twin.optimizer.build(twin.trainable_variables)
    before = [v.numpy() for v in model.weights]
    _run(_make(callback_class), model, x, y, 0)
    moved = [v.path for v, b in zip(model.weights, before, strict=True) if not np.array_equal(v.numpy(), b)]
    if moved:
        raise GradingError(
            _(
                "after the range test the model's weights are not the ones it started with "
                "({variable} changed): save them in on_train_begin and assign them back in "
                "on_train_end, or the model keeps what it learned at learning rates up to 10"
            ).format(variable=moved[0])
        )
    lr = float(model.optimizer.learning_rate.numpy())
    require(
        math.isclose(lr, 0.05, rel_tol=1e-6),
        _(
            "after the range test the optimizer's learning rate is {lr:.4g}, not the 0.05 it was compiled "
            "with: the next fit would train at the ramp's last learning rate. Restore the optimizer's "
            "variables too."
        ).format(lr=lr),
    )
    iterations = int(model.optimizer.iterations.numpy())
    require(
        iterations == 0,
        _(
            "the optimizer's step counter is {iterations} after the range test, not 0: restore the "
            "optimizer's variables (model.optimizer.variables), so that schedules start from step 0"
        ).format(iterations=iterations),
    )
    require(
        model.optimizer.built and len(model.optimizer.variables) == len(twin.optimizer.variables),
        _("the optimizer should be built, with its momentum slots"),
    )
    for mine, fresh in zip(model.optimizer.variables, twin.optimizer.variables, strict=True):
        got, want = mine.numpy(), fresh.numpy()
        require(
            got.shape == want.shape and np.allclose(got, want, atol=1e-7),
            _(
                "the optimizer variable {variable} is not back to its starting value after the range "
                "test: momentum left over from the test would push the next training. Build the optimizer "
                "in on_train_begin (model.optimizer.build(model.trainable_variables)) and save its "
                "variables too."
            ).format(variable=mine.path),
        )
    print(_("weights, learning rate, step counter and momentum are all restored after the range test"))


HIDDEN_RUNS = (("breast_cancer", "momentum"), ("wine", "adam"))


def check_suggestion_matches_reference(callback_class: Any, runs: Sequence[tuple[str, str]] = HIDDEN_RUNS) -> None:
    """On datasets the notebook never shows, the learner's suggestion is within 3x of the reference's."""
    results = []
    for dataset, optimizer in runs:
        x, y = _data(dataset)
        reference = reference_suggestion(dataset, optimizer)
        mine = _suggestion_of(_run(_make(callback_class), _model(x, y, optimizer, 0), x, y, 0))
        require(
            math.isfinite(mine) and mine > 0,
            _("on {dataset} your suggestion is {mine}, not a learning rate").format(dataset=dataset, mine=mine),
        )
        results.append(
            _("{dataset} with {optimizer}: yours {mine:.3g}, reference {reference:.3g}").format(
                dataset=dataset, optimizer=optimizer, mine=mine, reference=reference
            )
        )
        ratio = max(mine / reference, reference / mine)
        require(
            ratio <= SUGGESTION_FACTOR,
            _(
                "on a dataset you have not seen ({dataset}, {optimizer}) your range test suggests "
                "{mine:.3g}, the reference {reference:.3g}: {ratio:.1f}x apart, at most "
                "{factor}x is accepted. Check the ramp, the smoothing (with bias correction), "
                "the 4x stop and the /10."
            ).format(
                dataset=dataset,
                optimizer=optimizer,
                mine=mine,
                reference=reference,
                ratio=ratio,
                factor=f"{SUGGESTION_FACTOR:g}",
            ),
        )
    print(_("suggestions: ") + _("; ").join(results))


# ------------------------------------------------------------------------------------------ schedules


def _schedule_values(schedule: Any, steps: Sequence[int]) -> list[float]:
    values = []
    for step in steps:
        what = _("the schedule at step {step}").format(step=step)
        values.append(as_float(call(what, schedule, step), what))
    return values


SCHEDULE_CASES = ((0.5, 3, 45), (0.1, 20, 12), (2e-3, 7, 100), (1.0, 1, 30))


def check_schedule(build_schedule: Callable, cases: Sequence[tuple[float, int, int]] = SCHEDULE_CASES) -> None:
    """build_schedule(peak_lr, epochs, steps_per_epoch): a LearningRateSchedule counted in optimizer steps
    that warms up to peak_lr early in the budget and decays to (nearly) 0 at its end."""
    import keras

    require(callable(build_schedule), _("build_schedule should be a function"))
    for peak, epochs, per_epoch in cases:
        what = f"build_schedule({peak:g}, {epochs}, {per_epoch})"
        schedule = call(what, build_schedule, peak, epochs, per_epoch)
        require(
            isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule),
            _(
                "{what} should return a keras.optimizers.schedules.LearningRateSchedule (the optimizer "
                "calls it with its step count), got {kind}"
            ).format(what=what, kind=type(schedule).__name__),
        )
        total = epochs * per_epoch
        grid = sorted({int(round(total * f / 40)) for f in range(41)} | {1, 2, total - 1})
        values = dict(zip(grid, _schedule_values(schedule, grid), strict=True))
        top_step = max(grid, key=lambda s: values[s])
        top = values[top_step]
        require(
            0.9 * peak <= top <= 1.05 * peak,
            _(
                "{what}: the highest learning rate over the {total} steps is {top:.4g}; it should reach the peak "
                "{peak:g}"
            ).format(what=what, total=total, top=top, peak=peak),
        )
        require(
            values[0] <= 0.2 * peak,
            _(
                "{what}: the learning rate at step 0 is {first:.4g}; a warmup starts small (at most a "
                "fifth of the peak) and rises to {peak:g}"
            ).format(what=what, first=values[0], peak=peak),
        )
        reached = min(s for s in grid if values[s] >= 0.9 * peak)
        require(
            reached <= 0.3 * total,
            _(
                "{what}: the warmup never ends in time: the learning rate first reaches 90% of the peak at "
                "step {reached} of {total}. Warm up over the first 10% of the steps (epochs x "
                "steps_per_epoch)."
            ).format(what=what, reached=reached, total=total),
        )
        middle = values[min(grid, key=lambda s: abs(s - total // 2))]
        require(
            middle >= 0.2 * peak,
            _(
                "{what}: halfway through the {total} steps the learning rate is already {middle:.3g} (peak "
                "{peak:g}). Keras schedules count optimizer steps, not epochs: the budget is epochs x "
                "steps_per_epoch steps."
            ).format(what=what, total=total, middle=middle, peak=peak),
        )
        require(
            values[total] <= 0.05 * peak,
            _(
                "{what}: at the last step ({total}) the learning rate is still {last:.4g}; it "
                "should have decayed to (nearly) 0 by the end of the budget"
            ).format(what=what, total=total, last=values[total]),
        )
        after = [values[s] for s in grid if s >= top_step]
        require(
            all(b <= a * (1 + 1e-5) + 1e-12 for a, b in zip(after, after[1:], strict=False)),
            _("{what}: after the peak the learning rate should only go down").format(what=what),
        )
    print(_("build_schedule: warmup then decay, counted in steps, checked for {n} budgets").format(n=len(cases)))


def budget_loss(build_schedule: Callable, peak_lr: Any, seed: int) -> float:
    """Training loss on digits after BUDGET_EPOCHS epochs of plain SGD with the learner's schedule."""
    import keras

    from losslab import data

    peak = as_float(peak_lr, "peak_lr")
    require(
        math.isfinite(peak) and peak > 0, _("peak_lr should be a positive learning rate, got {peak}").format(peak=peak)
    )
    split = data.digits()
    steps_per_epoch = math.ceil(len(split.x_train) / BUDGET_BATCH)
    schedule = call("build_schedule", build_schedule, peak, BUDGET_EPOCHS, steps_per_epoch)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    optimizer = call(_("SGD(learning_rate=your schedule)"), lambda: keras.optimizers.SGD(learning_rate=schedule))
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    call(
        _("training with your schedule"),
        lambda: model.fit(split.x_train, split.y_train, epochs=BUDGET_EPOCHS, batch_size=BUDGET_BATCH, verbose=0),
    )
    return float(model.evaluate(split.x_train, split.y_train, verbose=0))


def check_budget(build_schedule: Callable, peak_lr: Any, seeds: Sequence[int] = (1, 2)) -> None:
    """The learner's schedule and peak reach the target training loss within the budget, on other seeds."""

    def failure(seed: int, loss: float) -> str:
        advice = (
            _("The run diverged: the peak is too high.")
            if not math.isfinite(loss) or loss > 2.0
            else _(
                "Try another peak_lr (the range test suggests one: a tenth of the rate where its smoothed loss "
                "was lowest) and check the schedule's shape."
            )
        )
        return _(
            "with seed {seed} the training loss after {epochs} epochs is {loss:.3g}; the target is {target}. {advice}"
        ).format(seed=seed, epochs=BUDGET_EPOCHS, loss=loss, target=BUDGET_TARGET_LOSS, advice=advice)

    require_each(
        seeds,
        lambda seed: budget_loss(build_schedule, peak_lr, seed),
        lambda loss: loss <= BUDGET_TARGET_LOSS,
        failure,
        lambda seed, loss: print(
            _("seed {seed}: training loss {loss:.3g} after {epochs} epochs (target {target})").format(
                seed=seed, loss=loss, epochs=BUDGET_EPOCHS, target=BUDGET_TARGET_LOSS
            )
        ),
    )


# ------------------------------------------------------------------------------------ conceptual answers


def check_plateau_answer(answer: Any) -> None:
    require(
        as_choice(answer, "abcd", "plateau_with_schedule") == "c",
        _(
            "not this one. ReduceLROnPlateau lowers the learning rate by assigning a new value to the "
            "optimizer; what does an optimizer built with a schedule object hold instead of a value? The "
            "tutorial ran it."
        ),
    )


def check_spike_answer(answer: Any) -> None:
    require(
        as_choice(answer, "abcd", "spike_diagnosis") == "b",
        _("not this one. Compare the flat value with ln 10 = 2.303, and look at what happened in the first epoch."),
    )


def check_batch_answer(answer: Any) -> None:
    require(
        as_choice(answer, "abcd", "batch_size_change") == "d",
        _(
            "not this one. Count the optimizer steps: how many updates does an epoch give at batch 32, and at "
            "batch 256?"
        ),
    )
