"""Chapter tutorials in the browser: plots render as images, and chapter 2's optimizer playground redraws.

The course's first tutorial is opened and run with Run All until its first plot has rendered as a decoded <img>;
the rest of the notebook is interrupted (tests/test_notebooks.py already runs every part to the end, headless,
and checks its figures and stderr).
Chapter 2 runs once: part 2, up to its playground, whose picture is a plot too.
The playground test is written against chapter 2's contract: an ipywidgets playground whose controls are
described "surface", "learning rate" and "momentum", and whose matplotlib picture is redrawn when the
learning-rate slider moves. It skips, saying so, while course/02_optimizers/optimizers_part2_tutorial.ipynb
does not exist.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from losslab import notebooks
from tests.support import REPO
from tests.tools.labserver import NotebookPage

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PLAYGROUND = "course/02_optimizers/optimizers_part2_tutorial.ipynb"
# One tutorial: the course's first. Whether JupyterLab shows a plot as an image is a matter of the front end and
# the inline backend, the same for every notebook; every part's figures (image/png outputs) and stderr are checked
# headlessly by tests/test_notebooks.py from its one execution, and chapter 2's playground test below shows a
# second notebook's plots in the browser. (One per chapter ran the start of six tutorials a second time: about 5
# minutes of a loaded 2-core run, for the same front-end path.)
TUTORIALS = ["course/01_losses/losses_tutorial.ipynb"]
CONTROLS = ("surface", "learning rate", "momentum")
FIGURE_AS_TEXT = re.compile(r"<Figure size [\d.x]+ with \d+ Axes>")


def unexpected_errors(notebook: NotebookPage, path: str) -> list[str]:
    """Error and stderr outputs of cells not tagged `shows-warning` (those write to stderr on purpose)."""
    cells = notebooks.read(notebook.lab.root / path).cells
    found = notebook.panel.locator(".jp-Notebook .jp-Cell").evaluate_all(
        """cells => cells.map((c, i) => [i, Array.from(c.querySelectorAll(
               ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"))
               .map(o => o.innerText)])
           .filter(([i, texts]) => texts.length)"""
    )
    return [
        f"cell {i}: {' | '.join(texts)[:500]}"
        for i, texts in found
        if "shows-warning" not in cells[i].get("metadata", {}).get("tags", [])
    ]


def wait_for(notebook: NotebookPage, found, what: str, path: str, timeout_s: float = 300):
    """Poll ``found()`` while the notebook runs; fail early on an unexpected error or when the run ends."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = found()
        if result:
            return result
        errors = unexpected_errors(notebook, path)
        assert not errors, f"{path}: a cell failed before {what}:\n" + "\n".join(errors)
        state = notebook.state()
        if state["running"] == 0 and state["status"] == "idle":
            result = found()
            assert result, f"{path} ran to the end without {what}"
            return result
        assert time.monotonic() < deadline, f"{path}: no {what} after {timeout_s:.0f} s"
        notebook.page.wait_for_timeout(500)


@pytest.mark.parametrize(
    "path",
    TUTORIALS
    or [
        pytest.param(
            None,
            marks=pytest.mark.skip(
                reason="no chapter tutorial in course/NN_topic/*_tutorial.ipynb yet "
                "(chapter 2's is checked by the playground test)"
            ),
        )
    ],
)
def test_tutorial_plots_render_as_images(open_notebook, path: str) -> None:
    notebook = open_notebook(path)
    notebook.run_all(wait=False)

    def decoded_image() -> list:
        return [i for i in notebook.images() if i["complete"] and i["w"] > 100 and i["h"] > 100]

    images = wait_for(notebook, decoded_image, "a plot rendered as an image", path)
    assert images, path
    texts = " ".join(notebook.panel.locator(".jp-OutputArea-output").all_inner_texts())
    assert not FIGURE_AS_TEXT.search(texts), f"{path}: a figure printed as text instead of an image"
    notebook.interrupt()  # the rest of the notebook is tests/test_notebooks.py's job


def _fingerprints(area) -> list[str]:
    return area.locator("img").evaluate_all(
        "imgs => imgs.filter(i => i.complete && i.naturalWidth > 100)"
        "            .map(i => i.src.length + ':' + i.src.slice(-80))"
    )


@pytest.mark.skipif(
    not (REPO / PLAYGROUND).exists(),
    reason=(
        f"{PLAYGROUND} does not exist yet (chapter 2 has not landed); this test is written against its contract: "
        f"controls described {', '.join(map(repr, CONTROLS))}"
    ),
)
def test_optimizer_playground_redraws_when_the_learning_rate_moves(open_notebook) -> None:
    notebook = open_notebook(PLAYGROUND)
    page = notebook.page
    notebook.run_all(wait=False)
    label = re.compile(r"^\s*learning rate\s*$", re.I)
    cell = notebook.panel.locator(".jp-CodeCell", has=page.locator(".widget-label", has_text=label)).first

    def playground_drawn() -> list[str]:
        return _fingerprints(cell) if cell.count() else []

    wait_for(notebook, playground_drawn, "the optimizer playground with its picture", PLAYGROUND)
    notebook.interrupt()  # stop the cells after the playground so that its callbacks run at once
    texts = " ".join(notebook.panel.locator(".jp-OutputArea-output").all_inner_texts())
    assert not FIGURE_AS_TEXT.search(texts), f"{PLAYGROUND}: a figure printed as text instead of an image"

    output = cell.locator(".jp-Cell-outputArea")
    for name in CONTROLS:
        control = output.locator(".widget-label", has_text=re.compile(rf"^\s*{name}\s*$", re.I)).first
        expect(control).to_be_visible()
    slider = output.locator(".widget-slider", has=page.locator(".widget-label", has_text=label)).first
    readout = slider.locator(".widget-readout")
    before_value, before_images = readout.inner_text(), set(_fingerprints(output))

    handle = slider.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    assert box, "the learning-rate slider has no handle on screen"
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 20, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    expect(readout).not_to_have_text(before_value)

    deadline = time.monotonic() + 120
    while not set(_fingerprints(output)) - before_images:
        assert time.monotonic() < deadline, (
            f"the picture was not redrawn after the learning rate moved from {before_value} to {readout.inner_text()}"
        )
        page.wait_for_timeout(250)
