"""Plausible wrong answers, and correct alternatives, for the warm-up exercise (tests/test_grading.py)."""

from tests.support import Variant

VARIANTS = [
    Variant(
        name="log10",
        why="uses the base-10 logarithm: log10(10) = 1, not ln 10",
        replace={"expected-initial-loss": "def expected_initial_loss(n_classes):\n    return math.log10(n_classes)"},
        loses=["test-expected-initial-loss"],
        bundle="wrong-a",
    ),
    Variant(
        name="hard-coded-ten-classes",
        why="returns ln 10 whatever the number of classes: passes the visible test only",
        replace={"expected-initial-loss": "def expected_initial_loss(n_classes):\n    return 2.302585"},
        loses=["test-expected-initial-loss"],
        bundle="wrong-b",
    ),
    Variant(
        name="hard-coded-iris-shapes",
        why="ignores its arguments and always builds a 4-feature, 3-class model: the unseen dataset fails",
        replace={
            "build-model": """
def build_model(n_features, n_classes):
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    return model
"""
        },
        loses=["test-build-model-trains"],
        bundle="wrong-a",
    ),
    Variant(
        name="sigmoid-mse",
        why="one sigmoid unit trained with mse on class numbers: one output, not one per class",
        replace={
            "build-model": """
def build_model(n_features, n_classes):
    model = keras.Sequential([keras.Input(shape=(n_features,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="mse")
    return model
"""
        },
        loses=["test-build-model-shape", "test-build-model-trains"],
        bundle="wrong-b",
    ),
    Variant(
        name="not-compiled",
        why="returns the model without compiling it",
        replace={
            "build-model": """
def build_model(n_features, n_classes):
    return keras.Sequential([keras.Input(shape=(n_features,)), keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(n_classes, activation="softmax")])
"""
        },
        loses=["test-build-model-shape", "test-build-model-trains"],
        bundle="wrong-c",
    ),
    Variant(
        name="wrong-diagnosis",
        why="blames the learning rate, which cannot change the loss before the first update",
        replace={"first-loss-diagnosis": 'first_loss_diagnosis = "c"'},
        loses=["test-first-loss-diagnosis"],
        bundle="wrong-c",
    ),
    Variant(
        name="logits-and-object-loss",
        why="correct alternative: a linear output with SparseCategoricalCrossentropy(from_logits=True), "
        "ln via numpy, and an upper-case letter",
        replace={
            "expected-initial-loss": "def expected_initial_loss(n_classes):\n    return float(np.log(n_classes))",
            "build-model": """
def build_model(n_features, n_classes):
    model = keras.Sequential([keras.Input(shape=(n_features,)), keras.layers.Dense(24, activation="relu"),
                              keras.layers.Dense(n_classes)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model
""",
            "first-loss-diagnosis": 'first_loss_diagnosis = "A"',
        },
        loses=[],
        bundle="right-a",
    ),
]
