"""The course website (`make site`, website/build.py): built once, checked as files, then opened in Chromium.

The build reuses the executed notebooks the suite saves (tests/artifacts/executed/course/..., written by
tests/support.py's ``execute`` in tests/test_notebooks.py) and never executes one itself (``execute_missing=False``):
a tutorial without a complete, current executed copy is built unexecuted and checked structurally all the same.
Under ``pytest -n 2 --dist loadgroup`` the notebook tests may be running on the other worker: these tests are
moved to the end of the collection (tests/browser/conftest.py), so they usually find every copy, and a copy being
written meanwhile reads as missing, never as half a notebook (website.build.executed_copy). Every page built from
an executed copy must show as many figures as its notebook made.

The checks as files need no browser (every page has its launch links, every internal link resolves, no solution or
hidden-test line of solutions/ is in any page); the browser checks (console errors, images, the quiz's clicks) skip
without Chromium, except in CI (LOSSLAB_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import copy
import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat import NotebookNode

from losslab import notebooks, quiz
from tests.browser.conftest import _unavailable, chromium_context
from tests.support import COURSE, SOLUTIONS, japanese_page_leftovers
from tests.tools.labserver import chromium_missing
from website import build as site
from website.quizhtml import display_order, markdown_html, quiz_calls

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("site"),
    pytest.mark.filterwarnings("ignore:.*Check CHANGES for Sphinx API modifications"),
]

# Nothing comes from outside the site: MathJax is served with it (website/conf.py).
EXTERNAL_ALLOWED: set[str] = set()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> site.Report:
    out = tmp_path_factory.mktemp("site")
    report = site.build(out / "html", execute_missing=False, work=out / "work", log=lambda *a, **k: None)
    print(report.summary())
    return report


def _pages(report: site.Report) -> list[Path]:
    return sorted(report.output.rglob("*.html"))


def _html(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


# ------------------------------------------------------------------------------------------ as files


def test_every_notebook_has_a_page_with_its_binder_button_and_source_link(built: site.Report) -> None:
    repo = site.repository()
    pages = site.course_pages()
    english = [p for p in COURSE.rglob("*.ipynb") if p.relative_to(COURSE).parts[0] != "ja"]  # course/ja: below
    assert len(pages) == len(english), "a notebook of course/ has no page"
    for number, page in enumerate(pages):
        html = _html(built.output / page.rel.with_suffix(".html"))
        binder = [a["href"] for a in html.select("a.losslab-binder")]
        source = [a["href"] for a in html.select("a.losslab-source")]
        assert binder == [f"https://mybinder.org/v2/gh/{repo}/HEAD?urlpath=lab/tree/course/{page.rel.as_posix()}"], (
            f"{page.course_path}: Binder button {binder}"
        )
        assert source == [f"https://github.com/{repo}/blob/HEAD/course/{page.rel.as_posix()}"], source
        following = html.select_one("a.right-next")
        if number + 1 < len(pages):  # the learning path's order, page by page
            target = (built.output / page.rel).parent / following["href"] if following else None
            assert target and target.resolve() == (built.output / pages[number + 1].rel.with_suffix(".html")), (
                f"{page.course_path}: its 'next' link leads to {following and following['href']}"
            )
        assert html.select_one("a.left-prev"), f"{page.course_path}: no link to the previous page"


def test_every_page_has_a_language_switch_to_the_same_page_in_japanese(built: site.Report) -> None:
    """Japanese edition (course/ja/; tests/test_i18n.py and tests/test_i18n_outputs.py have the units): each
    English page and its Japanese twin link to each other, the Japanese page shows course/ja/'s text and the
    Japanese quiz."""
    if not (COURSE / "ja").is_dir():
        pytest.fail("course/ja/ is missing: run `make release` (docs/i18n.md)")
    pages = site.course_pages()
    for page in [*pages, site.Page(Path("."), "en")]:
        here = built.output / (page.docname + ".html" if page.rel != Path(".") else "index.html")
        there_doc = page.other().docname if page.rel != Path(".") else "ja/index"
        links = [a["href"] for a in _html(here).select("a.losslab-lang")]
        assert links == [site.relative(page.docname if page.rel != Path(".") else "index", there_doc)], (
            f"{here.relative_to(built.output)}: language switch {links}"
        )
        there = (here.parent / links[0]).resolve()
        assert there.is_file(), f"{here.relative_to(built.output)}: the switch leads nowhere ({links[0]})"
        back = [(there.parent / a["href"]).resolve() for a in _html(there).select("a.losslab-lang")]
        assert back == [here.resolve()], f"{there.relative_to(built.output)}: does not switch back"
    japanese = _html(built.output / "ja" / "01_losses" / "losses_tutorial.html")
    first = next(c.source for c in notebooks.read(COURSE / "ja" / "01_losses" / "losses_tutorial.ipynb").cells)
    heading = first.splitlines()[0].lstrip("# ").strip()
    assert heading.replace("`", "") in japanese.get_text(), "the Japanese page does not show course/ja/'s text"
    assert "クイズ" in japanese.select_one("div.losslab-quiz h3").get_text(), "the Japanese page's quiz is English"
    for page in site.course_pages(lang="ja"):  # each tutorial says whose run its outputs are
        notes = _html(built.output / (page.docname + ".html")).select("p.losslab-outputs")
        runs = [n["data-run"] for n in notes]
        if page.course_path in built.executed_reused:  # a Japanese run (a `make test-backend EDITION=ja` copy)
            expected = [site.JAPANESE_RUN]
        elif page.other().course_path in built.executed_reused:  # the fallback: the English run's outputs
            expected = [site.ENGLISH_RUN]
        else:  # an exercise, or no run at all
            expected = []
        assert runs == expected, f"{page.course_path}: the note says {runs}, the page shows {expected}"
        if expected:
            assert ("英語版" in notes[0].get_text()) == (expected == [site.ENGLISH_RUN]), notes[0].get_text()
    assert len(built.translated) == len(pages)


def test_executed_pages_show_every_figure_of_their_run(built: site.Report) -> None:
    for path in built.executed_reused:
        page = site.Page.of(path)
        nb, why = site.executed_copy(page)
        if nb is None:  # rewritten by a notebook test on the other worker since the build: nothing to compare
            continue
        figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        shown = [
            img
            for img in _html(built.output / (page.docname + ".html")).select("img")
            if "_images/" in img.get("src", "")
        ]
        assert figures >= 1 and len(shown) == figures, f"{path}: {len(shown)} figures on the page, {figures} in the run"
    assert not set(built.executed_now), "the test build must not execute notebooks"


def test_japanese_pages_show_their_cells_printed_sentences_in_japanese() -> None:
    """Every tutorial's Japanese page, from the suite's executed copy (or from LOSSLAB_EXECUTED, another checkout's
    tests/artifacts/executed): support.japanese_page_leftovers finds no English piece of a translated printed
    literal in its cell's outputs. (tests/test_notebooks.py checks each tutorial's page the same way right after
    executing it: in a fresh clone this test may run before any tutorial has.) Prints how many output lines the
    pages translate."""
    folder = Path(os.environ.get("LOSSLAB_EXECUTED") or site.EXECUTED)
    pages, lines, translated, left = 0, 0, 0, []
    for page in site.course_pages():
        english = None if page.exercise else site.executed_copy(page, executed=folder)[0]
        if english is None:
            continue
        pages += 1
        shown = japanese_page_leftovers(english, page.rel)
        lines, translated, left = lines + shown.lines, translated + shown.translated, left + shown.left
    if not pages:
        pytest.skip(
            f"no complete, current executed copy of a tutorial under {folder}: tests/test_notebooks.py writes them "
            "(or set LOSSLAB_EXECUTED to a checkout's tests/artifacts/executed)"
        )
    print(f"Japanese pages: {pages} tutorials, {translated} of {lines} output lines translated")
    assert translated > 0 and not left, "English left in the Japanese pages' outputs:\n" + "\n".join(left)


def test_home_page_has_the_learning_path_chapter_table_and_set_up(built: site.Report) -> None:
    html = _html(built.output / "index.html")
    text = " ".join(html.get_text(" ").split())
    headings = [h.get_text().strip("#¶ \n") for h in html.select("main h1, main h2")]
    for heading in ("The learning path", "The chapters", "Set up"):
        assert heading in headings, f"home page lacks '{heading}': {headings}"
    assert "make lab" in text and "mybinder.org" in str(html)
    assert "MIT License" in text and "CC BY 4.0" in text, "the home page names the code's and the content's licenses"
    footer = " ".join(_html(built.output / "01_losses" / "losses_tutorial.html").get_text(" ").split())
    assert "MIT License" in footer and "CC BY 4.0" in footer, "every page's footer names the licenses"
    links = {a["href"].split("#")[0] for a in html.select("main a.reference.internal")}
    for page in site.course_pages():
        assert page.rel.with_suffix(".html").as_posix() in links, f"home page does not link {page.course_path}"
    table = html.select_one("main table")
    assert table is not None and len(table.select("tbody tr")) == len(site.chapter_groups(site.course_pages()))


def _local_targets(page: Path, html: BeautifulSoup) -> Iterator[tuple[str, Path]]:
    for tag, attr in (("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")):
        for node in html.find_all(tag):
            url = node.get(attr)
            if not url or url.startswith(("#", "mailto:", "javascript:", "data:")) or urlsplit(url).scheme:
                continue
            yield url, (page.parent / unquote(urlsplit(url).path)).resolve()


def test_every_internal_link_resolves(built: site.Report) -> None:
    broken = []
    for page in _pages(built):
        for url, target in _local_targets(page, _html(page)):
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(built.output)}: {url}")
    assert not broken, "links to missing files:\n" + "\n".join(broken)


def _between(source: str, begin: str, end: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line.strip())
    return lines


def secret_lines() -> set[str]:
    """Lines of solutions/' answers and hidden tests that the learner's edition does not contain anywhere."""
    public = "\n".join(c.source for p in notebooks.find([COURSE]) for c in notebooks.read(p).cells)
    secret = set()
    for path in SOLUTIONS.rglob("*_exercise.ipynb"):
        for cell in notebooks.read(path).cells:
            secret.update(_between(cell.source, "### BEGIN SOLUTION", "### END SOLUTION"))
            secret.update(_between(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))
    # short lines (`return model`, `)`) say nothing; what the learner's edition also says (a tutorial's code, an
    # exercise's example) is not a secret
    return {line for line in secret if len(line) >= 16 and line not in public}


def test_no_solution_or_hidden_test_text_in_any_page(built: site.Report) -> None:
    secrets = secret_lines()
    assert len(secrets) > 50, f"only {len(secrets)} solution/hidden-test lines found in solutions/: check the markers"
    leaks = []
    for page in _pages(built):
        text = _html(page).get_text()
        leaks += [f"{page.relative_to(built.output)}: {line}" for line in secrets if line in text]
    assert not leaks, "solution or hidden-test text on the website:\n" + "\n".join(sorted(leaks)[:20])


def test_each_quiz_is_static_html_from_its_bank(built: site.Report) -> None:
    found = 0
    for page in site.course_pages():
        calls = [
            c
            for cell in notebooks.read(COURSE / page.rel).cells
            if cell.cell_type == "code"
            for c in quiz_calls(cell.source)
        ]
        html = _html(built.output / page.rel.with_suffix(".html"))
        assert len(html.select(".losslab-quiz")) == len(calls), f"{page.course_path}: quizzes on the page"
        assert not html.select(".jupyter-widgets, script[type='application/vnd.jupyter.widget-state+json']")
        for chapter, ids in calls:
            bank = quiz.load_bank(chapter)
            for q in [bank[i] for i in ids] if ids else bank.questions:
                section = html.select_one(f"section#quiz-{chapter}-{q.id}")
                assert section is not None, f"{page.course_path}: question {q.id} missing"
                summaries = [s.get_text(" ", strip=True) for s in section.select("details.losslab-choice summary")]
                expected = [
                    BeautifulSoup(markdown_html(c.text), "html.parser").get_text(" ", strip=True)
                    for c in display_order(q)
                ]
                assert [s.split(") ", 1)[1] for s in summaries] == expected, f"{q.id}: choices on the page"
                if q.kind == "numeric":
                    assert section.select_one("details.losslab-answer"), f"{q.id}: no answer to reveal"
                found += 1
    assert found >= 5, "the course's tutorials show their quizzes"


def test_only_complete_current_executed_copies_are_reused(tmp_path: Path) -> None:
    page = site.Page(Path("01_losses/losses_tutorial.ipynb"))
    copy_path = tmp_path / "course" / page.rel
    copy_path.parent.mkdir(parents=True)
    nb = notebooks.read(COURSE / page.rel)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert site.executed_copy(page, executed=tmp_path)[0] is None  # none yet
    for i, cell in enumerate(code, start=1):
        cell.execution_count = i
    notebooks.write(nb, copy_path)
    assert site.executed_copy(page, executed=tmp_path)[0] is not None

    def code_of(n):
        return [c for c in n.cells if c.cell_type == "code"]

    cases = {
        "stale": lambda n: setattr(n.cells[0], "source", n.cells[0].source + " (changed)"),
        "incomplete": lambda n: setattr(code_of(n)[-1], "execution_count", None),
        "error": lambda n: code_of(n)[0].outputs.append(
            nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[])
        ),
    }
    for why, spoil in cases.items():
        broken = notebooks.read(copy_path)
        spoil(broken)
        notebooks.write(broken, tmp_path / "spoilt.ipynb")
        (tmp_path / "spoilt.ipynb").replace(copy_path)
        found, reason = site.executed_copy(page, executed=tmp_path)
        assert found is None and why in reason, f"a copy with {why} was reused ({reason!r})"
        notebooks.write(nb, copy_path)
    copy_path.write_text(copy_path.read_text()[:500])  # half written by a test on the other worker
    found, reason = site.executed_copy(page, executed=tmp_path)
    assert found is None and "unreadable" in reason, reason


def test_a_japanese_page_shows_a_japanese_run_only_when_complete_and_current(tmp_path: Path, monkeypatch) -> None:
    """The choice of a Japanese tutorial's outputs (site.japanese_tutorial), on made-up runs: course/ja/'s executed
    copy when it can be shown, with the note that says so (and without the figure texts a test run records);
    else the English run's outputs translated, with the note that says that; no note without outputs."""
    page = site.Page(Path("01_losses/losses_tutorial.ipynb"), "ja")
    english = notebooks.read(COURSE / page.rel)
    for cell in english.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "RU5HTElTSA=="})]
    japanese = notebooks.read(COURSE / "ja" / page.rel)
    for i, cell in enumerate(c for c in japanese.cells if c.cell_type == "code"):
        cell.execution_count = i + 1
        texts = {site.FIGURE_TEXTS: ["損失"]}
        cell.outputs = [
            nbformat.v4.new_output("display_data", data={"image/png": "SkFQQU5FU0U=", "application/json": texts})
        ]
    copy_path = tmp_path / "course" / "ja" / page.rel
    copy_path.parent.mkdir(parents=True)
    notebooks.write(japanese, copy_path)

    def shown(english_run: bool = True) -> tuple[NotebookNode, str]:
        nb, outputs, _how = site.japanese_tutorial(page, english, english_run, executed=tmp_path, execute_missing=False)
        return site.prepare(nb, page, "owner/repo", outputs=outputs)[0], outputs

    def pictures(nb: NotebookNode) -> set[str]:
        return {
            o.data["image/png"] for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.data
        }

    def note(nb: NotebookNode) -> str:
        return BeautifulSoup(nb.cells[0].source, "html.parser").select_one("p.losslab-outputs").get_text()

    nb, outputs = shown()
    assert outputs == site.JAPANESE_RUN and pictures(nb) == {"SkFQQU5FU0U="}, "the Japanese run is not shown"
    assert "日本語版のノートブック" in note(nb) and "英語版" not in note(nb), note(nb)
    assert not any("application/json" in o.data for c in nb.cells[1:] if c.cell_type == "code" for o in c.outputs)
    spoilt = {
        "stale": lambda n: setattr(n.cells[0], "source", n.cells[0].source + " (changed)"),
        "error": lambda n: next(c for c in n.cells if c.cell_type == "code").outputs.append(
            nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[])
        ),
        "incomplete": lambda n: setattr(next(c for c in n.cells if c.cell_type == "code"), "execution_count", None),
    }
    for why, spoil in spoilt.items():
        broken = copy.deepcopy(japanese)
        spoil(broken)
        notebooks.write(broken, copy_path)
        nb, outputs = shown()
        assert outputs == site.ENGLISH_RUN and pictures(nb) == {"RU5HTElTSA=="}, f"a {why} Japanese run was shown"
        assert "英語版" in note(nb), f"{why}: {note(nb)}"
    nb, outputs = shown(english_run=False)  # no run at all (--no-execute without executed copies)
    assert outputs == "" and "losslab-outputs" not in nb.cells[0].source, "a note about outputs the page lacks"
    ran = []
    monkeypatch.setattr(site, "execute", lambda p, course, executed: ran.append(p) or japanese)
    nb, outputs, how = site.japanese_tutorial(page, english, True, executed=tmp_path, log=lambda *a, **k: None)
    assert ran == [page] and (outputs, how) == (site.JAPANESE_RUN, "now"), "make site did not run course/ja/'s notebook"


