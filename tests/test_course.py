"""The learning path (losslab/course.py) is the one list of the course: every notebook is in it, in an order that
reads (part 1 before part 2, tutorials before the exercise), and the website, the README and the start notebook
follow it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from losslab import course, notebooks
from tests.support import COURSE, REPO, SOLUTIONS


@pytest.mark.parametrize("root", [SOLUTIONS, COURSE], ids=["solutions", "course"])
def test_every_notebook_is_in_the_learning_path_and_every_entry_exists(root: Path) -> None:
    missing, absent = course.unlisted(root)
    assert not missing, (
        f"{root.name}/ has notebooks the learning path lacks: {missing}; add each to NOTEBOOKS in "
        "losslab/course.py, where a learner should meet it"
    )
    assert not absent, f"losslab/course.py lists notebooks {root.name}/ does not have: {absent}"


def _part(path: str) -> tuple[int, str]:
    """'x_part2b_tutorial.ipynb' -> (2, 'b'); a tutorial without a part number is part 1."""
    match = re.search(r"_part(\d+)([a-z]?)_tutorial\.ipynb$", path)
    return (int(match.group(1)), match.group(2)) if match else (1, "")


def test_the_path_reads_in_order() -> None:
    assert course.NOTEBOOKS[0] == "00_start_here.ipynb"
    assert len(set(course.NOTEBOOKS)) == len(course.NOTEBOOKS), "a notebook is listed twice"
    numbers = [course.chapter(p) for p in course.NOTEBOOKS]
    assert numbers == sorted(numbers), "chapters in their numbers' order, each in one run"
    assert set(numbers) == set(course.CHAPTERS), "every chapter has a title and notebooks"
    for name, paths in course.chapters().items():
        assert course.is_exercise(paths[-1]), f"{name}: the chapter ends with its exercise: {paths}"
        tutorials = [p for p in paths if not course.is_exercise(p) and "_tutorial" in p]
        by_folder: dict[str, list[tuple[int, str]]] = {}
        for path in tutorials:
            by_folder.setdefault(path.rsplit("_part", 1)[0].removesuffix("_tutorial.ipynb"), []).append(_part(path))
        for stem, parts in by_folder.items():
            assert parts == sorted(parts) and len(set(parts)) == len(parts), f"{stem}: parts out of order {parts}"


def test_part_numbers_read_with_their_letters() -> None:
    assert _part("04_debugging/debugging_part1b_tutorial.ipynb") == (1, "b")
    assert sorted(map(_part, ["a_part2_tutorial.ipynb", "a_part1b_tutorial.ipynb", "a_tutorial.ipynb"])) == [
        (1, ""),
        (1, "b"),
        (2, ""),
    ]


def test_an_unlisted_notebook_gets_a_clear_error() -> None:
    with pytest.raises(ValueError, match="add it to NOTEBOOKS in losslab/course.py"):
        course.position("01_losses/losses_part9_tutorial.ipynb")


def test_the_readme_table_is_the_learning_path() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert course.readme_table() in readme, (
        "README.md's chapter table differs from losslab/course.py: paste `python -m losslab.course readme`"
    )


def test_the_website_follows_the_learning_path() -> None:
    from website import build

    pages = build.course_pages()
    assert [p.rel.as_posix() for p in pages] == list(course.NOTEBOOKS)
    assert list(build.chapter_groups(pages)) == list(course.chapters())


def test_the_start_notebooks_path_table_follows_the_learning_path() -> None:
    nb = notebooks.read(SOLUTIONS / "00_start_here.ipynb")
    (table,) = [
        c.source for c in nb.cells if c.cell_type == "markdown" and "## The path through the course" in c.source
    ]
    linked = re.findall(r"\]\(([\w/.-]+\.ipynb)\)", table)
    assert linked == [p for p in course.NOTEBOOKS if p != "00_start_here.ipynb"], (
        "the start notebook's path table must link every other notebook, in losslab/course.py's order"
    )
