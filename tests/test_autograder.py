"""The grading driver and its defences (autograder/grade.py, preprocessors.py, kernel_guard.py, scan.py,
feedback.py, selfgrade.py, and losslab/grading's tamper resistance).

The slow test grades a whole adversarial class in ONE run (tests/fixtures/adversarial/students.py: a loop
that ignores interrupts, a submission past its time limit, a memory hog, a kernel that kills itself, an
import error, edited and deleted tests, a file that is not JSON, a missing notebook, a training that goes to
NaN, and the cheap tricks against hidden tests) and checks each student's status, score and flags, that the
feedback shows no hidden test, that the gradebook is intact, that no process is left behind, and that a
second run is idempotent and backs the gradebook up first. It runs with the sandbox on where bubblewrap works
(autograder/sandbox.py; attacks from child processes are tests/test_sandbox.py's). The fast tests are units of
each defence.
"""

from __future__ import annotations

import builtins
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import psutil
import pytest

from autograder import feedback, scan
from autograder.grade import (
    Check,
    Grader,
    Limits,
    Result,
    classify,
    database_ok,
    grade,
    read_scores,
    summary_table,
)
from losslab import notebooks
from losslab.grading import core, fresh, integrity_problems
from tests.support import REPO, SOLUTIONS, build_submission, exercise_notebooks, load_variants

FIXTURE = REPO / "tests" / "fixtures" / "adversarial"
SOURCE = FIXTURE / "source"
PROBE = SOURCE / "probe" / "probe_exercise.ipynb"


