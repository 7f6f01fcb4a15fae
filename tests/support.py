"""Shared helpers for the test suite: paths, notebook execution, and building submissions for grading tests."""

from __future__ import annotations

import copy
import functools
import html
import importlib.util
import os
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from losslab import i18n, i18n_code, notebooks
from losslab.i18n import LANGUAGES

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
COURSE = REPO / "course"
ARTIFACTS = REPO / "tests" / "artifacts"
DEFAULT_NOTEBOOK_TIMEOUT = 240  # seconds for a whole notebook; a notebook may set metadata.losslab.timeout


def edition() -> str:
    """The edition whose tutorials and exercises the slow tests run: ``LOSSLAB_EDITION`` (``en``, the default, or
    ``ja``). CI's JAX tier runs the Japanese one (`make test-backend EDITION=ja`): the two editions compute the same
    thing (tests/test_i18n_edition.py), so one execution shows both that the course runs on JAX and that the
    Japanese edition runs. `make test` runs the English one."""
    lang = os.environ.get("LOSSLAB_EDITION", "en")
    if lang not in ("en", *LANGUAGES):
        raise ValueError(f"LOSSLAB_EDITION={lang!r}: use en or one of {', '.join(LANGUAGES)}")
    return lang


def course(lang: str | None = None) -> Path:
    """The learner's edition in `lang` (default: ``edition()``): course/, or course/<lang>/."""
    lang = lang or edition()
    return COURSE if lang == "en" else COURSE / lang


def tutorials() -> list[Path]:
    """Every notebook of the learner's edition (``edition()``) that is not an exercise (those run through the
    grader). The editions run the same code, but for the words of printed literals (tests/test_i18n_edition.py):
    each run executes one of them."""
    root = course()
    return sorted(
        p
        for p in root.rglob("*.ipynb")
        if not p.name.endswith("_exercise.ipynb")
        and ".ipynb_checkpoints" not in p.parts
        and (root != COURSE or p.relative_to(COURSE).parts[0] not in LANGUAGES)
    )


def solution(path: Path) -> nbformat.NotebookNode:
    """A notebook of solutions/ as submitted in the ``edition()``: the English as it is, another language's
    built by ``losslab.i18n.edition`` (what `make release` writes to course/<lang>/, with the answers kept)."""
    return notebooks.read(path) if edition() == "en" else i18n.edition(path, edition())


def notebook_timeout(path: Path) -> int:
    return int(notebooks.read(path).metadata.get("losslab", {}).get("timeout", DEFAULT_NOTEBOOK_TIMEOUT))


def language_of(path: Path) -> str:
    """The language of a notebook of the course: ``ja`` under course/ja/, else ``en``."""
    rel = path.resolve().relative_to(COURSE) if path.resolve().is_relative_to(COURSE) else None
    return rel.parts[0] if rel is not None and rel.parts[0] in LANGUAGES else "en"


# Added before the first cell of a translated tutorial's run, and taken out of the executed notebook: each figure
# the kernel displays (matplotlib's inline backend displays every figure a cell draws) also gets a JSON output of
# its texts (titles, axis labels, tick labels, legends, annotations), for figure_texts(). Setting up the inline
# backend takes every formatter's Figure printer away (IPython's select_figure_formats), and matplotlib does it when
# a cell makes its first figure: the hook sets it up first (importing the backend does), and registers the printer
# again before every cell.
FIGURE_TEXTS = """\
import matplotlib.pyplot, matplotlib_inline.backend_inline
get_ipython().events.register("pre_run_cell", lambda *_: get_ipython().display_formatter.formatters[
    "application/json"].for_type(__import__("matplotlib.figure").figure.Figure, lambda fig: {
        "losslab-figure-texts": [t.get_text() for t in fig.findobj(__import__("matplotlib.text").text.Text)
                                 if t.get_visible() and t.get_text().strip()]}))
del matplotlib, matplotlib_inline
"""


