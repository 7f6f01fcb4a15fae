"""Signals through depth: how initialization and normalization layers keep activations and gradients alive.

Used by solutions/04_debugging/debugging_part3_tutorial.ipynb and tests/test_depth.py.

``deep_mlp`` builds the chapter's deep network (the same Dense stack with a choice of activation, kernel
initializer and normalization layer). ``activations`` returns every hidden layer's output on a batch and
``activation_stds`` their spread; ``layer_gradient_norms`` the gradient norm of every Dense kernel, first layer
first. The gradients come from ``losslab.doctor.gradients`` (one per backend); nothing here trains.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from losslab.messages import _

NORMS = {None: None, "batch": keras.layers.BatchNormalization, "layer": keras.layers.LayerNormalization}


def deep_mlp(
    n_inputs: int,
    n_outputs: int,
    *,
    depth: int = 10,
    width: int = 64,
    activation: str = "sigmoid",
    init: Any = "glorot_uniform",
    norm: str | None = None,
) -> keras.Sequential:
    """`depth` hidden layers of `width` units: Dense (kernel `init`), then the `norm` layer ("batch", "layer"
    or None) before the `activation`, then a linear output of `n_outputs` logits (same initializer)."""
    if norm not in NORMS:
        raise ValueError(
            _("norm={norm} is not known: use one of {known}").format(norm=repr(norm), known=sorted(NORMS, key=str))
        )
    if depth < 1 or width < 1:
        raise ValueError(_("depth={depth} and width={width} must both be at least 1").format(depth=depth, width=width))
    layers: list[keras.layers.Layer] = [keras.Input(shape=(n_inputs,))]
    for index in range(1, depth + 1):
        layers.append(keras.layers.Dense(width, kernel_initializer=init, name=f"dense_{index}"))
        if norm is not None:
            layers.append(NORMS[norm](name=f"{norm}_norm_{index}"))
        layers.append(keras.layers.Activation(activation, name=f"{activation}_{index}"))
    layers.append(keras.layers.Dense(n_outputs, kernel_initializer=init, name="output"))
    return keras.Sequential(layers)


def activations(model: keras.Sequential, x: np.ndarray) -> list[np.ndarray]:
    """The output of every ``Activation`` layer of `model` on `x` (inference mode), first layer first."""
    if not any(isinstance(layer, keras.layers.Activation) for layer in model.layers):
        raise ValueError(_("the model has no keras.layers.Activation layer: build it with losslab.depth.deep_mlp"))
    h = keras.ops.convert_to_tensor(np.asarray(x, dtype="float32"))
    outputs = []
    for layer in model.layers:
        h = layer(h, training=False)
        if isinstance(layer, keras.layers.Activation):
            outputs.append(keras.ops.convert_to_numpy(h))
    return outputs


def activation_stds(model: keras.Sequential, x: np.ndarray) -> list[float]:
    """The standard deviation of every ``Activation`` layer's output on `x` (inference mode), first layer first."""
    return [float(np.std(h)) for h in activations(model, x)]


def layer_gradient_norms(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The L2 norm of the loss gradient for every Dense kernel of a compiled `model` on (x, y), first layer first.

    The model's variables (BatchNorm statistics included) are restored afterwards, so it leaves as it came.
    """
    from losslab import doctor

    if not getattr(model, "compiled", False):
        raise ValueError(_("compile the model first: the gradient is the gradient of its compiled loss"))
    saved = [np.array(v) for v in model.variables]
    try:
        _loss, grads = doctor.gradients(model, x, y)
    finally:
        for variable, value in zip(model.variables, saved, strict=True):
            variable.assign(value)
    kernels = {}
    for variable, grad in zip(model.trainable_variables, grads, strict=True):
        if len(variable.shape) == 2:  # Dense kernels; biases and normalization scales are 1-D
            kernels[variable.path.rsplit("/", 1)[0].rsplit("/", 1)[-1]] = float(np.linalg.norm(grad))
    return kernels
