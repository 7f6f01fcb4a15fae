"""The facts chapter 1 teaches, each held twice: by Keras itself (the fact is true) and by the text where the
course states it (the notebooks and the quiz bank say it, and no longer say the wrong version).

- class_weight: with ``imbalance.balanced_class_weight`` all positives together weigh as much as all negatives
  together, and one positive weighs neg/pos negatives (not "as much as all the negatives");
- squared error on one-hot labels (the Brier score) is minimized by the true probability, like cross-entropy;
  the difference is the unbounded price of a confident mistake and the gradient p - y at the logits;
- mse's p(1 - p) factor is in the gradient with respect to the logits;
- a loss through argmax has no gradient: TensorFlow stops with "No gradients provided", JAX trains with zero
  gradients and changes no weight, PyTorch raises its own error in backward;
- ``metrics=["accuracy"]`` on one output unit thresholds at 0.5, wrong for logits; BinaryAccuracy(threshold=0.0)
  is right;
- the Adam/SGD gap: the notebook states what held on every seed and backend tried and prints its own verdict.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from losslab import imbalance, notebooks, quiz
from tests.support import SOLUTIONS

CH1 = SOLUTIONS / "01_losses"
TUTORIALS = sorted(CH1.glob("*_tutorial.ipynb"))


def _markdown(path: Path) -> str:
    return " ".join(" ".join(c.source.split()) for c in notebooks.read(path).cells if c.cell_type == "markdown")


def _code(path: Path) -> str:
    return "\n".join(c.source for c in notebooks.read(path).cells if c.cell_type == "code")


def _bank_text(question_id: str) -> str:
    q = quiz.load_bank("01_losses")[question_id]
    parts = [q.prompt, q.explanation] + [f"{c.text} {c.explanation}" for c in q.choices]
    return " ".join(" ".join(parts).split())


def _all_chapter_text() -> str:
    return " ".join(_markdown(p) for p in TUTORIALS) + " " + " ".join(_bank_text(q.id) for q in _ch1().questions)


def _ch1() -> quiz.Bank:
    return quiz.load_bank("01_losses")


# ------------------------------------------------------------------------------------------ class_weight


def test_balanced_class_weight_makes_one_positive_weigh_neg_over_pos_negatives() -> None:
    y = np.array([0] * 97 + [1] * 3)
    w = imbalance.balanced_class_weight(y)
    assert w[1] / w[0] == pytest.approx(97 / 3)  # one positive = neg/pos negatives
    assert w[1] * 3 == pytest.approx(w[0] * 97)  # all positives together = all negatives together
    assert w[1] < w[0] * 97  # one positive weighs far less than all the negatives together


# The wrong reading of balanced class weights: one positive weighs as much as all the negatives.
WRONG_CLASS_WEIGHT = re.compile(
    r"(a|each|one) (missed )?positive (now )?(counts|costs|weighs) as much[^.]*as (all )?the negatives"
)


def test_class_weight_is_described_as_it_works() -> None:
    part2 = _markdown(CH1 / "losses_part2_tutorial.ipynb")
    for text in (part2, _bank_text("output-bias-effect"), _bank_text("class-weight-trade-off")):
        assert not WRONG_CLASS_WEIGHT.search(text), WRONG_CLASS_WEIGHT.search(text).group(0)
    assert "all positives together weigh as much in the loss as all negatives together" in part2
    assert "one positive weighs as much as about neg/pos negatives" in part2
    assert "one positive weighs about neg/pos negatives" in _bank_text("output-bias-effect")
    assert "weights[1] / weights[0]" in _code(CH1 / "losses_part2_tutorial.ipynb")  # printed from the run


# ------------------------------------------------------------------------------------------ Brier


@pytest.mark.parametrize("q", [0.2, 0.7])
def test_squared_error_and_cross_entropy_are_both_minimized_by_the_true_probability(q: float) -> None:
    p = np.linspace(0.01, 0.99, 99, dtype="float32")[:, None]
    ones, zeros = np.ones_like(p), np.zeros_like(p)
    for loss in (keras.losses.binary_crossentropy, keras.losses.mean_squared_error):
        expected = q * keras.ops.convert_to_numpy(loss(ones, p)) + (1 - q) * keras.ops.convert_to_numpy(loss(zeros, p))
        assert p[np.argmin(expected), 0] == pytest.approx(q, abs=0.006)
    # three classes, one-hot rows: the expected squared error over the classes is lowest at the true distribution
    truth = np.array([0.5, 0.3, 0.2])
    candidates = np.array([[0.5, 0.3, 0.2], [0.6, 0.25, 0.15], [0.4, 0.35, 0.25], [1.0, 0.0, 0.0]], "float32")
    brier = [sum(t * np.sum((np.eye(3)[k] - c) ** 2) for k, t in enumerate(truth)) for c in candidates]
    assert int(np.argmin(brier)) == 0


def test_confident_mistakes_cost_cross_entropy_without_bound_and_squared_error_at_most_1() -> None:
    p = np.array([[1e-2], [1e-4], [1e-6]], "float32")
    ce = keras.ops.convert_to_numpy(keras.losses.binary_crossentropy(np.ones_like(p), p))
    se = keras.ops.convert_to_numpy(keras.losses.mean_squared_error(np.ones_like(p), p))
    assert np.all(np.diff(ce) > 4) and np.all(se < 1)


def test_the_course_no_longer_says_only_cross_entropy_is_minimized_by_the_honest_probability() -> None:
    text = _all_chapter_text()
    assert "the loss whose minimum is the honest probability" not in text
    assert "Brier score" in _markdown(CH1 / "losses_part2_tutorial.ipynb")
    assert "minimized by the true probability too" in _markdown(CH1 / "losses_part2_tutorial.ipynb")
    assert "has no bound" in _bank_text("brier-vs-cross-entropy") and "p - y" in _bank_text("brier-vs-cross-entropy")


# ------------------------------------------------------------------------------------------ gradients at the logits


def _slope(loss, z: np.ndarray, h: float = 1e-3) -> np.ndarray:
    def at(zz):
        p = keras.ops.sigmoid(zz[:, None].astype("float32"))
        return keras.ops.convert_to_numpy(loss(np.ones((len(zz), 1), "float32"), p)).astype("float64")

    return (at(z + h) - at(z - h)) / (2 * h)


def test_gradients_at_the_logit_are_p_minus_y_and_the_mse_one_carries_p_one_minus_p() -> None:
    z = np.array([-6.0, -2.0, 0.0, 1.5])
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(_slope(keras.losses.binary_crossentropy, z), p - 1, atol=2e-3)
    np.testing.assert_allclose(_slope(keras.losses.mean_squared_error, z), 2 * (p - 1) * p * (1 - p), atol=2e-3)


def test_the_p_one_minus_p_factor_is_placed_at_the_logits() -> None:
    part2 = _markdown(CH1 / "losses_part2_tutorial.ipynb")
    assert "with respect to a softmax output carries" not in part2
    assert "With respect to the logits, mse's gradient carries the factor $p(1-p)$" in part2
    right = next(c for c in _ch1()["mse-on-softmax-classifier"].choices if c.correct)
    assert "at the logits" in right.text and "with respect to the logits" in right.explanation


# ------------------------------------------------------------------------------------------ argmax in a loss

ARGMAX_LOSS = """
def error_rate(y_true, y_pred):
    decided = keras.ops.cast(keras.ops.argmax(y_pred, axis=-1), "float32")
    return keras.ops.cast(keras.ops.not_equal(decided, keras.ops.cast(y_true, "float32")), "float32")
