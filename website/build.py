"""`make site`: the course as a static website (Sphinx + MyST-NB + sphinx-book-theme) in _site/.

Steps: pick each page's notebook, stage it with its static quiz and launch links in .site-build/source/, write the
home page, then run Sphinx with notebook execution off (website/conf.py). Which notebook a page shows:

- tutorials and the start notebook: the executed copy the test suite saved (tests/artifacts/executed/course/...,
  written by tests/support.py's ``execute``) when it is complete (every code cell ran, no error) and its sources
  equal course/'s; otherwise the build executes course/'s notebook itself, prints a line per notebook, and saves
  the copy in the same folder for the next build. ``--no-execute`` shows the unexecuted notebook instead.
- the Japanese pages (ja/..., from course/ja/, when it exists): a tutorial shows a Japanese run, its figures,
  sentences and run names in Japanese: the executed copy of course/ja/'s notebook (tests/artifacts/executed/course/
  ja/..., written by `make test-backend EDITION=ja`, CI's JAX tier) under the same rules against course/ja/, or
  else course/ja/'s notebook executed by the build with ``LOSSLAB_LANG=ja`` in the kernel (a line per notebook,
  the copy saved for the next build): `make site` runs each tutorial twice, once per language. With
  ``--no-execute`` and no Japanese copy, the page falls back on course/ja/'s notebook with the English page's
  outputs, their printed sentences translated by losslab/i18n_code.py's ``translate_outputs`` (each cell's printed
  literals, the run names, then the library's gettext messages; the figures stay the English run's). A note at the
  top of the page says which run its outputs are (the fallback's says what stays as the English run printed it;
  none without outputs). Their quizzes come from the Japanese banks. Every page, English and Japanese, has a
  language switch to the same page in the other language.
- exercises: always course/'s learner's edition, unexecuted. The suite runs exercises only through the grader
  (solutions and submissions, in temporary folders), and a run of the learner's edition shows nothing but
  NotImplementedError: the page shows the task, and its Binder button opens it to be solved.

Usage: ``python -m website.build [--out _site] [--no-execute]``.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from losslab import course as learning_path
from losslab import i18n_code, i18n_names, notebooks
from losslab.i18n import LANGUAGES
from website.quizhtml import quiz_calls, quiz_html

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "course"
CONF_DIR = Path(__file__).resolve().parent
EXECUTED = REPO / "tests" / "artifacts" / "executed"
OUTPUT = REPO / "_site"
WORK = REPO / ".site-build"
DEFAULT_TIMEOUT = 240  # seconds per notebook, as tests/support.py; a notebook may set metadata.losslab.timeout
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FIGURE_TEXTS = "losslab-figure-texts"  # the JSON key of a figure's texts in a test run's copy (tests/support.py)


class SiteError(RuntimeError):
    """A build that cannot go on; the message says what to do."""


# ---------------------------------------------------------------------------------------- the course


@dataclass(frozen=True)
class Page:
    """One notebook of course/: its path relative to its edition (course/, or course/ja/ with lang "ja")."""

    rel: Path
    lang: str = "en"

    @property
    def exercise(self) -> bool:
        return self.rel.name.endswith("_exercise.ipynb")

    @property
    def chapter(self) -> str:
        """The chapter folder ('01_losses'); the start notebook is its own chapter, '00_start_here'."""
        return self.rel.parts[0] if len(self.rel.parts) > 1 else self.rel.stem

    @property
    def edition(self) -> str:
        return "" if self.lang == "en" else f"{self.lang}/"

    @classmethod
    def of(cls, course_path: str) -> Page:
        """The page of 'course/...' or 'course/ja/...' (a Report's entries)."""
        rel = Path(course_path).relative_to("course")
        return cls(Path(*rel.parts[1:]), rel.parts[0]) if rel.parts[0] in LANGUAGES else cls(rel)

    def root(self, course: Path = COURSE) -> Path:
        """The page's edition: course/, or course/<lang>/."""
        return course if self.lang == "en" else course / self.lang

    @property
    def docname(self) -> str:
        return self.edition + self.rel.with_suffix("").as_posix()

    @property
    def course_path(self) -> str:
        return f"course/{self.edition}{self.rel.as_posix()}"

    def other(self) -> Page:
        """The same page in the other language (English <-> Japanese)."""
        return Page(self.rel, "ja" if self.lang == "en" else "en")


def course_pages(course: Path = COURSE, lang: str = "en") -> list[Page]:
    """Every notebook of course/ (or of course/<lang>/) in the learning path's order (losslab/course.py: the
    sidebar and previous/next)."""
    root = course if lang == "en" else course / lang
    found = [
        Page(p.relative_to(root), lang) for p in notebooks.find([root]) if p.relative_to(root).parts[0] not in LANGUAGES
    ]
    if not found:
        raise SiteError(f"no notebooks in {course}: run `make release` to generate course/ from solutions/")
    try:
        return sorted(found, key=lambda p: learning_path.position(p.rel.as_posix()))
    except ValueError as exc:
        raise SiteError(str(exc)) from None


def title(nb: NotebookNode, fallback: str) -> str:
    """The notebook's first markdown heading, without its '#'s."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#{1,6}\s+(.+?)\s*$", cell.source, re.M)
            if match:
                return match.group(1)
    return fallback


def repository() -> str:
    """'owner/name' from the README's Binder badge: the site launches the repository the README does."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/", readme)
    if not match:
        raise SiteError(
            "README.md has no Binder badge (https://mybinder.org/v2/gh/OWNER/NAME/...): the website "
            "takes the repository to launch from it"
        )
    return match.group(1)


def binder_url(page: Page, repo: str) -> str:
    return f"https://mybinder.org/v2/gh/{repo}/HEAD?urlpath=lab/tree/{page.course_path}"


def source_url(page: Page, repo: str) -> str:
    return f"https://github.com/{repo}/blob/HEAD/{page.course_path}"


# ---------------------------------------------------------------------------------- executed copies


def _code_sources(nb: NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def copy_path(page: Page, executed: Path = EXECUTED) -> Path:
    """Where the suite (tests/support.py's ``execute``) and the build keep the page's executed copy."""
    return executed / "course" / page.edition / page.rel


def executed_copy(page: Page, course: Path = COURSE, executed: Path = EXECUTED) -> tuple[NotebookNode | None, str]:
    """(the suite's executed copy of the page, '') when it can be shown, else (None, why not). A Japanese page's
    copy is a run of course/ja/'s notebook (tests/artifacts/executed/course/ja/..., written by `make
    test-backend EDITION=ja` or by an earlier build), held to the same rules against course/ja/."""
    path = copy_path(page, executed)
    if not path.exists():
        return None, "no executed copy"
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # a copy being written by a test on another worker, or corrupt
        return None, f"executed copy unreadable ({type(exc).__name__})"
    if _code_sources(nb) != _code_sources(notebooks.read(page.root(course) / page.rel)):
        return None, f"executed copy is stale (course/{page.edition} changed since)"
    code = [c for c in nb.cells if c.cell_type == "code"]
    if any(c.get("execution_count") is None for c in code if c.source.strip()):
        return None, "executed copy is incomplete (a cell did not run)"
    if any(o.output_type == "error" for c in code for o in c.outputs):
        return None, "executed copy has an error in a cell"
    return nb, ""


def execute(page: Page, course: Path = COURSE, executed: Path = EXECUTED) -> NotebookNode:
    """Run the page's notebook (course/'s, or course/ja/'s) in a fresh kernel in its own folder, with
    ``LOSSLAB_LANG`` set to the page's language in the kernel (as tests/support.py's ``execute``: nbclient gives the
    kernel no notebook path to read ``language: ja`` from); save the copy where the suite saves its own."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    source = page.root(course) / page.rel
    nb = notebooks.read(source)
    timeout = int(nb.metadata.get("losslab", {}).get("timeout", DEFAULT_TIMEOUT))
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(source.parent)}}
    )
    try:
        client.execute(env={**os.environ, "LOSSLAB_LANG": page.lang})
    except CellExecutionError as exc:
        raise SiteError(
            f"{page.course_path} failed while the website executed it; run it in JupyterLab to see "
            f"why (make lab):\n{str(exc)[-1500:]}"
        ) from exc
    out = copy_path(page, executed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".ipynb.tmp")
    nbformat.write(nb, str(tmp))
    os.replace(tmp, out)  # whole or nothing: a test reading it meanwhile never sees half a notebook
    return nb


# ---------------------------------------------------------------------------------- page preparation


EXERCISE_NOTE = {
    "en": "The learner's edition of this exercise: the answers and the grader's hidden tests are not shown. Open it "
    "live, replace each <code>raise NotImplementedError()</code>, run the visible tests and press <b>Validate</b>.",
    "ja": "この演習の学習者用の版です。解答と採点用の隠しテストは表示されません。ライブで開き、"
    "<code>raise NotImplementedError()</code> をそれぞれ書き換え、見えているテストを実行してから <b>Validate</b> "
    "を押してください。",
}
# A Japanese tutorial page says whose run its outputs are (see japanese_tutorial): the Japanese edition's own
# (JAPANESE_RUN), or the English run's with their printed sentences in Japanese (ENGLISH_RUN, see japanese_page);
# a page without outputs says nothing.
JAPANESE_RUN, ENGLISH_RUN = "japanese", "english"
RUN_NOTE_JA = (
    "このページの出力は、日本語版のノートブック(このページのコード)を実行したときのものです。図、表示される文、"
    "実行の名前は日本語です。Keras と TensorFlow 自身のメッセージは、実行したときのまま英語です。"
)
OUTPUTS_NOTE_JA = (
    "このページの出力は、英語版ノートブックを実行したときのものです(日本語版のコードは表示する文と名前の言葉だけが"
    "違い、同じ計算をするので、数値も同じ実行のものです)。出力の中の文は日本語に置き換えてあります: コードセルが"
    "表示する文、出力に単独で表示される実行の名前、ライブラリのメッセージ(予想、訓練ドクター、クリニックの結果など)"
    "です。数値、表の見出しなどコードが値として表示する語、Keras と TensorFlow 自身のメッセージ、表示されるソース"
    "コード、図のタイトル・軸・凡例は、実行したときのまま英語です。Binder で開いて実行すると、日本語の図と出力に"
    "なります。"
)
LAUNCH = {"en": ("Open live in Binder", "Source"), "ja": ("Binder でライブに開く", "ソース")}
SWITCH = {"en": "日本語", "ja": "English"}  # the switch names the language it leads to


def relative(from_docname: str, to_docname: str) -> str:
    """The link from one page to another (both Sphinx docnames), as the HTML builder lays them out."""
    depth = from_docname.count("/")
    return "../" * depth + to_docname + ".html"


def language_switch(docname: str, other_docname: str, lang: str) -> str:
    """The switch to the same page in the other language."""
    target = "ja" if lang == "en" else "en"
    return (
        f'<a class="losslab-lang" hreflang="{target}" lang="{target}" '
        f'href="{relative(docname, other_docname)}">{SWITCH[lang]}</a>'
    )


def _launch_cell(page: Page, repo: str, switch: bool = False, outputs: str = "") -> NotebookNode:
    note = f'<p class="losslab-edition">{EXERCISE_NOTE[page.lang]}</p>' if page.exercise else ""
    if page.lang == "ja" and outputs:
        text = RUN_NOTE_JA if outputs == JAPANESE_RUN else OUTPUTS_NOTE_JA
        note = f'<p class="losslab-outputs" data-run="{outputs}">{text}</p>'

    binder, source = LAUNCH[page.lang]
    lang = language_switch(page.docname, page.other().docname, page.lang) + "\n" if switch else ""
    html = (
        f'<div class="losslab-launch">\n'
        f'<a class="losslab-binder" href="{binder_url(page, repo)}">{binder}</a>\n'
        f'<a class="losslab-source" href="{source_url(page, repo)}">{source}: {page.course_path}</a>\n'
        f"{lang}{note}</div>"
    )
    return notebooks.markdown(html)


def page_names(english: NotebookNode, japanese: NotebookNode, where: str = "") -> dict[str, str]:
    """{English name: its translation} of a notebook (losslab/i18n_names.py; none in an exercise), once the two
    editions are known to have the same cells and the same code but for translated literals and names (else a
    SiteError)."""
    if [(c.id, c.cell_type) for c in english.cells] != [(c.id, c.cell_type) for c in japanese.cells]:
        raise SiteError(f"{where}: course/ja/ does not match course/ (run `make release`)")
    code = [(e, j) for e, j in zip(english.cells, japanese.cells, strict=True) if e.cell_type == "code"]
    tutorial = not where.endswith("_exercise.ipynb")
    names = i18n_names.notebook_names([e.source for e, _j in code])[0] if tutorial else []
    problems, found = i18n_names.same_but_translated(
        [(e.id, e.source) for e, _j in code], [j.source for _e, j in code], names
    )
    if problems:
        raise SiteError(f"{where}: course/ja/ does not match course/ (run `make release`): {problems[0]}")
    return found


def japanese_page(english: NotebookNode, japanese: NotebookNode, where: str = "") -> NotebookNode:
    """The Japanese page: course/ja/'s notebook with the English page's outputs, their printed sentences in
    Japanese (losslab/i18n_code.py's ``translate_outputs``: each cell's printed and displayed literals, the
    notebook's names where an output shows one whole, then the library's messages). The two editions must have
    the same cells and the same code but for translated literals and names (losslab/i18n_names.py,
    tests/test_i18n_edition.py), so the English run's outputs are the Japanese code's; otherwise a SiteError."""
    found = page_names(english, japanese, where)
    messages = i18n_code.message_patterns("ja")
    shown_names = i18n_names.name_patterns(found)
    nb = copy.deepcopy(english)
    for cell, translated in zip(nb.cells, japanese.cells, strict=True):
        if cell.cell_type == "code" and cell.get("outputs"):
            patterns = i18n_code.cell_patterns(cell.source, translated.source, found) + shown_names
            cell.outputs = [
                nbformat.from_dict(o) for o in i18n_code.translate_outputs(cell.outputs, patterns, messages)
            ]
        cell.source = translated.source
    nb.metadata["language"] = "ja"
    return nb


def japanese_tutorial(
    page: Page,
    english: NotebookNode,
    english_run: bool,
    course: Path = COURSE,
    executed: Path = EXECUTED,
    execute_missing: bool = True,
    log=print,
) -> tuple[NotebookNode, str, str]:
    """(notebook, whose run its outputs are, how it was had) of a Japanese tutorial page. A Japanese run when
    there is one: course/ja/'s executed copy (``executed_copy``: complete, no error, sources equal course/ja/'s;
    how: 'reused'), else, with ``execute_missing``, course/ja/'s notebook executed now (``execute``, with
    LOSSLAB_LANG=ja; 'now'). Otherwise course/ja/'s notebook with `english`'s outputs translated (``japanese_page``;
    ENGLISH_RUN when `english_run`, that is `english` is an executed English run, else no outputs and '')."""
    nb, why = executed_copy(page, course, executed)
    if nb is not None:
        return nb, JAPANESE_RUN, "reused"
    if execute_missing:
        log(f"website: executing {page.course_path} ({why})...", flush=True)
        tick = time.perf_counter()
        nb = execute(page, course, executed)
        log(f"website: executed {page.course_path} in {time.perf_counter() - tick:.1f} s", flush=True)
        return nb, JAPANESE_RUN, "now"
    translated = notebooks.read(page.root(course) / page.rel)
    return japanese_page(english, translated, page.course_path), ENGLISH_RUN if english_run else "", ""


def prepare(
    nb: NotebookNode, page: Page, repo: str, switch: bool = False, outputs: str = ""
) -> tuple[NotebookNode, int]:
    """The notebook as the page shows it; returns (notebook, number of quizzes made static).

    Widget views (the quiz, which needs a kernel) are dropped with the notebook's widget state, so that the page
    loads no widget library, and so is a widget's display with nothing else but its Python repr (a progress bar's
    ``HBox(children=...``), and the texts of each figure a test run of a translated edition recorded
    (tests/support.py's FIGURE_TEXTS); each ``quiz.show`` cell's outputs become the static quiz; a first cell holds
    the Binder button, the link to the source and, on a Japanese tutorial, whose run its ``outputs`` are
    (JAPANESE_RUN or ENGLISH_RUN; '' for none).
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    quizzes = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if isinstance(data.get("application/json"), dict) and FIGURE_TEXTS in data["application/json"]:
                del data["application/json"]
            if data.pop(WIDGET_MIME, None) is None or set(data) - {"text/plain"}:
                kept.append(output)  # a widget's display with nothing but its repr (a progress bar) is dropped
        if "outputs" in cell:
            cell.outputs = kept
        calls = quiz_calls(cell.source)
        if calls:
            html = "\n".join(quiz_html(chapter, ids, page.lang) for chapter, ids in calls)
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html})]
            quizzes += len(calls)
    nb.cells.insert(0, _launch_cell(page, repo, switch, outputs))
    return nb, quizzes


