"""The course's models, built in one place.

``mlp``: the plain multilayer perceptron every chapter trains (Dense layers, each followed by an optional
BatchNormalization, its activation as a layer of its own, optional Dropout; L2 on the kernels when asked), with
a linear output unless ``output_activation`` says otherwise. The clinic's patients (``losslab.clinic``) and the
training doctor's tests build their networks with it.
"""

from __future__ import annotations

from typing import Any

import keras


def mlp(
    n_inputs: int,
    n_outputs: int,
    hidden: tuple[int, ...] = (64, 64),
    *,
    activation: str = "relu",
    init: Any = "glorot_uniform",
    output_activation: str | None = None,
    dropout: float = 0.0,
    l2: float = 0.0,
    batchnorm: bool = False,
) -> keras.Sequential:
    """A plain MLP: Dense layers (optionally with BatchNorm, Dropout and L2), then `n_outputs` units."""
    regularizer = keras.regularizers.L2(l2) if l2 else None
    layers: list[keras.layers.Layer] = [keras.Input(shape=(n_inputs,))]
    for units in hidden:
        layers.append(keras.layers.Dense(units, kernel_initializer=init, kernel_regularizer=regularizer))
        if batchnorm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Activation(activation))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(n_outputs, activation=output_activation, kernel_initializer=init))
    return keras.Sequential(layers)
