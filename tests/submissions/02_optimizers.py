"""Plausible wrong answers, and correct alternatives, for the optimizers exercise and the training-loop exercise
(tests/test_grading.py).

Six bundles (one graded submission each); the variants of a bundle change different answer cells. The loop's five
slips each need a bundle of their own (they all replace the loop's cell).
"""

from tests.support import Variant

SGD = "def sgd_momentum_step(w, g, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):\n"
ADAM = "def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):\n"
OPT_NOTEBOOK = "optimizers_exercise.ipynb"
LOOP_NOTEBOOK = "training_loop_exercise.ipynb"
LOOP_HEAD = """def train_loop(model, optimizer, split, *, epochs=3, batch_size=32, seed=0):
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    log = LoopRun(model, split, batch_size)
    grads = zeros_like(model)
    for epoch in range(epochs):
"""
_SUMMED = '        summed = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")\n'
_ZERO = "            grads = zeros_like(model)\n"
_GRAD = "            loss, new = loss_and_gradients(model, loss_fn, x, y, training=True)\n"
_ADD = "            grads = [g + n for g, n in zip(grads, new, strict=True)]\n"
_STEP = "            optimizer.apply(grads, model.trainable_variables)\n"
_LOG = "            log.step(loss, new, grads)\n"
_FOR = "        for x, y in batches(split, batch_size, seed=seed + epoch):\n"
_EVAL = "        log.epoch(evaluate(model, split.x_val, split.y_val, training=False))\n    return log\n"
LOOP_SLIPS = [
    (
        "no-zero-grad",
        "grads never cleared, so every step applies the pile",
        _FOR + _GRAD + _ADD + _STEP + _LOG + _EVAL,
        "wrong-a",
    ),
    (
        "step-before-backward",
        "optimizer.step() before backward() adds this batch's gradients: every step applies cleared ones",
        _FOR + _ZERO + _GRAD + _STEP + _ADD + _LOG + _EVAL,
        "wrong-b",
    ),
    (
        "summed-loss",
        "the loss summed over the batch: steps batch-size times larger",
        _FOR + _ZERO + _GRAD.replace("loss_fn,", "summed,") + _ADD + _STEP + _LOG + _EVAL,
        "wrong-c",
    ),
    (
        "always-inference",
        "training=False in the training step: BatchNorm frozen",
        _FOR + _ZERO + _GRAD.replace("training=True", "training=False") + _ADD + _STEP + _LOG + _EVAL,
        "wrong-d",
    ),
    (
        "never-eval",
        "training=True when evaluating: BatchNorm fitted on the validation batches",
        _FOR + _ZERO + _GRAD + _ADD + _STEP + _LOG + _EVAL.replace("training=False", "training=True"),
        "wrong-e",
    ),
]
DIAGNOSE = """def diagnose(run):
    if run.update_norm[0] == 0:
        return "step_before_backward"
    if max(a / g for a, g in zip(run.applied_norm, run.grad_norm, strict=True) if g > 0) > 1.5:
        return "no_zero_grad"
    if run.batch_loss[0] > 3 * math.log(run.n_classes):
        return "summed_loss"
    if run.batchnorm_moved is False:
        return "always_inference"
    if any(abs(a - b) > 1e-6 for a, b in zip(run.val_loss, run.val_loss_inference, strict=True)):
        return "never_eval"
    return "correct"
"""
ADAM_MOMENTS = """
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
"""
SGD_TESTS = ["test-sgd-momentum", "test-nesterov"]
ADAM_TESTS = ["test-adam-defaults", "test-adam-settings"]

