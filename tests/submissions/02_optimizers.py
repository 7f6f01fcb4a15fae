"""Plausible wrong answers, and correct alternatives, for the optimizers exercise (tests/test_grading.py).

Four bundles (one graded submission each); the variants of a bundle change different answer cells.
"""

from tests.support import Variant

SGD = "def sgd_momentum_step(w, g, velocity, learning_rate=0.01, momentum=0.0, nesterov=False):\n"
ADAM = "def adam_step(w, g, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):\n"
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
    ),
    Variant(
        name="keras-default-sgd",
        why="plain SGD at its default learning rate 0.01: about 0.55 validation accuracy after 2 epochs",
        replace={"make-optimizer": 'def make_optimizer():\n    return "sgd"'},
        loses=["test-make-optimizer"],
        bundle="wrong-a",
    ),
    Variant(
        name="coefficient-as-curvature",
        why="2 / 5 = 0.4 takes the coefficient of 5 w^2 for its curvature (the second derivative is 10)",
        replace={"largest-stable-learning-rate": "largest_stable_learning_rate = 0.4"},
        loses=["test-largest-stable-learning-rate"],
        bundle="wrong-a",
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
    ),
    Variant(
        name="adam-learning-rate-too-high",
        why="Adam at 0.1 overshoots: the loss rises after the first epoch and the accuracy stays far below 0.94",
        replace={"make-optimizer": "def make_optimizer():\n    return keras.optimizers.Adam(learning_rate=0.1)"},
        loses=["test-make-optimizer"],
        bundle="wrong-b",
    ),
    Variant(
        name="blames-epochs",
        why="more epochs cannot help a run whose loss sits at ln 10 after blowing up",
        replace={"divergence-diagnosis": 'divergence_diagnosis = "c"'},
        loses=["test-divergence-diagnosis"],
        bundle="wrong-b",
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
    ),
    Variant(
        name="l2-for-weight-decay",
        why="takes Keras 3's decoupled weight decay for an L2 penalty in the loss",
        replace={"weight-decay-answer": 'weight_decay_answer = "a"'},
        loses=["test-weight-decay-answer"],
        bundle="wrong-c",
    ),
    Variant(
        name="tunes-beta2-first",
        why="spends a small budget on beta_2, the hyperparameter the tuning playbook leaves for last",
        replace={"tune-first": 'tune_first = "b"'},
        loses=["test-tune-first"],
        bundle="wrong-c",
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
    ),
    Variant(
        name="rmsprop-tuned",
        why="correct alternative: RMSprop with a tuned learning rate also reaches the target",
        replace={"make-optimizer": "def make_optimizer():\n    return keras.optimizers.RMSprop(learning_rate=3e-3)"},
        loses=[],
        bundle="right-a",
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
    ),
]
