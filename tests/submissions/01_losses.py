"""Plausible wrong answers, and correct alternatives, for chapter 1's exercise (tests/test_grading.py).

Four bundles, one graded submission each; the variants in a bundle change different cells and cannot affect
each other's tests (a task's test reads only its own variable, the trainings read only their own function).
"""

from tests.support import Variant

BCE_NO_CLIP = """
def binary_crossentropy(y_true, y_pred):
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    return -ops.mean(y_true * ops.log(y_pred) + (1 - y_true) * ops.log(1 - y_pred))
"""

BCE_SUM = """
def binary_crossentropy(y_true, y_pred):
    epsilon = keras.config.epsilon()
    y_true = ops.cast(y_true, "float32")
    p = ops.clip(ops.cast(y_pred, "float32"), epsilon, 1 - epsilon)
    return -ops.sum(y_true * ops.log(p) + (1 - y_true) * ops.log(1 - p))
"""

BCE_NUMPY = """
def binary_crossentropy(y_true, y_pred):
    p = np.clip(np.asarray(y_pred, dtype="float32"), 1e-7, 1 - 1e-7)
    y = np.asarray(y_true, dtype="float32")
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
"""

HUBER_IGNORES_DELTA = """
def huber(y_true, y_pred, delta=1.0):
    error = ops.abs(ops.cast(y_pred, "float32") - ops.cast(y_true, "float32"))
    return ops.mean(ops.where(error <= 1.0, 0.5 * ops.square(error), error - 0.5))
"""

HUBER_NO_SHIFT = """
def huber(y_true, y_pred, delta=1.0):
    error = ops.abs(ops.cast(y_pred, "float32") - ops.cast(y_true, "float32"))
    return ops.mean(ops.where(error <= delta, 0.5 * ops.square(error), delta * error))
"""

CLASSIFIER_MSE = """
def train_classifier(x_train, y_train):
    model = keras.Sequential([
        keras.Input(shape=(x_train.shape[1],)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=20, batch_size=32, verbose=0)
    return model
"""

CLASSIFIER_LOGITS_NO_FLAG = """
def train_classifier(x_train, y_train):
    model = keras.Sequential([
        keras.Input(shape=(x_train.shape[1],)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x_train, y_train, epochs=20, batch_size=32, verbose=0)
    return model
"""

REGRESSOR_RAW_TARGET = """
def train_regressor(x_train, y_train):
    model = keras.Sequential([
        keras.Input(shape=(x_train.shape[1],)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="mse")
    model.fit(x_train, y_train, epochs=20, batch_size=16, verbose=0)

    def predict(x):
        return model.predict(x, verbose=0)[:, 0]

    return predict
"""

REGRESSOR_SCALED_PREDICTIONS = """
def train_regressor(x_train, y_train):
    scaler = data.TargetScaler.fit(y_train)
    model = keras.Sequential([
        keras.Input(shape=(x_train.shape[1],)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="mse")
    model.fit(x_train, scaler.transform(y_train), epochs=20, batch_size=16, verbose=0)

    def predict(x):
        return model.predict(x, verbose=0)[:, 0]   # forgets scaler.inverse: standardized units

    return predict
"""

# ----------------------------------------------------------------------------------- correct alternatives

BCE_WHERE = """
def binary_crossentropy(y_true, y_pred):
    eps = keras.config.epsilon()
    p = ops.clip(ops.convert_to_tensor(y_pred, dtype="float32"), eps, 1.0 - eps)
    y = ops.convert_to_tensor(y_true, dtype="float32")
    per_entry = ops.where(y > 0.5, -ops.log(p), -ops.log(1.0 - p))
    return ops.mean(per_entry)
"""

HUBER_MINIMUM = """
def huber(y_true, y_pred, delta=1.0):
    error = ops.abs(ops.subtract(y_true, y_pred))
    small = ops.minimum(error, delta)
    return ops.mean(0.5 * ops.square(small) + delta * (error - small))
"""

CLASSIFIER_ONE_HOT = """
def train_classifier(x_train, y_train):
    model = keras.Sequential([
        keras.Input(shape=(x_train.shape[1],)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.CategoricalCrossentropy())
    one_hot = keras.utils.to_categorical(y_train, num_classes=2)
    model.fit(x_train, one_hot, epochs=20, batch_size=32, verbose=0)
    return model
"""

REGRESSOR_OUTPUT_BIAS = """
def train_regressor(x_train, y_train):
    # no target scaling: start the output bias at the target's mean instead
    model = keras.Sequential([
        keras.Input(shape=(x_train.shape[1],)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, bias_initializer=keras.initializers.Constant(float(np.mean(y_train)))),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss=keras.losses.MeanSquaredError())
    model.fit(x_train, y_train, epochs=20, batch_size=16, verbose=0)
    return lambda x: np.ravel(model.predict(x, verbose=0))
"""