def _students():
    spec = importlib.util.spec_from_file_location("adversarial_students", FIXTURE / "students.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _write_class(root: Path, students) -> None:
    honest = nbformat.writes(notebooks.read(PROBE))
    for student in students:
        folder = root / "submitted" / student.name / "probe"
        folder.mkdir(parents=True)
        if student.raw is not None:
            for name, text in student.raw.items():
                (folder / name).write_text(honest if text == "HONEST" else text)
            continue
        nb = build_submission(PROBE, student.replace)
        if student.build:
            nb = student.build(nb)
        nbformat.write(nb, str(folder / "probe_exercise.ipynb"))


def _html_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<(style|script)\b.*?</\1>", "", text, flags=re.S)
    return (
        re.sub(r"<[^>]+>", "", text)
        .replace("&quot;", '"')
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


def _left_behind(root: Path) -> list[int]:
    """Processes started for this course root (their guard log lives under it) that are still running."""
    out = []
    for proc in psutil.process_iter():
        try:
            if str(root) in proc.environ().get("LOSSLAB_GUARD_LOG", ""):
                out.append(proc.pid)
        except psutil.Error:
            continue
    return out


# ----------------------------------------------------------------------------------------------- the class


@pytest.mark.slow
def test_adversarial_class_in_one_run(tmp_path: Path) -> None:
    module = _students()
    students = module.STUDENTS
    _write_class(tmp_path, students)
    limits = Limits(**module.LIMITS)
    # with the sandbox where it can be made (as make grade): the limits and the guard's flags hold inside it
    run = grade("probe", root=tmp_path, jobs=2, limits=limits, source=SOURCE, sandbox_mode="auto")
    results = {r.student: r for r in run}
    assert sorted(results) == sorted(s.name for s in students)
    points = {"test-mse": 1.0, "test-diagnosis": 1.0, "test-fit-line": 2.0}
    problems: list[str] = []

    def expect(cond: bool, message: str) -> None:
        if not cond:
            problems.append(message)

    for student in students:
        r = results[student.name]
        who = f"{student.name} ({student.why})"
        expect(
            r.status == student.status,
            f"{who}: status {r.status!r}, expected {student.status!r}; "
            f"detail {r.detail!r}; flags {r.flags}\n{r.log[-1500:]}",
        )
        expect(
            r.score == student.score and r.max_score == 4,
            f"{who}: {r.score}/{r.max_score}, expected {student.score}/4; cells {r.cells}",
        )
        for gid, maximum in points.items():
            want = 0.0 if gid in student.lost else maximum
            expect(
                r.cells.get(gid) == (want, maximum),
                f"{who}: {gid} scored {r.cells.get(gid)}, expected {(want, maximum)}",
            )
        flags = "\n".join(r.flags)
        for text in student.flags:
            expect(text in flags, f"{who}: no flag mentions {text!r}; flags: {r.flags}")
        if student.status != "suspicious" and not student.flags:
            expect(not r.flags, f"{who}: flagged without reason: {r.flags}")
        for text in student.detail:
            expect(text in r.detail, f"{who}: detail {r.detail!r} does not mention {text!r}")
        for text in student.notes:
            expect(text in "\n".join(r.notes), f"{who}: notes {r.notes} do not mention {text!r}")
        html = tmp_path / "feedback" / student.name / "probe" / "probe_exercise.html"
        if student.feedback:
            expect(html.exists(), f"{who}: no feedback HTML")
            if html.exists():
                text = _html_text(html)
                for snippet in student.feedback:
                    expect(snippet in text, f"{who}: the feedback does not say {snippet!r}")

    # the feedback never prints hidden tests or the checks' source
    pages = sorted((tmp_path / "feedback").glob("*/probe/*.html"))
    expect(len(pages) >= len(students) - 2, f"feedback for {len(pages)} students only")
    for page in pages:
        text = _html_text(page)
        for secret in (
            "BEGIN HIDDEN TESTS",
            "default_rng(7)",
            "default_rng(3)",
            "hidden = ",
            'fresh("core")',
            "losslab/grading/core.py",
            "def assert_close",
        ):
            expect(secret not in text, f"{page.relative_to(tmp_path)} shows hidden test code: {secret!r}")
        expect("Autograder summary" in text, f"{page.relative_to(tmp_path)} has no summary")

    # the gradebook is intact, every student is in it, and nothing was left running
    gradebook = tmp_path / "gradebook.db"
    expect(database_ok(gradebook), "the gradebook fails SQLite's integrity check")
    scores = read_scores("probe", tmp_path)
    expect(set(scores) == set(results), f"gradebook students {sorted(scores)} != graded {sorted(results)}")
    expect(not _left_behind(tmp_path), f"processes left running: {_left_behind(tmp_path)}")
    expect(
        (tmp_path / "grades.csv").exists() and (tmp_path / "reports" / "probe.json").exists(), "no grades.csv or report"
    )
    assert not problems, "\n".join(problems)

    # idempotent: regrading two students changes nothing and backs the gradebook up first
    before = {name: (s.score, s.cells) for name, s in scores.items()}
    again = grade(
        "probe", root=tmp_path, jobs=2, limits=limits, source=SOURCE, only=["honest", "not-json"], sandbox_mode="auto"
    )
    assert [(r.student, r.status, r.score) for r in again] == [
        ("honest", "ok", 4.0),
        ("not-json", "invalid-notebook", 0.0),
    ]
    after = {name: (s.score, s.cells) for name, s in read_scores("probe", tmp_path).items()}
    assert after == before
    assert list(tmp_path.glob("gradebook.db.backup-*")), "no backup of the gradebook before the second run"
    assert database_ok(gradebook)


# ----------------------------------------------------------------------------------------------- core helpers


class _AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


def test_core_compares_by_type_and_content() -> None:
    fake = _AlwaysEqual()
    for call in (
        lambda: core.as_float(fake),
        lambda: core.assert_close(fake, 1.0),
        lambda: core.as_text(fake),
        lambda: core.as_int(fake),
        lambda: core.as_choice(fake, ["a"]),
    ):
        with pytest.raises(core.GradingError):
            call()

    class Sneaky(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    with pytest.raises(core.GradingError, match="should be a string"):
        core.as_text(Sneaky("x"))
    with pytest.raises(core.GradingError):
        core.require(fake, "an object that claims to be true is not True")
    with pytest.raises(core.GradingError):
        core.require(1, "only a real True passes")
    core.require(True, "passes")
    core.require(np.float64(1.0) < 2, "NumPy's True passes")
    with pytest.raises(core.GradingError, match="nan"):
        core.assert_close(float("nan"), 1.0, what="the loss")
    with pytest.raises(core.GradingError, match="diverge"):
        core.assert_finite([1.0, math.inf], what="the weights")
    assert core.as_int(np.int64(3)) == 3 and core.as_choice(" B ", ["a", "b"]) == "b"
    with pytest.raises(core.GradingError):
        core.as_int(3.0)
    with pytest.raises(core.GradingError):
        core.as_int(True)
    core.assert_close(np.array([1.0, 2.0]), [1.0, 2.0])
    with pytest.raises(core.GradingError, match="position 1"):
        core.assert_close([1.0, 2.5], [1.0, 2.0])


def test_fresh_ignores_a_replaced_core_module(monkeypatch: pytest.MonkeyPatch) -> None:
    class Fake:
        GradingError = AssertionError

        @staticmethod
        def require(*args, **kwargs):
            return None

        @staticmethod
        def as_text(*args, **kwargs):
            return "a"

    monkeypatch.setitem(sys.modules, "losslab.grading.core", Fake)
    checks = fresh("warmup")
    with pytest.raises(AssertionError, match="not this one"):
        checks.check_diagnosis("c")
    assert sys.modules["losslab.grading.core"] is Fake  # the private copy did not replace the shared one


def test_integrity_problems_name_what_was_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    from losslab import data

    assert integrity_problems() == []
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(math, "isclose", lambda *a, **k: True)
    monkeypatch.setattr(np, "isfinite", np.frompyfunc(lambda x: True, 1, 1))
    monkeypatch.setattr(data, "iris", lambda **k: None)
    problems = integrity_problems()
    assert {"numpy.allclose", "math.isclose", "numpy.isfinite", "losslab.data.iris"} <= set(problems)
    with pytest.raises(AssertionError, match="replaced .*numpy.allclose"):
        fresh("warmup")


def test_integrity_problems_detect_a_replaced_builtin() -> None:
    original = builtins.callable
    try:
        builtins.callable = lambda obj: True
        problems = integrity_problems()
    finally:
        builtins.callable = original
    assert problems == ["the built-in callable()"]


# ----------------------------------------------------------------------------------------------- kernel guard

GUARD_SCRIPT = r"""
import json, os, sys
import numpy as np, math
from autograder import kernel_guard

guard = kernel_guard.install(None, log_path=sys.argv[1], protect=(sys.argv[2],), readonly=(sys.argv[3],))
out = {}

def attempt(name, action):
    try:
        action()
        out[name] = "allowed"
    except PermissionError:
        out[name] = "refused"

attempt("read secret", lambda: open(os.path.join(sys.argv[2], "answers.txt")).read())
attempt("read notebook", lambda: open("mine.ipynb").read())
attempt("read own file", lambda: open("data.csv").read())
attempt("write own file", lambda: open("out.txt", "w").write("x"))
attempt("write into the course", lambda: open(os.path.join(sys.argv[3], "new.txt"), "w").write("x"))
attempt("read the course", lambda: open(os.path.join(sys.argv[3], "readme.txt")).read())
attempt("open the gradebook",
        lambda: __import__("sqlite3").connect(os.path.join(sys.argv[3], "gradebook.db")))
attempt("link to the secret", lambda: os.symlink(sys.argv[2], "link"))
attempt("remove a course file", lambda: os.remove(os.path.join(sys.argv[3], "readme.txt")))
np.allclose = lambda *a, **k: True
math.isclose = lambda *a, **k: True
sys.modules["losslab.grading"] = object()
report = json.loads(kernel_guard.restore("n0"))
out["restored"] = not np.allclose([1.0], [2.0]) and not math.isclose(1, 2)
out["module back"] = type(sys.modules["losslab.grading"]).__name__
out["findings"] = [f["msg"] for f in report["findings"]]
out["nonce"] = report["nonce"]
print(json.dumps(out))
"""


def test_kernel_guard_refuses_course_files_and_restores_patches(tmp_path: Path) -> None:
    secret, course, work = tmp_path / "solutions", tmp_path / "course", tmp_path / "work"
    for folder in (secret, course, work):
        folder.mkdir()
    (secret / "answers.txt").write_text("b")
    (course / "readme.txt").write_text("hello")
    (work / "data.csv").write_text("1,2")
    (work / "mine.ipynb").write_text("{}")
    log = tmp_path / "guard.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", GUARD_SCRIPT, str(log), str(secret), str(course)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["read secret"] == out["read notebook"] == out["open the gradebook"] == "refused"
    for action in ("write into the course", "link to the secret", "remove a course file"):
        assert out[action] == "refused", action
    assert out["read own file"] == out["write own file"] == out["read the course"] == "allowed"
    assert out["restored"] is True and out["module back"] == "module" and out["nonce"] == "n0"
    findings = "\n".join(out["findings"])
    for text in (
        "read the course's private files",
        "read a notebook file",
        "the gradebook",
        "replaced numpy.allclose",
        "replaced math.isclose",
        "losslab.grading in sys.modules",
    ):
        assert text in findings, findings
    logged = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    assert set(out["findings"]) <= set(logged)


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


# ----------------------------------------------------------------------------------------------- feedback


def _failed_test_notebook() -> nbformat.NotebookNode:
    answer = notebooks.solution("answer", "def f(x):\n    ### BEGIN SOLUTION\n    return 1 / x\n    ### END SOLUTION")
    answer.execution_count = 2
    test = notebooks.tests(
        "test-f",
        2,
        "assert f(1) == 1, 'f(1) is 1'\n### BEGIN HIDDEN TESTS\n"
        "secret_value = 12345\nassert f(0) == secret_value\n"
        "### END HIDDEN TESTS",
    )
    test.execution_count = 3
    ansi = "\x1b[32m"
    test.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="ZeroDivisionError",
            evalue="division by zero",
            traceback=[
                "\x1b[31m-----\x1b[39m",
                "\x1b[31mZeroDivisionError\x1b[39m   Traceback (most recent call last)",
                f"\x1b[36mCell\x1b[39m \x1b[32mIn[3]\x1b[39m{ansi}, line 4\x1b[39m\n"
                "      3 secret_value = 12345\n----> 4 assert f(0) == secret_value\n",
                "File /somewhere/losslab/grading/topic.py:10, in check(fn)\n---> 10 secret_check(fn)\n",
                f"\x1b[36mCell\x1b[39m \x1b[32mIn[2]\x1b[39m{ansi}, line 3\x1b[39m, in f(x)\n----> 3 return 1 / x\n",
                "\x1b[31mZeroDivisionError\x1b[39m: division by zero",
            ],
        )
    ]
    passing = notebooks.tests("test-g", 1, "assert True")
    passing.execution_count = 4
    return nbformat.v4.new_notebook(cells=[answer, test, passing])  # notebooks.notebook() would strip outputs


def test_feedback_hides_hidden_tests_and_keeps_the_message() -> None:
    nb = _failed_test_notebook()
    feedback.sanitize_notebook(nb)
    text = "\n".join(nb.cells[1].outputs[0]["traceback"])
    assert "secret_value" not in text and "12345" not in text and "topic.py" not in text
    assert "return 1 / x" in text  # the learner's own frame stays
    assert "ZeroDivisionError\x1b[0m: division by zero" in text
    assert "2 frames inside the tests and libraries not shown" in text
    results = feedback.test_results(nb)
    assert [(r.grade_id, r.passed) for r in results] == [("test-f", False), ("test-g", True)]
    assert results[0].message == "ZeroDivisionError: division by zero"
    summary = feedback.summary_markdown(nb)
    assert "1 of 2" in summary and "| `test-f` | 0 / 2 | ZeroDivisionError: division by zero |" in summary
    assert "What stopped" not in summary
    nb.cells[0].outputs = [
        nbformat.v4.new_output("error", ename="MemoryLimitExceeded", evalue="over 1000 MB", traceback=[])
    ]
    assert "- in `answer`: MemoryLimitExceeded: over 1000 MB" in feedback.summary_markdown(nb)


def test_feedback_shows_a_visible_failing_line() -> None:
    cell = notebooks.tests(
        "test-v", 1, "x = 1\nassert x == 2\n### BEGIN HIDDEN TESTS\nassert hidden\n### END HIDDEN TESTS"
    )
    cell.execution_count = 5
    cell.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="",
            traceback=[
                "-",
                "AssertionError Traceback",
                "Cell In[5], line 2\n      1 x = 1\n----> 2 assert x == 2\n"
                "      3 ### BEGIN HIDDEN TESTS\n      4 assert hidden\n",
                "AssertionError: ",
            ],
        )
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    message = feedback.failure_message(nb.cells[0], feedback.execution_map(nb))
    assert message == "AssertionError at: assert x == 2"
    feedback.sanitize_notebook(nb)
    text = "\n".join(nb.cells[0].outputs[0]["traceback"])
    assert "test cell, line 2:\n    assert x == 2" in text and "hidden" not in text


