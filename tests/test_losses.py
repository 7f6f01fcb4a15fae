"""losslab.losses: loss names, label formats, the label/activation/units checks, Keras' shape errors
explained, and the chapter's figures."""

from __future__ import annotations

import functools

import keras
import matplotlib
import numpy as np
import pytest

from losslab import losses

matplotlib.use("Agg")

DIGIT_LABELS = np.array([3, 9, 1, 0, 4, 7, 2, 8, 5, 6, 3, 3])
ONE_HOT = np.eye(10, dtype="float32")[DIGIT_LABELS]
BINARY = np.array([0, 1, 1, 0, 1, 0])
TARGETS = np.array([151.0, 75.0, 141.0, 206.0, 135.0, 97.0, 138.0, 63.0, 110.0, 310.0, 101.0, 69.5], "float32")


# ------------------------------------------------------------------------------------------ loss names


@pytest.mark.parametrize(
    "loss, name",
    [
        ("mse", "mean_squared_error"),
        ("MSE", "mean_squared_error"),
        ("mean_squared_error", "mean_squared_error"),
        ("MeanSquaredError", "mean_squared_error"),
        (keras.losses.MeanSquaredError, "mean_squared_error"),
        (keras.losses.MeanSquaredError(), "mean_squared_error"),
        (keras.losses.mean_squared_error, "mean_squared_error"),
        ("mae", "mean_absolute_error"),
        (keras.losses.MeanAbsoluteError(), "mean_absolute_error"),
        ("huber", "huber"),
        ("huber_loss", "huber"),
        (keras.losses.Huber(delta=2.0), "huber"),
        ("sparse_categorical_crossentropy", "sparse_categorical_crossentropy"),
        (keras.losses.SparseCategoricalCrossentropy(from_logits=True), "sparse_categorical_crossentropy"),
        (keras.losses.sparse_categorical_crossentropy, "sparse_categorical_crossentropy"),
        ("categorical_crossentropy", "categorical_crossentropy"),
        (keras.losses.CategoricalCrossentropy, "categorical_crossentropy"),
        ("binary_crossentropy", "binary_crossentropy"),
        ("bce", "binary_crossentropy"),
        (keras.losses.binary_crossentropy, "binary_crossentropy"),
        (functools.partial(keras.losses.huber, delta=3.0), "huber"),
    ],
)
def test_every_spelling_of_a_loss_gets_one_name(loss, name) -> None:
    assert losses.canonical_loss_name(loss) == name
    assert losses.describe_loss(loss).keras


def test_settings_are_read_from_objects_partials_and_defaults() -> None:
    assert losses.describe_loss(keras.losses.SparseCategoricalCrossentropy(from_logits=True)).from_logits
    assert not losses.describe_loss("sparse_categorical_crossentropy").from_logits
    assert not losses.describe_loss(keras.losses.binary_crossentropy).from_logits
    assert losses.describe_loss(keras.losses.Huber(delta=2.5)).options["delta"] == 2.5
    assert losses.describe_loss(functools.partial(keras.losses.huber, delta=0.5)).options["delta"] == 0.5
    assert losses.describe_loss("huber").options["delta"] == 1.0
    spec = losses.describe_loss(keras.losses.CategoricalCrossentropy(from_logits=True))
    assert str(spec) == "categorical_crossentropy(from_logits=True)" and spec.is_classification
    assert losses.describe_loss("mse").short == "mse" and losses.describe_loss("mse").is_regression


def test_unknown_losses() -> None:
    with pytest.raises(ValueError, match="does not know a loss called 'cross_entropy'"):
        losses.describe_loss("cross_entropy")
    with pytest.raises(ValueError, match="should be a string"):
        losses.describe_loss(3)

    def my_loss(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred))

    spec = losses.describe_loss(my_loss)
    assert spec.name == "my_loss" and not spec.keras
    assert losses.describe_loss("crossentropy").name == "crossentropy"  # Keras resolves it from the labels


