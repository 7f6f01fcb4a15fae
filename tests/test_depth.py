"""losslab.depth: the deep network builder and the per-layer measurements of part 3 of chapter 4."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from losslab import depth


def _data(n: int = 128, features: int = 16, classes: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, features)).astype("float32"), rng.integers(0, classes, n)


def _compiled(**kwargs) -> keras.Sequential:
    keras.utils.set_random_seed(0)
    model = depth.deep_mlp(16, 4, **kwargs)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


@pytest.mark.parametrize(
    "norm, layer",
    [(None, None), ("batch", keras.layers.BatchNormalization), ("layer", keras.layers.LayerNormalization)],
)
def test_deep_mlp_has_depth_dense_layers_with_the_norm_before_each_activation(norm, layer) -> None:
    model = depth.deep_mlp(16, 4, depth=3, width=8, activation="tanh", init="he_normal", norm=norm)
    kinds = [type(x) for x in model.layers]
    assert kinds.count(keras.layers.Dense) == 4  # three hidden and the output
    assert kinds.count(keras.layers.Activation) == 3
    if layer is not None:
        assert kinds.count(layer) == 3
        for i, kind in enumerate(kinds):
            if kind is keras.layers.Activation:
                assert kinds[i - 1] is layer and kinds[i - 2] is keras.layers.Dense
    dense = [x for x in model.layers if isinstance(x, keras.layers.Dense)]
    assert all(type(x.kernel_initializer).__name__ == "HeNormal" for x in dense)
    assert model.output_shape == (None, 4)


def test_deep_mlp_refuses_an_unknown_norm_and_says_which_exist() -> None:
    with pytest.raises(ValueError, match="batch"):
        depth.deep_mlp(16, 4, norm="group")
    with pytest.raises(ValueError, match="at least 1"):
        depth.deep_mlp(16, 4, depth=0)


def test_activation_stds_follow_the_initialisation_through_relu_layers() -> None:
    x, _ = _data()
    spreads = {}
    for label, init in {
        "glorot": "glorot_uniform",
        "he": "he_normal",
        "normal": keras.initializers.RandomNormal(stddev=1.0),
    }.items():
        keras.utils.set_random_seed(0)
        model = depth.deep_mlp(16, 4, depth=8, width=64, activation="relu", init=init)
        stds = depth.activation_stds(model, x)
        assert len(stds) == 8
        spreads[label] = stds[-1] / stds[0]
    # Glorot on ReLU halves the variance per layer; N(0, 1) multiplies the std by about sqrt(64 / 2) per layer.
    assert spreads["glorot"] < 0.25 < spreads["he"] < 4 < spreads["normal"]
    assert spreads["normal"] > (math.sqrt(64 / 2) / 2) ** 7


def test_activations_are_the_outputs_of_the_activation_layers() -> None:
    x, _ = _data(n=8)
    model = depth.deep_mlp(16, 4, depth=2, width=5, activation="sigmoid")
    outputs = depth.activations(model, x)
    assert [h.shape for h in outputs] == [(8, 5), (8, 5)]
    assert all(((h > 0) & (h < 1)).all() for h in outputs)
    expected = keras.ops.convert_to_numpy(keras.Sequential(model.layers[:2])(x))  # Dense, then sigmoid
    np.testing.assert_allclose(outputs[0], expected, rtol=1e-5, atol=1e-6)


def test_activation_stds_needs_activation_layers() -> None:
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activation="relu")])
    with pytest.raises(ValueError, match="deep_mlp"):
        depth.activation_stds(model, np.zeros((2, 3), "float32"))


def test_layer_gradient_norms_vanish_through_sigmoids_and_batchnorm_restores_them() -> None:
    x, y = _data()
    plain = depth.layer_gradient_norms(_compiled(depth=8, activation="sigmoid"), x, y)
    assert list(plain) == [f"dense_{i}" for i in range(1, 9)] + ["output"]
    assert plain["dense_1"] < plain["dense_8"] / 100  # vanishing towards the input
    normed = depth.layer_gradient_norms(_compiled(depth=8, activation="sigmoid", norm="batch"), x, y)
    assert normed["dense_1"] > normed["dense_8"] / 10


def test_layer_gradient_norms_leave_the_model_as_it_came() -> None:
    x, y = _data()
    model = _compiled(depth=2, norm="batch")
    before = [np.array(v) for v in model.variables]
    depth.layer_gradient_norms(model, x, y)
    for old, variable in zip(before, model.variables, strict=True):
        np.testing.assert_array_equal(old, np.array(variable))


def test_layer_gradient_norms_needs_a_compiled_model() -> None:
    x, y = _data()
    with pytest.raises(ValueError, match="compile"):
        depth.layer_gradient_norms(depth.deep_mlp(16, 4, depth=2), x, y)


# ------------------------------------------------------------------- facts chapter 4 states (issue 22)


def test_glorot_assumes_a_unit_slope_which_tanh_has_and_sigmoid_has_not() -> None:
    """Glorot's variance argument holds for an activation with slope 1 at 0: tanh's slope there is 1, sigmoid's
    1/4 (part 3, quiz glorot-he-default and sigmoid-glorot-slope)."""
    h = 1e-3
    x = np.array([-h, h], dtype="float64")
    for name, slope in (("tanh", 1.0), ("sigmoid", 0.25)):
        fx = keras.ops.convert_to_numpy(keras.activations.get(name)(keras.ops.convert_to_tensor(x)))
        assert (fx[1] - fx[0]) / (2 * h) == pytest.approx(slope, rel=1e-4), name


def test_glorot_keeps_tanh_gradients_alive_and_lets_sigmoid_gradients_vanish() -> None:
    """Ten layers with Keras' default Glorot initialization, before training: through tanh the first layer's
    gradient stays within a small factor of the last one's; through sigmoid it is orders of magnitude smaller
    (patient 9 of part 1, section 1 of part 3)."""
    x, y = _data()
    ratios = {}
    for activation in ("tanh", "sigmoid"):
        grads = depth.layer_gradient_norms(_compiled(depth=10, activation=activation), x, y)
        norms = list(grads.values())
        ratios[activation] = norms[0] / norms[-2]  # first hidden layer against the last hidden layer
    assert ratios["tanh"] > 0.1, ratios
    assert ratios["sigmoid"] < 1e-3, ratios


def test_the_normal_initialization_patient_scales_its_logits_by_every_normal_matrix() -> None:
    """Patient 11 (part 2): the model has four N(0, 1) weight matrices (three hidden, the output too), each about
    sqrt(64 / 2) times He's standard deviation, so its logits come out about sqrt(32)**4 ~ 1000 times larger than
    with He's scheme, not sqrt(32)**3 ~ 180 times."""
    from losslab import clinic

    broken, fixed = clinic.bad_initialization(0), clinic.he_initialization(0)
    normal = [w for w in broken.model.trainable_weights if len(w.shape) == 2]
    assert len(normal) == 4
    assert all(
        isinstance(layer.kernel_initializer, keras.initializers.RandomNormal)
        for layer in broken.model.layers
        if isinstance(layer, keras.layers.Dense)
    )
    predicted = math.sqrt(64 / 2) ** len(normal)
    measured = float(np.std(keras.ops.convert_to_numpy(broken.model(broken.x[:256])))) / float(
        np.std(keras.ops.convert_to_numpy(fixed.model(fixed.x[:256])))
    )
    assert predicted / 3 < measured < predicted * 3, (measured, predicted)
    assert measured > 3 * math.sqrt(64 / 2) ** 3  # three layers' factor would be far too small