def execute(
    path: Path, *, timeout: int | None = None, artifacts: Path = ARTIFACTS / "executed"
) -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook top to bottom in a fresh kernel in its own folder; returns (notebook, seconds).

    A notebook of a translated edition (course/ja/) runs with ``LOSSLAB_LANG`` set to its language in the kernel
    (as `make lab LANG=ja` starts it; nbclient gives the kernel no notebook path to read ``language: ja`` from),
    and its figures' texts are recorded (FIGURE_TEXTS). The executed copy is written under tests/artifacts/executed/
    for inspection, even when a cell fails.
    """
    nb = notebooks.read(path)
    lang = language_of(path)
    if lang != "en":
        nb.cells.insert(0, nbformat.v4.new_code_cell(FIGURE_TEXTS))
    client = NotebookClient(
        nb,
        timeout=timeout or notebook_timeout(path),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    env = {**os.environ, "LOSSLAB_LANG": lang}
    started = time.perf_counter()
    try:
        client.execute(env=env)
    finally:
        if lang != "en":
            nb.cells.pop(0)
        out = artifacts / path.relative_to(REPO)
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(out))
    return nb, time.perf_counter() - started


def figure_texts(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(cell id, text) of every text of every figure an executed translated notebook displayed (FIGURE_TEXTS)."""
    return [
        (c.get("id", ""), text)
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        for text in o.get("data", {}).get("application/json", {}).get("losslab-figure-texts", [])
    ]


def stderr_outputs(nb) -> list[tuple[int, str]]:
    return [
        (i, o.text)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "stream" and o.name == "stderr"
    ]


# --------------------------------------------------------------------------------------- submissions


@dataclass
class Variant:
    """A submission built from the solution notebook by replacing solution cells (by nbgrader grade_id).

    loses: test cells (grade_ids) that must score below their maximum;
    every other test cell of the bundle must keep full marks, unless listed in may_lose.
    A variant with ``loses=[]`` is a correct alternative: it must keep every point.
    bundle: the variants of one letter are graded together, one submission (tests/test_grading.py); in an
    assignment of several notebooks a bundle's notebooks that no variant changes carry their solutions (each once)
    or are left out of a run of their own.
    """

    name: str
    why: str
    replace: dict[str, str]
    loses: list[str]
    bundle: str
    may_lose: list[str] = field(default_factory=list)
    notebook: str | None = None  # which *_exercise.ipynb, when the assignment has several


def load_variants(assignment: str) -> list[Variant]:
    path = REPO / "tests" / "submissions" / f"{assignment}.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"submissions_{assignment}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.VARIANTS)


def exercise_notebooks(assignment: str) -> list[Path]:
    return sorted((SOLUTIONS / assignment).glob("*_exercise.ipynb"))


def build_submission(source: Path | nbformat.NotebookNode, replacements: dict[str, str]) -> nbformat.NotebookNode:
    """`source` (a path, or a notebook: ``solution(path)``) with the solution cells `replacements` names replaced."""
    nb = copy.deepcopy(notebooks.read(source) if isinstance(source, Path) else source)
    for gid, text in replacements.items():
        cell = notebooks.cell_by_grade_id(nb, gid)
        if not cell.metadata["nbgrader"].get("solution"):
            raise ValueError(f"{gid} is not a solution cell; variants may only change answers")
        cell.source = text.strip("\n")
    return nb


NOISE = r"""
# --- added by the grading test: make every later cell write TensorFlow-style noise to stderr ---
import logging as _logging, os as _os, sys as _sys, warnings as _warnings
def _losslab_test_noise(*_args):
    _os.write(2, b"I0000 00:00:1795324272.050119    1999 port.cc:153] oneDNN custom operations are on.\n")
    print("W0000 00:00:1795324272.2  2000 cpu_feature_guard.cc:210] simulated TensorFlow log line",
          file=_sys.stderr, flush=True)
    with _warnings.catch_warnings():
        _warnings.simplefilter("always")
        _warnings.warn_explicit("simulated library warning", UserWarning, "keras/src/simulated.py", 1)
    _sys.stderr.write("WARNING:absl:simulated absl warning\n")
get_ipython().events.register("pre_run_cell", _losslab_test_noise)
_losslab_test_noise()
# --- end of added noise ---
"""