def test_quiz_calls_are_read_statically() -> None:
    assert quiz_calls('losslab.quiz.show("01_losses")') == [("01_losses", None)]
    assert quiz_calls('from losslab import quiz\nquiz.show("02_optimizers", ["a", "b"])') == [
        ("02_optimizers", ["a", "b"])
    ]
    assert quiz_calls("%matplotlib inline") == [] and quiz_calls("plt.show()") == []
    with pytest.raises(ValueError, match="as literals"):
        quiz_calls("losslab.quiz.show(chapter)")


def test_a_widget_display_with_nothing_but_its_repr_is_left_off_the_page() -> None:
    widget = {site.WIDGET_MIME: {"model_id": "abc", "version_major": 2, "version_minor": 0}}
    progress = {**widget, "text/plain": "HBox(children=(IntProgress(value=0, max=6), Label(value='')))"}
    question = {**widget, "text/plain": "Predict: ...", "text/html": "<pre>Predict: ...</pre>"}
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("run()")]
    nb.cells[0].outputs = [
        nbformat.v4.new_output("display_data", data=progress),
        nbformat.v4.new_output("display_data", data=question),
        nbformat.v4.new_output("stream", text="done\n"),
    ]
    shown, _ = site.prepare(nb, site.Page(Path("01_losses/a_tutorial.ipynb")), "owner/repo")
    outputs = shown.cells[1].outputs
    assert [o.get("data", {}) for o in outputs] == [
        {"text/plain": "Predict: ...", "text/html": "<pre>Predict: ...</pre>"},
        {},
    ]
    assert outputs[1]["text"] == "done\n" and len(nb.cells[0].outputs) == 3  # the notebook itself is unchanged


