"""The doctor's structure (losslab/doctor/): checks registered with ``@check`` run in the order their
declarations give, facts are typed, a bug inside a check is reported as a bug, and the monitor and the checks
share one set of curve rules."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from losslab import doctor
from losslab.doctor import curves, registry
from losslab.doctor.context import Context
from losslab.doctor.facts import FACT_NAMES
from losslab.doctor.registry import REGISTRY, CheckId, Kind, check, closure, run_order


@pytest.fixture
def tiny() -> tuple[keras.Model, np.ndarray, np.ndarray]:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    return model, rng.normal(size=(64, 4)).astype(np.float32), rng.integers(0, 3, 64)


@pytest.fixture
def toy_checks():
    added: list[str] = []

    def register(name: str, kind: Kind, fn, **declared) -> None:
        check(name, kind, **declared)(fn)
        added.append(name)

    yield register
    for name in added:
        registry.unregister(name)


def test_a_registered_check_runs_in_the_derived_order(tiny, toy_checks) -> None:
    seen: list[str] = []

    def second(ctx: Context) -> None:
        seen.append("toy_second")
        ctx.add("ok", f"read {ctx.facts.initial_loss is not None} from initial_loss")

    def first(ctx: Context) -> None:
        seen.append("toy_first")
        ctx.add("info", "ran first")

    # registered in the wrong order on purpose: the declaration, not the registration, orders them
    toy_checks("toy_second", Kind.MEASURED, second, needs=("toy_first", CheckId.INITIAL_LOSS))
    toy_checks("toy_first", Kind.MEASURED, first)
    order = run_order(closure({"toy_second"}))
    assert order.index("toy_first") < order.index("toy_second")
    assert order.index(CheckId.INITIAL_LOSS) < order.index("toy_second")
    model, x, y = tiny
    report = doctor.examine(model, x, y, only=["toy_second"])
    assert seen == ["toy_first", "toy_second"]
    assert [f.check for f in report.findings] == ["toy_second"]
    assert report.finding("toy_second").evidence == "read True from initial_loss"


def test_needs_must_exist_and_cycles_are_refused(toy_checks) -> None:
    toy_checks("toy_a", Kind.STATIC, lambda ctx: None, needs=("toy_b",), on_demand=True)
    with pytest.raises(ValueError, match="toy_b"):
        closure({"toy_a"})
    toy_checks("toy_b", Kind.STATIC, lambda ctx: None, needs=("toy_a",), on_demand=True)
    with pytest.raises(ValueError, match="cycle"):
        run_order(closure({"toy_a"}))


def test_declarations_are_consistent() -> None:
    assert set(doctor.CHECKS) == {c.value for c in CheckId}, "every built-in check has an id constant"
    for spec in REGISTRY.values():
        assert set(spec.provides) <= FACT_NAMES, f"{spec.id} provides facts that Facts does not have"
        assert set(spec.needs) <= set(REGISTRY), spec.id
    with pytest.raises(TypeError):
        check("bad_kind", "static")  # type: ignore[arg-type]


def test_context_takes_keyword_arguments_only(tiny) -> None:
    model, x, y = tiny
    with pytest.raises(TypeError):
        Context(model, x, y)  # type: ignore[misc]
    ctx = Context(model=model, x=x, y=y, loss=doctor.loss_info(model.loss))
    assert ctx.batch_size == 32 and ctx.facts.initial_loss is None


def test_a_bug_inside_a_check_is_reported_as_a_bug(tiny, toy_checks) -> None:
    def broken(ctx: Context) -> None:
        _ = {}["missing"]  # a bug in the check's own code, nothing Keras refused

    toy_checks("toy_broken", Kind.STATIC, broken, on_demand=True)
    model, x, y = tiny
    finding = doctor.examine(model, x, y, only=["toy_broken"]).finding("toy_broken")
    assert finding.severity == "problem" and "KeyError" in finding.evidence
    assert "read the error above" not in finding.fix
    assert "bug in the doctor's check 'toy_broken'" in finding.fix and "line" in finding.fix


def test_an_error_keras_raises_is_quoted_as_keras_refusing(tiny, toy_checks) -> None:
    def refused(ctx: Context) -> None:
        ctx.model(np.zeros((2, 7), np.float32))  # wrong input width: Keras raises

    toy_checks("toy_refused", Kind.STATIC, refused, on_demand=True)
    model, x, y = tiny
    finding = doctor.examine(model, x, y, only=["toy_refused"]).finding("toy_refused")
    assert finding.fix.startswith("Keras cannot train this model") and "bug" not in finding.fix


def test_float_column_labels_are_not_called_integer_labels() -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype(np.float32), rng.uniform(size=(64, 1)).astype(np.float32)
    finding = doctor.examine(model, x, y, only=["labels_vs_loss"]).finding("labels_vs_loss")
    assert finding.severity == "problem" and finding.cause == "label_format"
    assert "integer" not in finding.evidence, finding.evidence
    assert "1 columns" in finding.evidence


def test_monitor_and_curve_rules_share_the_chance_tolerance(monkeypatch) -> None:
    from losslab.doctor.checks.training import curve_rules
    from losslab.doctor.model import LossInfo

    chance = float(np.log(10))
    labels = np.arange(200) % 10  # balanced: the prior's entropy is ln 10
    for tolerance in (0.03, 0.2):  # the rule moves with the one constant, in both places
        monkeypatch.setattr(curves, "CHANCE_TOLERANCE", tolerance)
        for factor, stuck in ((1 + 0.8 * tolerance, True), (1 + 1.5 * tolerance, False)):
            monitor = doctor.TrainingMonitor(10, verbose=False)
            for epoch in range(3):
                monitor.on_epoch_end(epoch, {"loss": chance * factor})
            assert ("stuck" in [f.check for f in monitor.findings]) == stuck, (tolerance, factor)
            ctx = Context(model=None, x=np.zeros((200, 1)), y=labels, loss=LossInfo("sparse_ce", "ce", True, None))
            ctx.pred0, ctx.current = np.zeros((200, 10)), "curves"
            curve_rules(ctx, [chance * factor] * 30, None, "step", "probe")
            said_stuck = "predicts the same for every input" in ctx.findings[-1].evidence
            assert said_stuck == stuck, (tolerance, factor, ctx.findings[-1])
