"""Read, write, normalize and build notebooks, the same way everywhere.

Used by `make format` (``python -m losslab.notebooks format solutions course tests``), by the release in
autograder/release.py, by tests that check hygiene or build submissions, and by authors who write a
notebook from Python (the builders ``markdown``, ``code``, ``solution``, ``tests``, ``notebook``).

A normalized notebook has no outputs and no execution counts, nbformat 4.5 with a stable id on every cell,
the Python 3 kernelspec, and no per-user metadata (widget state, collapsed flags, execution timings).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}
# Cell metadata kept by normalization; everything else (collapsed, scrolled, execution, jupyter...) goes.
_KEPT_CELL_METADATA = ("nbgrader", "tags", "deletable", "editable")
NBGRADER_SCHEMA_VERSION = 3


# --------------------------------------------------------------------------------------------- files


def read(path: str | Path) -> NotebookNode:
    """Read a notebook as nbformat 4, with a readable error for broken JSON."""
    try:
        return nbformat.read(str(path), as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
        raise ValueError(f"{path} is not valid notebook JSON ({exc}); restore it from git or re-save it") from exc


def write(nb: NotebookNode, path: str | Path) -> None:
    """Write a notebook in nbformat's canonical layout (indent 1, trailing newline)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def find(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every .ipynb below the given files or folders, skipping checkpoints, sorted."""
    found: set[Path] = set()
    for p in map(Path, paths):
        if p.is_file() and p.suffix == ".ipynb":
            found.add(p)
        elif p.is_dir():
            found.update(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
    yield from sorted(found)


# ------------------------------------------------------------------------------------- normalising


def _stable_id(path_hint: str, index: int, source: str) -> str:
    digest = hashlib.sha1(f"{path_hint}:{index}:{source}".encode()).hexdigest()
    return digest[:8]


def normalize(nb: NotebookNode, path_hint: str = "") -> NotebookNode:
    """Strip outputs, execution counts and per-user metadata in place; return the notebook."""
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = NotebookNode(
        {
            "kernelspec": dict(KERNELSPEC),
            "language_info": dict(LANGUAGE_INFO),
            **({"losslab": nb.metadata["losslab"]} if "losslab" in nb.metadata else {}),
            # a translated edition's language (losslab/i18n.py), which the library reads to speak it
            **({"language": nb.metadata["language"]} if "language" in nb.metadata else {}),
        }
    )
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if isinstance(cell.source, list):
            cell.source = "".join(cell.source)
        cell.metadata = NotebookNode({k: v for k, v in cell.metadata.items() if k in _KEPT_CELL_METADATA})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell_id = cell.get("id")
        if not cell_id or cell_id in seen:
            cell_id = _stable_id(path_hint, index, cell.source)
        cell.id = cell_id
        seen.add(cell_id)
    return nb


def has_outputs(nb: NotebookNode) -> bool:
    """True if any code cell holds outputs or an execution count."""
    return any(c.cell_type == "code" and (c.get("outputs") or c.get("execution_count")) for c in nb.cells)


def format_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Normalize every notebook under `paths` in place; return the files that changed."""
    changed = []
    for path in find(paths):
        before = path.read_text(encoding="utf-8")
        nb = normalize(read(path), path_hint=path.name)
        after = nbformat.writes(nb) + "\n"
        if after != before:
            path.write_text(after, encoding="utf-8")
            changed.append(path)
    return changed


# --------------------------------------------------------------------------------------- nbgrader


def grade_id(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def cell_by_grade_id(nb: NotebookNode, gid: str) -> NotebookNode:
    """The cell whose nbgrader grade_id is `gid`; KeyError listing the known ids otherwise."""
    for cell in nb.cells:
        if grade_id(cell) == gid:
            return cell
    known = ", ".join(g for g in (grade_id(c) for c in nb.cells) if g)
    raise KeyError(f"no cell with grade_id {gid!r}; the notebook has: {known}")


def graded_cells(nb: NotebookNode) -> dict[str, float]:
    """{grade_id: points} for every graded cell (tests and manually graded answers)."""
    out = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            out[meta["grade_id"]] = float(meta.get("points", 0))
    return out


HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"  # nbgrader's markers in a test cell


def visible_lines(source: str) -> dict[int, str]:
    """A test cell's lines outside its hidden tests (the markers' lines excluded), by 1-based line number: what a
    learner's copy of the cell shows (autograder/feedback.py; the gettext extraction, losslab/messages.py)."""
    out, hidden = {}, False
    for number, line in enumerate(source.split("\n"), start=1):
        if HIDDEN_BEGIN in line:
            hidden = True
        elif HIDDEN_END in line:
            hidden = False
        elif not hidden:
            out[number] = line
    return out


# --------------------------------------------------------------------------------------- builders


def markdown(source: str) -> NotebookNode:
    """A markdown cell; leading/trailing blank lines are trimmed."""
    return nbformat.v4.new_markdown_cell(source.strip("\n"))


def code(source: str) -> NotebookNode:
    """A plain code cell (not graded, editable)."""
    return nbformat.v4.new_code_cell(source.strip("\n"))


def _nbgrader(cell: NotebookNode, **meta: Any) -> NotebookNode:
    cell.metadata["nbgrader"] = {"schema_version": NBGRADER_SCHEMA_VERSION, "task": False, **meta}
    return cell


def solution(gid: str, source: str) -> NotebookNode:
    """An autograded answer cell: wrap the answer in ``### BEGIN SOLUTION`` / ``### END SOLUTION``."""
    if "### BEGIN SOLUTION" not in source:
        raise ValueError(f"solution cell {gid!r} needs a ### BEGIN SOLUTION / ### END SOLUTION region")
    return _nbgrader(code(source), grade=False, grade_id=gid, locked=False, solution=True)


def tests(gid: str, points: float, source: str) -> NotebookNode:
    """A locked, autograded test cell; hidden parts go between BEGIN/END HIDDEN TESTS."""
    return _nbgrader(code(source), grade=True, grade_id=gid, locked=True, points=points, solution=False)


def readonly(gid: str, source: str, *, kind: str = "markdown") -> NotebookNode:
    """A locked cell (instructions or set-up a learner must not change; nbgrader restores it)."""
    cell = markdown(source) if kind == "markdown" else code(source)
    return _nbgrader(cell, grade=False, grade_id=gid, locked=True, solution=False)


def notebook(cells: list[NotebookNode], **metadata: Any) -> NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    if metadata:
        nb.metadata["losslab"] = metadata
    return normalize(nb)


# --------------------------------------------------------------------------------------------- CLI


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in {"format", "check"}:
        print("usage: python -m losslab.notebooks format|check PATH...", file=sys.stderr)
        return 2
    paths = argv[2:] or ["solutions", "course", "tests"]
    if argv[1] == "format":
        changed = format_paths(paths)
        for path in changed:
            print(f"normalized {path}")
        print(f"{len(changed)} notebook(s) changed, {len(list(find(paths)))} checked")
        return 0
    dirty = [p for p in find(paths) if has_outputs(read(p))]
    for path in dirty:
        print(f"{path}: has outputs or execution counts; run `make format`")
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
