"""``TrainingMonitor``: a Keras callback that watches a real training and says why it goes wrong.

It applies the same curve rules as the doctor (``losslab.doctor.curves``), prints on stdout (never stderr,
which nbgrader would score as a failure) and keeps its findings.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from losslab.backend import gradients, sync
from losslab.doctor.curves import rose_in_a_row, stuck_at_chance, val_rising_epochs
from losslab.doctor.model import constant_lr, is_kernel, loss_info, short
from losslab.doctor.report import Finding
from losslab.messages import N_, _

# the checks a finding names (``Finding.check``): keys, shown through ``losslab.shown``
CHECKS = (N_("nan"), N_("stuck"), N_("rising"), N_("diverging"))


class TrainingMonitor(keras.callbacks.Callback):
    """Watches a training and says why it goes wrong: NaN, stuck at ln K, training loss rising, validation
    loss diverging. Messages print on stdout once per kind; ``monitor.findings`` keeps them.

    ``n_classes``: for the ln K rule (read from the model's output when omitted; None for regression).
    ``stop_on_nan``: stop the training at the first NaN (the message explains it; nothing is hidden).
    ``gradient_batch``: an (x, y) batch; when given, the gradient norm of every weight matrix and the learning
    rate are added to the logs each epoch, so History and TensorBoard record them.
    ``data`` (opt-in): the (x, y) given to fit (and ``validation_data``): when an alarm is raised, the monitor
    offers the training doctor's examination of the model from the weights it started with;
    ``monitor.examine()`` runs it after fit (``examine_on_alarm=True`` runs it when fit ends and keeps it in
    ``monitor.report``, whose ``treat()`` retrains the prescriptions).
    """

    def __init__(
        self,
        n_classes: int | None = None,
        *,
        patience: int = 3,
        stop_on_nan: bool = True,
        gradient_batch: tuple[np.ndarray, np.ndarray] | None = None,
        verbose: bool = True,
        data: tuple[np.ndarray, np.ndarray] | None = None,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        batch_size: int = 32,
        examine_on_alarm: bool = False,
    ) -> None:
        super().__init__()
        if examine_on_alarm and data is None:
            raise ValueError(_("examine_on_alarm needs the training data: TrainingMonitor(data=(x, y), ...)"))
        self.data, self.validation_data, self.batch_size = data, validation_data, batch_size
        self.examine_on_alarm = examine_on_alarm
        self.report = None
        self._start: list[np.ndarray] | None = None
        self.n_classes, self.patience, self.stop_on_nan = n_classes, patience, stop_on_nan
        self.gradient_batch, self.verbose = gradient_batch, verbose
        self.findings: list[Finding] = []
        self.losses: list[float] = []
        self.val_losses: list[float] = []

    @property
    def causes(self) -> list[str]:
        """The causes named so far, in order."""
        return list(dict.fromkeys(f.cause for f in self.findings if f.cause))

    def _say(self, kind: str, evidence: str, fix: str, cause: str | None, severity: str = "problem") -> None:
        if any(f.check == kind for f in self.findings):
            return
        finding = Finding(kind, severity, evidence, fix, cause)
        self.findings.append(finding)
        if self.verbose:
            print("TrainingMonitor: " + _("{evidence}. Fix: {fix}.").format(evidence=evidence, fix=fix), flush=True)
            if self.data is not None and len(self.findings) == 1:
                when = _("when fit ends") if self.examine_on_alarm else _("after fit with monitor.examine()")
                print(
                    "TrainingMonitor: "
                    + _("the training doctor can examine this model from its starting weights ({when}).").format(
                        when=when
                    ),
                    flush=True,
                )

    def on_train_end(self, logs=None) -> None:
        if self.examine_on_alarm and self.findings and self.report is None:
            self.report = self.examine()
            if self.verbose:
                print(self.report, flush=True)

    def examine(self, **options):  # a losslab.doctor.Report
        """The doctor's examination of the model from the weights it had when fit began, with the data given
        to the monitor; the model is left with the weights it has now. ``options`` go to ``doctor.examine``."""
        from losslab.doctor.backend import Snapshot
        from losslab.doctor.examine import examine

        if self.data is None or self._start is None:
            raise ValueError(_("pass data=(x, y) to TrainingMonitor and train with it to examine the model"))
        now = Snapshot(self.model)
        try:
            self.model.set_weights(self._start)
            options = {"validation_data": self.validation_data, "batch_size": self.batch_size, **options}
            epochs = (getattr(self, "params", None) or {}).get("epochs") or len(self.losses) or None
            return examine(self.model, *self.data, epochs=epochs, **options)
        finally:
            now.restore()

    def on_train_begin(self, logs=None) -> None:
        self.findings, self.losses, self.val_losses = [], [], []
        if self.data is not None:
            sync(self.model)
            self._start = [np.array(w, copy=True) for w in self.model.get_weights()]
            self.report = None
        if self.n_classes is None:
            info = loss_info(getattr(self.model, "loss", None))
            if info.kind in {"sparse_ce", "ce"}:
                units = self.model.outputs[0].shape[-1] if getattr(self.model, "outputs", None) else None
                self.n_classes = int(units) if units else None
            elif info.kind == "bce":
                self.n_classes = 2

    def on_train_batch_end(self, batch, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            epoch = len(self.losses) + 1
            self._say(
                "nan",
                _("the loss became {loss} in epoch {epoch}, batch {batch}").format(
                    loss=float(loss), epoch=epoch, batch=int(batch) + 1
                ),
                _("lower the learning rate, standardize inputs and targets, look for log(0) in a custom loss"),
                "lr_too_high",
            )
            if self.stop_on_nan:
                self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None) -> None:
        logs = logs if logs is not None else {}
        if "loss" not in logs:
            return
        loss = float(logs["loss"])
        self.losses.append(loss)
        if "val_loss" in logs:
            self.val_losses.append(float(logs["val_loss"]))
        if self.gradient_batch is not None:
            self._log_gradients(logs)
        if not math.isfinite(loss):
            return
        p = self.patience
        stuck = False
        if self.n_classes and len(self.losses) >= p:
            chance = math.log(self.n_classes)
            recent = self.losses[-p:]
            stuck = stuck_at_chance(recent, chance)
            if stuck:
                spike = max(self.losses) > 3 * chance
                self._say(
                    "stuck",
                    _(
                        "the loss has sat at {loss:.3f}, close to ln {k} = {chance:.3f}, for {p} epochs{spike}: the "
                        "model gives every input the same prediction"
                    ).format(
                        loss=recent[-1],
                        k=self.n_classes,
                        chance=chance,
                        p=p,
                        spike=_(" after a spike to {spike:.4g}").format(spike=max(self.losses)) if spike else "",
                    ),
                    _(
                        "lower the learning rate: the large steps threw the weights where every unit is dead or "
                        "saturated"
                    )
                    if spike
                    else _("check the gradients (vanishing, dead units), the loss and the learning rate"),
                    "lr_too_high" if spike else None,
                )
        if not stuck and rose_in_a_row(self.losses, p):
            self._say(
                "rising",
                _("the training loss has risen for {p} epochs in a row ({before:.4g} -> {loss:.4g})").format(
                    p=p, before=self.losses[-p - 1], loss=loss
                ),
                _("lower the learning rate; a training loss that rises is never overfitting"),
                "lr_too_high",
            )
        v = self.val_losses
        if len(v) > p:
            best = min(v)
            if val_rising_epochs(v, p, train_fell=self.losses[-1] < self.losses[-p - 1]):
                self._say(
                    "diverging",
                    _(
                        "validation loss has risen for {p} epochs (best {best:.4g}, now {now:.4g}) while the training "
                        "loss falls"
                    ).format(p=p, best=best, now=v[-1]),
                    _(
                        "the model is overfitting: regularize (Dropout, L2) or stop early "
                        "(EarlyStopping(restore_best_weights=True))"
                    ),
                    "overfitting",
                    "warning",
                )

    def _log_gradients(self, logs: dict) -> None:
        x, y = self.gradient_batch
        _loss, grads = gradients(self.model, x, y)  # (not `_`: the gettext function)
        total = 0.0
        for v, g in zip(self.model.trainable_variables, grads, strict=True):
            norm = float(np.linalg.norm(g))
            total += norm**2
            if is_kernel(v):
                logs[f"grad_norm/{short(v.path)}"] = norm
        logs["grad_norm/total"] = math.sqrt(total)
        lr = constant_lr(self.model)
        if lr is not None:
            logs["learning_rate"] = lr
