"""losslab.optim: surfaces and their gradients, trajectories that follow Keras' update rules, divergence, and
the playground."""

from __future__ import annotations

import math
import warnings

import keras
import numpy as np
import pytest

from losslab import optim

# ------------------------------------------------------------------------------------------ surfaces


@pytest.mark.parametrize("key", list(optim.SURFACES))
def test_gradient_matches_finite_differences(key: str) -> None:
    s = optim.SURFACES[key]
    rng = np.random.default_rng(0)
    for _ in range(5):
        point = np.array([rng.uniform(*s.xlim), rng.uniform(*s.ylim)])
        h = 1e-6
        numeric = [(s.value(point + h * e) - s.value(point - h * e)) / (2 * h) for e in np.eye(2)]
        np.testing.assert_allclose(s.grad(point), numeric, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("key", list(optim.SURFACES))
def test_minimum_is_a_stationary_point_and_the_lowest_on_the_grid(key: str) -> None:
    s = optim.SURFACES[key]
    np.testing.assert_allclose(s.grad(s.minimum), [0.0, 0.0], atol=1e-9)
    _, _, z = optim._grid(s)
    assert s.min_value <= z.min() + 1e-9
    assert s.xlim[0] < s.start[0] < s.xlim[1] and s.ylim[0] < s.start[1] < s.ylim[1]


def test_unknown_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match="rosenbrock"):
        optim.surface("banana")
    with pytest.raises(KeyError, match="Adam"):
        optim.make_optimizer("adagrad", 0.1)


def test_make_optimizer_builds_the_named_keras_optimizer() -> None:
    sgd = optim.make_optimizer("SGD", 0.3, momentum=0.7)
    nesterov = optim.make_optimizer("Nesterov", 0.3, momentum=0.7)
    assert type(sgd) is keras.optimizers.SGD and sgd.momentum == 0.0
    assert nesterov.momentum == 0.7 and nesterov.nesterov
    assert type(optim.make_optimizer("Adam", 0.3)) is keras.optimizers.Adam
    assert math.isclose(float(optim.make_optimizer("RMSprop", 0.3).learning_rate), 0.3, rel_tol=1e-6)


# ------------------------------------------------------------------------------------------ trajectories


def _by_hand(s: optim.Surface, steps: int, update) -> np.ndarray:
    w, state, points = np.array(s.start), {}, [np.array(s.start)]
    for t in range(1, steps + 1):
        w = update(w, s.grad(w), state, t)
        points.append(w.copy())
    return np.array(points)


def _momentum(lr, mu, nesterov=False):
    def update(w, g, state, t):
        v = mu * state.get("v", 0.0) - lr * g
        state["v"] = v
        return w + (mu * v - lr * g if nesterov else v)

    return update


def _adam(lr, b1=0.9, b2=0.999, eps=1e-7):
    def update(w, g, state, t):
        m = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = b2 * state.get("v", 0.0) + (1 - b2) * g**2
        state.update(m=m, v=v)
        # Keras raises the betas to the power t in float32: 1 - 0.999**t is then off by about 1e-5 relative,
        # enough to show after a few steps of length 0.3. Do the same.
        b1t, b2t = (float(np.float32(b) ** np.float32(t)) for b in (b1, b2))
        return w - lr * math.sqrt(1 - b2t) / (1 - b1t) * m / (np.sqrt(v) + eps)

    return update


