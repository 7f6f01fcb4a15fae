"""What the model is: its compiled loss (through ``losses.describe_loss``), its outputs, layers and weights.

Small helpers the checks share, and the number format of the evidence.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from losslab import lr as lr_tools
from losslab.losses import describe_loss
from losslab.rules import CLASSIFICATION_KINDS, LOSS_KINDS


@dataclass(frozen=True)
class LossInfo:
    """What the compiled loss is: its kind, whether it expects logits, and a callable computing it."""

    kind: str  # sparse_ce | ce | bce | regression | other | custom | unknown
    name: str
    from_logits: bool | None
    fn: Callable | None


# The one vocabulary of loss kinds, from the rule table (losslab/rules.py).
KINDS = LOSS_KINDS
CLASSIFICATION = CLASSIFICATION_KINDS


def loss_info(loss: Any) -> LossInfo:
    """Classify a compiled loss given as a string, a ``keras.losses.Loss`` or a function."""
    if loss is None:
        return LossInfo("unknown", "none", None, None)
    try:
        spec = describe_loss(loss)
    except ValueError:
        name = loss if isinstance(loss, str) else type(loss).__name__
        return LossInfo("custom" if isinstance(loss, str) or callable(loss) else "unknown", str(name), None, None)
    kind = LOSS_KINDS.get(spec.name, "custom") if spec.keras else "custom"
    fn = loss
    if isinstance(loss, str):
        try:
            fn = keras.losses.get(loss)
        except (ValueError, TypeError):
            fn = None
    from_logits = spec.from_logits if kind in CLASSIFICATION else None
    return LossInfo(kind, spec.short, from_logits, fn)


def output_kind(pred: np.ndarray) -> str:
    """'probabilities' (rows in [0, 1] summing to 1), 'bounded' (each value in [0, 1]) or 'logits'."""
    if pred.size == 0 or not np.all(np.isfinite(pred)):
        return "non-finite"
    in01 = float(pred.min()) >= 0.0 and float(pred.max()) <= 1.0
    if in01 and pred.ndim > 1 and pred.shape[-1] > 1 and np.allclose(pred.sum(-1), 1.0, atol=1e-3):
        return "probabilities"
    return "bounded" if in01 else "logits"


def last_activation(model: keras.Model) -> str | None:
    """The name of the activation of the model's last layer, when the model says it."""
    layers = getattr(model, "layers", [])
    for layer in reversed(layers):
        if isinstance(layer, keras.layers.Softmax):
            return "softmax"
        activation = getattr(layer, "activation", None)
        if activation is not None:
            return getattr(activation, "__name__", str(activation))
        if isinstance(layer, (keras.layers.Dropout, keras.layers.InputLayer)):
            continue
        break
    return None


# Layers that pass values through unchanged at inference: the output activation lies before them.
_PASS_THROUGH = ("Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Flatten", "Reshape", "Identity")


def output_activation(model: keras.Model) -> tuple[Callable, str] | None:
    """The function the model's last layer applies to its output (an activation, or a layer without
    weights such as Softmax or Rescaling) and its name; None when the model does not say (subclassed)."""
    layers = [layer for layer in getattr(model, "layers", []) if not isinstance(layer, keras.layers.InputLayer)]
    for layer in reversed(layers):
        if type(layer).__name__ in _PASS_THROUGH:
            continue
        if getattr(layer, "kernel", None) is not None:
            activation = getattr(layer, "activation", None) or keras.activations.linear
            return activation, getattr(activation, "__name__", type(activation).__name__)
        if not layer.weights:
            activation = getattr(layer, "activation", None)
            if isinstance(layer, keras.layers.Activation) and activation is not None:
                return activation, getattr(activation, "__name__", type(activation).__name__)
            return layer, type(layer).__name__
        return None
    return None


def all_layers(model: keras.Model) -> list:
    """Every layer, nested ones included."""
    try:
        return list(model._flatten_layers(include_self=False, recursive=True))
    except Exception:  # an exotic model: the top-level layers will do
        return list(getattr(model, "layers", []))


def is_kernel(variable: Any) -> bool:
    """A weight matrix (or a convolution kernel), not a bias or a scale."""
    return len(variable.shape) >= 2


# How many times the largest standard initializer's scale a weight may start at before its scale, not the draw,
# explains a high first loss: twice He's standard deviation is four times the variance that keeps a ReLU
# layer's outputs at its inputs' scale, and the excess compounds layer after layer.
OFF_SCALE = 2.0


def off_scale_weights(model: keras.Model) -> dict[str, float]:
    """The weights that start larger than any standard initializer makes them, each with how many times.

    A kernel (its shape's last axis the output units, as Keras' ``compute_fans`` reads it) is compared by its
    RMS with He's sqrt(2 / fan_in), the largest of the variance-preserving schemes (Glorot's
    sqrt(2 / (fan_in + fan_out)), Keras' default, and LeCun's sqrt(1 / fan_in) are smaller); a bias with 1,
    the scale of a pre-activation on standardized inputs (standard biases start at 0). Read from the
    variables' values, so every backend gives the same answer. Embeddings are looked up, not multiplied: left out.
    """
    large = {}
    for v in model.trainable_variables:
        name = str(v.path).split("/")[-1]
        if "kernel" not in name and name != "bias":
            continue
        w = np.asarray(v.numpy(), dtype=np.float64)
        if w.size == 0:
            continue
        rms = float(np.sqrt(np.mean(np.square(w))))
        scale = math.sqrt(2.0 / math.prod(w.shape[:-1])) if w.ndim >= 2 else 1.0
        if not math.isfinite(rms) or rms > OFF_SCALE * scale:
            large[short(v.path)] = rms / scale
    return large


def short(path: str) -> str:
    """A variable's path shortened to its last two parts (``dense_1/kernel``)."""
    parts = str(path).split("/")
    return "/".join(parts[-2:]) if len(parts) > 1 else parts[0]


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, clipped against overflow."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def entropy(p: np.ndarray) -> float:
    """Entropy in nats of a probability vector."""
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def row_keys(a: np.ndarray) -> np.ndarray:
    """One comparable key per row (its bytes), to find duplicate rows and rows shared by two arrays."""
    a = np.ascontiguousarray(a.reshape(len(a), -1))
    return a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).reshape(-1)


def fmt(x: float) -> str:
    """A measured number for evidence text: 3 significant digits, scientific when tiny or huge."""
    if x is None or not np.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax != 0 and (ax < 1e-3 or ax >= 1e5):
        return f"{x:.2e}"
    return f"{x:.3g}" if ax < 100 else f"{x:,.0f}"


def constant_lr(model: keras.Model) -> float | None:
    """The optimizer's learning rate when it is a plain value (``lr.current_lr``); None for a schedule."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not isinstance(getattr(optimizer, "_learning_rate", None), keras.Variable):
        return None
    return lr_tools.current_lr(optimizer)


def compiled_metric_objects(model: keras.Model) -> list:
    """The metrics given to compile (empty when Keras hides them)."""
    compiled = getattr(model, "_compile_metrics", None)
    try:
        return list(getattr(compiled, "_user_metrics", None) or getattr(compiled, "metrics", []) or [])
    except Exception:
        return []


def kernel_values(model: keras.Model) -> dict[str, np.ndarray]:
    """A copy of every weight matrix, by variable path."""
    return {v.path: np.array(v.numpy(), copy=True) for v in model.trainable_variables if is_kernel(v)}
