"""nbgrader configuration for Loss Lab. nbgrader reads this file from its working directory (autograder/).

Layout: solutions/<assignment>/ is nbgrader's source folder (the single source of the course); releases are
generated into autograder/release/ and copied to course/ by autograder/release.py; submissions live in
autograder/submitted/<student>/<assignment>/. Only the graded notebooks (*_exercise.ipynb) take part in
nbgrader; tutorials are copied unchanged.
"""

import os
import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:  # so nbgrader can import autograder
    sys.path.insert(0, _REPO)

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from autograder.config import CONFIG  # noqa: E402
from autograder.executor import GuardedExecute  # noqa: E402
from autograder.late import LatePenalty, parse_policy  # noqa: E402
from autograder.preprocessors import FeedbackSummary, FeedbackTracebacks, TestCellStderr  # noqa: E402

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

# Every grading kernel gets TensorFlow's C++ logs and the oneDNN banner off stderr, and tf.data's autotuning off (the
# grading driver gives nbgrader the same, and each kernel's share of the cores), where nbgrader's own environment
# does not set them. Given to the kernels, not written into os.environ: the process that loads this file may be the
# instructor's own Jupyter server (the formgrader on the class hub), whose other kernels keep the learner's defaults.
c.GuardedExecute.kernel_env = dict(CONFIG.kernel_env)

c.CourseDirectory.course_id = CONFIG.course_id
c.CourseDirectory.root = str(CONFIG.root)
c.CourseDirectory.source_directory = str(CONFIG.source)
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.notebook_id = CONFIG.notebook_id
c.CourseDirectory.db_url = CONFIG.db_url
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Per-cell limit while grading; the per-submission limits (wall clock, memory) are set by autograder/unit.py
# on GuardedExecute, nbgrader's Execute with those limits, kernel recovery and the kernel guard.
c.Execute.timeout = CONFIG.cell_timeout_s
c.Execute.startup_timeout = CONFIG.kernel_start_s
c.Execute.interrupt_on_timeout = True
# (nbgrader's Execute always continues past a cell that raises: allow_errors is fixed, not configurable.)

# A test cell the submission deleted is put back (with the master copy of its tests) and graded.
c.OverwriteCells.add_missing_cells = True

# Grading measures behaviour: a test cell passes when it raises nothing. Library warnings and log lines that
# reach a test cell's stderr must not cost points (nbgrader would score them 0), see autograder/POLICY.md.
c.Autograde.autograde_preprocessors = [
    GuardedExecute,
    TestCellStderr,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# Late submissions (autograder/late.py, nbgrader's LateSubmissionPlugin with a percentage per day): a notebook
# submitted after its due date loses LATE_POLICY's share of its score: "none", "zero", or "percent:N" (N % of the
# score per day or part of a day late). The default: 10 % per day. LOSSLAB_LATE_POLICY overrides it for one run.
LATE_POLICY = "percent:10"
_late_method, _late_percent = parse_policy(os.environ.get("LOSSLAB_LATE_POLICY") or LATE_POLICY)
c.AssignLatePenalties.plugin_class = LatePenalty
c.LatePenalty.penalty_method = _late_method
c.LatePenalty.percent_per_day = _late_percent or 10.0

# Feedback explains failures without printing hidden tests: nbgrader's default shows test cells with their
# hidden tests and full tracebacks through the checks' source (autograder/feedback.py).
c.GenerateFeedback.preprocessors = [
    GetGrades,
    FeedbackTracebacks,
    FeedbackSummary,
    ClearHiddenTests,
    CSSHTMLHeaderPreprocessor,
]