def with_stderr_noise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with NOISE appended to its first solution cell (so it runs in the learner's code)."""
    nb = copy.deepcopy(nb)
    first = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    first.source = first.source + "\n" + NOISE
    return nb


def write_submission(root: Path, student: str, assignment: str, notebooks_by_name: dict[str, object]) -> None:
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks_by_name.items():
        nbformat.write(nb, str(folder / name))


def backend() -> str:
    return os.environ.get("KERAS_BACKEND", "tensorflow")


@dataclass
class JapaneseOutputs:
    """What the website's Japanese page of an executed tutorial does with its English run's output text."""

    lines: int  # output lines of the English run (streams, plain text, HTML unescaped; quizzes left out)
    translated: int  # of them, lines the Japanese page shows changed
    left: list[str] = field(default_factory=list)  # English pieces of translated printed literals still shown


def _printed(outputs: list) -> str:
    """What a cell's outputs show as text: its streams, and each result's plain text and HTML (unescaped)."""
    texts = [o.get("text", "") for o in outputs if o.get("output_type") == "stream"]
    for output in outputs:
        data = output.get("data", {})
        texts += [data.get("text/plain", ""), html.unescape(data.get("text/html", ""))]
    return "\n".join(t for t in texts if isinstance(t, str))


def japanese_page_leftovers(english: nbformat.NotebookNode, rel: Path) -> JapaneseOutputs:
    """The website's Japanese page of course/<rel>, built from `english` (its executed run): no piece of two
    English words or more of a printed literal that course/ja/ translates may be left in the outputs of its cell
    where the English run printed it."""
    from website import build as site
    from website.quizhtml import quiz_calls

    japanese = notebooks.read(COURSE / "ja" / rel)
    shown = site.japanese_page(english, japanese, str(rel))
    names = site.page_names(english, japanese, str(rel))
    result = JapaneseOutputs(0, 0)
    for before, after, source in zip(english.cells, shown.cells, japanese.cells, strict=True):
        if before.cell_type != "code" or quiz_calls(before.source):  # a quiz's output is the Japanese bank's
            continue
        was, now = _printed(before.outputs), _printed(after.outputs)
        result.lines += len(was.splitlines())
        result.translated += sum(a != b for a, b in zip(was.splitlines(), now.splitlines(), strict=False))
        result.left += [
            f"{rel} cell {before.id}: {phrase!r}"
            for phrase in i18n_code.english_phrases(before.source, source.source, names)
            if phrase in was and phrase in now
        ]
    return result


@dataclass
class EnglishLeft:
    """What an executed tutorial of a translated edition still shows in English (``english_left``)."""

    lines: int  # lines of text the learner sees in its outputs
    left: list[str] = field(default_factory=list)  # "cell <id>: <line>": a line with an English phrase outside code
    catalog: list[str] = field(default_factory=list)  # ... that is, whole, a catalog message left in English
    figures: list[str] = field(default_factory=list)  # "cell <id>: <text>": a figure's text with an English phrase
    quoted: list[str] = field(default_factory=list)  # "cell <id>: <line>": English only in a quoted library error

    def report(self, name: str, first: int = 8) -> str:
        lines = [
            f"{name}: {len(self.left)} of {self.lines} output lines hold English outside code, "
            f"{len(self.figures)} figure texts hold English"
        ]
        lines += [f"    {line}" for line in self.left[:first]]
        lines += [f"    figure {text}" for text in self.figures[:first]]
        if self.quoted:
            lines.append(f"  {len(self.quoted)} lines quote a Keras or TensorFlow error message, kept in English:")
            lines += [f"    {line}" for line in self.quoted[:first]]
        return "\n".join(lines)

    def problems(self) -> list[str]:
        """What a learner of the translated edition meets in English outside code and outside a quoted library error
        message: each output line and figure text, with its cell."""
        return self.left + [f"figure {text}" for text in self.figures]


class _TextNodes(HTMLParser):
    """The text nodes of an HTML output, but those of scripts, styles and code (``<code>``, ``<pre>``)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._inside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "code", "pre"):
            self._inside.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._inside:
            del self._inside[self._inside.index(tag) :]

    def handle_data(self, data: str) -> None:
        if not self._inside:
            self.texts.append(data)


def _seen(output: dict) -> list[str]:
    """The texts a learner sees of one output: a stream's text; a widget's descriptions (its plain text is not
    shown); of a result or display the richest of its HTML (text nodes), markdown and plain text, and no plain text
    beside an image (a figure's repr is not shown)."""
    if output.get("output_type") == "stream":
        return [output.get("text", "")]
    data = output.get("data", {})
    if "application/vnd.jupyter.widget-view+json" in data:  # a widget: its descriptions (a progress bar's ...)
        return re.findall(r"description='([^'\n]*)'", data.get("text/plain", ""))
    if isinstance(data.get("text/html"), str):
        parser = _TextNodes()
        parser.feed(data["text/html"])
        return parser.texts
    if isinstance(data.get("text/markdown"), str):
        return [re.sub(r"`[^`\n]*`", "", data["text/markdown"])]
    if any(mime.startswith("image/") for mime in data):
        return []
    return [data.get("text/plain", "")] if isinstance(data.get("text/plain"), str) else []


# Text that is code, or a library's own English: Keras' progress bars, summaries, epoch lines and TerminateOnNaN's
# line, tracebacks and warnings (path:line: Category: ...), a diff's lines of code, and within a line, quoted code,
# calls, dotted names, arguments and reprs, numbers and paths, and names that a translation keeps (a NUL in their
# place ends a phrase).
_KERAS_LINE = re.compile(
    r"^\s*(Epoch \d+/\d+|\d+/\d+ .*━|Model: |(Total|Trainable|Non-trainable|Optimizer) params:|Traceback \(most"
    r"|File \"|\S+\.py:\d+: \w*(Warning|Error)\b|[A-Za-z_][\w.]*\(.*\)\s*$|Batch \d+: Invalid loss|[-+] {4})"
    r"|[┏┓┃┡┩│└┘━┗┛┳┻╇─]"
)
_CODE_IN_LINE = re.compile(
    r"`[^`]*`|<[^<>\n]*>|\b\w+\([^()\n]*\)|\b\w+(?:\.\w+)+\b|\b\w+=\S+|'[^'\n]*[_.()=][^'\n]*'|\"[^\"\n]*[_.()=][^\"\n]*\""
    r"|\S*[\d/\\_=]\S*"  # a token with a digit, a path or an identifier's underscore
    r"|(?<![A-Za-z])(Loss Lab|Keras|keras|TensorFlow|tensorflow|jax|PyTorch|torch|NumPy|Jupyter[a-z]*|Binder|-?inf"
    r"|nan|NaN|[A-Z][A-Z0-9]+(-[A-Z0-9]+)*)(?![A-Za-z])"  # names and acronyms (SGD, PR-AUC) a translation keeps
    r"|\b[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+\b"  # a class name in CamelCase (TrainingMonitor, BatchNormalization)
    r"|\b(True|False|None)\b|\b\w+ = \S+"  # Python's constants; an assignment (lr = 1e-4)
    r"|'[^'\s]*'|\"[^\"\s]*\""  # a quoted token: a key (a CSV column 'accuracy')
    r"|(?<![A-Za-z])(relu6?|tanh|sigmoid|softmax|softplus|softsign|gelu|elu|selu|silu|swish|mish)(?![A-Za-z])"  # Keras'
)
_EXCEPTION = re.compile(r"\b\w+(Error|Exception|Warning): .*")  # an exception's message (Keras' ValueError: ...)
_ASCII_RUN = re.compile(r"[\x01-\x7f]+")  # a run of English text: code masked (NUL) and Japanese end it


@functools.cache
def _identifiers() -> re.Pattern:
    """The names of the project's dependency groups (``learner``, ``instructor``: the environment report lists them):
    identifiers of pyproject.toml, not English."""
    import tomllib

    groups = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8")).get("dependency-groups", {})
    return re.compile(r"(?<![A-Za-z])(" + "|".join(map(re.escape, sorted(groups))) + r")(?![A-Za-z])")


@functools.cache
def _keras_errors() -> str:
    """The text of every message Keras raises: the string literals of each ``raise`` statement of its source, joined
    as Python joins adjacent literals (an f-string's fields stay as written)."""
    import keras

    literal = re.compile(r"""[rRfFbB]{0,2}("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")
    messages = []
    for path in Path(keras.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8", errors="replace")
        for found in re.finditer(r"\braise \w", text):
            statement = text[found.start() : found.start() + 1000].split("\n\n")[0]
            messages.append("".join(m.group(1)[1:-1] for m in literal.finditer(statement)))
    return "\n".join(messages)


def _english(line: str) -> str:
    """`line` with its code masked (NUL): what may be English."""
    return _identifiers().sub("\x00", _CODE_IN_LINE.sub("\x00", line))


def _quotes_an_error(line: str) -> bool:
    """Whether the English of `line` is all in a library's error message it quotes: after an exception's name
    (``InvalidArgumentError: Received a label value ...``), or each run of English words a piece of a message Keras
    raises (``Keras のメッセージ: Arguments `target` and `output` must have the same rank ...``)."""
    from losslab.messages import PHRASE

    line = _EXCEPTION.sub("\x00", line)
    runs = [run.strip(" \t,.:;()") for run in _ASCII_RUN.findall(_english(line)) if PHRASE.search(run)]
    return all(run in _keras_errors() for run in runs)


def english_left(nb: nbformat.NotebookNode, lang: str = "ja") -> EnglishLeft:
    """The lines of an executed notebook's outputs that hold an English phrase (``losslab.messages.PHRASE``: two
    English words in a row) outside code (a paragraph of Python source, ``_KERAS_LINE``, ``_CODE_IN_LINE``), and
    of them the printed ones (not a widget's description) that are a message of the `lang` catalog (the library's,
    or a graded cell's printed line), whole, left in English (``losslab.i18n_code.translate_message`` translates
    them); and the texts of its figures (``figure_texts``) with an English phrase."""
    from losslab.i18n_code import _is_code, translate_message
    from losslab.messages import PHRASE

    found = EnglishLeft(0)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            printed = "application/vnd.jupyter.widget-view+json" not in output.get("data", {})  # not a widget
            for text in _seen(output):
                for paragraph in re.split(r"\n[ \t]*\n", text):
                    if _is_code(paragraph):
                        continue
                    for line in paragraph.splitlines():
                        if not line.strip():
                            continue
                        found.lines += 1
                        if _KERAS_LINE.search(line) or not PHRASE.search(_english(line)):
                            continue
                        if _quotes_an_error(line):
                            found.quoted.append(f"cell {cell.get('id')}: {line.strip()[:160]}")
                            continue
                        found.left.append(f"cell {cell.get('id')}: {line.strip()[:160]}")
                        if printed and translate_message(line.strip(), lang) != line.strip():
                            found.catalog.append(found.left[-1])
    texts = dict.fromkeys((cell, text) for cell, text in figure_texts(nb) if PHRASE.search(_english(text)))
    found.figures = [f"cell {cell}: {text[:160]!r}" for cell, text in texts]
    return found
