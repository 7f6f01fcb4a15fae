"""The doctor's report: a ``Finding`` per check (severity, measured evidence, fix, cause) and the ``Report``.

No Keras here: a report can be built, read and shown without a backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from losslab.doctor.causes import CAUSES
from losslab.messages import N_, _

SEVERITIES = ("ok", "info", "warning", "problem")
# How a severity and the default title are shown (through gettext); the codes above stay as they are.
SEVERITY_NAMES = {"ok": N_("ok"), "info": N_("info"), "warning": N_("warning"), "problem": N_("problem")}
TITLE = N_("Training doctor")
RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass
class Finding:
    """One check's verdict: severity, what was measured, what to do, and the cause it names (if any)."""

    check: str
    severity: str
    evidence: str
    fix: str = ""
    cause: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in RANK:
            raise ValueError(
                _("severity must be one of {known}, got {severity}").format(
                    known=SEVERITIES, severity=repr(self.severity)
                )
            )
        if self.cause is not None and self.cause not in CAUSES:
            raise ValueError(
                _("unknown cause {cause}; known: {known}").format(cause=repr(self.cause), known=sorted(CAUSES))
            )

    @property
    def alarming(self) -> bool:
        """A warning or a problem (what the report lists as suspects)."""
        return RANK[self.severity] >= RANK["warning"]

    def line(self) -> str:
        """One line of text: severity, check, cause, evidence and (when alarming) the fix."""
        cause = f" [{self.cause}]" if self.cause and self.alarming else ""
        fix = f"\n      {_('fix:')} {self.fix}" if self.fix and self.alarming else ""
        return f"{_(SEVERITY_NAMES[self.severity]).upper():8s} {self.check}{cause}: {self.evidence}{fix}"


_COLOURS = {"ok": "#2e7d32", "info": "#546e7a", "warning": "#ef6c00", "problem": "#c62828"}


@dataclass
class Report:
    """The doctor's findings; ``str(report)`` is text, a notebook shows an HTML table."""

    findings: list[Finding]
    seconds: float = 0.0
    title: str = TITLE
    patient: Any = field(default=None, repr=False, compare=False)  # what treat() copies (doctor.patient.Patient)

    treater: Any = field(default=None, repr=False, compare=False)  # set by examine: runs the treatment

    def treat(self, **options: Any) -> Any:
        """Try the prescription of every cause named here on a copy of the model and data, retrained for the same
        budget; returns a ``doctor.treat.Treatment`` (verdicts, curves). See ``losslab.doctor.treat``."""
        if self.treater is None:
            raise ValueError(_("this report does not hold its patient: build it with doctor.examine(model, x, y, ...)"))
        return self.treater(**options)

    def causes(self, min_severity: str = "warning") -> list[str]:
        """The causes named by findings at least as severe as `min_severity`, most severe first."""
        floor = RANK[min_severity]
        ranked = sorted(
            (f for f in self.findings if f.cause and RANK[f.severity] >= floor),
            key=lambda f: -RANK[f.severity],
        )
        return list(dict.fromkeys(f.cause for f in ranked))

    def names(self, cause: str) -> bool:
        """True when a warning or a problem names `cause`."""
        if cause not in CAUSES:
            raise KeyError(_("unknown cause {cause}; known: {known}").format(cause=repr(cause), known=sorted(CAUSES)))
        return cause in self.causes()

    @property
    def alarms(self) -> list[Finding]:
        """Warnings and problems, most severe first."""
        return sorted((f for f in self.findings if f.alarming), key=lambda f: -RANK[f.severity])

    @property
    def worst(self) -> str:
        """The most severe severity found ("ok" for an empty report)."""
        return max((f.severity for f in self.findings), key=RANK.__getitem__, default="ok")

    def finding(self, check: str) -> Finding:
        """The (most severe) finding of one check; KeyError listing the checks otherwise."""
        found = [f for f in self.findings if f.check == check]
        if not found:
            raise KeyError(
                _("no finding for {check}; checks: {known}").format(
                    check=repr(check), known=sorted({f.check for f in self.findings})
                )
            )
        return max(found, key=lambda f: RANK[f.severity])

    def only(self, *checks: str) -> Report:
        """The findings of some checks only, e.g. to show the one that names a cause."""
        return Report(
            [f for f in self.findings if f.check in checks], self.seconds, self.title, self.patient, self.treater
        )

    def summary(self) -> str:
        """One line: how many findings, how long, and the suspects."""
        causes = self.causes()
        suspects = ", ".join(f"{c} ({_(CAUSES[c])})" for c in causes)
        verdict = _("nothing alarming") if not causes else _("suspects:") + " " + suspects
        n = len(self.findings)
        line = _("{title}: 1 finding in {seconds} s; {verdict}") if n == 1 else None
        line = line or _("{title}: {n} findings in {seconds} s; {verdict}")
        return line.format(title=_(self.title), n=n, seconds=f"{self.seconds:.1f}", verdict=verdict)

    def __str__(self) -> str:
        ordered = sorted(self.findings, key=lambda f: -RANK[f.severity])
        return "\n".join([self.summary(), *("  " + f.line() for f in ordered)])

    def __repr__(self) -> str:
        return f"<Report {self.summary()}>"

    def _repr_html_(self) -> str:
        rows = []
        for f in sorted(self.findings, key=lambda f: -RANK[f.severity]):
            badge = (
                f'<span style="background:{_COLOURS[f.severity]};color:white;padding:1px 6px;'
                f'border-radius:3px">{escape(_(SEVERITY_NAMES[f.severity]))}</span>'
            )
            cause = f"<br><code>{escape(f.cause)}</code>" if f.cause and f.alarming else ""
            fix = escape(f.fix) if f.alarming else ""
            rows.append(
                f"<tr><td>{badge}</td><td><b>{escape(f.check)}</b>{cause}</td>"
                f"<td style='text-align:left'>{escape(f.evidence)}</td>"
                f"<td style='text-align:left'>{fix}</td></tr>"
            )
        return (
            f"<p><b>{escape(self.summary())}</b></p><table><thead><tr><th>{_('severity')}</th><th>{_('check')}</th>"
            f"<th>{_('evidence (measured)')}</th><th>{_('fix')}</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
