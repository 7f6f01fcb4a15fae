"""What the exercises' graded and locked cells print, in the learner's language (losslab/prints.py).

Those cells are the same code in both editions; the lines they print are in the gettext catalog
(``losslab.messages.print_messages``, never a hidden test's), and a Japanese kernel prints them translated through
a ``print`` bound in the notebook's namespace, an English kernel through the built-in. Two real kernels (Japanese
under the grader's kernel guard) are tests/test_i18n_asserts.py's; the Japanese grading round trip is
tests/test_i18n_edition.py's.
"""

from __future__ import annotations

import ast
import builtins
import io
import sys
from pathlib import Path
from string import Formatter
from types import SimpleNamespace

import pytest

from losslab import messages, prints
from losslab.messages import PHRASE
from tests.test_i18n_asserts import _HIDDEN, _test_cells, extracts, untranslated


def _printed_phrases(code: str) -> list[list[str]]:
    """The constant pieces of the literals of every ``print`` call of `code` (but those with ``sep=`` or
    ``file=``) whose literals hold an English phrase."""
    out = []
    for node in ast.walk(ast.parse(code)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"):
            continue
        if any(k.arg in ("sep", "file") for k in node.keywords):
            continue
        pieces = [
            [a.value] if isinstance(a, ast.Constant) else [v.value for v in a.values if isinstance(v, ast.Constant)]
            for a in node.args
            if isinstance(a, ast.JoinedStr) or (isinstance(a, ast.Constant) and isinstance(a.value, str))
        ]
        if any(PHRASE.search("".join(p)) for p in pieces):
            out.append([piece for p in pieces for piece in p])
    return out


def test_every_printed_line_of_a_graded_cell_is_translated_in_the_catalog() -> None:
    found = messages.print_messages()
    problems = []
    for where, source in _test_cells():
        visible = _HIDDEN.sub(lambda m: "\n" * m.group(0).count("\n"), source)
        visible = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in visible.splitlines())
        mine = [t for w, t in found if w == where]
        calls = _printed_phrases(visible)
        if len(mine) != len(calls):
            problems.append(f"{where}: {len(calls)} printed lines with English, {len(mine)} in the catalog")
        for pieces, text in zip(calls, mine, strict=False):
            for piece in pieces:  # each literal's words are in its message, padding spaces included
                if piece.replace("{", "{{").replace("}", "}}") not in text:
                    problems.append(f"{where}: {piece!r} is not in the message {text!r}")
    problems += untranslated(found)
    assert len({t for _w, t in found}) >= 40 and any("{" in t for _w, t in found), len(found)
    assert not problems, "\n".join(problems)


def test_extraction_reads_visible_prints_of_graded_and_locked_cells_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graded = (
        'print("loss recognized as:", describe(loss))\n'
        'print(f"after {n} epochs: {acc:.2f}", "(target 0.9)")\n'
        'print("after epochs:    ", steps[:3], "  last labels:", y)\n'
        'print("Keras", version)\n'  # no English phrase: nothing to translate
        'print("not to stderr either", file=sys.stderr)\n'
        'print("a line with", x, sep="")\n'
        "### BEGIN HIDDEN TESTS\n"
        'print("a hidden line", secret)\n'
        "### END HIDDEN TESTS\n"
        'print("braces {kept} as text", z)\n'
    )
    refused = 'print(f"gradient norms {values[1:]}")'
    assert extracts(tmp_path, monkeypatch, messages.print_messages, graded, refused) == [
        (":1", "loss recognized as: {describe(loss)}"),
        (":1", "after {n} epochs: {acc:.2f} (target 0.9)"),
        (":1", "after epochs:     {1}   last labels: {y}"),
        (":1", "braces {{kept}} as text {z}"),
        (":2", "a locked set-up cell {describe(loss)}"),
    ]


@pytest.fixture
def japanese(monkeypatch: pytest.MonkeyPatch) -> dict:
    """A shell's namespace with the Japanese print installed, as ``import losslab`` does in a Japanese kernel."""
    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    shell = SimpleNamespace(user_ns={}, user_ns_hidden={})
    assert prints.install(shell) and prints.install(shell)  # twice: the same one kept
    assert shell.user_ns_hidden["print"] is shell.user_ns["print"] is not builtins.print
    return shell.user_ns


