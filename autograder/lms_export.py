"""Grades out to a learning-management system: a Canvas-style gradebook CSV (an nbgrader ExportPlugin).

``cd autograder && nbgrader export --exporter=autograder.lms_export.LmsGradebookExport --to gradebook-lms.csv``
(``make export`` runs it after nbgrader's own CSV). The file has:

- one row per student of the roster (nbgrader's gradebook students, from ``nbgrader db student import``), in
  the roster's order by last name, first name and id, whether they submitted or not;
- the columns Canvas' gradebook import reads: ``Student`` ("Last, First"), ``ID`` (Canvas' own id: left
  empty), ``SIS User ID`` and ``SIS Login ID`` (the nbgrader id, which is the hub's user name), ``Section``;
- one column per assignment (in the gradebook's order: by due date, then name), holding the points after
  the late penalty (nbgrader's ``score - late_submission_penalty``, never below 0); 0 for a student who
  submitted nothing (as nbgrader's CSV does); an optional second row, ``Points Possible``, with each
  assignment's maximum (Canvas reads it and ignores it on import).

Moodle (Grades > Import > CSV file) and Blackboard (Grade Center > Work Offline > Upload) read the same file:
map ``SIS Login ID`` to the user name and each assignment column to a grade item (docs/classroom.md).
"""

from __future__ import annotations

import csv
import io

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Bool, Unicode

FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def gradebook_rows(gradebook: Gradebook, assignments: list[str] | None = None, students: list[str] | None = None,
                   section: str = "", points_row: bool = True) -> list[list[str]]:  # fmt: skip
    """The CSV's rows (header first) from an open nbgrader gradebook."""
    chosen = [a for a in gradebook.assignments if not assignments or a.name in assignments]
    chosen.sort(key=lambda a: (a.duedate is None, a.duedate or 0, a.name))
    people = [s for s in gradebook.students if not students or s.id in students]
    people.sort(key=lambda s: ((s.last_name or "").lower(), (s.first_name or "").lower(), s.id))
    rows = [FIXED + [a.name for a in chosen]]
    if points_row:
        rows.append(["Points Possible", "", "", "", ""] + [_number(a.max_score) for a in chosen])
    for student in people:
        name = ", ".join(x for x in (student.last_name, student.first_name) if x) or student.id
        row = [name, "", student.id, student.id, section]
        for assignment in chosen:
            try:
                submission = gradebook.find_submission(assignment.name, student.id)
            except MissingEntry:
                row.append(_number(0.0))
                continue
            row.append(_number(max(0.0, submission.score - (submission.late_submission_penalty or 0.0))))
        rows.append(row)
    return rows


def _number(value: float) -> str:
    """Points as Canvas shows them: 3 not 3.0, at most two decimals."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class LmsGradebookExport(ExportPlugin):
    """nbgrader ExportPlugin: the Canvas-style gradebook CSV described in this module's doc."""

    to = Unicode("gradebook-lms.csv", help="destination file").tag(config=True)
    section = Unicode("", help="the Section column's value for every student").tag(config=True)
    points_possible = Bool(True, help="write Canvas' 'Points Possible' row under the header").tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        rows = gradebook_rows(
            gradebook,
            assignments=list(self.assignment or []),
            students=list(self.student or []),
            section=self.section,
            points_row=self.points_possible,
        )
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        dest = self.to or "gradebook-lms.csv"
        self.log.info("Exporting the LMS gradebook (%d assignments) to %s", len(rows[0]) - len(FIXED), dest)
        with open(dest, "w", encoding="utf-8", newline="") as fh:
            fh.write(buffer.getvalue())