# ------------------------------------------------------------------------------------------ in Chromium


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # the server's request log is not the test's output
        pass


@pytest.fixture(scope="module")
def served(built: site.Report) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(built.output))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    reason = chromium_missing()
    if reason:
        _unavailable(reason)
    with chromium_context(tmp_path_factory.mktemp("site-chromium")) as context:
        yield context


def test_every_page_loads_without_errors_and_every_image_loads(built: site.Report, served: str, chromium) -> None:
    problems: list[str] = []
    external: set[str] = set()

    def route(request_route) -> None:
        host = urlsplit(request_route.request.url).hostname
        if host == "127.0.0.1":
            request_route.continue_()
        else:  # no internet here: answer, and note every outside host asked for
            external.add(host or request_route.request.url)
            request_route.fulfill(status=200, body="", content_type="application/javascript")

    chromium.route("**/*", route)
    tab = chromium.new_page()
    tab.on("console", lambda m: m.type == "error" and problems.append(f"{tab.url}: console error: {m.text}"))
    tab.on("pageerror", lambda e: problems.append(f"{tab.url}: script error: {e}"))
    tab.on("response", lambda r: r.status >= 400 and problems.append(f"{tab.url}: {r.status} for {r.url}"))

    # A request still in flight when the next page is opened (MathJax fetches its fonts after "load") is aborted by
    # that navigation: net::ERR_ABORTED is not a fault of the site. A file that is missing answers 404 (above).
    def failed(request) -> None:
        if request.failure != "net::ERR_ABORTED":
            problems.append(f"{tab.url}: failed request {request.url} ({request.failure})")

    tab.on("requestfailed", failed)
    try:
        for page in _pages(built):
            tab.goto(served + page.relative_to(built.output).as_posix(), wait_until="load")
            images = tab.eval_on_selector_all(
                "img", "imgs => imgs.map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])"
            )
            problems += [f"{page.relative_to(built.output)}: image not loaded: {src}" for src, ok in images if not ok]
    finally:
        tab.close()
        chromium.unroute("**/*")
    assert not problems, "\n".join(problems)
    assert external <= EXTERNAL_ALLOWED, f"pages load from outside the site: {external - EXTERNAL_ALLOWED}"


