"""The doctor's checks read what every backend computes the same way: the weights' scale (not one draw's first
loss) for a bad initialization, the outputs a clipping loss pins (not the backend's gradient alone) for zero
gradients, and label noise only from a model that could have fitted the labels. The PyTorch and JAX runs go
through a subprocess each (PyTorch only where it is installed: ``make torch``)."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from losslab import doctor
from losslab.doctor.diagnosis import resolve
from losslab.doctor.model import OFF_SCALE, off_scale_weights
from losslab.doctor.registry import CheckId
from tests import test_losses_facts as losses_facts
from tests.test_losses_facts import _torch_path


def _one_unit(n_in: int, init: object = "glorot_uniform", hidden: int = 0) -> keras.Sequential:
    keras.utils.set_random_seed(0)
    layers: list = [keras.Input((n_in,))]
    if hidden:
        layers.append(keras.layers.Dense(hidden, activation="relu", kernel_initializer=init, name="hidden"))
    layers.append(keras.layers.Dense(1, activation="sigmoid", kernel_initializer=init, name="out"))
    model = keras.Sequential(layers)
    model.compile("adam", "binary_crossentropy")
    return model


# ------------------------------------------------------------------------------------ the weights' scale


def test_standard_initializers_are_in_scale_and_a_large_normal_is_not() -> None:
    for init in ("glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal"):
        assert off_scale_weights(_one_unit(64, init, hidden=64)) == {}, init
    large = off_scale_weights(_one_unit(64, keras.initializers.RandomNormal(stddev=1.0), hidden=64))
    # N(0, 1) on 64 inputs: RMS 1 against He's sqrt(2/64) = 0.177, 5.7x
    assert set(large) == {"hidden/kernel", "out/kernel"}
    assert large["hidden/kernel"] == pytest.approx(np.sqrt(64 / 2), rel=0.1) and min(large.values()) > OFF_SCALE


def _correlated(n: int = 512, features: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Fifty copies of one standardized feature: whatever the draw, the logit adds them all up."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(n, 1))
    x = (z + 0.05 * rng.normal(size=(n, features))).astype(np.float32)
    x = (x - x.mean(0)) / x.std(0)
    return x, (z[:, 0] < 0).astype(np.int64)


def test_a_high_first_loss_from_weights_at_the_standard_scale_is_no_bad_initialization() -> None:
    """A draw within glorot_uniform's own limits that starts confident and wrong on correlated inputs: the
    loss is far above ln 2, but the weights are not too large, so the initialization is not blamed."""
    x, y = _correlated()
    model = _one_unit(x.shape[1])
    limit = np.sqrt(6 / (x.shape[1] + 1))  # glorot_uniform draws from [-limit, limit]
    kernel, bias = model.layers[-1].get_weights()
    model.layers[-1].set_weights([np.full_like(kernel, 0.5 * limit), bias])
    report = doctor.examine(model, x, y, only=["initial_loss"])
    finding = report.finding("initial_loss")
    assert finding.values["measured"] > 1.5 * np.log(2) + 0.5, finding.evidence
    assert report.causes() == [] and finding.severity == "info", str(report)
    assert "He's sqrt(2/fan_in)" in finding.evidence

    model.layers[-1].set_weights([np.full_like(kernel, 5 * limit), bias])  # now 2.4x He's scale
    report = doctor.examine(model, x, y, only=["initial_loss"])
    assert report.causes() == ["bad_initialization"], str(report)
    assert "out/kernel" in report.finding("initial_loss").evidence


# ------------------------------------------------------------------------------ label noise and capacity


def _resolved(*findings: doctor.Finding) -> list[doctor.Finding]:
    ctx = SimpleNamespace(findings=list(findings))
    resolve(ctx)
    return ctx.findings


def test_labels_a_too_small_model_contradicts_are_not_called_noise() -> None:
    noise = doctor.Finding(CheckId.LABEL_QUALITY, "warning", "contradicts 20%", "inspect", "label_noise")
    small = doctor.Finding(CheckId.OVERFIT_ONE_BATCH, "warning", "leveled off", "add units", "underfitting")
    found = _resolved(small, noise)
    assert [f.cause for f in found if f.alarming] == ["underfitting"]
    assert found[1].severity == "info" and found[1].cause is None
    unused = doctor.Finding(CheckId.ZEROED_INPUTS, "warning", "inputs do not help", "check", "label_noise")
    small = doctor.Finding(CheckId.OVERFIT_ONE_BATCH, "warning", "leveled off", "add units", "underfitting")
    assert [f.cause for f in _resolved(small, unused) if f.alarming] == ["underfitting"]
    alone = doctor.Finding(CheckId.LABEL_QUALITY, "warning", "contradicts 20%", "inspect", "label_noise")
    assert [f.cause for f in _resolved(alone)] == ["label_noise"]  # a model that fits: the labels are blamed


def test_inputs_a_short_probe_cannot_use_on_a_rare_class_are_not_called_noise() -> None:
    rare = doctor.Finding(CheckId.CLASS_PRIOR, "warning", "3% positives", "weight the classes", "class_imbalance")
    unused = doctor.Finding(CheckId.ZEROED_INPUTS, "warning", "inputs do not help", "check", "label_noise")
    assert [f.cause for f in _resolved(rare, unused) if f.alarming] == ["class_imbalance"]
    unused = doctor.Finding(CheckId.ZEROED_INPUTS, "warning", "inputs do not help", "check", "label_noise")
    assert [f.cause for f in _resolved(unused)] == ["label_noise"]


# ------------------------------------------------------------------ pinned outputs, on the clipping backends

PINNED = textwrap.dedent(
    """
    import json, keras, numpy as np
    from losslab import doctor
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 256)
    out = {}
    for name, scale, init in [("unscaled", 1e5, "glorot_uniform"), ("huge_init", 1.0, "huge")]:
        x = (scale * rng.normal(size=(256, 8))).astype("float32")
        keras.utils.set_random_seed(0)
        kernel = keras.initializers.RandomNormal(stddev=1e5) if init == "huge" else init
        out_layer = keras.layers.Dense(1, activation="sigmoid", kernel_initializer=kernel)
        m = keras.Sequential([keras.Input((8,)), out_layer])
        m.compile("adam", "binary_crossentropy")
        r = doctor.examine(m, x, y, only=["gradient_norms"])
        f = r.finding("gradient_norms")
        out[name] = {"causes": r.causes(), "pinned": f.values.get("pinned"), "evidence": f.evidence}
    print("RESULT" + json.dumps(out))
    """
)


@pytest.mark.parametrize(
    "backend",
    [
        "jax",
        pytest.param(
            "torch",
            marks=pytest.mark.skipif(_torch_path() is None, reason="PyTorch is not installed (make torch)"),
        ),
    ],
)
def test_zero_gradients_from_outputs_pinned_at_the_clip_name_what_pins_them(backend: str) -> None:
    """JAX and torch clip a probability at epsilon, so outputs saturated by raw inputs or huge weights get no
    gradient at all (TensorFlow recovers the logits): the cause is the scale, not a loss that ignores the
    weights."""
    out = losses_facts._probe(backend, PINNED)  # its subprocess runner, with this script
    assert out["unscaled"]["causes"] == ["unscaled_inputs"], out
    assert out["huge_init"]["causes"] == ["bad_initialization"], out
    assert all(v["pinned"] >= 0.99 and "clips" in v["evidence"] for v in out.values()), out
