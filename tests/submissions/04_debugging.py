"""Plausible wrong answers, fixes that only mask the symptom or fix one cause of two, and correct alternatives for
the debugging exercise, and wrong and correct versions of the learner's own doctor checks (debugging_checks_exercise)
(tests/test_grading.py). Five bundles: three of wrong answers, two of correct alternatives (the checks' alternatives
in their own, so that no submission carries both notebooks' slowest alternatives; patient 4's alternatives are split
between the two). Patients 4 (chapter 4 part 3) and 5 (part 4) add their variants to these bundles, no new one. A
bundle that changes one notebook carries the other notebook's solution (tests/test_grading.py: each notebook is
executed once per role)."""

from tests.support import Variant

EXERCISE, CHECKS = "debugging_exercise.ipynb", "debugging_checks_exercise.ipynb"

REGRESSOR = """
def train_regressor(x_train, y_train, epochs):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(x_train.shape[1],)),
                              keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer={optimizer}, loss="mse")
    model.fit(x_train, y_train, epochs={epochs}, batch_size=32, verbose=0{callbacks})
    return model, lambda x: ops.convert_to_numpy(model(x)).reshape(-1)
"""

FIRST_LAYER_ONLY = """
def build_deep_model(n_inputs, n_outputs):
    small = keras.initializers.RandomNormal(stddev=0.01)
    layers = [keras.Input(shape=(n_inputs,)), keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal")]
    layers += [keras.layers.Dense(64, activation="relu", kernel_initializer=small) for _ in range(9)]
    return keras.Sequential(layers + [keras.layers.Dense(n_outputs, kernel_initializer=small)])
"""

RESIDUAL = """
def build_deep_model(n_inputs, n_outputs):
    small = keras.initializers.RandomNormal(stddev=0.01)
    inputs = keras.Input(shape=(n_inputs,))
    h = keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal")(inputs)
    for _ in range(9):
        h = keras.layers.Add()([h, keras.layers.Dense(64, activation="relu", kernel_initializer=small)(h)])
    return keras.Model(inputs, keras.layers.Dense(n_outputs)(h))
"""

WIDE_L2 = """
def build_regularized_model(n_inputs, n_outputs):
    penalty = keras.regularizers.L2({penalty})
    return keras.Sequential([keras.Input(shape=(n_inputs,)),
                             keras.layers.Dense(256, activation="relu", kernel_regularizer=penalty),
                             keras.layers.Dense(256, activation="relu", kernel_regularizer=penalty),
                             keras.layers.Dense(n_outputs{last})])
"""

