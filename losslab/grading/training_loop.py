"""Behavior checks for the training-loop exercise (solutions/02_optimizers/training_loop_exercise.ipynb).

``check_loop`` trains models the notebook never shows (wine and breast-cancer data, with and without
BatchNorm, other batch sizes, SGD with momentum and Adam) with the learner's loop and with the course's
``losslab.loops.train`` from the same weights and batches, on the running backend: the weights, BatchNorm's
running averages and the validation figures the loop reports must agree. When they do not, the learner's loop is
compared with each slipped loop of ``loops.SLIP_EDITS`` to name the slip it behaves like.
``check_diagnose`` hands the learner's ``diagnose`` the logs of slipped and correct loops on those unseen
trainings and expects each slip's name. Each check raises GradingError with a message for the learner, or prints
what it measured and returns None (never a number: nbgrader would read it as partial credit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from losslab.grading.core import GradingError, as_choice, as_text, require
from losslab.messages import N_, _

RTOL = 1e-4
ATOL = 1e-5


class Training:
    """One hidden training: data, model and optimizer, built fresh (same weights) for every loop run on it.

    A plain class: this module is loaded as a private copy outside sys.modules, where dataclasses fail.
    """

    def __init__(
        self,
        name: str,
        dataset: str,
        *,
        batchnorm: bool,
        optimizer: str,
        batch_size: int,
        epochs: int,
        seed: int,
        limit: int = 0,
    ) -> None:
        self.name, self.dataset, self.batchnorm, self.optimizer = name, dataset, batchnorm, optimizer
        self.batch_size, self.epochs, self.seed, self.limit = batch_size, epochs, seed, limit

    def split(self) -> Any:
        """The data set's split; with ``limit``, its first ``limit`` training examples only (a short training)."""
        from losslab import data

        split = getattr(data, self.dataset)(seed=self.seed)
        if not self.limit:
            return split
        n = self.limit
        return data.Split(
            split.name,
            split.x_train[:n],
            split.x_val,
            split.y_train[:n],
            split.y_val,
            split.feature_names,
            split.class_names,
            dict(split.info),
        )

    def parts(self) -> tuple:
        import keras

        from losslab import loops

        split = self.split()
        model = loops.digits_model(
            batchnorm=self.batchnorm, seed=self.seed, n_inputs=split.n_features, n_classes=split.n_classes
        )
        if self.optimizer == "adam":
            optimizer = keras.optimizers.Adam(learning_rate=0.01)
        else:
            optimizer = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)
        return model, optimizer, split

    def run(self, loop: Callable) -> tuple[Any, Any]:
        """(the log the loop returned, the model it trained)."""
        model, optimizer, split = self.parts()
        log = loop(model, optimizer, split, epochs=self.epochs, batch_size=self.batch_size, seed=self.seed)
        return log, model


# The trainings' names are shown through gettext (marked N_).
LOOP_TRAININGS = (
    Training(
        N_("wine, BatchNorm, SGD with momentum, batches of 16"),
        "wine",
        batchnorm=True,
        optimizer="sgd",
        batch_size=16,
        epochs=2,
        seed=3,
    ),
    Training(
        N_("breast cancer, no BatchNorm, Adam, batches of 48"),
        "breast_cancer",
        batchnorm=False,
        optimizer="adam",
        batch_size=48,
        epochs=2,
        seed=5,
        limit=240,
    ),
)
DIAGNOSE_TRAININGS = (  # short trainings: twelve loops run within one test cell's time limit on every backend
    Training(
        N_("wine with BatchNorm, batches of 16"),
        "wine",
        batchnorm=True,
        optimizer="sgd",
        batch_size=16,
        epochs=1,
        seed=7,
    ),
    Training(
        N_("breast cancer with BatchNorm, batches of 4"),
        "breast_cancer",
        batchnorm=True,
        optimizer="sgd",
        batch_size=4,
        epochs=1,
        seed=11,
        limit=64,
    ),
)


def _weights(model: Any) -> list[np.ndarray]:
    import keras

    return [np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64) for v in model.variables]


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(
        x.shape == y.shape
        and bool(np.all(np.isfinite(x) == np.isfinite(y)))
        and bool(np.allclose(np.nan_to_num(x), np.nan_to_num(y), rtol=RTOL, atol=ATOL))
        for x, y in zip(a, b, strict=True)
    )


def _figures(log: Any, what: str) -> list[float]:
    values = getattr(log, what, None)
    require(
        values is not None, _("the loop should return the LoopRun it logged into (it has no .{what})").format(what=what)
    )
    return [float(v) for v in values]


