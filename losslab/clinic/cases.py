"""The cases: the cause each plants, its broken and fixed builders, and the measure that tells them apart."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from losslab.clinic.patients import (
    activation_loss_mismatch,
    bad_initialization,
    batch_size,
    batch_size_fixed,
    breast_cancer_baseline,
    class_imbalance,
    class_imbalance_fixed,
    clean_labels,
    constant_loss,
    deep_relu_he,
    digits_baseline,
    digits_sgd,
    exploding_clipped,
    exploding_gradients,
    fresh_model,
    frozen_layers,
    he_initialization,
    label_format,
    label_noise,
    lr_too_high,
    lr_too_low,
    moons_mlp,
    not_reproducible,
    overfitting,
    regularized,
    reproducible,
    reused_model,
    shuffled_split,
    training_flag,
    training_flag_fixed,
    underfitting,
    unfrozen,
    unmonitored,
    unscaled_inputs,
    unshuffled_split,
    vanishing_gradients,
    wine_scaled,
)
from losslab.clinic.setup import Setup
from losslab.messages import N_, _

# ------------------------------------------------------------------------------------- measurements


def final(metric: str) -> Callable[[Setup], float]:
    """The last epoch's value of `metric` in the setup's history."""

    def measure(setup: Setup) -> float:
        return float(setup.history[metric][-1])

    measure.__name__ = f"final {metric}"
    measure.metric = metric  # type: ignore[attr-defined]  # for measure_name
    return measure


def overfit_ratio(setup: Setup) -> float:
    """Validation loss of the model that training returns, divided by the lowest validation loss seen."""
    x_val, y_val = setup.validation_data
    returned = float(setup.model.evaluate(x_val, y_val, verbose=0, return_dict=True)["loss"])
    return returned / min(setup.history["val_loss"])


def has_validation(setup: Setup) -> float:
    """1.0 when the history holds a validation curve, 0.0 when the training was flown blind."""
    return float(any(k.startswith("val_") for k in setup.history))


def first_loss_ratio(setup: Setup) -> float:
    """First-epoch training loss divided by ln K: about 1 for a fresh classifier, far less if reused."""
    n_classes = int(np.max(setup.y)) + 1
    return setup.history["loss"][0] / math.log(n_classes)


def repeat_difference(setup: Setup) -> float:
    """Train a second model from ``setup.build()`` with the same arguments; the gap between the two final
    training losses (0 when the experiment is reproducible)."""
    again = Setup(setup.build(), setup.x, setup.y, setup.validation_data, dict(setup.fit))
    again.train()
    return abs(setup.history["loss"][-1] - again.history["loss"][-1])


# The other measures as a learner reads them: their function names stay the keys of a result's row.
MEASURE_NAMES = {
    "overfit_ratio": N_("overfit ratio"),
    "first_loss_ratio": N_("first loss ratio"),
    "repeat_difference": N_("repeat difference"),
    "has_validation": N_("has validation"),
}


def measure_name(measure: Callable[[Setup], float]) -> str:
    """A case's measure named in the learner's language: ``final val_accuracy`` (the history's key as Keras
    writes it), ``overfit ratio``, ..."""
    metric = getattr(measure, "metric", None)
    if isinstance(metric, str):
        return _("final {metric}").format(metric=metric)
    name = getattr(measure, "__name__", "measure")
    return _(MEASURE_NAMES[name]) if name in MEASURE_NAMES else name.replace("_", " ")


# -------------------------------------------------------------------------------------------- cases


@dataclass(frozen=True, kw_only=True)
class Case:
    """One patient of the clinic: a planted cause, the broken setup, the fix and how to tell them apart."""

    cause: str  # an id from losslab.doctor.CAUSES
    title: str  # title, category and fix: marked with N_, shown through gettext (losslab/clinic/results.py)
    category: str  # the row of the seed article's final checklist this case belongs to
    broken: Callable[[int], Setup]
    fixed: Callable[[int], Setup]
    measure: Callable[[Setup], float]
    goal: float  # the fixed training reaches it, the broken one does not
    higher_is_better: bool = True
    symptom: str = ""  # what the curves show
    tool: str = ""  # the doctor's check (or other tool) that finds the cause
    fix: str = ""  # the fix in one line
    healthy: Callable[[int], Setup] | None = None  # the doctor must stay quiet here; defaults to `fixed`

    @property
    def baseline(self) -> Callable[[int], Setup]:
        return self.healthy or self.fixed

    def reaches_goal(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        return value >= self.goal if self.higher_is_better else value <= self.goal

    @property
    def goal_text(self) -> str:
        """The goal in the learner's language: ``final val_accuracy >= 0.9``."""
        return f"{measure_name(self.measure)} {'>=' if self.higher_is_better else '<='} {self.goal:g}"


