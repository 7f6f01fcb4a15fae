"""Plausible wrong answers, and correct alternatives, for the learning-rates exercise (tests/test_grading.py).

Wrong range tests are made from the solution's own cell by changing a few lines (``_edit``), so each
variant differs from the solution by exactly its mistake; ``_edit`` fails loudly if the solution no longer
contains the lines it changes.
"""

from losslab import notebooks
from tests.support import SOLUTIONS, Variant

_SOLUTION = notebooks.read(SOLUTIONS / "03_learning_rates" / "learning_rates_exercise.ipynb")


def _solution(gid: str) -> str:
    return notebooks.cell_by_grade_id(_SOLUTION, gid).source


def _edit(gid: str, *changes: tuple[str, str]) -> str:
    source = _solution(gid)
    for old, new in changes:
        if old not in source:
            raise AssertionError(f"the solution cell {gid!r} no longer contains {old!r}: update this variant")
        source = source.replace(old, new)
    return source


VARIANTS = [
    # ------------------------------------------------------------------------------ bundle wrong-a
    Variant(
        name="no-smoothing",
        why="records the raw batch losses as the 'smoothed' ones: the minimum lands on a lucky batch",
        replace={"smooth": "def smooth(raw_losses, beta=0.98):\n    return [float(loss) for loss in raw_losses]"},
        loses=["test-smooth"],
        may_lose=["test-suggestion"],
        bundle="wrong-a",
    ),
    Variant(
        name="no-restore",
        why="never puts the weights back: the model keeps what it learned at learning rates up to 10",
        replace={
            "range-test": _edit(
                "range-test",
                (
                    "        for variable, value in zip(self.model.weights + self.model.optimizer.variables, "
                    "self.saved):\n            variable.assign(value)",
                    "        pass",
                ),
            )
        },
        loses=["test-restores"],
        bundle="wrong-a",
    ),
    Variant(
        name="schedule-in-epochs",
        why="counts the schedule in epochs: Keras counts optimizer steps, so the decay is over after 3 steps",
        replace={
            "build-schedule": _edit(
                "build-schedule",
                ("total = epochs * steps_per_epoch", "total = epochs"),
                ("warmup = max(1, total // 10)", "warmup = 1"),
            )
        },
        loses=["test-schedule", "test-budget"],
        bundle="wrong-a",
    ),
    Variant(
        name="plateau-scales-schedule",
        why="believes ReduceLROnPlateau scales a schedule object",
        replace={"plateau-with-schedule": 'plateau_with_schedule = "a"'},
        loses=["test-plateau-with-schedule"],
        bundle="wrong-a",
    ),
    Variant(
        name="suggests-the-minimum",
        why="returns the learning rate at the minimum itself, forgetting the division by 10",
        replace={
            "suggest-lr": "def suggest_lr(lrs, smoothed_losses):\n    return lrs[int(np.nanargmin(smoothed_losses))]"
        },
        loses=["test-suggest"],
        may_lose=["test-suggestion"],  # certainly lost (10x off), but no-smoothing may lose it too
        bundle="wrong-a",
    ),
    # ------------------------------------------------------------------------------ bundle wrong-b
    Variant(
        name="no-bias-correction",
        why="a moving average that starts at 0 without the bias correction: the first values are ~50x too "
        "small, so the minimum is always the first step",
        replace={"smooth": _edit("smooth", ("average / (1 - beta ** (i + 1))", "average"))},
        loses=["test-smooth", "test-suggestion"],
        bundle="wrong-b",
    ),
    Variant(
        name="restores-weights-only",
        why="restores the weights but not the optimizer: it keeps the ramp's last learning rate, its step "
        "counter and its momentum",
        replace={
            "range-test": _edit(
                "range-test",
                (
                    "self.saved = [v.numpy() for v in self.model.weights + optimizer.variables]",
                    "self.saved = [v.numpy() for v in self.model.weights]",
                ),
                (
                    "zip(self.model.weights + self.model.optimizer.variables, self.saved)",
                    "zip(self.model.weights, self.saved)",
                ),
            )
        },
        loses=["test-restores"],
        bundle="wrong-b",
    ),
    Variant(
        name="warmup-never-ends",
        why="warms up over the whole budget (warmup_steps = all the steps): the peak comes at the very end "
        "and there is no decay",
        replace={
            "build-schedule": _edit(
                "build-schedule",
                ("warmup = max(1, total // 10)", "warmup = total"),
                ("decay_steps=total - warmup", "decay_steps=total"),
            )
        },
        loses=["test-schedule"],
        may_lose=["test-budget"],
        bundle="wrong-b",
    ),
    Variant(
        name="spike-is-too-low",
        why="reads a loss stuck at ln 10 after a spike as a learning rate that is too low",
        replace={"spike-diagnosis": 'spike_diagnosis = "a"'},
        loses=["test-spike-diagnosis"],
        bundle="wrong-b",
    ),
    # ------------------------------------------------------------------------------ bundle wrong-c
    Variant(
        name="linear-ramp",
        why="a linear ramp: almost every step is spent above 0.1, and small learning rates are never tried",
        replace={
            "range-lr": "def range_lr(step, start_lr, end_lr, num_steps):\n"
            "    return start_lr + (end_lr - start_lr) * step / (num_steps - 1)"
        },
        loses=["test-range-lr"],
        may_lose=["test-suggestion"],
        bundle="wrong-c",
    ),
    Variant(
        name="never-stops-on-divergence",
        why="only stops after num_steps: the test runs on long after the loss has exploded",
        replace={
            "range-test": _edit(
                "range-test",
                (
                    "if math.isnan(current) or current > 4 * self.best_loss or len(self.lrs) >= self.num_steps:",
                    "if len(self.lrs) >= self.num_steps:",
                ),
            )
        },
        loses=["test-callback-steps"],
        may_lose=["test-suggestion"],
        bundle="wrong-c",
    ),
    Variant(
        name="peak-at-sgd-default",
        why="keeps SGD's default 0.01 as the peak: far too small for a 3-epoch budget",
        replace={"peak-lr": "peak_lr = 0.01"},
        loses=["test-budget"],
        bundle="wrong-c",
    ),
    Variant(
        name="smaller-batch-noise",
        why="blames gradient noise for the large batch and lowers the learning rate",
        replace={"batch-size-change": 'batch_size_change = "a"'},
        loses=["test-batch-size-change"],
        bundle="wrong-c",
    ),
    Variant(
        name="one-cycle-schedule",
        why="correct alternative: losslab's one-cycle schedule for the budget (its test-budget result is not "
        "checked here, peak-at-sgd-default loses that cell)",
        replace={
            "build-schedule": "def build_schedule(peak_lr, epochs, steps_per_epoch):\n"
            "    return lr_tools.OneCycle(peak_lr, epochs * steps_per_epoch)"
        },
        loses=[],
        bundle="wrong-c",
    ),
    # ------------------------------------------------------------------------------ bundle right-a
    Variant(
        name="log-space-ramp",
        why="correct alternative: the same exponential ramp written with exp and log",
        replace={
            "range-lr": "def range_lr(step, start_lr, end_lr, num_steps):\n"
            "    log_start, log_end = math.log(start_lr), math.log(end_lr)\n"
            "    fraction = step / (num_steps - 1)\n"
            "    return math.exp(log_start + (log_end - log_start) * fraction)"
        },
        loses=[],
        bundle="right-a",
    ),
    Variant(
        name="numpy-smoothing",
        why="correct alternative: the bias-corrected average counted from 1, returned as a NumPy array",
        replace={
            "smooth": """
def smooth(raw_losses, beta=0.98):
    out, avg = [], 0.0
    for n, loss in enumerate(raw_losses, start=1):
        avg = avg * beta + loss * (1 - beta)
        out.append(avg / (1 - beta**n))
    return np.array(out)
"""
        },
        loses=[],
        bundle="right-a",
    ),
    Variant(
        name="suggest-with-inf",
        why="correct alternative: NaN replaced by infinity before argmin, NumPy arrays throughout",
        replace={
            "suggest-lr": """
def suggest_lr(lrs, smoothed_losses):
    losses = np.array(smoothed_losses, dtype=float)
    losses[np.isnan(losses)] = np.inf
    return float(np.asarray(lrs)[losses.argmin()] / 10)
"""
        },
        loses=[],
        bundle="right-a",
    ),
    Variant(
        name="next-step-callback",
        why="correct alternative: sets the first learning rate in on_train_begin and each next one at the "
        "end of a step, smooths incrementally, saves with get_weights, and restores with set_weights",
        replace={
            "range-test": """
class RangeTest(keras.callbacks.Callback):
    def __init__(self, start_lr=1e-7, end_lr=10.0, num_steps=100, beta=0.98):
        super().__init__()
        self.start_lr, self.end_lr, self.num_steps, self.beta = start_lr, end_lr, num_steps, beta
        self.lrs, self.losses = [], []
        self.best_loss = math.inf

    def _lr(self, step):
        return range_lr(step, self.start_lr, self.end_lr, self.num_steps)

    def on_train_begin(self, logs=None):
        self.lrs, self.losses, self.best_loss, self.avg = [], [], math.inf, 0.0
        if not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.weights = self.model.get_weights()
        self.optimizer_state = [v.numpy() for v in self.model.optimizer.variables]
        self.model.optimizer.learning_rate.assign(self._lr(0))

    def on_train_batch_end(self, batch, logs=None):
        step = len(self.lrs)
        self.lrs.append(self._lr(step))
        self.avg = self.beta * self.avg + (1 - self.beta) * logs["loss"]
        smoothed = self.avg / (1 - self.beta ** (step + 1))
        self.losses.append(smoothed)
        self.best_loss = min(self.best_loss, smoothed)
        if not smoothed <= 4 * self.best_loss or step + 1 >= self.num_steps:
            self.model.stop_training = True
        else:
            self.model.optimizer.learning_rate.assign(self._lr(step + 1))

    def on_train_end(self, logs=None):
        self.model.set_weights(self.weights)
        for variable, value in zip(self.model.optimizer.variables, self.optimizer_state):
            variable.assign(value)

    def suggestion(self):
        return suggest_lr(self.lrs, self.losses)
"""
        },
        loses=[],
        bundle="right-a",
    ),
    Variant(
        name="linear-warmup-decay",
        why="correct alternative: a LearningRateSchedule of its own, linear warmup then linear decay, with a "
        "higher peak",
        replace={
            "build-schedule": """
class WarmupLinear(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, peak, total, warmup):
        self.peak, self.total, self.warmup = peak, total, warmup

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        up = self.peak * step / self.warmup
        down = self.peak * (self.total - step) / (self.total - self.warmup)
        return keras.ops.maximum(keras.ops.minimum(up, down), 0.0)

    def get_config(self):
        return {"peak": self.peak, "total": self.total, "warmup": self.warmup}


def build_schedule(peak_lr, epochs, steps_per_epoch):
    total = epochs * steps_per_epoch
    return WarmupLinear(peak_lr, total, max(1, total // 10))
""",
            "peak-lr": "peak_lr = 0.8",
        },
        loses=[],
        bundle="right-a",
    ),
    Variant(
        name="answers-with-spaces-and-capitals",
        why="correct alternative: the right letters, upper-case and padded",
        replace={
            "plateau-with-schedule": 'plateau_with_schedule = " C "',
            "spike-diagnosis": 'spike_diagnosis = "B"',
            "batch-size-change": 'batch_size_change = "D "',
        },
        loses=[],
        bundle="right-a",
    ),
]