def test_a_japanese_print_translates_known_lines_only(japanese: dict, capsys: pytest.CaptureFixture[str]) -> None:
    ja = messages.gettext_for("ja")
    course_print = japanese["print"]
    label = "loss recognized as: {losses.describe_loss(loss)}"
    course_print("loss recognized as:", "categorical cross-entropy")
    accuracy = "validation accuracy after {SENSOR_EPOCHS} epochs: {accuracy_1:.2f} (target {TARGET_ACCURACY})"
    course_print(f"validation accuracy after {12} epochs: {0.8765:.2f} (target {0.9})", end="|", flush=True)
    course_print("validation loss every 10 epochs:", "[0.1 0.2\n 0.3]")  # a NumPy array over two lines
    course_print("loss recognized as:", "x", file=sys.stderr)
    course_print("no such line", 3, sep="; ")
    course_print()
    out, err = capsys.readouterr()
    lines = out.split("\n")
    assert lines[0] == ja(label).replace("{losses.describe_loss(loss)}", "categorical cross-entropy")
    assert "loss recognized" not in lines[0] and ja(label) != label
    values = {"{SENSOR_EPOCHS}": "12", "{accuracy_1:.2f}": "0.88", "{TARGET_ACCURACY}": "0.9"}
    expected = ja(accuracy)
    for field, value in values.items():
        expected = expected.replace(field, value)
    assert lines[1].startswith(expected + "|") and "validation" not in lines[1]
    every = ja("validation loss every 10 epochs: {np.round(h['val_loss'], 3)}")
    assert "\n".join(lines[1:3]) == expected + "|" + every.replace("{np.round(h['val_loss'], 3)}", "[0.1 0.2\n 0.3]")
    assert lines[3:] == ["no such line; 3", "", ""]
    assert err == "loss recognized as: x\n"  # another stream: as written


def test_the_japanese_print_is_print_for_everything_else(japanese: dict, capsys: pytest.CaptureFixture[str]) -> None:
    course_print = japanese["print"]

    class Loud:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    with pytest.raises(RuntimeError, match="no text"):  # the learner's error, as the built-in raises it
        course_print("loss recognized as:", Loud())
    assert capsys.readouterr().out == "loss recognized as: "  # what the built-in had written before it raised
    with pytest.raises(TypeError) as theirs:
        print("x", colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError) as mine:
        course_print("x", colour="red")
    assert str(mine.value) == str(theirs.value)
    with pytest.raises(TypeError):
        course_print("loss recognized as:", "x", sep=3)
    buffer = io.StringIO()
    course_print("loss recognized as:", "x", file=buffer, end="")
    course_print("loss recognized as:", "x", sep="")  # another separator: another line, unknown
    assert buffer.getvalue() == "loss recognized as: x" and capsys.readouterr().out == "loss recognized as:x\n"


def test_english_and_a_print_of_the_notebook_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOSSLAB_LANG", "en")
    shell = SimpleNamespace(user_ns={}, user_ns_hidden={})
    assert not prints.install(shell) and shell.user_ns == {}
    assert prints.translated_line(("loss recognized as:", "x"), None, "en") is None
    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    own = lambda *args: None  # noqa: E731
    shell.user_ns["print"] = own
    assert not prints.install(shell) and shell.user_ns["print"] is own
    assert not prints.install(SimpleNamespace())  # no namespace: not a shell


def _formatted(message: str, values: dict[str, str]) -> str:
    """`message` with each field replaced by its value in `values` (by field name), formatted by its spec."""
    out = []
    for text, name, spec, _conversion in Formatter().parse(message):
        out.append(text)
        if name is not None:
            out.append(format(float(values[name]) if spec and spec[-1] in "eEfFgG%" else values[name], spec or ""))
    return "".join(out)


def test_every_printed_line_of_the_catalog_prints_in_japanese() -> None:
    """Each message of ``print_messages``, formatted with sample values (numbers where its spec formats a number,
    a text of two lines elsewhere, as a NumPy array prints), is printed as its translation with the same values."""
    ja = messages.gettext_for("ja")
    problems = []
    for message, where in {text: where for where, text in messages.print_messages()}.items():
        fields = {name: spec for _t, name, spec, _c in Formatter().parse(message) if name is not None}
        values = {
            name: "0.25" if spec and spec[-1] in "eEfFgG%" else "[0.1 0.2\n 0.3]" for name, spec in fields.items()
        }
        line, expected = _formatted(message, values), _formatted(ja(message), values)
        shown = prints.translated_line((line,), None, "ja")
        if shown != expected:
            problems.append(f"{where}: {line!r} printed as {shown!r}, not {expected!r}")
    assert not problems, "\n".join(problems)