def test_a_quiz_question_reveals_the_explanation_of_the_choice_clicked(served: str, chromium) -> None:
    from playwright.sync_api import expect

    question = next(q for q in quiz.load_bank("01_losses").questions if q.kind == "single")
    choices = display_order(question)
    wrong = next(i for i, c in enumerate(choices) if not c.correct)
    right = next(i for i, c in enumerate(choices) if c.correct)
    tab = chromium.new_page()
    try:
        page = question.section.split("#", 1)[0].removesuffix(".ipynb") + ".html"  # the checkpoint follows its section
        tab.goto(served + page, wait_until="load")
        section = tab.locator(f"section#quiz-01_losses-{question.id}")
        details = section.locator("details.losslab-choice")
        expect(details).to_have_count(len(choices))
        for i in range(len(choices)):
            expect(details.nth(i).locator(".losslab-explanation")).to_be_hidden()
        details.nth(wrong).locator("summary").click()
        expect(details.nth(wrong).locator(".losslab-explanation")).to_be_visible()
        expect(details.nth(wrong)).to_contain_text("Not this one")
        expect(details.nth(right).locator(".losslab-explanation")).to_be_hidden()
        details.nth(right).locator("summary").click()
        shown = details.nth(right).locator(".losslab-explanation")
        expect(shown).to_be_visible()
        expect(shown).to_contain_text("Right.")
        words = " ".join(choices[right].explanation.split()[:8])
        assert words in " ".join(shown.inner_text().split()), "the right choice shows another explanation"
    finally:
        tab.close()


def test_formulas_render_with_the_mathjax_served_with_the_site(built: site.Report, served: str, chromium) -> None:
    page = built.output / "00_start_here.html"
    scripts = [s.get("src", "") for s in _html(page).select("script") if "mathjax" in s.get("src", "").lower()]
    assert scripts == ["_static/mathjax/tex-mml-chtml.js"], f"MathJax should load from the site itself: {scripts}"
    assert (built.output / "_static" / "mathjax" / "tex-mml-chtml.js").stat().st_size > 100_000
    outside: list[str] = []
    chromium.route(
        "**/*",
        lambda r: (
            r.continue_()
            if urlsplit(r.request.url).hostname == "127.0.0.1"
            else (outside.append(r.request.url), r.abort())[1]
        ),
    )
    tab = chromium.new_page()
    try:
        tab.goto(served + "00_start_here.html", wait_until="load")
        tab.locator("mjx-container").first.wait_for(timeout=30_000)
        assert tab.locator("mjx-container").count() >= 1
        assert "\\approx" not in tab.locator("article").inner_text(), "a formula is shown as raw TeX"
    finally:
        tab.close()
        chromium.unroute("**/*")
    assert not outside, f"the page asked for outside files: {outside}"