@pytest.mark.parametrize(
    "loss", ["mse", keras.losses.MeanSquaredError, keras.losses.mean_squared_error, keras.losses.MeanSquaredError()]
)
def test_loss_callable_behaves_like_compile(loss) -> None:
    y = np.array([1.0, 2.0, 3.0], "float32")
    pred = np.array([[1.5], [2.0], [1.0]], "float32")  # (n, 1) predictions against (n,) labels, as in a model
    value = float(losses.loss_callable(loss)(y, pred))
    assert value == pytest.approx((0.25 + 0 + 4) / 3, rel=1e-6)


def test_loss_callable_refuses_the_crossentropy_shortcut() -> None:
    with pytest.raises(ValueError, match="name the loss explicitly"):
        losses.loss_callable("crossentropy")


# ------------------------------------------------------------------------------------------ labels


@pytest.mark.parametrize(
    "y, kind, classes",
    [
        (DIGIT_LABELS, "integer", 10),
        (DIGIT_LABELS.reshape(-1, 1), "integer", 10),
        (DIGIT_LABELS.astype("float32"), "integer", 10),
        (ONE_HOT, "one-hot", 10),
        (BINARY, "binary", 2),
        (BINARY.astype(bool), "binary", 2),
        (TARGETS, "continuous", None),
        (np.array([[0.2, 0.8], [0.5, 0.5]]), "soft", 2),
        (np.array([[1, 0, 1], [0, 1, 1]]), "multi-label", 3),
        (np.array([-1, 0, 1, 2]), "continuous", None),
    ],
)
def test_label_format(y, kind, classes) -> None:
    fmt = losses.label_format(y)
    assert (fmt.kind, fmt.n_classes) == (kind, classes)
    assert str(fmt)


def test_label_format_of_real_datasets() -> None:
    from losslab import data

    assert losses.label_format(data.diabetes().y_train).kind == "continuous"  # whole numbers 25-346: a target
    assert losses.label_format(data.digits().y_train).n_classes == 10
    assert losses.label_format(data.breast_cancer().y_train).kind == "binary"


@pytest.mark.parametrize(
    "y, problem",
    [
        (np.array(["cat", "dog"]), "LabelEncoder"),
        (np.array([0.0, np.nan]), "NaN"),
        (np.array([]), "empty"),
    ],
)
def test_label_format_rejects_what_no_loss_can_read(y, problem) -> None:
    with pytest.raises(ValueError, match=problem):
        losses.label_format(y)


@pytest.mark.parametrize(
    "y, loss, units, activation",
    [
        (DIGIT_LABELS, "sparse_categorical_crossentropy", 10, "softmax"),
        (ONE_HOT, "categorical_crossentropy", 10, "softmax"),
        (BINARY, "binary_crossentropy", 1, "sigmoid"),
        (np.array([[1, 0, 1], [0, 1, 1]]), "binary_crossentropy", 3, "sigmoid"),
        (TARGETS, "mean_squared_error", 1, "linear"),
    ],
)
def test_suggest_loss_is_the_course_table(y, loss, units, activation) -> None:
    advice = losses.suggest_loss(y)
    assert (advice.loss, advice.units, advice.activation) == (loss, units, activation)
    assert advice.ok and advice.reason and "no problems found" in advice.text


# ------------------------------------------------------------------------------------------ checks


@pytest.mark.parametrize(
    "activation, loss, fragment",
    [
        ("softmax", "sparse_categorical_crossentropy", None),
        (None, keras.losses.SparseCategoricalCrossentropy(from_logits=True), None),
        ("linear", keras.losses.BinaryCrossentropy(from_logits=True), None),
        ("sigmoid", "binary_crossentropy", None),
        (None, "sparse_categorical_crossentropy", "without an error and learns badly"),
        ("linear", "binary_crossentropy", "from_logits=True"),
        ("softmax", keras.losses.SparseCategoricalCrossentropy(from_logits=True), "applies it again"),
        ("sigmoid", keras.losses.BinaryCrossentropy(from_logits=True), "applies it again"),
        ("relu", "sparse_categorical_crossentropy", "expects softmax"),
        (None, "mse", None),
        ("relu", "mse", "nothing below 0"),
        (keras.activations.sigmoid, "mae", "between 0 and 1"),
    ],
)
def test_activation_versus_loss(activation, loss, fragment) -> None:
    problems = losses.check_activation_vs_loss(activation, loss)
    if fragment is None:
        assert problems == []
    else:
        assert len(problems) == 1 and fragment in problems[0]


