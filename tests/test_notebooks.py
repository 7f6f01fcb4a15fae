"""Every notebook of the course executes top to bottom, each with its own timeout.

Tutorials and the start notebook run here (course/ equals solutions/ for them, see test_release.py), from the
edition ``LOSSLAB_EDITION`` names (tests/support.py's ``edition``): the English, or the Japanese (course/ja/, with
``LOSSLAB_LANG=ja`` in the kernel), which CI's JAX tier runs. Of an English run, the Japanese page the website
builds from its outputs may keep no English piece of a literal course/ja/ translates; of a Japanese run, the
English left in what the learner sees is reported (``english_left``): none may be left outside code and
outside a Keras or TensorFlow error message the tutorial quotes (each named with its cell), no line may be a
message of the library's catalog left in English, and the website's Japanese page of the tutorial must show this
run (its figures), not the English run's outputs translated (website/build.py's ``japanese_tutorial``).
Exercise notebooks run inside the grading round trips (test_grading.py): solutions must score full marks,
the blank edition zero. A cell may write to stderr only when tagged ``shows-warning`` (a warning the
tutorial wants the learner to see); anything else on stderr is noise that would alarm a learner.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from losslab import notebooks
from tests.support import (
    COURSE,
    REPO,
    english_left,
    execute,
    figure_texts,
    japanese_page_leftovers,
    language_of,
    notebook_timeout,
    tutorials,
)
from website import build as site

pytestmark = pytest.mark.slow


def _figures(nb) -> list[str]:
    return [
        o.data["image/png"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "image/png" in o.get("data", {})
    ]


@pytest.mark.parametrize("path", tutorials(), ids=lambda p: str(p.relative_to(REPO)))
def test_notebook_runs_top_to_bottom(path: Path) -> None:
    nb, seconds = execute(path, timeout=notebook_timeout(path))
    errors = [
        (i, o.ename, o.evalue)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert not errors, f"{path.name}: cells raised {errors}"
    noisy = [
        (i, o.text[:300])
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and "shows-warning" not in c.metadata.get("tags", [])
        for o in c.outputs
        if o.output_type == "stream" and o.name == "stderr"
    ]
    assert not noisy, f"{path.name}: unexpected stderr (tag the cell 'shows-warning' if intended): {noisy}"
    images = len(_figures(nb))
    assert images >= 1, f"{path.name}: a tutorial should show at least one figure"
    print(f"{path.relative_to(REPO)}: {seconds:.1f} s")
    if language_of(path) != "en":  # what a learner of the translated edition still reads in English
        shown = english_left(nb, language_of(path))
        print(shown.report(str(path.relative_to(COURSE))))
        assert figure_texts(nb), f"{path.name}: no figure's texts were recorded (tests/support.py's FIGURE_TEXTS)"
        assert not shown.catalog, "catalog messages printed in English:\n" + "\n".join(shown.catalog)
        assert not shown.problems(), (  # the edition's goal: no English outside code and quoted library errors
            f"{path.name}: English outside code (translate it, or show a key through losslab.shown):\n"
            + "\n".join(shown.problems())
        )
        if path.is_relative_to(COURSE / "ja"):  # its page on the website shows this run (no Sphinx, no execution)
            page = site.Page(path.relative_to(COURSE / "ja"), "ja")
            english = notebooks.read(COURSE / page.rel)  # the English page's run is not needed: never shown
            shown_nb, outputs, how = site.japanese_tutorial(page, english, True, execute_missing=False)
            assert (outputs, how) == (site.JAPANESE_RUN, "reused") and _figures(shown_nb) == _figures(nb), (
                f"{page.course_path}: the website's page does not show this run ({outputs or 'no outputs'})"
            )
        return
    rel = path.relative_to(COURSE) if path.is_relative_to(COURSE) else None
    if rel is not None and (COURSE / "ja" / rel).exists():  # its Japanese page on the website, from this run
        shown = japanese_page_leftovers(nb, rel)
        assert not shown.left, "English left in the Japanese page's outputs:\n" + "\n".join(shown.left)
        print(f"its Japanese page: {shown.translated} of {shown.lines} output lines translated")