@pytest.mark.parametrize(
    "name, update",
    [
        ("SGD", _momentum(0.3, 0.0)),
        ("momentum", _momentum(0.3, 0.5)),
        ("Nesterov", _momentum(0.3, 0.5, nesterov=True)),
        ("Adam", _adam(0.3)),
    ],
)
def test_trajectory_follows_keras_update_rules(name: str, update) -> None:
    s = optim.SURFACES["ill-conditioned quadratic"]
    path = optim.trajectory(s, optim.make_optimizer(name, 0.3, momentum=0.5), steps=15, name=name)
    assert path.points.shape == (16, 2) and not path.diverged and path.name == name
    np.testing.assert_allclose(path.points, _by_hand(s, 15, update), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(path.values, [s.value(p) for p in path.points])


def test_momentum_rescues_the_learning_rate_that_diverges_sgd_on_the_bowl() -> None:
    s = optim.SURFACES["ill-conditioned quadratic"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # an escaping path must stop before NumPy overflows
        plain = optim.trajectory(s, keras.optimizers.SGD(learning_rate=0.6), steps=80)
    helped = optim.trajectory(s, keras.optimizers.SGD(learning_rate=0.6, momentum=0.5), steps=80)
    assert plain.diverged and plain.steps < 80 and np.all(np.isfinite(plain.values))
    assert not helped.diverged and helped.final_value < 1e-6


def test_race_uses_each_surfaces_learning_rate_and_momentum() -> None:
    paths = optim.race("saddle", names=("SGD", "momentum"), steps=5)
    assert list(paths) == ["SGD", "momentum"] and all(p.steps == 5 for p in paths.values())
    still = optim.race("saddle", momentum=0.0, names=("SGD", "momentum"), steps=5)
    np.testing.assert_allclose(still["momentum"].points, still["SGD"].points, atol=1e-7)
    assert not np.allclose(paths["momentum"].points, paths["SGD"].points)


def test_draw_labels_everything() -> None:
    import matplotlib.pyplot as plt

    s = optim.SURFACES["two valleys"]
    fig = optim.draw(s, optim.race(s, names=("SGD",), steps=3), title="a title")
    left, right = fig.axes[:2]
    assert left.get_title() == "a title" and right.get_title()
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in (left, right))
    assert right.get_yscale() == "log"
    plt.close(fig)


# ------------------------------------------------------------------------------------------ divergence


@pytest.mark.parametrize("curvature", [2.0, 4.0, 0.5])
def test_divergence_exactly_when_learning_rate_times_curvature_exceeds_two(curvature: float) -> None:
    limit = optim.stable_learning_rate(curvature)
    assert math.isclose(limit * curvature, 2.0)
    below = optim.quadratic_path(0.95 * limit, curvature=curvature, steps=60)
    above = optim.quadratic_path(1.05 * limit, curvature=curvature, steps=60)
    assert not optim.diverged(below) and abs(below[-1]) < 0.1
    assert optim.diverged(above) and abs(above[-1]) > 1.0
    first = optim.quadratic_path(0.3 * limit, curvature=curvature, steps=1)
    assert math.isclose(first[1] / first[0], 1 - 0.3 * limit * curvature, rel_tol=1e-5)


def test_momentum_and_nesterov_have_their_own_limits() -> None:
    mu, curvature = 0.5, 4.0
    momentum_limit = 2 * (1 + mu) / curvature  # 0.75
    nesterov_limit = 2 * (1 + mu) / (1 + 2 * mu) / curvature  # 0.375
    for rate, momentum_ok, nesterov_ok in ((0.35, True, True), (0.4, True, False), (0.8, False, False)):
        xs = optim.quadratic_path(rate, curvature, momentum=mu, steps=80)
        ys = optim.quadratic_path(rate, curvature, momentum=mu, nesterov=True, steps=80)
        assert optim.diverged(xs) is not momentum_ok, (rate, momentum_limit)
        assert optim.diverged(ys) is not nesterov_ok, (rate, nesterov_limit)


def test_diverged_reads_a_sequence() -> None:
    assert optim.diverged([1.0, -1.2, 1.44])
    assert optim.diverged([1.0, float("nan")])
    assert not optim.diverged([1.0, -0.8, 0.64])
    assert not optim.diverged([1.0])
    with pytest.raises(ValueError):
        optim.stable_learning_rate(0.0)


# ------------------------------------------------------------------------------------------ playground


@pytest.fixture
def counted(monkeypatch):
    calls = []
    real = optim.trajectory

    def counting(*args, **kwargs):
        calls.append(kwargs.get("name"))
        return real(*args, **kwargs)

    monkeypatch.setattr(optim, "trajectory", counting)
    return calls


def test_playground_draws_once_on_creation_with_stable_controls(counted) -> None:
    pg = optim.playground("ill-conditioned quadratic", momentum=0.5)
    assert pg.draws == 1 and pg.png.startswith(b"\x89PNG") and pg.image.value == pg.png
    assert {c.description for c in (pg.surface, pg.learning_rate, pg.momentum)} == {
        "surface",
        "learning rate",
        "momentum",
    }
    assert pg.learning_rate.value == pytest.approx(0.4) and pg.momentum.value == 0.5
    assert "losslab-playground-figure" in pg.image._dom_classes
    assert sorted(counted) == sorted(optim.OPTIMIZER_NAMES)
    bundle = pg._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/png" in bundle
    assert "Nesterov" in bundle["text/plain"]


def test_learning_rate_slider_redraws_and_replaces_the_image(counted) -> None:
    pg = optim.Playground("ill-conditioned quadratic", momentum=0.5)
    before, status = pg.image.value, pg.status.value
    pg.learning_rate.value = 0.6
    assert pg.draws == 2 and pg.image.value != before and pg.image.value == pg.png
    assert "learning rate 0.6" in pg.status.value and pg.status.value != status
    assert "SGD: diverged" in pg.status.value and "momentum: f - min" in pg.status.value
    assert len(counted) == 10


def test_momentum_slider_reruns_only_the_momentum_optimizers(counted) -> None:
    pg = optim.Playground("saddle")
    counted.clear()
    pg.momentum.value = 0.3
    assert pg.draws == 2 and sorted(counted) == ["Nesterov", "momentum"]
    pg.momentum.value = 0.9  # back to the first setting: every path is cached
    assert pg.draws == 3 and sorted(counted) == ["Nesterov", "momentum"]


def test_choosing_a_surface_sets_its_learning_rate_and_redraws_once(counted) -> None:
    pg = optim.Playground("ill-conditioned quadratic")
    pg.surface.value = "rosenbrock"
    assert pg.draws == 2
    assert pg.learning_rate.value == pytest.approx(optim.SURFACES["rosenbrock"].learning_rate)
    assert "rosenbrock" in pg._repr_mimebundle_()["text/plain"]


# ------------------------------------------------------------------------------------------ digits


def test_train_digits_starts_near_chance_and_is_reproducible() -> None:
    a = optim.train_digits(keras.optimizers.SGD(learning_rate=0.01), epochs=1, progress=False)
    b = optim.train_digits("sgd", epochs=1, progress=False)
    assert set(a.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert a.history["loss"] == b.history["loss"]  # same seed, same defaults: the same run
    assert 1.5 < a.history["loss"][0] < 1.5 * math.log(10)


# ------------------------------------------------------------- facts chapter 2 states, checked against Keras


def _text(path: str) -> str:
    """Every cell of a solutions notebook (or a quiz bank) as one string, for the tests that hold the prose."""
    from losslab import notebooks
    from tests.support import REPO

    full = REPO / path
    if full.suffix == ".ipynb":
        return "\n".join(c.source for c in notebooks.read(full).cells)
    return full.read_text(encoding="utf-8")


def test_adam_bias_correction_has_not_faded_at_step_1000() -> None:
    """Keras' Adam after 1000 steps of a steady gradient: its step is still about 0.8 of what m / sqrt(v) without
    the correction would give (1 - 0.999^1000 = 0.63), and the quiz says so instead of "fades over 1000 steps"."""
    w = keras.Variable(np.zeros(1, dtype="float32"))
    adam = keras.optimizers.Adam(learning_rate=1e-3)
    grad = keras.ops.ones(1)
    for _ in range(999):
        adam.apply_gradients([(grad, w)])
    before = float(keras.ops.convert_to_numpy(w)[0])
    adam.apply_gradients([(grad, w)])
    step = abs(float(keras.ops.convert_to_numpy(w)[0]) - before)
    m, v = _adam_moments(adam)
    uncorrected = 1e-3 * m / (math.sqrt(v) + 1e-7)
    assert step / uncorrected == pytest.approx(math.sqrt(1 - 0.999**1000) / (1 - 0.9**1000), rel=1e-3)
    assert step / uncorrected == pytest.approx(0.8, abs=0.01)  # 20 % off: not faded
    bank = _text("losslab/quizbank/02_optimizers.yaml")
    assert "1000 steps for beta_2" not in bank and "0.63" in bank


def _adam_moments(adam: keras.optimizers.Adam) -> tuple[float, float]:
    """Adam's first and second moment of the only variable it trains."""
    found = {}
    for var in adam.variables:
        for kind in ("momentum", "velocity"):
            if kind in var.path:
                found[kind] = float(keras.ops.convert_to_numpy(var).ravel()[0])
    return found["momentum"], found["velocity"]


def test_keras_l2_has_no_half_and_matches_weight_decay_at_twice_its_factor() -> None:
    """keras.regularizers.L2(l) adds l * sum(w**2); under SGD it matches weight_decay = 2 l. Chapter 2 writes the
    penalty in that form and says how to match the two."""
    w = np.array([1.0, -2.0], dtype="float32")
    assert float(keras.ops.convert_to_numpy(keras.regularizers.L2(0.3)(keras.ops.convert_to_tensor(w)))) == (
        pytest.approx(0.3 * 5.0)
    )
    decayed = keras.Variable(w)
    keras.optimizers.SGD(learning_rate=0.1, weight_decay=0.02).apply_gradients([(keras.ops.zeros(2), decayed)])
    penalised = keras.Variable(w)
    l2_grad = 2 * 0.01 * w  # the gradient of L2(0.01) = 0.01 * sum(w**2)
    keras.optimizers.SGD(learning_rate=0.1).apply_gradients([(keras.ops.convert_to_tensor(l2_grad), penalised)])
    assert keras.ops.convert_to_numpy(decayed) == pytest.approx(keras.ops.convert_to_numpy(penalised), rel=1e-6)
    text = _text("solutions/02_optimizers/optimizers_part2_tutorial.ipynb")  # section 6: weight decay versus L2
    assert "\\frac{\\lambda}{2}" not in text and "l2/2" not in text
    assert "`weight_decay=2 * l`" in text and "2 * l2 * now" in text


def test_divergence_is_taught_with_both_endings() -> None:
    """A diverging network ends in inf / NaN or in a collapse near ln K: neither is the rule, in either chapter or the
    quiz (chapter 3 part 1 runs both: the sweep's classifier and the linear regression on diabetes)."""
    sources = {
        "chapter 2": _text("solutions/02_optimizers/optimizers_tutorial.ipynb")
        + _text("solutions/02_optimizers/optimizers_part2_tutorial.ipynb"),
        "chapter 3": _text("solutions/03_learning_rates/learning_rates_tutorial.ipynb"),
        "bank 2": _text("losslab/quizbank/02_optimizers.yaml"),
        "bank 3": _text("losslab/quizbank/03_learning_rates.yaml"),
    }
    for name, text in sources.items():
        for rule in ("rather than NaN", "more often than NaN", "Divergence rarely looks", "usually looks like"):
            assert rule not in text, f"{name} states one ending as the rule: {rule!r}"
        assert "NaN" in text and ("ln 10" in text or "\\ln K" in text), name
    chapter3 = sources["chapter 3"]
    assert "TerminateOnNaN" in chapter3 and "collapsed = [" in chapter3 and "not_finite = [" in chapter3


@pytest.mark.parametrize("chapter", ["02_optimizers", "03_learning_rates"])
def test_checkpoints_show_every_question_once_after_its_section(chapter: str) -> None:
    """Chapters 2 and 3 ask their questions in checkpoints of 2 to 4, right after the section that teaches them:
    every question of the bank once, and the checkpoint sits in the notebook its ``section`` names."""
    import ast

    from losslab import notebooks, quiz
    from tests.support import REPO

    shown: dict[str, str] = {}
    for path in sorted((REPO / "solutions" / chapter).glob("*_tutorial.ipynb")):
        for cell in notebooks.read(path).cells:
            if cell.cell_type != "code" or "quiz.show(" not in cell.source:
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "show":
                    ids = ast.literal_eval(node.args[1] if len(node.args) > 1 else node.keywords[0].value)
                    assert 2 <= len(ids) <= 4, f"{path.name}: a checkpoint of {len(ids)} questions"
                    for qid in ids:
                        assert qid not in shown, f"{qid} shown twice ({shown.get(qid)} and {path.name})"
                        shown[qid] = path.name
    bank = quiz.load_bank(chapter)
    assert sorted(shown) == sorted(q.id for q in bank.questions)
    for q in bank.questions:
        assert q.section.partition("#")[0].endswith(shown[q.id]), f"{q.id} is asked far from {q.section}"


def test_the_training_loop_states_no_single_runs_loss_as_certain() -> None:
    """What the never-reset slip does to the loss depends on the run; what it does to each step does not (the step
    applies the sum of all the gradients so far). No form of "the loss explodes" in the notebook or the loop's
    questions: any case, any tense, with or without a period."""
    import re

    from losslab import quiz

    bank = quiz.load_bank("02_optimizers")
    loop_questions = "\n".join(
        " ".join([q.prompt, q.explanation, *(c.text + " " + c.explanation for c in q.choices)])
        for q in bank.questions
        if "training_loop_tutorial" in q.section
    )
    notebook = _text("solutions/02_optimizers/training_loop_tutorial.ipynb")
    for text in (notebook, loop_questions):
        assert not re.search(r"loss(es)?\s+(explod|blow(s|n)?\s+up)", text, re.IGNORECASE)
    assert "each step applies the sum of all the gradients so far" in notebook


def test_chapter_2_says_adams_step_ignores_the_gradients_size_not_the_gradient() -> None:
    """Adam's step m / sqrt(v) does not grow with the gradient's size, but it does shrink where the batches' gradients
    disagree (chapter 3 part 3, tests/test_lr.py): "about eta whatever the gradient" says too much; "whatever the
    gradient's size" is what holds."""
    import re

    for path in (
        "solutions/02_optimizers/optimizers_tutorial.ipynb",
        "solutions/02_optimizers/optimizers_part2_tutorial.ipynb",
        "losslab/quizbank/02_optimizers.yaml",
    ):
        prose = " ".join(_text(path).split())
        loose = re.findall(r"whatever the gradient(?!'s size)\S*", prose)
        assert not loose, f"{path}: {loose}: say 'whatever the gradient's size' (the step does shrink under noise)"


def test_momentum_is_pictured_as_a_heavy_ball_before_its_update_rule() -> None:
    """Intuition before formulas (issue 22): chapter 2 part 1 pictures momentum as a heavy ball that keeps its speed
    before it writes the velocity's update rule."""
    prose = " ".join(_text("solutions/02_optimizers/optimizers_tutorial.ipynb").split())
    ball, rule = prose.find("heavy ball"), prose.find(r"v \leftarrow \mu")
    assert ball != -1 and rule != -1, "the heavy ball and the velocity's update rule are both in part 1"
    assert ball < rule, "the heavy ball comes before the update rule"


def test_a_surface_is_named_in_the_learners_language_and_keyed_in_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """`Surface.name` is what a figure title or a printed heading shows: the key in English, its catalog
    translation in Japanese; the key itself (what `optim.SURFACES` and `surface()` look up) never changes."""
    saddle = optim.SURFACES["saddle"]
    monkeypatch.setenv("LOSSLAB_LANG", "en")
    assert saddle.name == "saddle"
    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    assert saddle.name not in ("", "saddle") and not saddle.name.isascii(), saddle.name
    assert optim.surface("saddle") is saddle and saddle.key == "saddle"