# ----------------------------------------------------------------------------------------------- statuses


def test_classify_orders_statuses_and_keeps_details() -> None:
    result = Result("s", flags=["code: x"])
    classify(result, Check(edited=["test-a"]), [{"events": [], "cell_timeouts": [], "errors": []}])
    assert result.status == "suspicious"
    result = Result("s", flags=["code: x"])
    classify(
        result,
        Check(),
        [{"events": [{"reason": "memory", "cell": "answer-2"}], "restarts": 1, "cell_timeouts": [], "errors": []}],
    )
    assert result.status == "memory" and "answer-2" in result.detail and "restarted" in result.detail
    result = Result("s")
    classify(
        result,
        Check(),
        [
            {
                "events": [],
                "cell_timeouts": [],
                "errors": [{"cell": "answer", "kind": "answer", "ename": "NotImplementedError", "evalue": ""}],
            }
        ],
    )
    assert result.status == "ok"  # an unanswered question is not an import error
    result = Result("s")
    classify(
        result,
        Check(deleted=["test-b"]),
        [
            {
                "events": [],
                "cell_timeouts": [],
                "errors": [{"cell": "setup", "kind": "setup", "ename": "NameError", "evalue": "x"}],
            }
        ],
    )
    assert result.status == "import-error"


def test_a_driver_failure_is_retried_once_and_then_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error of the driver itself (not of the submission) gets a second try; a second failure is an "error"
    whose log holds the traceback, so an instructor (or CI) can see what broke."""
    grader = Grader("00_warmup", tmp_path, Limits(), SOLUTIONS)
    monkeypatch.setattr("autograder.grade.read_scores", lambda *a, **k: {})
    calls = []

    def flaky(student: str, result: Result) -> None:
        calls.append(student)
        if len(calls) == 1:
            raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(grader, "_grade", flaky)
    result = grader.grade_student("ann")
    assert len(calls) == 2 and result.status == "ok"
    assert any("second try" in note and "Cannot allocate memory" in note for note in result.notes)

    def broken(student: str, result: Result) -> None:
        calls.append(student)
        raise RuntimeError("the disk is full")

    calls.clear()
    monkeypatch.setattr(grader, "_grade", broken)
    result = grader.grade_student("bob")
    assert len(calls) == 2 and result.status == "error"
    assert "the disk is full" in result.detail
    assert "Traceback" in result.log and "RuntimeError" in result.log


def test_token_scan_finds_the_run_and_survives_psutils_shared_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver's clean-up finds a grading run's processes by the token in their environment. psutil's
    process_iter shares a cache between the grader threads; a scan that raises from it is retried afresh instead
    of failing the student's finished grading (CI once lost a submission with an empty log)."""
    import time

    from autograder import grade as grade_module

    begin = time.time()
    mine = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], env={**os.environ, grade_module.TOKEN_ENV: "run-a"}
    )
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], env={**os.environ, grade_module.TOKEN_ENV: "run-b"}
    )
    try:
        time.sleep(0.3)
        real, calls = psutil.process_iter, []

        def flaky(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            calls.append(1)
            if len(calls) == 1:
                raise KeyError("pop from an empty set")
            return real(*args, **kwargs)

        flaky.cache_clear = real.cache_clear
        monkeypatch.setattr(psutil, "process_iter", flaky)
        found = grade_module._token_processes("run-a", begin)
        assert len(calls) == 2
        assert [p.pid for p in found] == [mine.pid]
        assert grade_module._token_processes("run-c", begin) == []
    finally:
        for proc in (mine, other):
            proc.kill()
            proc.wait()


def test_summary_table_lists_every_column() -> None:
    results = [
        Result("alice", "ok", 12.3, 5.0, 5.0, peak_mb=812.0),
        Result("bob", "timeout", 40.0, 1.0, 5.0, detail="the submission reached its time limit", flags=["x"]),
    ]
    table = summary_table(results)
    header, _, alice, bob = table.splitlines()
    for column in ("student", "score", "max", "time", "peak MB", "status"):
        assert column in header
    assert alice.split()[:5] == ["alice", "5.0", "5.0", "12.3s", "812"]
    assert "timeout" in bob and "1 suspicious finding(s)" in bob and "time limit" in bob


# ----------------------------------------------------------------------------------------------- self-grading


@pytest.mark.slow
def test_self_grade_reports_failures_and_leaves_the_notebook_alone(tmp_path: Path) -> None:
    from autograder.selfgrade import self_grade

    course = tmp_path / "course"
    (course / "probe").mkdir(parents=True)
    mine = course / "probe" / "probe_exercise.ipynb"
    nb = build_submission(PROBE, {"diagnosis": 'answer = "c"'})
    nbformat.write(nb, str(mine))
    before = mine.read_bytes()
    lines: list[str] = []
    code = self_grade(
        ["probe"],
        course=course,
        source=SOURCE,
        feedback_dir=tmp_path / "fb",
        out=lines.append,
        limits=Limits(wall_s=120, memory_mb=1500, cell_timeout_s=30),
    )
    report = "\n".join(lines)
    assert code == 0, report
    assert mine.read_bytes() == before
    assert "3 / 4 points" in report
    assert re.search(r"FAIL\s+test-diagnosis\s+0 / 1\s+GradingError: not this one", report), report
    assert re.search(r"pass\s+test-fit-line\s+2 / 2", report), report
    assert "BEGIN HIDDEN" not in report and "as_text(answer" not in report
    assert (tmp_path / "fb" / "probe" / "probe_exercise.html").exists()


# ----------------------------------------------------------------------------------------------- gradebook


@pytest.fixture(scope="module")
def template_gradebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One assignment, one notebook with two test cells (1 and 2 points) and an answer cell, one student.

    Creating a gradebook costs nbgrader seconds: the tests copy this one.
    """
    from nbgrader.api import Gradebook

    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}", "losslab") as gb:
        gb.add_assignment("a")
        gb.add_notebook("nb", "a")
        gb.add_grade_cell("t1", "nb", "a", max_score=1, cell_type="code")
        gb.add_grade_cell("t2", "nb", "a", max_score=2, cell_type="code")
        gb.add_solution_cell("s1", "nb", "a")
        gb.add_student("alice")
    return path


def _small_gradebook(template: Path, path: Path) -> str:
    from autograder.grade import copy_database

    copy_database(template, path)
    return f"sqlite:///{path}"


def test_merge_keeps_manual_grades(tmp_path: Path, template_gradebook: Path) -> None:
    """Automatic grades, comments and new students come over from a staging gradebook; manual grades stay."""
    from autograder.grade import _gradebook, copy_database, merge_submission

    main = _small_gradebook(template_gradebook, tmp_path / "gradebook.db")
    with _gradebook(main) as gb:
        gb.add_submission("a", "alice")
        gb.find_grade("t2", "nb", "a", "alice").manual_score = 1.5
        gb.db.commit()
    copy_database(tmp_path / "gradebook.db", tmp_path / "stage.db")
    stage = f"sqlite:///{tmp_path / 'stage.db'}"
    with _gradebook(stage) as gb:
        gb.add_student("bob")
        gb.add_submission("a", "bob")
        gb.find_grade("t1", "nb", "a", "bob").auto_score = 1.0
        gb.find_grade("t2", "nb", "a", "bob").auto_score = 0.0
        gb.find_grade("t2", "nb", "a", "alice").auto_score = 2.0
        gb.find_comment("s1", "nb", "a", "bob").auto_comment = "No response."
        gb.db.commit()
    merge_submission(main, stage, "a", "bob")
    merge_submission(main, stage, "a", "alice")
    with _gradebook(main) as gb:
        bob = gb.find_submission("a", "bob")
        assert (bob.score, bob.max_score) == (1.0, 3.0)
        assert gb.find_comment("s1", "nb", "a", "bob").auto_comment == "No response."
        alice = gb.find_grade("t2", "nb", "a", "alice")
        assert alice.manual_score == 1.5 and alice.auto_score == 2.0 and alice.needs_manual_grade
    assert database_ok(tmp_path / "gradebook.db")


def test_gradebook_writes_wait_for_another_writer(tmp_path: Path, template_gradebook: Path) -> None:
    """A program holding the database (formgrader) delays the driver's writes; they do not fail."""
    import sqlite3
    import threading
    import time

    from autograder.grade import _retry, record_zero

    url = _small_gradebook(template_gradebook, tmp_path / "gradebook.db")
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        db = sqlite3.connect(str(tmp_path / "gradebook.db"), timeout=30)
        db.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(10)
        db.rollback()
        db.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    threading.Timer(2.0, release.set).start()
    started = time.perf_counter()
    _retry(lambda: record_zero(url, "a", "alice"))
    waited = time.perf_counter() - started
    holder.join()
    assert waited >= 1.5
    scores = read_scores("a", tmp_path)
    assert scores["alice"].cells == {"t1": (0.0, 1.0), "t2": (0.0, 2.0)}


def test_a_locked_cell_after_an_answer_fails_with_the_answer() -> None:
    """A "try it" cell that calls a blank answer raises NotImplementedError: unanswered, not an import error."""
    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.preprocessors import GuardedExecute

    def cell(grade_id: str, ename: str = "", **flags: bool) -> object:
        c = new_code_cell("pass", metadata={"nbgrader": {"grade_id": grade_id, "locked": True, **flags}})
        c.outputs = [{"output_type": "error", "ename": ename, "evalue": "", "traceback": []}] if ename else []
        return c

    executor = GuardedExecute.__new__(GuardedExecute)  # only the error survey, no kernel
    executor.nb = new_notebook(
        cells=[
            cell("setup", "NameError"),
            cell("answer", "NotImplementedError", solution=True, locked=False),
            cell("try-answer", "NotImplementedError"),
        ]
    )
    kinds = {e["cell"]: e["kind"] for e in executor._cell_errors()}
    assert kinds == {"setup": "setup", "answer": "answer", "try-answer": "uses-answer"}
    result = Result("s")
    classify(result, Check(), [{"events": [], "cell_timeouts": [], "errors": executor._cell_errors()[1:]}])
    assert result.status == "ok"
