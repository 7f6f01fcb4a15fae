"""Notebook hygiene: committed without outputs, normalized, valid, every relative link resolves, and US spelling
in everything a learner reads (notebooks, quiz banks, the messages of losslab and the grader)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from losslab import notebooks
from tests.support import COURSE, REPO, SOLUTIONS

ALL = sorted(p for p in notebooks.find([SOLUTIONS, COURSE, REPO / "tests"]) if "artifacts" not in p.parts)
LINK = re.compile(r"\]\(((?!https?:|#|mailto:)[^)\s]+?\.ipynb)(#[^)]*)?\)")


def _id(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("path", ALL, ids=_id)
def test_committed_without_outputs_and_normalized(path: Path) -> None:
    nb = notebooks.read(path)
    assert not notebooks.has_outputs(nb), f"{_id(path)} has outputs or execution counts: run `make format`"
    nbformat.validate(nb)
    expected = nbformat.writes(notebooks.normalize(notebooks.read(path), path_hint=path.name)) + "\n"
    assert path.read_text(encoding="utf-8") == expected, f"{_id(path)} is not normalized: run `make format`"


@pytest.mark.parametrize("path", [p for p in ALL if COURSE in p.parents], ids=_id)
def test_links_between_notebooks_resolve(path: Path) -> None:
    for cell in notebooks.read(path).cells:
        if cell.cell_type != "markdown":
            continue
        for target, _anchor in LINK.findall(cell.source):
            assert (path.parent / target).resolve().exists(), f"{_id(path)} links to missing {target}"


def test_format_detects_outputs(tmp_path: Path) -> None:
    nb = notebooks.notebook([notebooks.code("print(1)")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells[0].execution_count = 3
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, str(path))
    assert notebooks.has_outputs(notebooks.read(path))
    assert notebooks.format_paths([tmp_path]) == [path]
    assert not notebooks.has_outputs(notebooks.read(path))
    assert notebooks.format_paths([tmp_path]) == []  # idempotent


# ------------------------------------------------------------------------------------------ US spelling

# British spellings -> US, as regular expressions over whole words (case-insensitive). Stems list only the
# verbs whose British "-ise" has a US "-ize", so "otherwise", "noise", "exercise" or "precise" never match.
_ISE = (
    "optimis|normalis|initialis|standardis|generalis|regularis|minimis|maximis|recognis|summaris|visualis|"
    "organis|memoris|randomis|parameteris|characteris|stabilis|utilis|penalis|vectoris|categoris|emphasis(?=e)|"
    "realis|specialis|customis|prioritis|serialis|discretis|binaris|equalis|finalis|materialis|synthesis(?=e)"
)
BRITISH = {
    rf"\b(?:un|re|de|non|over|under)?({_ISE})(e|es|ed|er|ers|ing|ation|ations)\b": "-ize/-ization",
    r"\banalys(e|es|ed|ing)\b": "analyze",
    r"\b(behaviour|colour|favour|neighbour|honour|labour|flavour|harbour|rumour|tumour|humour|vapour)": "-or",
    r"\b(centre|metre|litre|fibre|theatre)(s|d)?\b": "-er",
    r"\b(label|model|travel|signal|channel|level|fuel|tunnel)l(ed|ing|er|ers)\b": "single l",
    r"\bgrey(s|ish)?\b": "gray",
    r"\b(catalogue|programme|whilst|learnt|judgement|artefact|sceptic|defence|licence|cheque|aluminium)s?\b": "US form",
}
_BRITISH = [(re.compile(pattern, re.IGNORECASE), us) for pattern, us in BRITISH.items()]


def british_words(text: str) -> list[str]:
    """Each British spelling in `text`, as 'word (US: ...)'."""
    return [f"{m.group(0)} ({us})" for pattern, us in _BRITISH for m in pattern.finditer(text)]


def _python_messages(path: Path) -> str:
    """The string constants of a module, docstrings left out: the messages a learner can see."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return "\n".join(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    )


def _learner_texts() -> list[Path]:
    """Notebooks (markdown and code: comments and printed messages are read too), quiz banks, and the modules
    whose messages reach the learner."""
    return (
        sorted(p for p in notebooks.find([SOLUTIONS]) if ".ipynb_checkpoints" not in p.parts)
        + sorted((REPO / "losslab" / "quizbank").glob("*.yaml"))
        + sorted(p for p in (REPO / "losslab").rglob("*.py") if "quizbank" not in p.parts)
        + sorted((REPO / "autograder").glob("*.py"))
    )


def _text_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        return "\n".join(cell.source for cell in notebooks.read(path).cells)
    if path.suffix == ".py":
        return _python_messages(path)
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", _learner_texts(), ids=_id)
def test_us_spelling(path: Path) -> None:
    found = british_words(_text_of(path))
    assert not found, f"{_id(path)}: British spellings: {sorted(set(found))}"


def test_spelling_check_finds_british_words_and_nothing_else() -> None:
    text = "We optimise and normalised; its behaviour, colours and the centre were labelled. Analyse it unregularised."
    found = sorted(w.split(" (")[0].lower() for w in british_words(text))
    assert found == ["analyse", "behaviour", "centre", "colour", "labelled", "normalised", "optimise", "unregularised"]
    us = "Otherwise noise, exercise, precise analysis with emphasis: optimize, the model, modeling, labeled, gray."
    assert british_words(us) == []


def test_messages_leave_docstrings_out(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""Optimise."""\n\ndef f():\n    """Normalise."""\n    raise ValueError("standardise it")\n')
    assert _python_messages(module) == "standardise it"