# ------------------------------------------------------------------------------------------ home page


def _readme_section(start: str) -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    at = readme.find(start)
    return readme[at:] if at >= 0 else ""


def chapter_groups(pages: list[Page]) -> dict[str, list[Page]]:
    """{'0. Start here': [...], '1. Losses': [...]}: pages by their folder's number, named after its first folder."""
    groups: dict[str, list[Page]] = {}
    names: dict[int, str] = {}
    for page in pages:
        prefix, _, topic = page.chapter.partition("_")
        if not prefix.isdigit():
            raise SiteError(
                f"{page.course_path}: course folders and notebooks start with a chapter number, as "
                "'01_losses'; rename it"
            )
        number = int(prefix)
        names.setdefault(number, f"{number}. {topic.replace('_', ' ').capitalize()}")
        groups.setdefault(names[number], []).append(page)
    return groups


CHAPTERS_JA = {0: "0. はじめに", 1: "1. 損失関数", 2: "2. オプティマイザ", 3: "3. 学習率", 4: "4. デバッグ"}


def home_page_ja(pages: list[Page], titles: dict[Page, str], repo: str) -> str:
    """ja/index.md: the Japanese home page: what the course is, the learning path, and the Japanese toctrees."""

    def link(page: Page) -> str:
        return f"{{doc}}`{titles[page].replace('`', '')} </{page.docname}>`"

    lines = [
        "# Loss Lab (日本語版)",
        "",
        f"<p>{language_switch('ja/index', 'index', 'ja')}</p>",
        "",
        "Keras 3 でニューラルネットワークを訓練する方法を、手を動かしながら学ぶコースです。損失関数の選び方、"
        "オプティマイザの選び方、学習率の決め方、そして損失が下がらないときのデバッグを扱います。各チュートリアルには"
        "その場で答えられるクイズがあり、各章の演習は nbgrader で採点されます。",
        "",
        f'<p><a class="losslab-binder" href="https://mybinder.org/v2/gh/{repo}/HEAD?urlpath=lab/tree/'
        f'course/ja/00_start_here.ipynb">Binder でコースをライブに開く</a></p>',
        "",
        "## 学習の順序",
        "",
        "この順に読んでください。各チュートリアルはクイズで終わり、対応する演習を案内します。"
        "用語は[用語集](https://github.com/" + repo + "/blob/HEAD/docs/glossary-ja.md)に従っています。",
        "",
    ]
    lines += [f"{i}. {link(p)}{'(演習)' if p.exercise else ''}" for i, p in enumerate(pages, start=1)]
    lines.append("")
    for name, members in chapter_groups(pages).items():
        number = int(name.split(".")[0])
        caption = CHAPTERS_JA.get(number, name)
        lines += [
            "```{toctree}",
            ":hidden:",
            f":caption: {caption}",
            "",
            *(f"/{p.docname}" for p in members),
            "```",
            "",
        ]
    return "\n".join(lines)