def check_loop(train_loop: Any) -> None:
    """The learner's loop trains exactly like loops.train on trainings the notebook never showed."""
    from losslab import loops

    require(callable(train_loop), _("train_loop should be the function that trains the model"))
    for training in LOOP_TRAININGS:
        name = _(training.name)
        try:
            log, model = training.run(train_loop)
        except GradingError:
            raise
        except Exception as error:  # the learner's loop may fail in any way; say how
            raise GradingError(
                _("train_loop failed on {name}: {error}: {message}").format(
                    name=name, error=type(error).__name__, message=error
                )
            ) from None
        reference_log, reference = training.run(loops.train)
        mine, theirs = _weights(model), _weights(reference)
        if not _same(mine, theirs):
            like = [slip for slip in loops.SLIP_EDITS if _same(mine, _weights(training.run(loops.slipped(slip))[1]))]
            hint = (
                _(" It trains exactly like the loop with this slip: {slip}.").format(slip=_(loops.SLIPS[like[0]]))
                if like
                else _(
                    " Check each line against the notebook's loop: clear grads, compute the averaged loss and its "
                    "gradients in training mode, add them into grads, apply, once per batch from "
                    "batches(split, batch_size, seed=seed + epoch)."
                )
            )
            raise GradingError(
                _("on {name} the weights after training differ from a correct loop's.{hint}").format(
                    name=name, hint=hint
                )
            )
        got = _figures(log, "val_accuracy")
        want = reference_log.val_accuracy
        require(
            len(got) == len(want)
            and np.allclose(got, want, atol=1e-9)
            and np.allclose(_figures(log, "val_loss"), reference_log.val_loss, rtol=RTOL, atol=ATOL),
            _(
                "on {name} the weights are right, but the validation figures the loop logged are not those of "
                "an evaluation in inference mode after each epoch: log.epoch(evaluate(model, split.x_val, split.y_val, "
                "training=False))."
            ).format(name=name),
        )
        require(
            len(_figures(log, "batch_loss")) == len(reference_log.batch_loss),
            _(
                "on {name} the loop logged {logged} steps where it made {made}: call log.step(loss, new, grads) once "
                "per batch"
            ).format(name=name, logged=len(log.batch_loss), made=len(reference_log.batch_loss)),
        )
        print(_("{name}: same weights and validation figures as the correct loop").format(name=name))


def _diagnose_cases() -> list[tuple[str, str, Any]]:
    from losslab import loops

    cases = []
    for training in DIAGNOSE_TRAININGS:
        for slip in loops.SLIPS:
            log, _model = training.run(loops.slipped(slip))
            cases.append((training.name, slip, log))
    return cases


def check_diagnose(diagnose: Any) -> None:
    """The learner's diagnose names the slip of each loop, from its log alone, on trainings it never saw."""
    from losslab import loops

    require(callable(diagnose), _("diagnose should be a function that takes a LoopRun and returns a slip's name"))
    wrong = []
    for name, slip, log in _diagnose_cases():
        try:
            said = as_choice(diagnose(log), list(loops.SLIPS), "diagnose(run)")
        except GradingError as error:
            raise GradingError(
                f"{_('on {name}, {slip}:').format(name=_(name), slip=_(loops.SLIPS[slip]))} {error}"
            ) from None
        except Exception as error:  # say which log broke the learner's function
            raise GradingError(
                _("diagnose failed on {name} ({error}: {message})").format(
                    name=_(name), error=type(error).__name__, message=error
                )
            ) from None
        if said != slip:
            wrong.append(
                _("{slip} on {name}, named {said!r}").format(slip=_(loops.SLIPS[slip]), name=_(name), said=said)
            )
    require(
        not wrong,
        _(
            "{n} of {total} logs were misread: {wrong}. Look for what only that slip leaves in the log: the first "
            "weight change, applied against own gradient, the first loss against ln(number of classes), BatchNorm's "
            "statistics, the reported validation loss against the inference one."
        ).format(n=len(wrong), total=2 * len(loops.SLIPS), wrong=_("; ").join(wrong[:3])),
    )
    print(_("all {n} logs named right").format(n=2 * len(loops.SLIPS)))


def check_device_answer(answer: Any) -> None:
    """A PyTorch batch built on the CPU meets a model moved to the GPU: move each batch too ('c')."""
    text = as_choice(as_text(answer, "device_answer"), "abcd", "device_answer")
    require(
        text == "c",
        _(
            "not this one. model.to('cuda') moved the weights; every tensor built from NumPy starts on the CPU, and "
            "PyTorch moves nothing by itself: send each batch to the model's device."
        ),
    )
    print(_("right: x.to(device) and y.to(device) for every batch, or build each batch on the device"))
