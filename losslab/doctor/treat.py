"""``treat``: every prescription verified by retraining a copy of the patient.

``doctor.treat(model, x, y, validation_data=..., epochs=..., batch_size=...)`` (in ``examine.py``), or
``report.treat()`` after ``examine``, takes the causes the examination named, most severe first, and for each
applies its prescription to a fresh copy of the model and data (``Patient.build``: ``clone_model`` +
``set_weights``, so the same starting weights), retrains it for the same budget as the untreated copy, and
compares the two runs: the curves side by side (``treatment.figure()``) and a verdict computed from the final
scores (balanced accuracy for a classification, R^2 for a regression: the same units whatever the prescription
changed):

- ``fixed``: the treated run scores better (by at least 0.02 and twice the spread of the two runs' scores over
  their last three epochs; an untreated run that diverged or was refused counts as chance) and the check that
  named the cause no longer names it on a fresh treated copy;
- ``helped``: it scores better, but the check still names the cause;
- ``no better``: otherwise (for a leak, no validation data or unseeded runs, which do not slow the training,
  the check alone decides). The next prescription is then tried on the patient as it was; a prescription that
  helped is kept, and the next one is tried on top of it.

Where a prescription cannot be applied automatically (the labels are the learner's data, a custom layer's code),
the treatment says so and gives the check to run after the fix. The learner's model object is only read.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

import numpy as np

from losslab.doctor.causes import CAUSES
from losslab.doctor.patient import Patient, Run, chance_score, score_kind, train
from losslab.doctor.prescriptions import Manual, prescription
from losslab.doctor.report import Finding, Report
from losslab.messages import N_, _

HELPED_MIN, NOISE_FACTOR = 0.02, 2.0


# Causes that do not make the loss fall slower: their treatment is judged by the check alone.
NOT_ABOUT_TRAINING = frozenset({"data_leak", "unmonitored", "not_reproducible"})


def improved(before: float, after: float, chance: float = 0.0, noise: float = 0.0) -> bool:
    """Whether the score rose by more than the runs' own noise (twice ``noise``, the spread of their last epochs'
    scores) and at least 0.02; an untreated run that diverged or was refused counts as the chance score."""
    if not math.isfinite(after):
        return False
    if not math.isfinite(before):
        before = chance
    return after >= before + max(HELPED_MIN, NOISE_FACTOR * noise)


def noise(*runs: Run) -> float:
    """How much a run's score moves between its last epochs (the largest standard deviation of the last three)."""
    spreads = [float(np.std(r.scores[-3:])) for r in runs if len(r.scores) >= 3 and np.all(np.isfinite(r.scores[-3:]))]
    return max(spreads, default=0.0)


def verdict(better: bool, cause_gone: bool | None, about_training: bool = True) -> str:
    """``fixed`` (better, and the check no longer names the cause), ``helped`` (better, the cause still named)
    or ``no better``. For a cause that does not slow the training (``NOT_ABOUT_TRAINING``) only the check counts."""
    if not about_training:
        return "fixed" if cause_gone else "no better"
    if not better:
        return "no better"
    return "fixed" if cause_gone else "helped"


@dataclass
class Step:
    """One prescription tried: the cause, what changed, its run (None when it is the learner's to make)."""

    cause: str
    change: str
    run: Run | None = None
    verdict: str = "not applied"
    still_named: bool | None = None
    check: str = ""  # for a manual prescription: the check to run after the fix

    def line(self, before: Run) -> str:
        if self.run is None:
            return _("{cause}: {change}. Not applied automatically: after fixing it, run {call}").format(
                cause=self.cause, change=self.change, call=f"doctor.examine(model, x, y, ..., only=[{self.check!r}])"
            )
        after = _("refused:") + " " + self.run.refused if self.run.refused else _score(self.run.final)
        named = "" if self.still_named is None else _("; the check still names it") if self.still_named else ""
        return _("{cause}: {change}: score {before} -> {after}: {verdict}{named}").format(
            cause=self.cause,
            change=self.change,
            before=_score(before.final),
            after=after,
            verdict=_(self.verdict),
            named=named,
        )


# The verdicts as shown (through gettext); the codes stay English data.
VERDICTS = (N_("fixed"), N_("helped"), N_("no better"), N_("not applied"))


