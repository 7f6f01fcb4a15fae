"""Plausible wrong answers, fixes that only mask the symptom or fix one cause of two, and correct alternatives for
the debugging exercise (tests/test_grading.py). Four bundles: three of wrong answers, one of correct alternatives."""

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
        name="blames-the-learning-rate-alone",
        why="sees the diverging loss and stops there: a lower rate on the raw readings still misses the target",
        replace={"answer-1": 'answer_1 = "a"'},
        loses=["test-answer-1"],
        bundle="wrong-a",
    ),
    Variant(
        name="lowers-the-rate-only",
        why="fixes one cause of two: a sound learning rate, but the readings keep their scales (0.01 to 10**6)",
        replace={"prepare-inputs": "def prepare_inputs(x_train, x_other):\n    return x_train, x_other"},
        loses=["test-patient-1"],
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
        name="trims-the-labels-to-match",
        why="the classmate's bug kept: the labels are cut at the end, so they drift away from their rows",
        replace={
            "clean-rows": "def clean_rows(x, y):\n"
            "    complete = ~np.isnan(x).any(axis=1)\n"
            "    return x[complete], y[: len(x[complete])]"
        },
        loses=["test-clean-rows"],
        bundle="wrong-a",
    ),
    Variant(
        name="calls-a-sorted-split-overfitting",
        why="reads perfect training and zero validation accuracy as overfitting",
        replace={"diagnosis-a": 'diagnosis_a = "a"'},
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
        loses=["test-patient-1"],
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
        name="blames-the-features",
        why="the diabetes features are already standardized; the target is what runs into the hundreds",
        replace={"answer-2": 'answer_2 = "c"'},
        loses=["test-answer-2"],
        bundle="wrong-b",
    ),
    Variant(
        name="fills-x-but-drops-labels",
        why="fills the gaps in x (every row kept) but drops the incomplete rows' labels: x and y differ in length",
        replace={"clean-rows": "def clean_rows(x, y):\n    return np.nan_to_num(x), y[~np.isnan(x).any(axis=1)]"},
        loses=["test-clean-rows"],
        bundle="wrong-b",
    ),
    Variant(
        name="reads-the-gradients-backwards",
        why="the first layer's gradient is the smallest, not the largest: they vanish towards the input",
        replace={"diagnosis-c": 'diagnosis_c = "b"'},
        loses=["test-diagnosis-c"],
        bundle="wrong-b",
    ),
    # ------------------------------------------------------------------------------ bundle wrong-c
    Variant(
        name="scales-but-keeps-the-rate",
        why="fixes one cause of two: standardized readings, but SGD at 10 still diverges",
        replace={"make-optimizer": "def make_optimizer():\n    return keras.optimizers.SGD(learning_rate=10.0)"},
        loses=["test-patient-1"],
        bundle="wrong-c",
    ),
    Variant(
        name="blames-the-inputs-alone",
        why="standardizing alone leaves SGD at 10 diverging",
        replace={"answer-1": 'answer_1 = "b"'},
        loses=["test-answer-1"],
        bundle="wrong-c",
    ),
    Variant(
        name="lowers-the-threshold",
        why="masks the symptom: a tiny learning rate avoids the NaN, and raising TARGET_MAE makes the "
        "visible test pass; the grader keeps its own target",
        replace={
            "train-regressor": "TARGET_MAE = 500.0  # 'good enough'\n"
            + REGRESSOR.format(optimizer="keras.optimizers.SGD(learning_rate=1e-6)", epochs="epochs", callbacks="")
        },
        loses=["test-train-regressor"],
        bundle="wrong-c",
    ),
    Variant(
        name="calls-misaligned-labels-noise",
        why="the labels are right at the source; the cleaning separates them from their rows",
        replace={"answer-3": 'answer_3 = "b"'},
        loses=["test-answer-3"],
        bundle="wrong-c",
    ),
    Variant(
        name="blames-the-rate-for-a-constant-loss",
        why="a loss identical to six decimals has a zero gradient; no learning rate moves it",
        replace={"diagnosis-b": 'diagnosis_b = "c"'},
        loses=["test-diagnosis-b"],
        bundle="wrong-c",
    ),
    Variant(
        name="credits-rmsprop",
        why="a first loss 20x below ln 2 means the model was trained before experiment 2 started",
        replace={"diagnosis-d": 'diagnosis_d = "a"'},
        loses=["test-diagnosis-d"],
        bundle="wrong-c",
    ),
    # ------------------------------------------------------------------------------ bundle right-a
    Variant(
        name="correct-alternatives",
        why="correct alternatives: letters in capitals with spaces; min-max scaling with training statistics "
        "and Adam; Adam on a standardized target with smaller batches; gaps filled with the column means "
        "(every row kept with its label); case-file letters in capitals and with spaces",
        replace={
            "answer-1": 'answer_1 = " C "',
            "prepare-inputs": "def prepare_inputs(x_train, x_other):\n"
            "    low, high = x_train.min(axis=0), x_train.max(axis=0)\n"
            "    span = np.where(high > low, high - low, 1.0)\n"
            "    return (x_train - low) / span, (x_other - low) / span",
            "make-optimizer": "def make_optimizer():\n    return keras.optimizers.Adam(learning_rate=1e-2)",
            "answer-2": 'answer_2 = "B"',
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
            "answer-3": "answer_3 = 'a'",
            "clean-rows": "def clean_rows(x, y):\n"
            "    column_means = np.nanmean(x, axis=0)\n"
            "    return np.where(np.isnan(x), column_means, x), y",
            "diagnosis-a": 'diagnosis_a = " D "',
            "diagnosis-b": 'diagnosis_b = "A"',
            "diagnosis-c": "diagnosis_c = 'c'",
            "diagnosis-d": 'diagnosis_d = "d "',
        },
        loses=[],
        bundle="right-a",
    ),
]