VARIANTS = [
    # --- bundle wrong-a
    Variant(
        name="mse-for-a-classifier",
        why="the spam filter trained with mse on a sigmoid output: a regression loss for 0/1 labels",
        replace={"spam-filter": 'spam_filter = (keras.layers.Dense(1, activation="sigmoid"), "mse")'},
        loses=["test-spam-filter"],
        bundle="wrong-a",
    ),
    Variant(
        name="categorical-crossentropy-with-integer-labels",
        why="integer labels 0-9 need the sparse loss; the one-hot loss raises a rank error",
        replace={
            "digit-reader": 'digit_reader = (keras.layers.Dense(10, activation="softmax"), "categorical_crossentropy")'
        },
        loses=["test-digit-reader"],
        bundle="wrong-a",
    ),
    Variant(
        name="softmax-with-from-logits",
        why="softmax in the layer and from_logits=True in the loss: softmax applied twice",
        replace={
            "topic-classifier": 'topic_classifier = (keras.layers.Dense(4, activation="softmax"), '
            "keras.losses.CategoricalCrossentropy(from_logits=True))"
        },
        loses=["test-topic-classifier"],
        bundle="wrong-a",
    ),
    Variant(
        name="relu-regression-output",
        why="a relu on the regression output: it cannot predict below 0",
        replace={"delivery-time": 'delivery_time = (keras.layers.Dense(1, activation="relu"), "mse")'},
        loses=["test-delivery-time"],
        bundle="wrong-a",
    ),
    Variant(
        name="mse-with-outliers",
        why="mse when 3% of the targets are glitches: the squared glitches dominate",
        replace={"sensor-glitches": 'sensor_glitches = (keras.layers.Dense(1), "mse")'},
        loses=["test-sensor-glitches"],
        bundle="wrong-a",
    ),
    Variant(
        name="bce-without-clipping",
        why="no clipping: log(0) for predictions of exactly 0 or 1 gives inf/nan",
        replace={"binary-crossentropy": BCE_NO_CLIP},
        loses=["test-binary-crossentropy"],
        bundle="wrong-a",
    ),
    Variant(
        name="huber-ignores-delta",
        why="hard-codes delta = 1: right for the default, wrong for any other delta",
        replace={"huber": HUBER_IGNORES_DELTA},
        loses=["test-huber"],
        bundle="wrong-a",
    ),
    Variant(
        name="classifier-trained-with-mse",
        why="the breast-cancer classifier compiled with mse: it may classify well, but the loss is wrong",
        replace={"train-classifier": CLASSIFIER_MSE},
        loses=["test-classifier-loss"],
        bundle="wrong-a",
    ),
    Variant(
        name="regressor-on-the-raw-target",
        why="trains on the raw target (25-346) with the same recipe: the outputs never grow large enough",
        replace={"train-regressor": REGRESSOR_RAW_TARGET},
        loses=["test-regressor"],
        bundle="wrong-a",
    ),
    Variant(
        name="silent-failure-blames-the-default",
        why="picks the standard softmax pairing as the silent failure",
        replace={"silent-failure": 'silent_failure = "a"'},
        loses=["test-silent-failure"],
        bundle="wrong-a",
    ),
    # --- bundle wrong-b
    Variant(
        name="linear-output-without-from-logits",
        why="a layer without activation with the default binary_crossentropy: logits read as probabilities",
        replace={"spam-filter": 'spam_filter = (keras.layers.Dense(1), "binary_crossentropy")'},
        loses=["test-spam-filter"],
        bundle="wrong-b",
    ),
    Variant(
        name="sigmoid-with-ten-classes",
        why="ten independent sigmoids with the sparse loss: the outputs are not a distribution over classes",
        replace={
            "digit-reader": 'digit_reader = (keras.layers.Dense(10, activation="sigmoid"), '
            '"sparse_categorical_crossentropy")'
        },
        loses=["test-digit-reader"],
        bundle="wrong-b",
    ),
    Variant(
        name="sparse-loss-with-one-hot-labels",
        why="one-hot labels with sparse_categorical_crossentropy: a rank error",
        replace={
            "topic-classifier": 'topic_classifier = (keras.layers.Dense(4, activation="softmax"), '
            '"sparse_categorical_crossentropy")'
        },
        loses=["test-topic-classifier"],
        bundle="wrong-b",
    ),
    Variant(
        name="mae-when-large-errors-matter-most",
        why="mae counts one 20-minute delay like two 10-minute ones, the opposite of what the task asks",
        replace={"delivery-time": 'delivery_time = (keras.layers.Dense(1), "mae")'},
        loses=["test-delivery-time"],
        bundle="wrong-b",
    ),
    Variant(
        name="huber-with-a-huge-delta",
        why="huber with delta=50 is mse for every error up to 50: the glitches still count squared",
        replace={"sensor-glitches": "sensor_glitches = (keras.layers.Dense(1), keras.losses.Huber(delta=50.0))"},
        loses=["test-sensor-glitches"],
        bundle="wrong-b",
    ),
    Variant(
        name="bce-sum-instead-of-mean",
        why="sums over the entries where Keras averages",
        replace={"binary-crossentropy": BCE_SUM},
        loses=["test-binary-crossentropy"],
        bundle="wrong-b",
    ),
    Variant(
        name="huber-without-the-shift",
        why="delta * |e| beyond delta, without - delta / 2: the two pieces do not meet",
        replace={"huber": HUBER_NO_SHIFT},
        loses=["test-huber"],
        bundle="wrong-b",
    ),
    Variant(
        name="classifier-logits-without-from-logits",
        why="a linear output with the default binary_crossentropy: the silent failure, caught by the loss check",
        replace={"train-classifier": CLASSIFIER_LOGITS_NO_FLAG},
        loses=["test-classifier-loss"],
        may_lose=["test-classifier-trains"],
        bundle="wrong-b",
    ),
    Variant(
        name="regressor-forgets-to-undo-the-scaling",
        why="trains on the standardized target but returns predictions in standard deviations",
        replace={"train-regressor": REGRESSOR_SCALED_PREDICTIONS},
        loses=["test-regressor"],
        bundle="wrong-b",
    ),
    Variant(
        name="outliers-pull-mae-more",
        why="believes mae is the loss that outliers pull most",
        replace={"outlier-effect": 'outlier_effect = "c"'},
        loses=["test-outlier-effect"],
        bundle="wrong-b",
    ),
    Variant(
        name="regression-output-for-speed",
        why="thinks the output activation is left out for speed",
        replace={"regression-output": 'regression_output = "c"'},
        loses=["test-regression-output"],
        bundle="wrong-b",
    ),
    # --- bundle wrong-c
    Variant(
        name="bce-with-numpy",
        why="matches Keras on NumPy arrays but cannot serve as a model's loss (NumPy on symbolic tensors)",
        replace={"binary-crossentropy": BCE_NUMPY},
        loses=["test-binary-crossentropy"],
        bundle="wrong-c",
    ),
    Variant(
        name="two-softmax-units-for-two-classes",
        why="correct alternative: 0/1 labels read as class numbers, two softmax units and the sparse loss",
        replace={
            "spam-filter": 'spam_filter = (keras.layers.Dense(2, activation="softmax"), '
            '"sparse_categorical_crossentropy")'
        },
        loses=[],
        bundle="wrong-c",
    ),
    Variant(
        name="loss-class-and-activation-function",
        why="correct alternative: the loss class itself (Keras instantiates it) and the softmax function",
        replace={
            "topic-classifier": "topic_classifier = (keras.layers.Dense(4, activation=keras.activations."
            "softmax), keras.losses.CategoricalCrossentropy)"
        },
        loses=[],
        bundle="wrong-c",
    ),
    # --- bundle right-a: correct alternatives keep every point
    Variant(
        name="loss-objects-functions-and-logits",
        why="correct alternatives: loss objects and functions instead of strings, layers without activation "
        "with from_logits=True, one-hot labels with categorical cross-entropy, an output bias at the "
        "mean instead of target scaling, and upper-case letters",
        replace={
            "spam-filter": "spam_filter = (keras.layers.Dense(1), keras.losses.BinaryCrossentropy(from_logits=True))",
            "digit-reader": "digit_reader = (keras.layers.Dense(10, activation=None), "
            "keras.losses.SparseCategoricalCrossentropy(from_logits=True))",
            "topic-classifier": 'topic_classifier = (keras.layers.Dense(4, activation="softmax"), '
            "keras.losses.categorical_crossentropy)",
            "delivery-time": 'delivery_time = (keras.layers.Dense(1, activation="linear"), '
            "keras.losses.MeanSquaredError())",
            "sensor-glitches": "sensor_glitches = (keras.layers.Dense(units=1), keras.losses.mean_absolute_error)",
            "binary-crossentropy": BCE_WHERE,
            "huber": HUBER_MINIMUM,
            "train-classifier": CLASSIFIER_ONE_HOT,
            "train-regressor": REGRESSOR_OUTPUT_BIAS,
            "silent-failure": 'silent_failure = " C "',
            "outlier-effect": 'outlier_effect = "B"',
            "regression-output": 'regression_output = "D"',
        },
        loses=[],
        bundle="right-a",
    ),
]
