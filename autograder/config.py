"""The grader's one configuration: every limit, timeout, path and name that more than one step reads.

``CONFIG`` (a frozen ``GradingConfig``) is the only place a default is written. nbgrader_config.py, the grading
driver (autograder/grade.py, coordinator.py), self-grading (autograder/selfgrade.py), the sandbox and the
executor read it; the Makefile's grade variables are empty by default, so the defaults below apply. ``Limits``
is the part of it a grading run may change (``WALL=``, ``MEMORY=``, ``CELL_TIMEOUT=``, ``DISK=``, ``OUTPUT=``).

Shell scripts (``start``, ``postBuild``, the Makefile's ``lab`` verb) read it through the command line, which
imports nothing heavy::

    python -m autograder.config --get cell_timeout_s     # 120
    python -m autograder.config --validate-config        # the nbgrader_config.py of a learner's Validate button
    python -m autograder.config --quiet-env              # export lines for the grading kernels' environment
    python -m autograder.config --tf-env                 # the same for TensorFlow alone (a learner's lab)
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from losslab import tfdata

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOLUTIONS = REPO / "solutions"
COURSE = REPO / "course"

MODES = ("auto", "require", "off")  # the sandbox modes (autograder/sandbox.py)


@dataclass(frozen=True)
class GradingConfig:
    """Every default of the grader, once (see the module docstring)."""

    course_id: str = "losslab"
    root: Path = HERE  # nbgrader's course folder: gradebook.db, submitted/, autograded/, feedback/, reports/
    source: Path = SOLUTIONS  # nbgrader's source folder (the hidden tests)
    course: Path = COURSE  # the learner's edition (self-grading reads the learner's notebooks here)
    # limits of one submission (autograder/POLICY.md)
    wall_s: float = 300.0  # per submission; a solution grades in <= 45 s on 2 cores (docs/design.md)
    memory_mb: float = 2000.0  # the kernel as the machine charges it; Binder stops a session at 2 GB
    cell_timeout_s: int = 120  # nbgrader's per-cell limit (c.Execute.timeout), also Validate's on Binder
    kernel_start_s: int = 180  # a kernel's start and imports (c.Execute.startup_timeout; nbclient's 60 s fails loaded)
    disk_mb: float = 1000.0  # what a submission may write into its working folder (and the size of its /tmp)
    output_mb: float = 50.0  # what a submission's cells may print or display in all (the coordinator keeps it)
    max_restarts: int = 2  # kernel restarts per notebook after a death, a memory stop or a stuck cell
    # the driver's backstop, behind the executor's own limits
    backstop_grace_s: float = 60.0  # the driver kills nbgrader itself this long after the deadline
    backstop_extra_mb: float = 1500.0  # ... or this far above the memory limit (nbgrader's own process included)
    # the sandbox (autograder/sandbox.py)
    sandbox_mode: str = "auto"
    pids_max: int = 2048  # TensorFlow's thread pools count too; a fork bomb stops here (and at the memory ceiling)
    ceiling_factor: float = 1.25  # the cgroup's hard memory limit, above the watchdog's measured limit
    ceiling_min_extra_mb: float = 256.0
    # self-grading (autograder/selfgrade.py, `losslab self-grade`): a learner's laptop is slower than a grader
    self_grade_wall_s: float = 600.0
    # the gradebook
    keep_backups: int = 5
    # the environment of every grading kernel: TensorFlow's C++ log lines and oneDNN banner, and library
    # warnings, stay off stderr (nbgrader scores a test cell that wrote to stderr 0)
    tf_env: tuple[tuple[str, str], ...] = (("TF_CPP_MIN_LOG_LEVEL", "3"), ("TF_ENABLE_ONEDNN_OPTS", "0"))
    quiet_env: tuple[tuple[str, str], ...] = (*tf_env, ("PYTHONWARNINGS", "ignore"))
    # ... and runs tf.data without autotuning (losslab/tfdata.py): with it, a kernel's training waited at every
    # epoch's end while another kernel held the other core (docs/contributing.md, "the grader's speed-up")
    kernel_env: tuple[tuple[str, str], ...] = (*quiet_env, (tfdata.ENV, "0"))
    token_env: str = "LOSSLAB_GRADING_TOKEN"  # marks every process of one grading run (the driver finds them)
    notebook_id: str = "*_exercise"  # the notebooks nbgrader grades

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"


CONFIG = GradingConfig()


@dataclass
class Limits:
    """The limits of one grading run (``make grade WALL= MEMORY= CELL_TIMEOUT= DISK= OUTPUT=``)."""

    wall_s: float = CONFIG.wall_s
    memory_mb: float = CONFIG.memory_mb
    cell_timeout_s: int | None = None  # None: CONFIG.cell_timeout_s (nbgrader_config.py's Execute.timeout)
    disk_mb: float = CONFIG.disk_mb
    output_mb: float = CONFIG.output_mb

    @property
    def cell_s(self) -> int:
        return int(self.cell_timeout_s or CONFIG.cell_timeout_s)


def thread_env(cores: int, jobs: int) -> dict[str, str]:
    """The thread pools of one kernel while `jobs` kernels share `cores`: each gets its share (at least one), so
    that kernels do not fight over the cores (TensorFlow alone keeps part of a second core busy). Empty when one
    kernel runs alone: it keeps the libraries' defaults."""
    if jobs <= 1:
        return {}
    share = str(max(1, cores // jobs))
    env = {name: share for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    env |= {"TF_NUM_INTRAOP_THREADS": share, "TF_NUM_INTEROP_THREADS": "1"}
    return env


def validate_config(config: GradingConfig = CONFIG) -> str:
    """The nbgrader_config.py a learner's JupyterLab reads for the Validate button: the grader's per-cell limit
    rather than nbgrader's default 30 s, which a training can exceed on a one-CPU Binder session."""
    return (
        "c = get_config()  # noqa: F821 - written by `python -m autograder.config --validate-config`\n"
        f"c.Execute.timeout = {config.cell_timeout_s}\n"
    )


def export_lines(env: tuple[tuple[str, str], ...]) -> str:
    """Shell lines exporting `env`, a value already set winning."""
    return "".join(f'export {key}="${{{key}:-{value}}}"\n' for key, value in env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.config", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--get", metavar="NAME", help="print one setting, e.g. cell_timeout_s")
    group.add_argument("--validate-config", action="store_true", help="print Validate's nbgrader_config.py")
    group.add_argument("--quiet-env", action="store_true", help="print export lines for grading kernels")
    group.add_argument("--tf-env", action="store_true", help="print export lines for TensorFlow's quiet start")
    args = parser.parse_args(argv)
    if args.validate_config:
        sys.stdout.write(validate_config())
    elif args.quiet_env:
        sys.stdout.write(export_lines(CONFIG.quiet_env))
    elif args.tf_env:
        sys.stdout.write(export_lines(CONFIG.tf_env))
    else:
        names = [f.name for f in fields(GradingConfig)]
        if args.get not in names:
            print(f"no setting {args.get!r}; one of: {' '.join(names)}", file=sys.stderr)
            return 2
        value = getattr(CONFIG, args.get)
        print(value if not isinstance(value, float) or not value.is_integer() else int(value))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