def _score(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else _("diverged")


@dataclass
class Treatment:
    """The untreated run, every prescription tried (``steps``) and the verdict of the last one applied."""

    before: Run
    steps: list[Step] = field(default_factory=list)
    kind: str = "classification"
    chance: float = 0.0
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        """``fixed`` when a prescription fixed it, else ``helped`` when one helped, else ``no better``."""
        verdicts = [s.verdict for s in self.steps]
        return next((v for v in ("fixed", "helped", "no better") if v in verdicts), "not applied")

    @property
    def applied(self) -> list[Step]:
        return [s for s in self.steps if s.run is not None]

    def summary(self) -> str:
        unit = _("balanced accuracy") if self.kind == "classification" else "R^2"
        return _(
            "Treatment: {n} prescription(s) retrained in {seconds} s; {unit} on the validation data "
            "(chance {chance}); verdict: {verdict}"
        ).format(
            n=len(self.applied),
            seconds=f"{self.seconds:.1f}",
            unit=unit,
            chance=f"{self.chance:.2f}",
            verdict=_(self.verdict),
        )

    def __str__(self) -> str:
        refused = self.before.refused
        untreated = _("refused:") + " " + refused if refused else _score(self.before.final)
        lines = [self.summary()]
        if self.applied:
            lines.append("  " + _("untreated copy, same budget: score {score}").format(score=untreated))
        return "\n".join(lines + ["  " + s.line(self.before) for s in self.steps])

    def __repr__(self) -> str:
        return f"<{self.summary()}>"

    def _repr_html_(self) -> str:
        rows = "".join(f"<li>{escape(s.line(self.before))}</li>" for s in self.steps)
        return f"<p><b>{escape(self.summary())}</b></p><ul>{rows}</ul>"

    def figure(self):  # a matplotlib Figure
        """The curves side by side: per prescription, the loss (left) and the score (right), untreated and
        treated, per epoch."""
        import matplotlib.pyplot as plt

        steps = self.applied
        fig, axes = plt.subplots(max(len(steps), 1), 2, figsize=(9, 2.8 * max(len(steps), 1)), squeeze=False)
        unit = _("balanced accuracy") if self.kind == "classification" else "R^2"
        for row, step in zip(axes, steps or [None], strict=True):
            untreated = (_("untreated"), _("untreated: training"), _("untreated: validation"))
            treated = (_("treated"), _("treated: training"), _("treated: validation"))
            for run, labels, style in ((self.before, untreated, "--"), (step.run if step else None, treated, "-")):
                if run is None:
                    continue
                epochs = np.arange(1, len(run.loss) + 1)
                row[0].plot(epochs, run.loss, style, label=labels[1])
                if run.val_loss:
                    row[0].plot(np.arange(1, len(run.val_loss) + 1), run.val_loss, style, label=labels[2])
                row[1].plot(np.arange(1, len(run.scores) + 1), run.scores, style, label=labels[0])
            yscale = "log" if _positive(self.before, step) else "linear"
            row[0].set(xlabel=_("epoch"), ylabel=_("loss"), yscale=yscale)
            row[1].set(xlabel=_("epoch"), ylabel=unit)
            row[1].axhline(self.chance, color="gray", lw=0.8, ls=":")
            title = f"{step.cause}: {step.change} -> {_(step.verdict)}" if step else _("no prescription applied")
            row[0].set_title(title, fontsize=9, loc="left")
            row[0].legend(fontsize="x-small")
            row[1].legend(fontsize="x-small")
        fig.tight_layout()
        return fig


def _positive(before: Run, step: Step | None) -> bool:
    values = [*before.loss, *before.val_loss]
    if step and step.run:
        values += [*step.run.loss, *step.run.val_loss]
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0


def run(
    report: Report,
    examine: Callable[..., Report],
    *,
    causes: list[str] | None = None,
    max_tries: int = 3,
    seed: int = 0,
) -> Treatment:
    """Try the prescriptions of the causes ``report`` names (or ``causes``) on copies of its patient; ``examine``
    re-examines a treated copy (``losslab.doctor.examine``). Called by ``doctor.treat`` and ``report.treat()``."""
    started = time.perf_counter()
    if report.patient is None:
        raise ValueError(_("this report does not hold its patient: build it with doctor.examine(model, x, y, ...)"))
    patient: Patient = report.patient
    treatment = Treatment(Run(()), kind=score_kind(patient), chance=chance_score(score_kind(patient), patient.y))
    findings = {f.cause: f for f in report.alarms if f.cause}
    suggestion = next((f.values["suggestion"] for f in report.findings if f.values.get("suggestion")), None)
    wanted = list(causes) if causes is not None else list(findings)
    unknown = [c for c in wanted if c not in CAUSES]
    if unknown:
        raise ValueError(_("unknown cause(s) {unknown}; known: {known}").format(unknown=unknown, known=sorted(CAUSES)))
    current, current_run = patient, None
    tries = 0
    for cause in wanted:
        finding = findings.get(cause) or Finding("treat", "warning", _("asked for"), cause=cause)
        if cause in {"lr_too_high", "lr_too_low"} and suggestion and "suggestion" not in finding.values:
            finding = Finding(
                finding.check, finding.severity, finding.evidence, finding.fix, cause, {"suggestion": suggestion}
            )
        changed = prescription(cause, current, finding)
        if isinstance(changed, Manual):
            treatment.steps.append(Step(cause, changed.what, check=changed.check))
            continue
        if tries >= max_tries:
            break
        tries += 1
        if current_run is None:  # the untreated copy, trained once something is to be compared with it
            current_run = treatment.before = train(patient, seed)
        run = train(changed, seed)
        step = Step(cause, "; ".join(changed.changes[len(current.changes) :]), run)
        better = improved(current_run.final, run.final, treatment.chance, noise(current_run, run))
        about_training = cause not in NOT_ABOUT_TRAINING
        if better or not about_training:
            step.still_named = _still_named(changed, finding, seed, examine)
        step.verdict = verdict(better, None if step.still_named is None else not step.still_named, about_training)
        treatment.steps.append(step)
        if step.verdict == "fixed":
            break
        if step.verdict == "helped":
            current, current_run = changed, run
    treatment.seconds = time.perf_counter() - started
    return treatment


def _still_named(patient: Patient, finding: Finding, seed: int, examine: Callable[..., Report]) -> bool:
    """Whether the check that named the cause names it again on the treated copy (a fresh build)."""
    from losslab.doctor.registry import REGISTRY

    if finding.check not in REGISTRY:
        return False
    model = patient.build(seed)
    validation = None if patient.x_val is None else (patient.x_val, patient.y_val)
    again = examine(
        model,
        patient.x,
        patient.y,
        validation_data=validation,
        batch_size=patient.batch_size,
        epochs=patient.epochs,
        class_weight=patient.class_weight,
        shuffle=patient.shuffle,
        only=[finding.check],
        seed=seed,
    )
    return finding.cause in again.causes()
