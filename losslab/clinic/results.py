"""Training the cases once, plotting them, the checklist table, looking a case up and showing its code."""

from __future__ import annotations

import inspect
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from losslab.clinic.cases import CASES, Case, measure_name
from losslab.clinic.setup import Setup
from losslab.messages import _

_TRAINED: dict[tuple[str, int], Setup] = {}


def trained(builder: Callable[[int], Setup], seed: int = 0, progress: str | None = None) -> Setup:
    """``builder(seed)``, trained once: several cases share a fix (the digits baseline fixes four of them),
    so the notebook trains it once and reuses the result."""
    key = (builder.__name__, seed)
    if key not in _TRAINED:
        setup = builder(seed)
        setup.train(progress=progress)
        _TRAINED[key] = setup
    return _TRAINED[key]


def compare(
    runs: dict[str, Setup],
    metric: str = "loss",
    *,
    title: str,
    ylabel: str | None = None,
    log_y: bool = False,
    validation: bool = True,
    ax=None,
):  # a matplotlib Axes
    """Training curves of several trained setups on one axis (validation dashed), via losslab.plots."""
    from losslab import plots

    histories = {label: setup.history for label, setup in runs.items() if not setup.refused}
    return plots.curves(histories, metric, title=title, ylabel=ylabel, log_y=log_y, validation=validation, ax=ax)


@dataclass
class Results:
    """What each case measured, for the checklist table at the end of the clinic."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def record(self, case_: Case, broken: Setup, fixed: Setup, report: Any) -> dict[str, Any]:
        """Measure both trained setups with the case's measure and keep the row, with the checks of `report`
        (a losslab.doctor.Report, or a monitor's name) that named the cause; returns the row."""
        if isinstance(report, str):
            named_by = report
        else:
            named_by = ", ".join(dict.fromkeys(f.check for f in report.alarms if f.cause == case_.cause))
        row = {
            "category": case_.category,
            "cause": case_.cause,
            "title": case_.title,
            "measure": getattr(case_.measure, "__name__", "measure"),
            # a setup the backend refused to train has no value, and reaches no goal
            "broken": math.nan if broken.refused else case_.measure(broken),
            "fixed": math.nan if fixed.refused else case_.measure(fixed),
            "named_by": named_by or _("not named"),
            "fix": case_.fix,
            "goal": case_.goal_text,
            "broken_refused": broken.refused,
            "fixed_refused": fixed.refused,
        }
        row["ok"] = (not case_.reaches_goal(row["broken"])) and case_.reaches_goal(row["fixed"])
        self.rows = [r for r in self.rows if r["cause"] != case_.cause] + [row]
        print(
            _(
                "{title}: {measure} {broken} broken -> {fixed} fixed (goal: {goal}{unexpected}); found by {named_by}"
            ).format(
                title=_(case_.title),
                measure=measure_name(case_.measure),
                broken=_value(row, "broken"),
                fixed=_value(row, "fixed"),
                goal=row["goal"],
                unexpected="" if row["ok"] else _(", NOT as expected"),
                named_by=row["named_by"],
            )
        )
        return row

    def _repr_html_(self) -> str:
        from html import escape

        order = [c.category for c in CASES]
        rows = sorted(self.rows, key=lambda r: order.index(r["category"]))
        body = []
        for r in rows:
            cells = [
                _(r["category"]),
                _(r["title"]),
                f"{measure_name(case(r['cause']).measure)}: {_value(r, 'broken')} -> {_value(r, 'fixed')}",
                r["named_by"],
                _(r["fix"]),
            ]
            body.append("<tr>" + "".join(f"<td style='text-align:left'>{escape(str(c))}</td>" for c in cells) + "</tr>")
        head = "".join(
            f"<th>{h}</th>"
            for h in (_("checklist row"), _("case"), _("measured: broken -> fixed"), _("found by"), _("fix"))
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"

    def __str__(self) -> str:
        return "\n".join(
            f"{_(r['category']):<28}{_(r['title']):<44}"
            f"{_value(r, 'broken'):>9} -> {_value(r, 'fixed'):<9}{r['named_by']}"
            for r in self.rows
        )


def _value(row: dict[str, Any], which: str) -> str:
    """A measured value for the table, or "refused" where the backend would not train the setup."""
    return _("refused") if row.get(f"{which}_refused") else f"{row[which]:.3g}"


def case(cause: str) -> Case:
    """The clinic's case for `cause`; KeyError listing them otherwise."""
    for c in CASES:
        if c.cause == cause:
            return c
    raise KeyError(
        _("no clinic case {cause!r}; the cases are {cases}").format(cause=cause, cases=[c.cause for c in CASES])
    )


def show(case_: Case) -> None:
    """Print the broken builder's source, then the fixed one's: the code the learner should compare."""
    for label, fn in (("broken", case_.broken), ("fixed", case_.fixed)):
        print(f"# --- {label}: {fn.__name__}")
        print(textwrap.dedent(inspect.getsource(fn)).strip())
        print()