VAL_ACC = final("val_accuracy")

CASES: tuple[Case, ...] = (
    Case(
        cause="lr_too_high",
        title=N_("Learning rate too high"),
        category=N_("learning rate"),
        broken=lr_too_high,
        fixed=digits_baseline,
        measure=VAL_ACC,
        goal=0.9,
        symptom="a huge first loss, then stuck at ln 10 = 2.30: the model collapsed to a constant guess",
        tool="lr_sweep",
        fix=N_("lower the learning rate to what a short sweep finds (Adam 1e-3 here)"),
    ),
    Case(
        cause="lr_too_low",
        title=N_("Learning rate too low"),
        category=N_("learning rate"),
        broken=lr_too_low,
        fixed=digits_sgd,
        measure=VAL_ACC,
        goal=0.9,
        symptom="the loss creeps down so slowly that it looks flat",
        tool="lr_sweep",
        fix=N_("raise the learning rate to what a short sweep finds (SGD 0.1 here)"),
    ),
    Case(
        cause="unscaled_inputs",
        title=N_("Unscaled inputs"),
        category=N_("data"),
        broken=unscaled_inputs,
        fixed=wine_scaled,
        measure=VAL_ACC,
        goal=0.9,
        symptom="a first loss around 30x ln 3, then a jagged curve",
        tool="input_scale",
        fix=N_("standardize the features with statistics of the training split"),
    ),
    Case(
        cause="label_noise",
        title=N_("Label noise"),
        category=N_("data"),
        broken=label_noise,
        fixed=clean_labels,
        measure=VAL_ACC,
        goal=0.9,
        symptom="training accuracy stalls far below 1 while the loss stays high",
        tool="label_quality",
        fix=N_("clean the labels: look at the examples the model contradicts confidently"),
    ),
    Case(
        cause="class_imbalance",
        title=N_("Class imbalance"),
        category=N_("data"),
        broken=class_imbalance,
        fixed=class_imbalance_fixed,
        measure=final("val_recall"),
        goal=0.6,
        symptom="accuracy 0.98 and a low loss, yet most rare cases are missed (low recall)",
        tool="class_prior",
        fix=N_("output bias log(pos/neg) and class_weight; report recall and PR-AUC"),
    ),
    Case(
        cause="activation_loss_mismatch",
        title=N_("Output activation and loss disagree"),
        category=N_("loss function"),
        broken=activation_loss_mismatch,
        fixed=digits_baseline,
        measure=VAL_ACC,
        goal=0.9,
        symptom="it trains, but worse than it should, and differently on each backend",
        tool="activation_vs_loss",
        fix=N_("linear output with from_logits=True (or softmax with the default)"),
    ),
    Case(
        cause="label_format",
        title=N_("Labels in the wrong format"),
        category=N_("loss function"),
        broken=label_format,
        fixed=breast_cancer_baseline,
        measure=final("val_accuracy"),
        goal=0.9,
        symptom="a negative cross-entropy, and an accuracy that never passes the share of +1 labels",
        tool="labels_vs_loss",
        fix=N_("binary_crossentropy wants labels 0 and 1"),
    ),
    Case(
        cause="vanishing_gradients",
        title=N_("Vanishing gradients"),
        category=N_("optimizer and gradients"),
        broken=vanishing_gradients,
        fixed=deep_relu_he,
        measure=VAL_ACC,
        goal=0.9,
        symptom="the loss sits at ln 10 = 2.30 from the first epoch: nothing reaches the first layers",
        tool="gradient_norms",
        fix=N_("ReLU with He initialization (or BatchNorm) in deep networks"),
    ),
    Case(
        cause="bad_initialization",
        title=N_("Bad initialization"),
        category=N_("initialization and randomness"),
        broken=bad_initialization,
        fixed=he_initialization,
        measure=VAL_ACC,
        goal=0.9,
        symptom="a first loss in the hundreds or thousands instead of ln 10",
        tool="initial_loss",
        fix=N_("He for ReLU (kernel_initializer='he_normal': ask for it) or Glorot, Keras' default, for tanh/sigmoid"),
    ),
    Case(
        cause="exploding_gradients",
        title=N_("Exploding gradients"),
        category=N_("optimizer and gradients"),
        broken=exploding_gradients,
        fixed=exploding_clipped,
        measure=VAL_ACC,
        goal=0.5,
        symptom="the loss jumps to huge values and the model collapses to chance",
        tool="gradient_norms",
        fix=N_("normalize the inputs (the cure); global_clipnorm limits the damage"),
        healthy=digits_sgd,
    ),
    Case(
        cause="batch_size",
        title=N_("Too few updates (full batch)"),
        category=N_("batch size and shuffling"),
        broken=batch_size,
        fixed=batch_size_fixed,
        measure=VAL_ACC,
        goal=0.9,
        symptom="the loss falls smoothly but stops far from zero: 10 epochs are only 10 updates",
        tool="training_budget",
        fix=N_("smaller batches (more updates per epoch), and retune the learning rate"),
    ),
    Case(
        cause="unshuffled_split",
        title=N_("Sorted data and validation_split"),
        category=N_("batch size and shuffling"),
        broken=unshuffled_split,
        fixed=shuffled_split,
        measure=VAL_ACC,
        goal=0.9,
        symptom="training accuracy near 1, validation accuracy near 0",
        tool="data_hygiene",
        fix=N_("shuffle before splitting: validation_split takes the last rows"),
    ),
    Case(
        cause="underfitting",
        title=N_("A model too small (underfitting)"),
        category=N_("model capacity"),
        broken=underfitting,
        fixed=moons_mlp,
        measure=VAL_ACC,
        goal=0.93,
        symptom="training and validation loss level off together, well above zero",
        tool="overfit_one_batch",
        fix=N_("a bigger model (hidden layers)"),
    ),
    Case(
        cause="overfitting",
        title=N_("Overfitting"),
        category=N_("model capacity"),
        broken=overfitting,
        fixed=regularized,
        measure=overfit_ratio,
        goal=1.15,
        higher_is_better=False,
        symptom="training loss falls to 0 while validation loss turns and rises",
        tool="curves",
        fix=N_("Dropout, L2 and EarlyStopping(restore_best_weights=True); more data"),
    ),
    Case(
        cause="training_flag",
        title=N_("BatchNorm stuck in inference mode"),
        category=N_("implementation"),
        broken=training_flag,
        fixed=training_flag_fixed,
        measure=VAL_ACC,
        goal=0.9,
        symptom="the normalization layer does not normalize: it trains as if the inputs were raw",
        tool="training_mode",
        fix=N_("pass `training` through (or leave it out: Keras passes it for you)"),
    ),
    Case(
        cause="frozen_layers",
        title=N_("Frozen layers"),
        category=N_("implementation"),
        broken=frozen_layers,
        fixed=unfrozen,
        measure=VAL_ACC,
        goal=0.9,
        symptom="training stalls early: only the output layer learns, on top of random features",
        tool="trainable_weights",
        fix=N_("unfreeze: layer.trainable = True, then compile again"),
    ),
    Case(
        cause="reused_model",
        title=N_("A model that keeps training across experiments"),
        category=N_("implementation"),
        broken=reused_model,
        fixed=fresh_model,
        measure=first_loss_ratio,
        goal=0.5,
        symptom="experiment 2 starts where experiment 1 ended: a first loss far below ln 10",
        tool="initial_loss",
        fix=N_("build a fresh model for every experiment"),
        healthy=digits_baseline,
    ),
    Case(
        cause="constant_loss",
        title=N_("A custom loss that returns a constant"),
        category=N_("loss function"),
        broken=constant_loss,
        fixed=digits_baseline,
        measure=VAL_ACC,
        goal=0.9,
        symptom="the loss is exactly the same number at every epoch",
        tool="gradient_norms",
        fix=N_("a loss that depends on the predictions everywhere (here: Keras' own cross-entropy)"),
    ),
    Case(
        cause="not_reproducible",
        title=N_("No seed: runs differ"),
        category=N_("initialization and randomness"),
        broken=not_reproducible,
        fixed=reproducible,
        measure=repeat_difference,
        goal=0.0,
        higher_is_better=False,
        symptom="the same code gives another curve each time it runs",
        tool="determinism",
        fix=N_("keras.utils.set_random_seed(seed) at the start of every experiment; compare over several seeds"),
    ),
    Case(
        cause="unmonitored",
        title=N_("Training without validation"),
        category=N_("logging"),
        broken=unmonitored,
        fixed=overfitting,
        measure=has_validation,
        goal=1.0,
        symptom="a training loss that falls nicely: nothing shows the model getting worse on new data",
        tool="monitoring",
        fix=N_("validation_data, curves on a log axis, TensorBoard, a monitor callback"),
        healthy=regularized,
    ),
)
