"""Shared helpers for the test suite: paths, notebook execution, and building submissions for grading tests."""

from __future__ import annotations

import copy
import html
import importlib.util
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from losslab import i18n_code, notebooks
from losslab.i18n import LANGUAGES

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
COURSE = REPO / "course"
ARTIFACTS = REPO / "tests" / "artifacts"
DEFAULT_NOTEBOOK_TIMEOUT = 240  # seconds for a whole notebook; a notebook may set metadata.losslab.timeout


def tutorials() -> list[Path]:
    """Every notebook of the learner's edition that is not an exercise (those run through the grader). The
    translated editions (course/ja/) run the same code, but for the words of printed literals, and are not
    executed again (tests/test_i18n_edition.py)."""
    return sorted(
        p
        for p in COURSE.rglob("*.ipynb")
        if not p.name.endswith("_exercise.ipynb")
        and ".ipynb_checkpoints" not in p.parts
        and p.relative_to(COURSE).parts[0] not in LANGUAGES
    )


def notebook_timeout(path: Path) -> int:
    return int(notebooks.read(path).metadata.get("losslab", {}).get("timeout", DEFAULT_NOTEBOOK_TIMEOUT))


def execute(path: Path, *, timeout: int | None = None, artifacts: Path = ARTIFACTS / "executed") -> tuple:
    """Run a notebook top to bottom in a fresh kernel in its own folder; returns (notebook, seconds).

    The executed copy is written under tests/artifacts/executed/ for inspection, even when a cell fails.
    """
    nb = notebooks.read(path)
    client = NotebookClient(
        nb,
        timeout=timeout or notebook_timeout(path),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    try:
        client.execute()
    finally:
        out = artifacts / path.relative_to(REPO)
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(out))
    return nb, time.perf_counter() - started


def stderr_outputs(nb) -> list[tuple[int, str]]:
    return [
        (i, o.text)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "stream" and o.name == "stderr"
    ]


# --------------------------------------------------------------------------------------- submissions


@dataclass
class Variant:
    """A submission built from the solution notebook by replacing solution cells (by nbgrader grade_id).

    loses: test cells (grade_ids) that must score below their maximum;
    every other test cell of the bundle must keep full marks, unless listed in may_lose.
    A variant with ``loses=[]`` is a correct alternative: it must keep every point.
    bundle: the variants of one letter are graded together, one submission (tests/test_grading.py); in an
    assignment of several notebooks a bundle's notebooks that no variant changes carry their solutions (each once)
    or are left out of a run of their own.
    """

    name: str
    why: str
    replace: dict[str, str]
    loses: list[str]
    bundle: str
    may_lose: list[str] = field(default_factory=list)
    notebook: str | None = None  # which *_exercise.ipynb, when the assignment has several


def load_variants(assignment: str) -> list[Variant]:
    path = REPO / "tests" / "submissions" / f"{assignment}.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"submissions_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.VARIANTS)


def exercise_notebooks(assignment: str) -> list[Path]:
    return sorted((SOLUTIONS / assignment).glob("*_exercise.ipynb"))


def build_submission(source: Path, replacements: dict[str, str]) -> nbformat.NotebookNode:
    nb = copy.deepcopy(notebooks.read(source))
    for gid, text in replacements.items():
        cell = notebooks.cell_by_grade_id(nb, gid)
        if not cell.metadata["nbgrader"].get("solution"):
            raise ValueError(f"{gid} is not a solution cell; variants may only change answers")
        cell.source = text.strip("\n")
    return nb


NOISE = r"""
# --- added by the grading test: make every later cell write TensorFlow-style noise to stderr ---
import logging as _logging, os as _os, sys as _sys, warnings as _warnings
def _losslab_test_noise(*_args):
    _os.write(2, b"I0000 00:00:1795324272.050119    1999 port.cc:153] oneDNN custom operations are on.\n")
    print("W0000 00:00:1795324272.2  2000 cpu_feature_guard.cc:210] simulated TensorFlow log line",
          file=_sys.stderr, flush=True)
    with _warnings.catch_warnings():
        _warnings.simplefilter("always")
        _warnings.warn_explicit("simulated library warning", UserWarning, "keras/src/simulated.py", 1)
    _sys.stderr.write("WARNING:absl:simulated absl warning\n")
get_ipython().events.register("pre_run_cell", _losslab_test_noise)
_losslab_test_noise()
# --- end of added noise ---
"""


def with_stderr_noise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with NOISE appended to its first solution cell (so it runs in the learner's code)."""
    nb = copy.deepcopy(nb)
    first = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    first.source = first.source + "\n" + NOISE
    return nb


def write_submission(root: Path, student: str, assignment: str, notebooks_by_name: dict[str, object]) -> None:
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks_by_name.items():
        nbformat.write(nb, str(folder / name))


def backend() -> str:
    return os.environ.get("KERAS_BACKEND", "tensorflow")


@dataclass
class JapaneseOutputs:
    """What the website's Japanese page of an executed tutorial does with its English run's output text."""

    lines: int  # output lines of the English run (streams, plain text, HTML unescaped; quizzes left out)
    translated: int  # of them, lines the Japanese page shows changed
    left: list[str] = field(default_factory=list)  # English pieces of translated printed literals still shown


def _printed(outputs: list) -> str:
    """What a cell's outputs show as text: its streams, and each result's plain text and HTML (unescaped)."""
    texts = [o.get("text", "") for o in outputs if o.get("output_type") == "stream"]
    for output in outputs:
        data = output.get("data", {})
        texts += [data.get("text/plain", ""), html.unescape(data.get("text/html", ""))]
    return "\n".join(t for t in texts if isinstance(t, str))


def japanese_page_leftovers(english: nbformat.NotebookNode, rel: Path) -> JapaneseOutputs:
    """The website's Japanese page of course/<rel>, built from `english` (its executed run): no piece of two
    English words or more of a printed literal that course/ja/ translates may be left in the outputs of its cell
    where the English run printed it."""
    from website import build as site
    from website.quizhtml import quiz_calls

    japanese = notebooks.read(COURSE / "ja" / rel)
    shown = site.japanese_page(english, japanese, str(rel))
    names = site.page_names(english, japanese, str(rel))
    result = JapaneseOutputs(0, 0)
    for before, after, source in zip(english.cells, shown.cells, japanese.cells, strict=True):
        if before.cell_type != "code" or quiz_calls(before.source):  # a quiz's output is the Japanese bank's
            continue
        was, now = _printed(before.outputs), _printed(after.outputs)
        result.lines += len(was.splitlines())
        result.translated += sum(a != b for a, b in zip(was.splitlines(), now.splitlines(), strict=False))
        result.left += [
            f"{rel} cell {before.id}: {phrase!r}"
            for phrase in i18n_code.english_phrases(before.source, source.source, names)
            if phrase in was and phrase in now
        ]
    return result