@pytest.mark.parametrize(
    "y, loss, fragment",
    [
        (DIGIT_LABELS, "sparse_categorical_crossentropy", None),
        (ONE_HOT, "categorical_crossentropy", None),
        (BINARY, "binary_crossentropy", None),
        (BINARY, "sparse_categorical_crossentropy", None),
        (TARGETS, "huber", None),
        (DIGIT_LABELS, "categorical_crossentropy", "Use sparse_categorical_crossentropy"),
        (ONE_HOT, "sparse_categorical_crossentropy", "Use categorical_crossentropy"),
        (DIGIT_LABELS, "binary_crossentropy", "more than two classes"),
        (TARGETS, keras.losses.BinaryCrossentropy(), "regression loss"),
        (DIGIT_LABELS, "mse", "use sparse_categorical_crossentropy"),
    ],
)
def test_labels_versus_loss(y, loss, fragment) -> None:
    problems = losses.check_labels_vs_loss(y, loss)
    assert problems == [] if fragment is None else (len(problems) == 1 and fragment in problems[0])


@pytest.mark.parametrize(
    "y, units, activation, loss, fragment",
    [
        (DIGIT_LABELS, 10, "softmax", None, None),
        (DIGIT_LABELS, 5, "softmax", None, "at least 10 units"),
        (ONE_HOT, 4, "softmax", None, "10 columns"),
        (BINARY, 1, "softmax", "binary_crossentropy", "always outputs 1.0"),
        (BINARY, 2, "softmax", "sparse_categorical_crossentropy", None),
        (BINARY, 2, "sigmoid", "binary_crossentropy", "single sigmoid unit"),
        (DIGIT_LABELS, 10, "sigmoid", "sparse_categorical_crossentropy", "use softmax"),
    ],
)
def test_units(y, units, activation, loss, fragment) -> None:
    problems = losses.check_units(y, units, activation, loss)
    assert problems == [] if fragment is None else any(fragment in p for p in problems)


def _model(*layers):
    return keras.Sequential([keras.Input((4,)), *layers])


def test_output_layer_reads_dense_and_separate_activation_layers() -> None:
    assert losses.output_layer(_model(keras.layers.Dense(10, activation="softmax"))) == (10, "softmax")
    assert losses.output_layer(_model(keras.layers.Dense(3))) == (3, "linear")
    separate = _model(keras.layers.Dense(5), keras.layers.Activation("sigmoid"))
    assert losses.output_layer(separate) == (5, "sigmoid")
    assert losses.output_layer(_model(keras.layers.Dense(7), keras.layers.Softmax())) == (7, "softmax")


def test_explain_combines_the_checks_for_a_compiled_model() -> None:
    model = _model(keras.layers.Dense(10))
    model.compile(loss="categorical_crossentropy")
    advice = losses.explain(DIGIT_LABELS, model)
    assert advice.loss == "sparse_categorical_crossentropy" and not advice.ok
    text = advice.text
    assert "expects one-hot rows" in text and "from_logits=True" in text
    good = _model(keras.layers.Dense(10, activation="softmax"))
    good.compile(loss="sparse_categorical_crossentropy")
    assert losses.explain(DIGIT_LABELS, good).ok
    assert losses.explain(DIGIT_LABELS, loss="mse").problems  # a loss without a model


# ------------------------------------------------------------------------------------------ errors


def _keras_error(labels, loss):
    keras.utils.set_random_seed(0)
    model = _model(keras.layers.Dense(10, activation="softmax"))
    model.compile(optimizer="sgd", loss=loss)
    x = np.random.default_rng(0).normal(size=(len(labels), 4)).astype("float32")
    with pytest.raises(Exception) as info:  # whatever the backend raises
        model.fit(x, labels, epochs=1, verbose=0)
    return info.value, model


