"""The messages of the exercises' visible asserts, in the learner's language (losslab/asserts.py).

The test cells are the same code in both editions; their messages are in the gettext catalog
(``losslab.messages.assert_messages``, never a hidden test's) and a Japanese kernel shows a failing assert's
message translated, an English kernel as written. That grading is unchanged (a Japanese wrong answer still loses
its points, in Japanese, with no flag from the kernel guard) is the Japanese round trip of
tests/test_i18n_edition.py.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from string import Formatter

import nbformat
import pytest
from nbclient import NotebookClient

from losslab import asserts, messages
from losslab.i18n_code import translate_message
from tests.support import REPO, SOLUTIONS

_HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def _test_cells() -> list[tuple[str, str]]:
    """(where, source) of every code cell of solutions/ that nbgrader grades or locks."""
    out = []
    for path in sorted(SOLUTIONS.rglob("*.ipynb")):
        for number, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell["cell_type"] == "code" and (meta.get("grade") or meta.get("locked")):
                out.append((f"{path.relative_to(REPO).as_posix()}:{number}", "".join(cell["source"])))
    return out


def _fields(text: str) -> set[tuple[str, str | None, str | None]]:
    return {(name, spec, conversion) for _text, name, spec, conversion in Formatter().parse(text) if name is not None}


def untranslated(found: list[tuple[str, str]]) -> list[str]:
    """What of the extracted (where, message) pairs lacks Japanese, or formats other fields in Japanese, in the
    compiled catalog (what a learner's kernel and the grader's read)."""
    catalog, problems = messages.catalog("ja"), []
    for where, text in found:
        translated = catalog.get(text)
        if not translated or translated == text:
            problems.append(f"{where}: no Japanese for {text!r} (python -m losslab.messages extract, docs/i18n.md)")
        elif _fields(text) != _fields(translated):
            problems.append(f"{where}: the Japanese of {text!r} formats other fields")
    return problems


def test_every_visible_assert_has_a_literal_message_translated_in_the_catalog() -> None:
    found = messages.assert_messages()
    by_cell: dict[str, int] = {}
    for where, _text in found:
        by_cell[where] = by_cell.get(where, 0) + 1
    problems = []
    for where, source in _test_cells():
        asserts_seen = len(re.findall(r"^\s*assert\b", _HIDDEN.sub("", source), re.M))
        if by_cell.get(where, 0) != asserts_seen:
            problems.append(f"{where}: {asserts_seen} visible asserts, {by_cell.get(where, 0)} literal messages")
    problems += untranslated(found)
    assert len({t for _w, t in found}) >= 50 and any("{" in t for _w, t in found), len(found)
    assert not problems, "\n".join(problems)


def test_no_hidden_test_text_is_in_the_catalog() -> None:
    """The catalog ships to learners: a string of a hidden test, extracted, would give the test away."""
    from babel.messages.pofile import read_po

    with messages.po_path("ja").open("rb") as handle:
        po = read_po(handle)
    from_notebooks = {m.id for m in po if m.id and any(f.startswith("solutions/") for f, _line in m.locations)}
    hidden = set()
    for _where, source in _test_cells():
        for block in _HIDDEN.findall(source):
            hidden |= {n.value for n in ast.walk(ast.parse(block)) if isinstance(n, ast.Constant)}
    assert hidden, "no hidden test found: the markers changed, update this test"
    assert not (hidden & from_notebooks), sorted(hidden & from_notebooks)


def _notebook_tree(root: Path, cells: list[nbformat.NotebookNode]) -> None:
    (root / "solutions" / "09_x").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), root / "solutions" / "09_x" / "x_exercise.ipynb")


def _graded(source: str, **meta: object) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "locked": True, "points": 1, **meta}
    return cell


def extracts(
    root: Path, monkeypatch: pytest.MonkeyPatch, extract: Callable[[], list], graded: str, refused: str
) -> list[tuple[str, str]]:
    """What `extract` reads of a made-up exercise: an answer cell holding `graded`'s first line, a graded cell
    `graded`, a locked set-up cell with a magic (its second line: `graded`'s first with "a locked set-up cell");
    the "solutions/..." prefix dropped. Then that a graded cell `refused` is a ValueError naming it."""
    first = graded.splitlines()[0]
    locked = "%matplotlib inline\n" + re.sub(r'"[^"]*"', '"a locked set-up cell"', first, count=1)
    _notebook_tree(root, [nbformat.v4.new_code_cell(first), _graded(graded), _graded(locked, grade=False)])
    monkeypatch.setattr(messages, "PACKAGE", root / "losslab")
    found = [(where.removeprefix("solutions/09_x/x_exercise.ipynb"), text) for where, text in extract()]
    _notebook_tree(root / "b", [_graded(refused)])
    monkeypatch.setattr(messages, "PACKAGE", root / "b" / "losslab")
    with pytest.raises(ValueError, match=r"x_exercise.ipynb:0: .*compute the value into a name"):
        extract()
    return found


def test_extraction_reads_visible_asserts_of_test_cells_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graded = (
        'assert x, "seen by the learner"\n'
        'assert y > 1, f"got {y:.3f} ({name!r}); need more"\n'
        "### BEGIN HIDDEN TESTS\n"
        'assert z, "a hidden message"\n'
        'assert w, f"hidden {w}"\n'
        "### END HIDDEN TESTS\n"
        'assert v, "after the hidden tests"\n'
        "assert u\n"
    )
    assert extracts(tmp_path, monkeypatch, messages.assert_messages, graded, 'assert x, f"slice {values[1:]}"') == [
        (":1", "seen by the learner"),
        (":1", "got {y:.3f} ({name!r}); need more"),
        (":1", "after the hidden tests"),
        (":2", "a locked set-up cell"),
    ]


def test_a_message_is_translated_whole_or_not_at_all() -> None:
    ja = messages.gettext_for("ja")
    plain = "build_model should return a keras Model"
    assert translate_message(plain, "ja") == ja(plain) != plain
    assert translate_message(plain, "en") == plain
    accuracy = "validation accuracy {accuracy:.3f}; at least 0.93 is needed"
    assert translate_message(accuracy.format(accuracy=0.91234), "ja") == ja(accuracy).format(accuracy=0.91234)
    settings = "{settings}: largest difference from Keras {np.max(np.abs(mine - theirs)):.3g}"
    shown = "{'beta_1': 0.5}: largest difference from Keras 0.0123"
    assert translate_message(shown, "ja") == ja(settings).replace("{settings}", "{'beta_1': 0.5}").replace(
        "{np.max(np.abs(mine - theirs)):.3g}", "0.0123"
    )
    for unknown in (
        "no such message",
        plain + ". See above.",  # a known message inside another: left whole
        "validation accuracy high; at least 0.93 is needed",  # a number field that holds no number
        "",
    ):
        assert translate_message(unknown, "ja") == unknown
    error = AssertionError(plain)
    assert asserts.translated_message(error, "ja") == ja(plain)
    assert asserts.translated_message(error, "en") is None

    class Checked(AssertionError):  # the grading checks' errors: translated where they are raised
        pass

    for kept in (Checked(plain), AssertionError(plain, 2), AssertionError(), ValueError(plain)):
        assert asserts.translated_message(kept, "ja") is None


def _run_kernel(lang: str, cells: list[str], guard: bool = False) -> list[nbformat.NotebookNode]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    env = {**os.environ, "LOSSLAB_LANG": lang, "PYTHONPATH": str(REPO)}
    extra = ["--InteractiveShellApp.extra_extensions=autograder.kernel_guard"] if guard else []
    client = NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=60, extra_arguments=extra)
    client.execute(env=env, cwd=str(REPO))
    return nb.cells


_CELLS = [  # the first drains what the guard records of this cell importing it (a notebook never does)
    "from autograder import kernel_guard\nkernel_guard.restore('start')\nimport losslab",
    'assert 1 > 2, "build_model should return a keras Model"',
    'accuracy = 0.5\nassert accuracy >= 0.93, f"validation accuracy {accuracy:.3f}; at least 0.93 is needed"',
    'assert 1 > 2, "no such message"',
    "print(kernel_guard.restore('n'))",
    'assert 1 > 2, "build_model should return a keras Model"',
    # what a graded cell prints (losslab/prints.py): a label + value, an f-string, an unknown line, stderr
    'import sys\nprint("loss recognized as:", "categorical cross-entropy")\n'
    'print(f"validation accuracy after {12} epochs: {0.5:.2f} (target {0.9})")\n'
    'print("no such line", 3)\nprint("loss recognized as:", "x", file=sys.stderr)',
    "import builtins\nfrom losslab.grading import integrity_problems\n"
    "print(print is builtins.print, type(builtins.print).__name__, integrity_problems())",
    "print(kernel_guard.restore('m'))",
]


def test_a_failing_assert_and_a_printed_line_speak_the_kernels_language() -> None:
    """A real kernel of each language, the Japanese one under the grader's kernel guard (loaded before the first
    cell, as autograder/executor.py loads it): the handler is installed when losslab is imported, before the
    guard's snapshot, so the guard neither flags nor removes it. The error is the same AssertionError output,
    traceback line for line, but for the message. A printed line of the catalog is Japanese in Japanese (through
    the notebook's own print, builtins untouched: losslab/prints.py), English in English."""
    ja, english = _run_kernel("ja", _CELLS, guard=True), _run_kernel("en", _CELLS)
    gettext = messages.gettext_for("ja")
    model, accuracy = (
        "build_model should return a keras Model",
        "validation accuracy {accuracy:.3f}; at least 0.93 is needed",
    )
    expected = {  # cell: (English, Japanese)
        1: (model, gettext(model)),
        2: (accuracy.format(accuracy=0.5), gettext(accuracy).format(accuracy=0.5)),
        3: ("no such message", "no such message"),
        5: (model, gettext(model)),  # after the guard's restore: still in place
    }
    for number, (words, message) in expected.items():
        [mine] = [o for o in ja[number].outputs if o.output_type == "error"]
        [theirs] = [o for o in english[number].outputs if o.output_type == "error"]
        assert (mine.ename, mine.evalue) == ("AssertionError", message), (number, mine.evalue)
        assert (theirs.ename, theirs.evalue) == ("AssertionError", words), (number, theirs.evalue)
        assert mine.traceback[:-1] == theirs.traceback[:-1], number
        assert mine.traceback[-1].replace(message, words) == theirs.traceback[-1], number
    report = json.loads(ja[4].outputs[0].text)
    assert report["installed"] and report["findings"] == [], report

    def shown(message: str, values: dict[str, str]) -> str:
        for field, value in values.items():
            message = message.replace(field, value)
        return message

    label = (
        "loss recognized as: {losses.describe_loss(loss)}",
        {"{losses.describe_loss(loss)}": "categorical cross-entropy"},
    )
    line = (
        "validation accuracy after {SENSOR_EPOCHS} epochs: {accuracy_1:.2f} (target {TARGET_ACCURACY})",
        {"{SENSOR_EPOCHS}": "12", "{accuracy_1:.2f}": "0.50", "{TARGET_ACCURACY}": "0.9"},
    )
    printed = {
        "en": [shown(*label), shown(*line), "no such line 3"],
        "ja": [shown(gettext(label[0]), label[1]), shown(gettext(line[0]), line[1]), "no such line 3"],
    }
    assert printed["en"][1] == "validation accuracy after 12 epochs: 0.50 (target 0.9)"
    for lang, cells in (("ja", ja), ("en", english)):
        streams = {o.name: o.text for o in cells[6].outputs if o.output_type == "stream"}
        assert streams == {"stdout": "\n".join(printed[lang]) + "\n", "stderr": "loss recognized as: x\n"}, lang
    assert printed["ja"][0] != printed["en"][0] and printed["ja"][1] != printed["en"][1]
    # the notebook's print is the course's in Japanese, the built-in in English; builtins stay the interpreter's
    assert [c[7].outputs[0].text for c in (ja, english)] == [
        "False builtin_function_or_method []\n",
        "True builtin_function_or_method []\n",
    ]
    report = json.loads(ja[8].outputs[0].text)
    assert report["installed"] and report["findings"] == [], report
