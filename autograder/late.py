"""The late-submission policy: nbgrader's LateSubmissionPlugin with a percentage per day as well.

nbgrader's AssignLatePenalties (in autograder/nbgrader_config.py's autograde preprocessors) asks the plugin for a
penalty whenever a submission's timestamp (``timestamp.txt``, written by ``nbgrader submit``, kept by ``nbgrader
collect``) is after the assignment's due date in the gradebook (``nbgrader db assignment add A --duedate=...``,
or a student's extension). nbgrader's own plugin offers ``none`` and ``zero``; this one adds ``percent``:

- ``none``: no penalty;
- ``zero``: a late notebook scores 0;
- ``percent``: ``percent_per_day`` of the notebook's score for every day or part of a day late (1 second late is
  one day), never more than the score.

The course's choice is the one line ``LATE_POLICY`` in autograder/nbgrader_config.py (the environment variable
``LOSSLAB_LATE_POLICY`` overrides it: ``none``, ``zero`` or ``percent:N``). nbgrader applies the penalty per
notebook; the gradebook keeps the score before it (``score``) and the penalty (``late_submission_penalty``).
"""

from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Enum, Float

DAY_S = 86400.0


def parse_policy(text: str) -> tuple[str, float]:
    """``none``, ``zero`` or ``percent:N`` (0 < N <= 100) as (method, percent per day); a clear error otherwise."""
    method, _, amount = text.strip().lower().partition(":")
    if method in ("none", "zero") and not amount:
        return method, 0.0
    if method == "percent":
        try:
            value = float(amount)
        except ValueError:
            value = math.nan
        if 0 < value <= 100:
            return method, value
    raise ValueError(
        f"late-submission policy {text!r}: use none, zero or percent:N with N the percentage of the score taken "
        "per day late (0 < N <= 100), e.g. percent:10"
    )


def penalty(method: str, percent_per_day: float, score: float, seconds_late: float) -> float:
    """The points taken from `score` for a notebook submitted `seconds_late` seconds after its due date."""
    if seconds_late <= 0 or score <= 0 or method == "none":
        return 0.0
    if method == "zero":
        return float(score)
    days = math.ceil(seconds_late / DAY_S)
    return float(min(score, score * percent_per_day / 100.0 * days))


class LatePenalty(LateSubmissionPlugin):
    """nbgrader's LateSubmissionPlugin with ``percent`` besides ``none`` and ``zero`` (see the module's doc)."""

    penalty_method = Enum(("none", "zero", "percent"), default_value="none").tag(config=True)
    percent_per_day = Float(10.0, help="with penalty_method='percent': the share of the score taken per day").tag(
        config=True
    )

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        taken = penalty(self.penalty_method, self.percent_per_day, score, total_seconds_late)
        self.log.info(
            "Late submission of %s, %.0f s late: %s policy takes %.2f of %.2f points",
            student_id,
            total_seconds_late,
            self.penalty_method,
            taken,
            score,
        )
        return taken