def test_explain_error_names_the_right_loss_for_keras_real_errors() -> None:
    error, model = _keras_error(DIGIT_LABELS, "categorical_crossentropy")
    assert losses.is_label_shape_error(error)
    message = losses.explain_error(error, y=DIGIT_LABELS, model=model)
    assert "Keras said:" in message and "use sparse_categorical_crossentropy" in message
    error, model = _keras_error(ONE_HOT, "sparse_categorical_crossentropy")
    message = losses.explain_error(error, y=ONE_HOT, model=model)
    assert "use categorical_crossentropy" in message


@pytest.mark.parametrize(
    "text",
    [
        # TensorFlow
        "Arguments `target` and `output` must have the same rank (ndim). Received: target.shape=(None,), "
        "output.shape=(None, 10)",
        "Argument `output` must have rank (ndim) `target.ndim - 1`. Received: target.shape=(None, 10), "
        "output.shape=(None, 10)",
        "{{function_node __wrapped__Sub_device_/job:localhost/replica:0/task:0/device:CPU:0}} "
        "Incompatible shapes: [32] vs. [32,10] [Op:Sub] name:",
        # JAX
        "Arguments `target` and `output` must have the same shape. Received: target.shape=(32,), output.shape=(32, 10)",
        "Arguments `target` and `output` must have the same shape up until the last dimension: "
        "target.shape=(32, 10), output.shape=(32, 10)",
        "Incompatible shapes for broadcasting: shapes=[(32,), (32, 10)]",
    ],
)
def test_shape_errors_of_every_backend_are_recognised(text) -> None:
    error = ValueError(text)
    assert losses.is_label_shape_error(error)
    message = losses.explain_error(error, y=DIGIT_LABELS, loss="categorical_crossentropy")
    assert "function_node" not in message and "use sparse_categorical_crossentropy" in message


def test_other_errors_are_not_blamed_on_labels() -> None:
    message = losses.explain_error(TypeError("unsupported operand"), y=DIGIT_LABELS)
    assert message.startswith("This error does not look like") and "unsupported operand" in message
    assert "explain_error(error, y=" in losses.explain_error(ValueError("must have the same rank"))


def test_explained_reraises_with_the_explanation() -> None:
    error, model = _keras_error(DIGIT_LABELS, "categorical_crossentropy")
    with pytest.raises(losses.LabelFormatError, match="use sparse_categorical_crossentropy") as info:
        with losses.explained(DIGIT_LABELS, model):
            raise error
    assert info.value.__cause__ is error
    with pytest.raises(KeyError):
        with losses.explained(DIGIT_LABELS, model):
            raise KeyError("not a shape problem")


# ------------------------------------------------------------------------------------------ data, figures


def test_with_outliers_moves_a_fraction_and_leaves_the_input_alone() -> None:
    y = np.linspace(-1, 1, 200).astype("float32")
    moved, index = losses.with_outliers(y, fraction=0.05, size=15.0, seed=3)
    assert len(index) == 10 and set(np.abs(moved[index]).tolist()) == {15.0}
    untouched = np.setdiff1d(np.arange(200), index)
    assert np.array_equal(moved[untouched], y[untouched]) and np.abs(y).max() == 1.0
    again, index_again = losses.with_outliers(y, fraction=0.05, size=15.0, seed=3)
    assert np.array_equal(again, moved) and np.array_equal(index, index_again)


def test_figures_have_titles_labels_and_data() -> None:
    ax = losses.plot_lines(
        [0, 1, 2],
        {"a": [0, 1, 4], "b": [0, 1, 2]},
        title="T",
        xlabel="x (u)",
        ylabel="y (v)",
        vlines={"delta": 1.0},
        log_y=False,
        ylim=(0, 5),
    )
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("T", "x (u)", "y (v)")
    assert len(ax.get_lines()) == 3  # two curves and the marker line
    ax = losses.plot_probabilities([0.1, 0.9, 0.6], [0, 1, 0], title="P", class_names=("no", "yes"))
    assert ax.get_title() == "P" and "yes" in ax.get_xlabel() and ax.get_ylabel() == "number of examples"
    import matplotlib.pyplot as plt

    plt.close("all")