VARIANTS = [
    # ------------------------------------------------------------------ bundle wrong-a
    Variant(
        name="momentum-sign-error",
        why="subtracts Keras' velocity instead of adding it: v already holds -learning_rate * g, so the "
        "weights climb the loss",
        replace={
            "sgd-momentum-step": SGD
            + """
    velocity = momentum * velocity - learning_rate * g
    if nesterov:
        return w - (momentum * velocity - learning_rate * g), velocity
    return w - velocity, velocity
"""
        },
        loses=SGD_TESTS,
        bundle="wrong-a",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="no-bias-correction",
        why="Adam without bias correction: the first steps are about 3x too long (1 - beta_1 over sqrt(1 - beta_2))",
        replace={
            "adam-step": ADAM
            + ADAM_MOMENTS
            + """
    return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v
"""
        },
        loses=ADAM_TESTS,
        bundle="wrong-a",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="keras-default-sgd",
        why="plain SGD at its default learning rate 0.01: about 0.55 validation accuracy after 2 epochs",
        replace={"make-optimizer": 'def make_optimizer():\n    return "sgd"'},
        loses=["test-make-optimizer"],
        bundle="wrong-a",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="coefficient-as-curvature",
        why="2 / 5 = 0.4 takes the coefficient of 5 w^2 for its curvature (the second derivative is 10)",
        replace={"largest-stable-learning-rate": "largest_stable_learning_rate = 0.4"},
        loses=["test-largest-stable-learning-rate"],
        bundle="wrong-a",
        notebook=OPT_NOTEBOOK,
    ),
    # ------------------------------------------------------------------ bundle wrong-b
    Variant(
        name="learning-rate-applied-twice",
        why="the velocity already holds learning_rate * g; multiplying it by the learning rate again shrinks "
        "every step by that factor",
        replace={
            "sgd-momentum-step": SGD
            + """
    velocity = momentum * velocity - learning_rate * g
    if nesterov:
        return w + learning_rate * (momentum * velocity - learning_rate * g), velocity
    return w + learning_rate * velocity, velocity
"""
        },
        loses=SGD_TESTS,
        bundle="wrong-b",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="epsilon-inside-sqrt",
        why="sqrt(v_hat + epsilon) instead of sqrt(v) + epsilon: indistinguishable at epsilon 1e-7 with "
        "these gradients, wrong as soon as epsilon matters",
        replace={
            "adam-step": ADAM
            + ADAM_MOMENTS
            + """
    m_hat = m / (1 - beta_1**t)
    v_hat = v / (1 - beta_2**t)
    return w - learning_rate * m_hat / np.sqrt(v_hat + epsilon), m, v
"""
        },
        loses=["test-adam-settings"],
        may_lose=["test-adam-defaults"],
        bundle="wrong-b",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="adam-learning-rate-too-high",
        why="Adam at 0.1 overshoots: the loss rises after the first epoch and the accuracy stays far below 0.94",
        replace={"make-optimizer": "def make_optimizer():\n    return keras.optimizers.Adam(learning_rate=0.1)"},
        loses=["test-make-optimizer"],
        bundle="wrong-b",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="blames-epochs",
        why="more epochs cannot help a run whose loss sits at ln 10 after blowing up",
        replace={"divergence-diagnosis": 'divergence_diagnosis = "c"'},
        loses=["test-divergence-diagnosis"],
        bundle="wrong-b",
        notebook=OPT_NOTEBOOK,
    ),
    # ------------------------------------------------------------------ bundle wrong-c
    Variant(
        name="nesterov-ignored",
        why="takes the plain momentum step whatever nesterov says",
        replace={
            "sgd-momentum-step": SGD
            + """
    velocity = momentum * velocity - learning_rate * g
    return w + velocity, velocity
"""
        },
        loses=["test-nesterov"],
        bundle="wrong-c",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="paper-epsilon",
        why="the paper's Algorithm 1, m_hat / (sqrt(v_hat) + epsilon): Keras' epsilon is 'epsilon hat', "
        "added before the bias correction of v, so the two differ when epsilon is not negligible",
        replace={
            "adam-step": ADAM
            + ADAM_MOMENTS
            + """
    m_hat = m / (1 - beta_1**t)
    v_hat = v / (1 - beta_2**t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v
"""
        },
        loses=["test-adam-settings"],
        may_lose=["test-adam-defaults"],
        bundle="wrong-c",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="one-shared-optimizer",
        why="returns the same optimizer object every time: Keras refuses to use it for a second model",
        replace={
            "make-optimizer": """
shared = keras.optimizers.Adam(learning_rate=3e-3)


def make_optimizer():
    return shared
"""
        },
        loses=["test-make-optimizer"],
        bundle="wrong-c",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="l2-for-weight-decay",
        why="takes Keras 3's decoupled weight decay for an L2 penalty in the loss",
        replace={"weight-decay-answer": 'weight_decay_answer = "a"'},
        loses=["test-weight-decay-answer"],
        bundle="wrong-c",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="tunes-beta2-first",
        why="spends a small budget on beta_2, the hyperparameter the tuning playbook leaves for last",
        replace={"tune-first": 'tune_first = "b"'},
        loses=["test-tune-first"],
        bundle="wrong-c",
        notebook=OPT_NOTEBOOK,
    ),
    # ------------------------------------------------------------------ bundle right-a
    Variant(
        name="gradient-units-velocity",
        why="correct alternative: the velocity kept in gradient units (v = momentum * v + g; w -= lr * v), "
        "which equals Keras' form for a constant learning rate; Nesterov as w -= lr * (g + momentum * v)",
        replace={
            "sgd-momentum-step": SGD
            + """
    velocity = momentum * velocity + g
    step = g + momentum * velocity if nesterov else velocity
    return w - learning_rate * step, velocity
"""
        },
        loses=[],
        bundle="right-a",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="keras-ops-epsilon-hat",
        why="correct alternative: keras.ops instead of NumPy, written with bias-corrected m_hat and v_hat "
        "and the equivalent epsilon / sqrt(1 - beta_2**t) next to sqrt(v_hat)",
        replace={
            "adam-step": ADAM
            + """
    ops = keras.ops
    m = ops.add(ops.multiply(beta_1, m), ops.multiply(1.0 - beta_1, g))
    v = ops.add(ops.multiply(beta_2, v), ops.multiply(1.0 - beta_2, ops.square(g)))
    m_hat = ops.divide(m, 1.0 - beta_1**t)
    v_hat = ops.divide(v, 1.0 - beta_2**t)
    epsilon_hat = epsilon / (1.0 - beta_2**t) ** 0.5
    step = ops.divide(ops.multiply(learning_rate, m_hat), ops.sqrt(v_hat) + epsilon_hat)
    return ops.subtract(w, step), m, v
"""
        },
        loses=[],
        bundle="right-a",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="rmsprop-tuned",
        why="correct alternative: RMSprop with a tuned learning rate also reaches the target",
        replace={"make-optimizer": "def make_optimizer():\n    return keras.optimizers.RMSprop(learning_rate=3e-3)"},
        loses=[],
        bundle="right-a",
        notebook=OPT_NOTEBOOK,
    ),
    Variant(
        name="expression-and-capitals",
        why="correct alternatives: the limit as an expression, letters in capitals with spaces",
        replace={
            "largest-stable-learning-rate": "curvature = 2 * 5\nlargest_stable_learning_rate = 2 / curvature",
            "divergence-diagnosis": 'divergence_diagnosis = " B"',
            "weight-decay-answer": 'weight_decay_answer = "C "',
            "tune-first": 'tune_first = "A"',
        },
        loses=[],
        bundle="right-a",
        notebook=OPT_NOTEBOOK,
    ),
    # ------------------------------------------------------------------ the training-loop exercise
    *[
        Variant(
            name=f"loop-{slip}",
            why=f"the loop with one slip of seed 001: {why}",
            replace={"loop-train": LOOP_HEAD + (_SUMMED if slip == "summed-loss" else "") + body},
            loses=["test-loop-train"],
            bundle=bundle,
            notebook=LOOP_NOTEBOOK,
        )
        for slip, why, body, bundle in LOOP_SLIPS
    ],
    Variant(
        name="diagnose-says-correct",
        why="a diagnosis that never finds anything",
        replace={"loop-diagnose": 'def diagnose(run):\n    return "correct"'},
        loses=["test-loop-diagnose"],
        bundle="wrong-a",
        notebook=LOOP_NOTEBOOK,
    ),
    Variant(
        name="diagnose-ln10-threshold",
        why="reads a summed loss against ln 10, the digits' 10 classes, instead of ln of the run's own classes: "
        "a summed loss over 8 examples of a 2-class problem stays below 3 ln 10",
        replace={"loop-diagnose": DIAGNOSE.replace("math.log(run.n_classes)", "math.log(10)")},
        loses=["test-loop-diagnose"],
        bundle="wrong-b",
        notebook=LOOP_NOTEBOOK,
    ),
    Variant(
        name="diagnose-modes-swapped",
        why="takes frozen BatchNorm statistics for the evaluation slip and the other way round",
        replace={
            "loop-diagnose": DIAGNOSE.replace('"always_inference"', '"SWAP"')
            .replace('"never_eval"', '"always_inference"')
            .replace('"SWAP"', '"never_eval"')
        },
        loses=["test-loop-diagnose"],
        bundle="wrong-c",
        notebook=LOOP_NOTEBOOK,
    ),
    Variant(
        name="device-dtype",
        why="takes the device error for a dtype mismatch",
        replace={"loop-device-answer": 'device_answer = "b"'},
        loses=["test-loop-device"],
        bundle="wrong-d",
        notebook=LOOP_NOTEBOOK,
    ),
    Variant(
        name="loop-without-a-pile",
        why="correct alternative: grads = new (nothing to add to after clearing), the loss averaged by hand from a "
        "summed loss, the evaluation by name",
        replace={
            "loop-train": """def train_loop(model, optimizer, split, *, epochs=3, batch_size=32, seed=0):
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    log = LoopRun(model, split, batch_size)
    grads = zeros_like(model)
    for epoch in range(epochs):
        for x, y in batches(split, batch_size, seed=seed + epoch):
            loss, new = loss_and_gradients(model, loss_fn, x, y, training=True)
            grads = list(new)
            optimizer.apply(grads, model.trainable_variables)
            log.step(loss, new, grads)
        val_loss, val_accuracy = evaluate(model, split.x_val, split.y_val, training=False)
        log.epoch((val_loss, val_accuracy))
    return log"""
        },
        loses=[],
        bundle="right-a",
        notebook=LOOP_NOTEBOOK,
    ),
    Variant(
        name="diagnose-other-order",
        why="correct alternative: the checks in another order, the answer in capitals with spaces",
        replace={
            "loop-diagnose": """def diagnose(run):
    if run.batchnorm_moved is False:
        return "always_inference"
    if run.update_norm[0] == 0:
        return "step_before_backward"
    if run.batch_loss[0] / run.batch_size < 3 * math.log(run.n_classes) < run.batch_loss[0]:
        return "summed_loss"
    if max(a / g for a, g in zip(run.applied_norm, run.grad_norm) if g > 0) > 1.5:
        return "no_zero_grad"
    if not np.allclose(run.val_loss, run.val_loss_inference, rtol=1e-6, atol=1e-9):
        return " NEVER_EVAL "
    return "Correct"
""",
            "loop-device-answer": 'device_answer = " C"',
        },
        loses=[],
        bundle="right-a",
        notebook=LOOP_NOTEBOOK,
    ),
]
