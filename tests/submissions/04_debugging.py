"""Plausible wrong answers, fixes that only mask the symptom, and correct alternatives for the debugging
exercise (tests/test_grading.py). Four bundles: three of wrong answers, one of correct alternatives."""

from tests.support import Variant

REGRESSOR = """
def train_regressor(x_train, y_train, epochs):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(x_train.shape[1],)),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer={optimizer}, loss="mse")
    model.fit(x_train, y_train, epochs={epochs}, batch_size=32, verbose=0{callbacks})
    return model, lambda x: ops.convert_to_numpy(model(x)).reshape(-1)
"""

VARIANTS = [
    # ------------------------------------------------------------------------------ bundle wrong-a
    Variant(
        name="blames-the-learning-rate",
        why="names the learning rate for a first loss 80x ln 3, which no learning rate can cause",
        replace={"diagnosis-1": 'diagnosis_1 = "lr_too_high"'},
        loses=["test-diagnosis-1"],
        bundle="wrong-a",
    ),
    Variant(
        name="divides-by-the-largest-wine-value",
        why="hard-codes wine's largest value (1680): the features keep their different scales, and the "
        "unseen dataset is not wine",
        replace={
            "prepare-inputs": ("def prepare_inputs(x_train, x_other):\n    return x_train / 1680, x_other / 1680")
        },
        loses=["test-prepare-inputs"],
        bundle="wrong-a",
    ),
    Variant(
        name="catches-the-nan",
        why="masks the symptom: TerminateOnNaN stops at the NaN and leaves a model that predicts NaN",
        replace={
            "train-regressor": REGRESSOR.format(
                optimizer="keras.optimizers.SGD(learning_rate=0.01)",
                epochs="epochs",
                callbacks=", callbacks=[keras.callbacks.TerminateOnNaN()]",
            )
        },
        loses=["test-train-regressor"],
        bundle="wrong-a",
    ),
    Variant(
        name="clips-adam-at-the-same-rate",
        why="clips the gradient but keeps Adam at 1.0: Adam's steps stay about as large as the learning rate",
        replace={
            "make-optimizer": "def make_optimizer():\n"
            "    return keras.optimizers.Adam(learning_rate=1.0, global_clipnorm=1.0)"
        },
        loses=["test-make-optimizer"],
        bundle="wrong-a",
    ),
    Variant(
        name="calls-a-sorted-split-overfitting",
        why="reads perfect training and zero validation accuracy as overfitting",
        replace={"diagnosis-a": 'diagnosis_a = "overfitting"'},
        loses=["test-diagnosis-a"],
        bundle="wrong-a",
    ),
    # ------------------------------------------------------------------------------ bundle wrong-b
    Variant(
        name="scales-each-split-with-its-own-statistics",
        why="standardizes the validation data with its own mean and spread: information from the unseen data "
        "leaks into the preprocessing (the visible test passes, the hidden one catches it)",
        replace={
            "prepare-inputs": "def prepare_inputs(x_train, x_other):\n"
            "    return ((x_train - x_train.mean(0)) / x_train.std(0),\n"
            "            (x_other - x_other.mean(0)) / x_other.std(0))"
        },
        loses=["test-prepare-inputs"],
        bundle="wrong-b",
    ),
    Variant(
        name="trains-far-longer",
        why="keeps the raw target and makes up with a large rate and five times the epoch budget",
        replace={
            "train-regressor": REGRESSOR.format(
                optimizer="keras.optimizers.Adam(learning_rate=1.0)", epochs="5 * epochs", callbacks=""
            )
        },
        loses=["test-train-regressor"],
        bundle="wrong-b",
    ),
    Variant(
        name="names-the-mechanism",
        why="names exploding gradients, the mechanism, not what makes the gradients explode",
        replace={"diagnosis-2": 'diagnosis_2 = "exploding_gradients"'},
        loses=["test-diagnosis-2"],
        bundle="wrong-b",
    ),
    Variant(
        name="overcorrects-the-learning-rate",
        why="lowers the rate ten thousandfold, to where plain SGD barely moves in the budget",
        replace={"make-optimizer": "def make_optimizer():\n    return keras.optimizers.SGD(learning_rate=1e-4)"},
        loses=["test-make-optimizer"],
        bundle="wrong-b",
    ),
    Variant(
        name="blames-the-initialization",
        why="gradients shrinking layer by layer towards the input vanish; Glorot is Keras' sound default",
        replace={"diagnosis-c": 'diagnosis_c = "bad_initialization"'},
        loses=["test-diagnosis-c"],
        bundle="wrong-b",
    ),
    # ------------------------------------------------------------------------------ bundle wrong-c
    Variant(
        name="lowers-the-threshold",
        why="masks the symptom: a tiny learning rate avoids the NaN, and raising TARGET_MAE makes the "
        "visible "
        "test pass; the grader keeps its own target",
        replace={
            "train-regressor": "TARGET_MAE = 500.0  # 'good enough'\n"
            + REGRESSOR.format(optimizer="keras.optimizers.SGD(learning_rate=1e-6)", epochs="epochs", callbacks="")
        },
        loses=["test-train-regressor"],
        bundle="wrong-c",
    ),
    Variant(
        name="forgets-the-validation-data",
        why="scales the training features but returns the validation features raw",
        replace={
            "prepare-inputs": "def prepare_inputs(x_train, x_other):\n"
            "    mean, std = x_train.mean(0), x_train.std(0)\n"
            "    return (x_train - mean) / std, x_other"
        },
        loses=["test-prepare-inputs"],
        bundle="wrong-c",
    ),
    Variant(
        name="reads-a-collapse-as-a-slow-start",
        why="calls a spike to 226 followed by a loss stuck at ln 10 a learning rate that is too low",
        replace={"diagnosis-3": 'diagnosis_3 = "lr_too_low"'},
        loses=["test-diagnosis-3"],
        bundle="wrong-c",
    ),
    Variant(
        name="blames-the-rate-for-a-constant-loss",
        why="a loss identical to six decimals has a zero gradient; no learning rate moves it",
        replace={"diagnosis-b": 'diagnosis_b = "lr_too_low"'},
        loses=["test-diagnosis-b"],
        bundle="wrong-c",
    ),
    Variant(
        name="calls-a-reused-model-overfitting",
        why="a first loss 20x below ln 2 means the model was trained before experiment 2 started",
        replace={"diagnosis-d": 'diagnosis_d = "overfitting"'},
        loses=["test-diagnosis-d"],
        bundle="wrong-c",
    ),
    # ------------------------------------------------------------------------------ bundle right-a
    Variant(
        name="correct-alternatives",
        why="correct alternatives: causes written as descriptions, in capitals or with hyphens; min-max "
        "scaling "
        "with training statistics; Adam on a standardized target with smaller batches; SGD with momentum",
        replace={
            "diagnosis-1": 'diagnosis_1 = "Input features not scaled"',
            "prepare-inputs": "def prepare_inputs(x_train, x_other):\n"
            "    low, high = x_train.min(axis=0), x_train.max(axis=0)\n"
            "    span = np.where(high > low, high - low, 1.0)\n"
            "    return (x_train - low) / span, (x_other - low) / span",
            "diagnosis-2": 'diagnosis_2 = "TARGET_SCALE"',
            "train-regressor": """
def train_regressor(x_train, y_train, epochs):
    mean, std = float(y_train.mean()), float(y_train.std())
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(x_train.shape[1],)),
                              keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(x_train, (y_train - mean) / std, epochs=epochs, batch_size=16, verbose=0)
    return model, lambda x: np.asarray(model.predict(x, verbose=0)).reshape(-1) * std + mean
""",
            "diagnosis-3": 'diagnosis_3 = "lr-too-high"',
            "make-optimizer": "def make_optimizer():\n"
            "    return keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)",
            "diagnosis-a": 'diagnosis_a = " Unshuffled_Split "',
            "diagnosis-b": 'diagnosis_b = "loss does not depend on the weights"',
            "diagnosis-c": 'diagnosis_c = "vanishing-gradients"',
            "diagnosis-d": 'diagnosis_d = "reused_model"',
        },
        loses=[],
        bundle="right-a",
    ),
]
