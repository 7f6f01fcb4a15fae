"""A learner's first visit: JupyterLab opens at the start notebook, Run All works, the quiz answers back.

The three tests share one tab (in this order): the notebook is run once, then its quiz is answered wrongly and
rightly, then the kernel restarts and the quiz shows the saved progress.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from losslab import notebooks, quiz
from tests.tools.labserver import START_NOTEBOOK, LabServer, NotebookPage

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

BANK = quiz.load_bank("00_start_here")


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _first_sentence(text: str) -> str:
    """The explanation's opening words as the widget shows them (markdown emphasis removed)."""
    return _words(re.sub(r"[*_`]", "", text)).split(". ")[0][:70]


@pytest.fixture(scope="module")
def start(browser_context, lab: LabServer) -> Iterator[NotebookPage]:
    """The start notebook as `make lab` and the Binder badge open it: the server's default page."""
    tab = browser_context.new_page()
    tab.goto(lab.url(""))  # redirects to /lab/tree/course/00_start_here.ipynb
    notebook = NotebookPage(tab, lab)
    try:
        notebook.wait_kernel()
        yield notebook
    finally:
        tab.close()
        lab.shutdown_kernels()


def test_start_notebook_opens_and_runs_top_to_bottom(start: NotebookPage) -> None:
    page = start.page
    assert page.url.split("?")[0].endswith(f"/lab/tree/{START_NOTEBOOK}"), page.url
    expect(page.get_by_role("tab", name="00_start_here.ipynb")).to_have_attribute("aria-selected", "true")

    start.run_all(timeout_ms=240_000)

    nb = notebooks.read(start.lab.root / START_NOTEBOOK)
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    prompts = start.code_cells().locator(".jp-InputPrompt").all_inner_texts()
    assert len(prompts) == n_code and all(re.search(r"\[\d+\]", p) for p in prompts), (
        f"every code cell should have run once: prompts {prompts}"
    )
    assert start.error_outputs() == [], "the start notebook wrote errors or stderr"
    text = _words(start.panel.locator(".jp-OutputArea").all_inner_texts().__str__())
    assert "Keras" in text and "backend" in text, "the environment report is missing"
    assert "after 40 epochs: loss" in text
    assert not re.search(r"<Figure size [\d.x]+ with \d+ Axes>", text), (
        "a matplotlib figure printed as text instead of rendering as an image"
    )
    images = start.images()
    assert images, "the training curves did not render as an image"
    for image in images:
        assert image["complete"] and image["w"] > 200 and image["h"] > 100, f"image not decoded: {image}"


def _quiz(start: NotebookPage):
    quiz_box = start.panel.locator(".widget-vbox", has=start.page.locator("h3", has_text="Quiz:")).first
    expect(quiz_box).to_contain_text(f"Quiz: {BANK.title}")
    return quiz_box


def _question(quiz_box, number: int):
    box = quiz_box.locator(":scope > .widget-vbox").nth(number - 1)
    expect(box.locator(".widget-htmlmath-content").first).to_contain_text(f"Q{number}.")
    return box


def _check(box, expect_text: str) -> str:
    """Press Check and wait for feedback containing ``expect_text``; returns the feedback's text."""
    box.get_by_role("button", name="Check").click()
    feedback = box.locator(":scope > .widget-htmlmath .widget-htmlmath-content").last
    expect(feedback).to_contain_text(expect_text)
    return _words(feedback.inner_text())


def _status(box) -> str:
    return _words(box.locator(":scope > .widget-hbox .widget-html-content").inner_text())


def _read_again(box, question: quiz.Question):
    """The link a wrong answer shows to its section (JupyterLab's command for local links opens it)."""
    return box.locator("a", has_text=quiz.section_title(question.section))