def home_page(pages: list[Page], titles: dict[Page, str], repo: str, japanese: bool = False) -> str:
    """index.md: what the course is, the learning path, the chapter table, set-up commands, and the toctrees."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    intro = readme.split("\n## ", 1)[0].split("\n", 1)[1]
    intro = re.sub(r"^\[!\[Binder\].*$", "", intro, flags=re.M).strip()
    setup = re.search(r"```bash\n.*?```", _readme_section("**On your machine**"), re.S)
    chapters = chapter_groups(pages)

    def link(page: Page) -> str:
        # a role's text cannot hold backticks (a title like "... `from_logits`" would end the role early)
        return f"{{doc}}`{titles[page].replace('`', '')} <{page.docname}>`"

    lines = [
        "# Loss Lab",
        "",
        *([f"<p>{language_switch('index', 'ja/index', 'en')}</p>", ""] if japanese else []),
        intro,
        "",
        f'<p><a class="losslab-binder" href="https://mybinder.org/v2/gh/{repo}/HEAD?urlpath=lab/tree/'
        f'course/00_start_here.ipynb">Open the course live in Binder</a></p>',
        "",
        "## The learning path",
        "",
        "Read in this order; each tutorial ends with a quiz and points to its exercise.",
        "",
    ]
    lines += [f"{i}. {link(p)}{' (exercise)' if p.exercise else ''}" for i, p in enumerate(pages, start=1)]
    lines += ["", "## The chapters", "", "| chapter | tutorial | exercise |", "|---|---|---|"]
    for name, members in chapters.items():
        tutorials = ", then ".join(link(p) for p in members if not p.exercise) or "-"
        exercises = ", ".join(link(p) for p in members if p.exercise) or "-"
        lines.append(f"| {name} | {tutorials} | {exercises} |")
    lines += [
        "",
        "## Set up",
        "",
        "**In the browser:** the *Open live in Binder* button on every page opens that notebook in "
        "JupyterLab, in a temporary session.",
        "",
        "**On your machine** (Linux, macOS or Windows with WSL; Python 3.11 to 3.13, git and `make`: the README "
        "lists the prerequisites for each):",
        "",
        setup.group(0) if setup else "```bash\nmake lab\n```",
        "",
    ]
    lines += [
        "## License",
        "",
        "The code is under the MIT License (`LICENSE`); the course content (notebooks, quizzes, prose) under "
        "Creative Commons Attribution 4.0 (CC BY 4.0, `LICENSE-CONTENT`).",
        "",
    ]
    for name, members in chapters.items():
        lines += ["```{toctree}", ":hidden:", f":caption: {name}", "", *(p.docname for p in members), "```", ""]
    if japanese:
        lines += ["```{toctree}", ":hidden:", ":caption: 日本語", "", "ja/index", "```", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- build


@dataclass
class Report:
    """What a build did: pages by origin, quizzes made static, seconds."""

    output: Path
    executed_reused: list[str] = field(default_factory=list)
    executed_now: list[str] = field(default_factory=list)
    unexecuted: list[str] = field(default_factory=list)
    translated: list[str] = field(default_factory=list)  # Japanese pages (course/ja/...)
    english_outputs: list[str] = field(default_factory=list)  # Japanese tutorials with the English run's outputs
    quizzes: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        japanese_runs = sum(p.startswith("course/ja/") for p in self.executed_reused + self.executed_now)
        return (
            f"website: {self.output}/index.html, {len(self.executed_reused) + len(self.executed_now)} executed "
            f"pages ({len(self.executed_reused)} reused from the test suite, {len(self.executed_now)} run now), "
            f"{len(self.unexecuted)} unexecuted ({sum(p.endswith('_exercise.ipynb') for p in self.unexecuted)} "
            f"exercises in the learner's edition), {len(self.translated)} Japanese pages ({japanese_runs} tutorials "
            f"from a Japanese run, {len(self.english_outputs)} with the English run's outputs translated), "
            f"{self.quizzes} quizzes, "
            f"{self.seconds:.1f} s"
        )


def build(
    output: Path = OUTPUT,
    *,
    execute_missing: bool = True,
    course: Path = COURSE,
    executed: Path = EXECUTED,
    work: Path = WORK,
    log=print,
) -> Report:
    """Stage every page and run Sphinx into ``output``; returns what was built from what."""
    started = time.perf_counter()
    report = Report(output)
    repo = repository()
    source = work / "source"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    pages = course_pages(course)
    japanese = (course / "ja").is_dir()
    shown_en: dict[Path, NotebookNode] = {}
    english_run: dict[Path, bool] = {}
    titles: dict[Page, str] = {}
    for page in pages:
        if page.exercise:
            nb, origin = notebooks.read(course / page.rel), report.unexecuted
        else:
            nb, why = executed_copy(page, course, executed)
            origin = report.executed_reused
            if nb is None and execute_missing:
                log(f"website: executing {page.course_path} ({why})...", flush=True)
                tick = time.perf_counter()
                nb, origin = execute(page, course, executed), report.executed_now
                log(f"website: executed {page.course_path} in {time.perf_counter() - tick:.1f} s", flush=True)
            elif nb is None:
                nb, origin = notebooks.read(course / page.rel), report.unexecuted
        origin.append(page.course_path)
        titles[page] = title(nb, page.rel.stem)
        shown_en[page.rel] = nb
        english_run[page.rel] = origin is not report.unexecuted
        shown, quizzes = prepare(nb, page, repo, switch=japanese)
        report.quizzes += quizzes
        notebooks.write(shown, source / page.rel)
    (source / "index.md").write_text(home_page(pages, titles, repo, japanese), encoding="utf-8")
    if japanese:
        ja_pages = course_pages(course, "ja")
        if sorted(p.rel for p in ja_pages) != sorted(shown_en):
            raise SiteError("course/ja/ does not have the notebooks course/ has: run `make release`")
        for page in ja_pages:
            nb, outputs = notebooks.read(course / "ja" / page.rel), ""
            if not page.exercise:
                nb, outputs, how = japanese_tutorial(
                    page, shown_en[page.rel], english_run[page.rel], course, executed, execute_missing, log
                )
                origin = {"reused": report.executed_reused, "now": report.executed_now}.get(how, report.english_outputs)
                if outputs or how:
                    origin.append(page.course_path)
            titles[page] = title(nb, page.rel.stem)
            shown, quizzes = prepare(nb, page, repo, switch=True, outputs=outputs)
            report.quizzes += quizzes
            report.translated.append(page.course_path)
            notebooks.write(shown, source / "ja" / page.rel)
        (source / "ja" / "index.md").write_text(home_page_ja(ja_pages, titles, repo), encoding="utf-8")
    _sphinx(source, output, work / "doctrees")
    report.seconds = time.perf_counter() - started
    return report


def _sphinx(source: Path, output: Path, doctrees: Path) -> None:
    """Sphinx's HTML builder over the staged pages, with website/conf.py; warnings fail the build."""
    from sphinx.cmd.build import build_main

    # Sphinx writes into work/html; MyST-NB keeps the outputs it extracts beside it (work/jupyter_execute).
    html = doctrees.parent / "html"
    shutil.rmtree(html, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        warnings = Path(tmp) / "warnings.txt"
        code = build_main(
            [
                "-b",
                "html",
                "-q",
                "-c",
                str(CONF_DIR),
                "-d",
                str(doctrees),
                "-w",
                str(warnings),
                "-W",
                "--keep-going",
                str(source),
                str(html),
            ]
        )
        if code != 0:
            raise SiteError(
                f"Sphinx could not build the website (exit {code}):\n"
                f"{warnings.read_text(encoding='utf-8') if warnings.exists() else ''}"
            )
    # The themes copy their Jinja macro files into _static as .html: templates, not pages (their links are
    # unrendered {{ pathto(...) }}); a published site should not serve them.
    for macros in html.glob("_static/*webpack-macros.html"):
        macros.unlink()
    shutil.rmtree(output, ignore_errors=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(html), str(output))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m website.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUTPUT, help="output folder (default: _site)")
    parser.add_argument(
        "--no-execute",
        action="store_true",
        help="show tutorials without outputs where no executed copy exists, instead of running them (a Japanese "
        "tutorial without its own copy then shows the English run's outputs, translated)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("LOSSLAB_PROGRESS", str(WORK / "progress.json"))  # kernels never touch ~/.losslab
    try:
        report = build(args.out.resolve(), execute_missing=not args.no_execute)
    except SiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