"""


def probe_script(loss: str) -> str:
    """A script that trains a Dense(2) model for 2 epochs with `loss` (source defining `error_rate`) and prints
    RESULT and whether it raised (and what) or whether any weight moved."""
    return (
        textwrap.dedent(
            """
        import json, numpy as np, keras
        """
        )
        + textwrap.dedent(loss)
        + textwrap.dedent(
            """
        x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
        y = (x[:, 0] > 0).astype("int32")
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        m.compile(optimizer="sgd", loss=error_rate)
        before = [w.copy() for w in m.get_weights()]
        try:
            m.fit(x, y, epochs=2, verbose=0)
            out = {"raised": None, "moved": any(not np.array_equal(a, b) for a, b in zip(before, m.get_weights()))}
        except Exception as e:
            out = {"raised": type(e).__name__, "message": str(e)[:300]}
        print("RESULT" + json.dumps(out))
        """
        )
    )


PROBE = probe_script(ARGMAX_LOSS)


def _torch_path() -> str | None:
    """Where `make torch` put PyTorch (this checkout's .venv/torch-site), or LOSSLAB_TORCH_SITE; None when absent."""
    here = Path(__file__).resolve().parents[1] / ".venv" / "torch-site"
    for site in [os.environ.get("LOSSLAB_TORCH_SITE", ""), str(here)]:
        if site and (Path(site) / "torch").exists():
            return str(Path(site).resolve())
    return None


def _probe(backend: str, script: str = PROBE) -> dict:
    """Run `script` under `backend` in a fresh interpreter and return what it printed after RESULT."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if backend == "torch":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH", ""), _torch_path()]))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("RESULT")), None)
    assert line, run.stdout[-2000:] + run.stderr[-2000:]
    return json.loads(line[len("RESULT") :])


def test_argmax_loss_on_tensorflow_stops_with_no_gradients_provided() -> None:
    out = _probe("tensorflow")
    assert out["raised"] == "ValueError" and "No gradients provided" in out["message"]


def test_argmax_loss_on_jax_trains_silently_and_changes_no_weight() -> None:
    out = _probe("jax")
    assert out == {"raised": None, "moved": False}


@pytest.mark.skipif(_torch_path() is None, reason="PyTorch is not installed (make torch)")
def test_argmax_loss_on_torch_raises_torchs_own_error() -> None:
    out = _probe("torch")
    assert out["raised"] == "RuntimeError" and "grad" in out["message"]


def test_the_course_says_what_each_backend_does_with_an_argmax_loss() -> None:
    part1 = _markdown(CH1 / "losses_tutorial.ipynb")
    assert "<summary>Deep dive: what each backend does with a loss that has no gradient</summary>" in part1
    for said in ("No gradients provided for any variable", "every gradient is exactly 0", "RuntimeError"):
        assert said in part1
    assert "keras.backend.backend()" in _code(CH1 / "losses_tutorial.ipynb")  # the run names its backend
    explanation = _bank_text("loss-needs-a-gradient")
    assert "TensorFlow stops" in explanation and "JAX trains with gradients of exactly 0" in explanation


# ------------------------------------------------------------------------------------------ accuracy of logits


def test_accuracy_metric_thresholds_a_logit_at_half_and_binary_accuracy_at_zero_fixes_it() -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.layers[0].bias.assign(np.array([0.3], "float32"))  # every output: the logit 0.3, probability 0.57
    model.compile(
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=["accuracy", keras.metrics.BinaryAccuracy(threshold=0.0, name="at_0")],
    )
    scores = model.evaluate(np.zeros((8, 1), "float32"), np.ones(8, "float32"), verbose=0, return_dict=True)
    assert scores["accuracy"] == 0.0 and scores["at_0"] == 1.0


def test_the_course_shows_the_logit_accuracy_and_its_fix() -> None:
    code = _code(CH1 / "losses_tutorial.ipynb")
    assert 'metrics=["accuracy", keras.metrics.BinaryAccuracy(threshold=0.0' in code
    assert "BinaryAccuracy(threshold=0.0)" in _markdown(CH1 / "losses_tutorial.ipynb")
    assert "BinaryAccuracy(threshold=0.0)" in _bank_text("accuracy-on-logits")


# ------------------------------------------------------------------------------------------ one run's outcomes


def test_the_adam_gap_is_stated_as_what_held_and_the_run_prints_its_verdict() -> None:
    part2 = _markdown(CH1 / "losses_part2_tutorial.ipynb")
    assert "with Adam the gap shrinks" not in part2
    assert "On every seed and backend tried" in part2
    assert 'print(f"this run: the gap with Adam is {verdict} than with SGD")' in _code(
        CH1 / "losses_part2_tutorial.ipynb"
    )


def test_softmax_rows_are_shown_to_sum_to_1() -> None:
    code = _code(CH1 / "losses_classes_tutorial.ipynb")
    assert "row_sums = val_probs.sum(axis=1)" in code and "row_sums.min()" in code and "row_sums.max()" in code
    probs = keras.ops.convert_to_numpy(keras.ops.softmax(np.random.default_rng(0).normal(size=(5, 10)) * 5))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


# ------------------------------------------------------------------------------------------ the chapter's shape


def test_imbalance_is_taught_in_chapter_1_and_scaling_and_label_noise_link_to_chapter_4() -> None:
    part2 = notebooks.read(CH1 / "losses_part2_tutorial.ipynb")
    headings = [
        ln for c in part2.cells if c.cell_type == "markdown" for ln in c.source.splitlines() if ln.startswith("#")
    ]
    assert any("Class imbalance" in h for h in headings)
    assert not any(re.search(r"label noise|min-max|scaling the inputs", h, re.I) for h in headings), headings
    text = _markdown(CH1 / "losses_part2_tutorial.ipynb")
    # linked by name to the notebook that holds the patient (no heading anchor: MyST cannot resolve Jupyter's
    # "#Patient-3:-unscaled-inputs", and the website is built from the same notebooks)
    target = "../04_debugging/debugging_part1_tutorial.ipynb"
    assert f"[patient 3]({target})" in text and f"[patient 4]({target})" in text
    ch4 = _markdown(CH1.parent / "04_debugging" / "debugging_part1_tutorial.ipynb")
    assert "Patient 3: unscaled inputs" in ch4 and "Patient 4: noisy labels" in ch4


def test_cross_entropy_is_introduced_as_a_negative_log_likelihood_before_its_formula() -> None:
    text = _markdown(CH1 / "losses_tutorial.ipynb")
    assert text.index("negative log-likelihood of the right class") < text.index(r"$-\ln p$")


def test_two_sigmoids_with_the_sparse_loss_train_because_the_loss_divides_by_their_sum() -> None:
    """binary-output-layer: Dense(2, sigmoid) with sparse_categorical_crossentropy "works, for the wrong reason"."""
    outputs = np.array([[0.2, 0.6], [0.9, 0.3]], "float32")  # two independent sigmoids: rows need not sum to 1
    got = keras.ops.convert_to_numpy(keras.losses.sparse_categorical_crossentropy(np.array([1, 0]), outputs))
    np.testing.assert_allclose(got, [-np.log(0.6 / 0.8), -np.log(0.9 / 1.2)], rtol=1e-5)
    wrong = next(c for c in _ch1()["binary-output-layer"].choices if "Dense(2" in c.text)
    assert not wrong.correct and "It trains, but for the wrong reason" in wrong.explanation