VARIANTS = [
    # ------------------------------------------------------------------------------ bundle wrong-a
    Variant(
        name="blames-the-learning-rate-alone",
        why="sees the diverging loss and stops there: a lower rate on the raw readings still misses the target",
        replace={"answer-1": 'answer_1 = "a"'},
        loses=["test-answer-1"],
        bundle="wrong-a",
        notebook=EXERCISE,
    ),
    Variant(
        name="lowers-the-rate-only",
        why="fixes one cause of two: a sound learning rate, but the readings keep their scales (0.01 to 10**6)",
        replace={"prepare-inputs": "def prepare_inputs(x_train, x_other):\n    return x_train, x_other"},
        loses=["test-patient-1"],
        bundle="wrong-a",
        notebook=EXERCISE,
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
        notebook=EXERCISE,
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
        notebook=EXERCISE,
    ),
    Variant(
        name="calls-a-sorted-split-overfitting",
        why="reads perfect training and zero validation accuracy as overfitting",
        replace={"diagnosis-a": 'diagnosis_a = "a"'},
        loses=["test-diagnosis-a"],
        bundle="wrong-a",
        notebook=EXERCISE,
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
        notebook=EXERCISE,
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
        notebook=EXERCISE,
    ),
    Variant(
        name="blames-the-features",
        why="the diabetes features are already standardized; the target is what runs into the hundreds",
        replace={"answer-2": 'answer_2 = "c"'},
        loses=["test-answer-2"],
        bundle="wrong-b",
        notebook=EXERCISE,
    ),
    Variant(
        name="fills-x-but-drops-labels",
        why="fills the gaps in x (every row kept) but drops the incomplete rows' labels: x and y differ in length",
        replace={"clean-rows": "def clean_rows(x, y):\n    return np.nan_to_num(x), y[~np.isnan(x).any(axis=1)]"},
        loses=["test-clean-rows"],
        bundle="wrong-b",
        notebook=EXERCISE,
    ),
    Variant(
        name="reads-the-gradients-backwards",
        why="the first layer's gradient is the smallest, not the largest: they vanish towards the input",
        replace={"diagnosis-c": 'diagnosis_c = "b"'},
        loses=["test-diagnosis-c"],
        bundle="wrong-b",
        notebook=EXERCISE,
    ),
    # ------------------------------------------------------------------------------ bundle wrong-c
    Variant(
        name="scales-but-keeps-the-rate",
        why="fixes one cause of two: standardized readings, but SGD at 10 still diverges",
        replace={"make-optimizer": "def make_optimizer():\n    return keras.optimizers.SGD(learning_rate=10.0)"},
        loses=["test-patient-1"],
        bundle="wrong-c",
        notebook=EXERCISE,
    ),
    Variant(
        name="blames-the-inputs-alone",
        why="standardizing alone leaves SGD at 10 diverging",
        replace={"answer-1": 'answer_1 = "b"'},
        loses=["test-answer-1"],
        bundle="wrong-c",
        notebook=EXERCISE,
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
        notebook=EXERCISE,
    ),
    Variant(
        name="calls-misaligned-labels-noise",
        why="the labels are right at the source; the cleaning separates them from their rows",
        replace={"answer-3": 'answer_3 = "b"'},
        loses=["test-answer-3"],
        bundle="wrong-c",
        notebook=EXERCISE,
    ),
    Variant(
        name="blames-the-rate-for-a-constant-loss",
        why="a loss identical to six decimals has a zero gradient; no learning rate moves it",
        replace={"diagnosis-b": 'diagnosis_b = "c"'},
        loses=["test-diagnosis-b"],
        bundle="wrong-c",
        notebook=EXERCISE,
    ),
    Variant(
        name="credits-rmsprop",
        why="a first loss 20x below ln 2 means the model was trained before experiment 2 started",
        replace={"diagnosis-d": 'diagnosis_d = "a"'},
        loses=["test-diagnosis-d"],
        bundle="wrong-c",
        notebook=EXERCISE,
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
        notebook=EXERCISE,
    ),
    # ------------------------------------------------------- patient 4 (chapter 4 part 3), across the bundles
    Variant(
        name="he-for-the-first-layer-only",
        why="gives the first layer He's initialization and leaves the nine others at N(0, 0.01): the signal still "
        "shrinks through them",
        replace={"build-deep-model": FIRST_LAYER_ONLY},
        loses=["test-build-deep-model"],
        bundle="wrong-a",
        notebook=EXERCISE,
    ),
    Variant(
        name="blames-dying-relu",
        why="the units are not dead: their inputs are tiny, not negative, and the spread shrinks at every layer",
        replace={"answer-4": 'answer_4 = "c"'},
        loses=["test-answer-4"],
        bundle="wrong-a",
        notebook=EXERCISE,
    ),
    Variant(
        name="removes-the-depth",
        why="cures the deep network by making it shallow: it trains, but the patient's ten layers are gone",
        replace={
            "build-deep-model": "def build_deep_model(n_inputs, n_outputs):\n"
            '    return depth.deep_mlp(n_inputs, n_outputs, depth=2, activation="relu", init="he_normal")'
        },
        loses=["test-build-deep-model"],
        bundle="wrong-b",
        notebook=EXERCISE,
    ),
    Variant(
        name="blames-the-rate-for-a-deep-network",
        why="Adam's rate is not what keeps the loss at ln 10: the signal has shrunk away before the last layers",
        replace={"answer-4": 'answer_4 = "a"'},
        loses=["test-answer-4"],
        bundle="wrong-b",
        notebook=EXERCISE,
    ),
    Variant(
        name="swaps-relu-for-leaky-relu",
        why="takes the symptom for dying ReLU units and swaps the activation, keeping the N(0, 0.01) weights: the "
        "signal shrinks as before",
        replace={
            "build-deep-model": "def build_deep_model(n_inputs, n_outputs):\n"
            '    return depth.deep_mlp(n_inputs, n_outputs, depth=10, activation="leaky_relu",\n'
            "                          init=keras.initializers.RandomNormal(stddev=0.01))"
        },
        loses=["test-build-deep-model"],
        bundle="wrong-c",
        notebook=EXERCISE,
    ),
    Variant(
        name="keras-default-initialization",
        why="correct alternative: the classmate's N(0, 0.01) removed, so Dense's Glorot default keeps the signal "
        "alive through ten ReLU layers (it shrinks a little at each, far less than with N(0, 0.01)); the letter in "
        "capitals",
        replace={
            "answer-4": 'answer_4 = " B"',
            "build-deep-model": "def build_deep_model(n_inputs, n_outputs):\n"
            '    return depth.deep_mlp(n_inputs, n_outputs, depth=10, activation="relu")',
        },
        loses=[],
        bundle="right-a",
        notebook=EXERCISE,
    ),
    Variant(
        name="residual-connections",
        why="correct alternative: residual connections around the nine N(0, 0.01) layers (a He first layer maps "
        "the inputs to 64 units), so the signal passes through the sums",
        replace={"build-deep-model": RESIDUAL},
        loses=[],
        bundle="right-b",
        notebook=EXERCISE,
    ),
    Variant(
        name="glorot-too-large-for-relu",
        why="Glorot's weights are too small for ReLU, not too large: the spread shrinks, it does not explode",
        replace={"diagnosis-e": 'diagnosis_e = "d"'},
        loses=["test-diagnosis-e"],
        bundle="wrong-b",
        notebook=EXERCISE,
    ),
    Variant(
        name="blames-the-last-batch",
        why="the gap between the two numbers is the L2 penalty Keras adds to the reported loss",
        replace={"diagnosis-f": 'diagnosis_f = "b"'},
        loses=["test-diagnosis-f"],
        bundle="wrong-a",
        notebook=EXERCISE,
    ),
    Variant(
        name="depth-and-penalty-alternatives",
        why="correct letters for cases E and F, in capitals and with spaces",
        replace={"diagnosis-e": 'diagnosis_e = " A"', "diagnosis-f": "diagnosis_f = 'D '"},
        loses=[],
        bundle="right-a",
        notebook=EXERCISE,
    ),
    # ------------------------------------------------------- patient 5 (chapter 4 part 4), across the bundles
    Variant(
        name="leaves-the-wide-network-unregularized",
        why="hands the patient back unchanged: its validation loss is the control's, not below it",
        replace={
            "build-regularized-model": "def build_regularized_model(n_inputs, n_outputs):\n"
            "    return patient_5_model(n_inputs, n_outputs)"
        },
        loses=["test-build-regularized-model"],
        bundle="wrong-a",
        notebook=EXERCISE,
    ),
    Variant(
        name="blames-the-rate-for-overfitting",
        why="the training loss falls smoothly to near 0: the steps do not overshoot, the network memorizes",
        replace={"answer-5": 'answer_5 = "b"'},
        loses=["test-answer-5"],
        bundle="wrong-a",
        notebook=EXERCISE,
    ),
    Variant(
        name="l2-too-weak-to-act",
        why="an L2 penalty of 1e-9 is there in name only: the weights grow as the patient's do",
        replace={"build-regularized-model": WIDE_L2.format(penalty="1e-9", last="")},
        loses=["test-build-regularized-model"],
        bundle="wrong-b",
        notebook=EXERCISE,
    ),
    Variant(
        name="blames-a-too-small-network",
        why="a network too small would keep its training loss high; this one drives it to near 0",
        replace={"answer-5": 'answer_5 = "a"'},
        loses=["test-answer-5"],
        bundle="wrong-b",
        notebook=EXERCISE,
    ),
    Variant(
        name="shrinks-the-wide-network",
        why="cures the overfitting by removing the patient's capacity (one layer of 16 units): the exercise asks for "
        "the network regularized, and the prompt says a smaller one is refused",
        replace={
            "build-regularized-model": "def build_regularized_model(n_inputs, n_outputs):\n"
            "    return keras.Sequential([keras.Input(shape=(n_inputs,)), keras.layers.Dense(16, activation='relu'),\n"
            "                             keras.layers.Dense(n_outputs)])"
        },
        loses=["test-build-regularized-model"],
        bundle="wrong-c",
        notebook=EXERCISE,
    ),
    Variant(
        name="l2-on-every-layer",
        why="correct alternative: the L2 penalty of 1e-2 on the output layer's kernel too; the letter in capitals",
        replace={
            "answer-5": 'answer_5 = " C"',
            "build-regularized-model": WIDE_L2.format(
                penalty="1e-2", last=", kernel_regularizer=keras.regularizers.L2(1e-2)"
            ),
        },
        loses=[],
        bundle="right-a",
        notebook=EXERCISE,
    ),
    Variant(
        name="l2-through-the-course-mlp",
        why="correct alternative: losslab.models.mlp with l2=1e-2 (Dense and Activation as separate layers)",
        replace={
            "build-regularized-model": "from losslab.models import mlp\n\n\n"
            "def build_regularized_model(n_inputs, n_outputs):\n"
            "    return mlp(n_inputs, n_outputs, (256, 256), l2=1e-2)"
        },
        loses=[],
        bundle="right-b",
        notebook=EXERCISE,
    ),
    # ---------------------------------------------------------- the doctor-checks exercise (debugging_checks_exercise)
    Variant(
        name="divides-by-k",
        why="divides the first loss by K instead of ln K",
        replace={
            "first-loss-ratio": "def first_loss_ratio(model, x, y):\n"
            "    return model.evaluate(x, y, verbose=0) / model.output_shape[-1]"
        },
        loses=["test-first-loss-ratio"],
        bundle="wrong-a",
        notebook=CHECKS,
    ),
    Variant(
        name="trains-on-everything",
        why="trains on all the data for `steps` epochs instead of one batch `steps` times",
        replace={
            "overfit-one-batch": "def overfit_one_batch(model, x, y, steps):\n"
            "    model.fit(x, y, epochs=2, batch_size=32, verbose=0)\n"
            "    return model.evaluate(x[:32], y[:32], verbose=0)"
        },
        loses=["test-overfit-one-batch"],
        bundle="wrong-a",
        notebook=CHECKS,
    ),
    Variant(
        name="norms-with-the-biases",
        why="returns a norm for every variable, the bias vectors included",
        replace={
            "gradient-norms": "def gradient_norms(model, x, y):\n"
            "    _, grads = doctor.gradients(model, x, y)\n"
            "    return [float(np.linalg.norm(g)) for g in grads]"
        },
        loses=["test-gradient-norms"],
        bundle="wrong-a",
        notebook=CHECKS,
    ),
    Variant(
        name="blames-vanishing",
        why="the first layer's gradient is the largest of the patient's, not the smallest",
        replace={"answer-checks": 'answer_checks = "a"'},
        loses=["test-answer-checks"],
        bundle="wrong-a",
        notebook=CHECKS,
    ),
    Variant(
        name="counts-the-classes-in-y",
        why="takes K from the labels present (np.unique(y)) rather than from the model's outputs: wrong when the "
        "labels leave a class out (the visible test passes)",
        replace={
            "first-loss-ratio": "def first_loss_ratio(model, x, y):\n"
            "    return model.evaluate(x, y, verbose=0) / math.log(len(np.unique(y)))"
        },
        loses=["test-first-loss-ratio"],
        bundle="wrong-b",
        notebook=CHECKS,
    ),
    Variant(
        name="returns-the-first-batch-loss",
        why="trains the batch but returns its loss from before the training",
        replace={
            "overfit-one-batch": "def overfit_one_batch(model, x, y, steps):\n"
            "    first = model.evaluate(x[:32], y[:32], verbose=0)\n"
            "    for _ in range(steps):\n"
            "        model.train_on_batch(x[:32], y[:32])\n"
            "    return first"
        },
        loses=["test-overfit-one-batch"],
        bundle="wrong-b",
        notebook=CHECKS,
    ),
    Variant(
        name="norms-of-the-weights",
        why="measures the weight matrices themselves, not their gradients",
        replace={
            "gradient-norms": "def gradient_norms(model, x, y):\n"
            "    return [float(np.linalg.norm(w)) for w in model.get_weights() if w.ndim == 2]"
        },
        loses=["test-gradient-norms"],
        bundle="wrong-b",
        notebook=CHECKS,
    ),
    Variant(
        name="trains-before-measuring",
        why="fits one epoch before measuring the first loss: the check must not train the model",
        replace={
            "first-loss-ratio": "def first_loss_ratio(model, x, y):\n"
            "    model.fit(x, y, epochs=1, verbose=0)\n"
            "    return model.evaluate(x, y, verbose=0) / math.log(model.output_shape[-1])"
        },
        loses=["test-first-loss-ratio"],
        bundle="wrong-c",
        may_lose=["test-overfit-one-batch", "test-gradient-norms", "test-answer-checks"],
        notebook=CHECKS,
    ),
    Variant(
        name="memorizes-another-batch",
        why="trains on the last 32 examples and reports their loss: the check is about the first 32",
        replace={
            "overfit-one-batch": "def overfit_one_batch(model, x, y, steps):\n"
            "    for _ in range(steps):\n"
            "        model.train_on_batch(x[-32:], y[-32:])\n"
            "    return model.evaluate(x[-32:], y[-32:], verbose=0)"
        },
        loses=["test-overfit-one-batch"],
        bundle="wrong-c",
        notebook=CHECKS,
    ),
    Variant(
        name="checks-alternatives",
        why="correct alternatives: the loss computed from the logits with keras.losses; one epoch of fit over the "
        "32 examples repeated `steps` times, unshuffled; the gradient norms from sqrt(sum(g**2)) over the kernels "
        "picked by their path; the letter in capitals",
        replace={
            "first-loss-ratio": "def first_loss_ratio(model, x, y):\n"
            "    logits = model.predict(x, verbose=0)\n"
            "    per_example = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)\n"
            "    return float(np.mean(keras.ops.convert_to_numpy(per_example))) / np.log(logits.shape[-1])",
            "overfit-one-batch": "def overfit_one_batch(model, x, y, steps):\n"
            "    x_rep, y_rep = np.tile(x[:32], (steps, 1)), np.tile(y[:32], steps)  # the batch, steps times\n"
            "    model.fit(x_rep, y_rep, epochs=1, batch_size=32, shuffle=False, verbose=0)\n"
            "    return float(model.evaluate(x[:32], y[:32], verbose=0))",
            "gradient-norms": "def gradient_norms(model, x, y):\n"
            "    _, grads = doctor.gradients(model, x, y)\n"
            "    return [float(np.sqrt(np.sum(np.square(g)))) for v, g in zip(model.trainable_variables, grads)\n"
            "            if v.path.endswith('kernel')]",
            "answer-checks": 'answer_checks = " B "',
        },
        loses=[],
        bundle="right-b",
        notebook=CHECKS,
    ),
]
