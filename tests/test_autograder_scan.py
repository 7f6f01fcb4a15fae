"""The static scan of a learner's cells (autograder/scan.py)."""

from __future__ import annotations

import nbformat
import pytest

from autograder import scan
from losslab import notebooks
from tests.support import REPO, SOLUTIONS, build_submission, exercise_notebooks, load_variants

FIXTURE = REPO / "tests" / "fixtures" / "adversarial"
SOURCE = FIXTURE / "source"
PROBE = SOURCE / "probe" / "probe_exercise.ipynb"


# ----------------------------------------------------------------------------------------------- static scan


def _honest_notebooks() -> list[tuple[str, nbformat.NotebookNode]]:
    out = [("probe solution", notebooks.read(PROBE))]
    for path in sorted(SOLUTIONS.glob("[0-9][0-9]_*/*_exercise.ipynb")):
        out.append((str(path.relative_to(REPO)), notebooks.read(path)))
        for variant in load_variants(path.parent.name):
            if variant.notebook in (None, path.name):
                built = build_submission(path, variant.replace)
                out.append((f"{path.parent.name} variant {variant.name}", built))
    return out


def test_scan_flags_nothing_in_honest_work() -> None:
    from tests.support import with_stderr_noise

    honest = _honest_notebooks()
    honest += [
        (f"noisy {a}", with_stderr_noise(notebooks.read(p))) for a in ("00_warmup",) for p in exercise_notebooks(a)
    ]
    assert len(honest) > 3
    for label, nb in honest:
        assert scan.scan_notebook(nb) == [], f"{label} was flagged"


@pytest.mark.parametrize(
    "source, finding",
    [
        ("np.allclose = lambda *a, **k: True", "replaces numpy.allclose"),
        ("import numpy\nsetattr(numpy, 'isclose', None)", "setattr on numpy"),
        ("import sys\nsys.modules['losslab.grading'] = None", "sys.modules"),
        ("import builtins\nbuiltins.isinstance = lambda *a: True", "imports the builtins module"),
        ("class A:\n    def __eq__(self, other):\n        return True", "defines __eq__"),
        ("def fresh(name):\n    return None", "redefines the test helper fresh"),
        ("def isinstance(*a):\n    return True", "redefines the built-in isinstance"),
        ("text = open('probe_exercise.ipynb').read()", "names course files"),
        ("import losslab\nroot = losslab.__file__", "locates module files"),
        ("import sys\nframe = sys._getframe(1)", "inspects the call stack"),
        ("import inspect\nframes = inspect.stack()", "inspects the call stack"),
        ("import gc\nobjects = gc.get_objects()", "garbage collector"),
        ("get_ipython().input_transformers_post.append(f)", "input_transformers_post"),
        ("ip = get_ipython()\nip.set_custom_exc((Exception,), f)", "set_custom_exc"),
        ("import subprocess\nsubprocess.run(['ls'])", "starts processes"),
        ("!cat ../solutions/x.ipynb", "runs shell commands"),
        ("import os\nos._exit(0)", "ends the kernel process"),
        ("exec('x = 1')", "runs code built at run time"),
        ("import ctypes", "ctypes"),
    ],
)
def test_scan_flags_tricks(source: str, finding: str) -> None:
    answer = notebooks.solution("answer", "### BEGIN SOLUTION\n" + source + "\n### END SOLUTION")
    nb = notebooks.notebook([answer])
    found = scan.scan_notebook(nb)
    assert any(finding in f for f in found), found
    assert all(f.startswith("cell 'answer' line ") for f in found)


def test_scan_follows_rebound_names() -> None:
    answer = notebooks.solution(
        "answer", "### BEGIN SOLUTION\ndata = make_data()\ndata.x_train = 3\nnp.isclose = None\n### END SOLUTION"
    )
    found = scan.scan_notebook(notebooks.notebook([answer]))
    assert found == ["cell 'answer' line 4: replaces numpy.isclose"]


def test_scan_reads_only_the_learners_cells() -> None:
    nb = notebooks.notebook(
        [
            notebooks.readonly("setup", "import sys\nsys.modules", kind="code"),
            notebooks.tests("test-x", 1, "import sys\nframe = sys._getframe()"),
            notebooks.code("np.isclose = None"),
        ]
    )
    assert scan.scan_notebook(nb) == ["cell 'added cell 3' line 1: replaces numpy.isclose"]