def test_quiz_gives_feedback_on_a_wrong_then_a_right_answer(start: NotebookPage) -> None:
    quiz_box = _quiz(start)
    kinds = [q.kind for q in BANK.questions]
    assert quiz_box.locator(".widget-radio-box").count() == kinds.count("single"), "radio buttons missing"
    summary = quiz_box.locator(":scope > .widget-hbox .widget-html-content")
    expect(summary).to_contain_text(f"0 of {len(BANK.questions)} solved")
    solved = 0
    for number, question in enumerate(BANK.questions, start=1):
        box = _question(quiz_box, number)
        if question.kind == "single":
            wrong = next(c for c in question.choices if not c.correct)
            right = next(c for c in question.choices if c.correct)
            box.get_by_label(wrong.text, exact=True).check()
            said = _check(box, "Not yet.")
            assert wrong.text in said and _first_sentence(wrong.explanation) in said, said
            assert _status(box) == "1 check(s) so far"
            link = _read_again(box, question)
            expect(link).to_have_attribute("data-commandlinker-command", "rendermime:handle-local-link")
            args = json.loads(link.get_attribute("data-commandlinker-args") or "{}")
            assert args == {"path": START_NOTEBOOK, "id": "#" + question.section.partition("#")[2]}, args
            if number == 1:  # following it shows the heading, without a dialog in between
                heading = start.panel.locator("h2", has_text=quiz.section_title(question.section))
                expect(heading).not_to_be_in_viewport()  # the quiz is further down
                link.click()
                expect(start.page.locator(".jp-Dialog")).to_have_count(0)
                expect(heading).to_be_in_viewport()
            box.get_by_label(right.text, exact=True).check()
            said = _check(box, "Correct.")
            assert right.text in said and _first_sentence(right.explanation) in said, said
        elif question.kind == "numeric":
            field = box.locator("input[type=text]")
            field.fill(f"{question.answer * 4:g}")
            said = _check(box, "Not yet.")
            assert "too high" in said and _first_sentence(question.hint) in said, said
            assert _status(box) == "1 check(s) so far"
            field.fill(f"{question.answer:.2f}")
            said = _check(box, "Correct.")
            assert _first_sentence(question.explanation) in said, said
        else:  # multiple: only one of the right choices first, then all of them
            rights = [c for c in question.choices if c.correct]
            box.get_by_label(rights[0].text, exact=True).check()
            said = _check(box, "Not yet.")
            assert f"You left out {len(rights) - 1} right choice(s)" in said, said
            assert _status(box) == "1 check(s) so far"
            for choice in rights[1:]:
                box.get_by_label(choice.text, exact=True).check()
            said = _check(box, "Correct.")
            assert all(_first_sentence(c.explanation) in said for c in rights), said
        assert _status(box) == "solved on check 2 · 2 check(s)"
        expect(_read_again(box, question)).to_have_count(0)  # the link goes once the answer is right
        solved += 1
        expect(summary).to_contain_text(f"{solved} of {len(BANK.questions)} solved · {2 * solved} check(s)")

    # Saved where the kernel was told to (LOSSLAB_PROGRESS), one record per question.
    saved = json.loads((start.lab.home / "progress.json").read_text())["questions"]
    for question in BANK.questions:
        record = saved[f"{BANK.chapter}/{question.id}"]
        assert (record["attempts"], record["solved"], record["solved_on_attempt"]) == (2, True, 2), record


def test_quiz_progress_survives_a_kernel_restart(start: NotebookPage) -> None:
    start.restart_kernel()
    nb = notebooks.read(start.lab.root / START_NOTEBOOK)
    code = [c for c in nb.cells if c.cell_type == "code"]
    quiz_cell = next(i for i, c in enumerate(code) if "quiz.show" in c.source)
    start.run_code_cell(0)  # `import losslab` and the environment report
    start.run_code_cell(quiz_cell)

    quiz_box = _quiz(start)
    n = len(BANK.questions)
    expect(quiz_box.locator(":scope > .widget-hbox .widget-html-content")).to_contain_text(
        f"{n} of {n} solved · {2 * n} check(s)"
    )
    for number, question in enumerate(BANK.questions, start=1):
        box = _question(quiz_box, number)
        assert _status(box) == "solved on check 2 · 2 check(s)"
        if question.kind == "single":
            right = next(c for c in question.choices if c.correct)
            expect(box.get_by_label(right.text, exact=True)).to_be_checked()
