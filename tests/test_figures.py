"""No figure from a run in the course's prose: markdown cells of every notebook and every quiz bank's text.

A number that a run produced (a loss, an accuracy, a ratio between two runs) changes with the backend, the seed
and the library versions, so prose that writes one down sooner or later contradicts the run the learner sees.
Prose either quotes the run (the cell prints the figure) or speaks in terms that hold everywhere ("far above
ln 3", "an order of magnitude, because ...").

The rule (``run_figures``), applied to prose only: fenced and inline code, LaTeX ($...$, $$...$$), HTML tags,
link targets and headings are removed first, since code and formulas are definitions, not reports.

A figure is **flagged** when it looks like a run's outcome:

- R1 ``precise``: a decimal with two or more places (0.969, 2.50): nobody chooses such a value, runs print them;
- R2 ``ratio``: a multiple between two results (80 times, 30x, 5×, a thousand times);
- R3 ``magnitude``: a size in words (hundreds, thousands, millions);
- R4 ``outcome``: any number within four words after a measured quantity in the same clause (loss of 90,
  accuracy 0.9, recall of 0, a gradient norm of 40).

A flagged figure is **allowed** when it is one of:

- an order of magnitude: a ratio that is a power of ten written in digits (10 times, 100x);
- a bound: 0 or 1 (a loss falls towards 0, a probability near 1), except when reported as "... of 0";
- a formula: it follows ``=``, ``≈``, ``<``, ``>`` or an opening bracket, or an arithmetic operator joins it to
  another operand (``(1 + 1 + 25) / 4 = 7``, ``ln 10 ≈ 2.30``), or it is a function's argument (``ln 10``);
- a setting or a count: a setting's name comes just before it (learning rate 0.1, batch size 32, delta 1, seed 0,
  patience 10, ...) or a countable noun follows it (10 classes, 20 epochs, 1,437 examples, 30 features);
- data: a magnitude in words that describes the data (features in the hundreds), not a result;
- a reference: chapter, section, part, question, patient, Algorithm ... 3, a year (1900-2099);
- a question's given: a number set in **bold** in a quiz prompt or an exercise notebook's markdown is the data the
  learner reasons from (a hypothetical), not a report of the course's runs (``givens=True``);
- the explicit allow-list ``ALLOWED`` below: exact phrases, each with the reason it is not a run's figure. Keep it
  short; a phrase belongs there only when it is a definition, a constant, a setting or a formula that the
  rules above cannot see.

Interface (the prose half of the course copies this file: keep it stable): ``run_figures(text, givens=False)``
returns the flagged ``Figure``s; ``notebook_findings(path)`` and ``bank_findings(chapter)`` return readable lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from losslab import notebooks, quiz
from tests.support import SOLUTIONS

# The notebooks' markdown is rewritten in another branch (issue 12, prose half). Until it lands, the notebook
# half of the scan runs and reports, but as an expected failure; set this to False once it passes.
NOTEBOOKS_PENDING = False

# Exact phrases that the rules would flag but that are definitions, constants, settings or formulas.
# phrase -> why it is not a run's figure.
# The quiz banks need none; add an entry only with its reason.
ALLOWED: dict[str, str] = {}

OUTCOME_WORDS = (
    r"loss(?:es)?|accuracy|accuracies|recall|precision|auc|pr-auc|mae|mse|rmse|error|errors|"
    r"gradient|gradients|norm|norms|ratio|score|scores|val_loss|val_accuracy"
)
SETTING_WORDS = (
    r"learning[ _]rates?|lr|rate|batch(?:[ _]size)?|seed|delta|momentum|beta_1|beta_2|beta|rho|"
    r"epsilon|patience|factor|threshold|decay_steps|decay_rate|warmup_steps|warmup_target|"
    r"clipnorm|global_clipnorm|weight[ _]decay|dropout|units|tolerance|alpha|at least|at most|"
    r"under|target|targets|multiplies|multiply|defaults?(?: to)?|uses|run at|set to|within|"
    r"sgd|adam|adamw|rmsprop|nesterov"
)
COUNT_NOUNS = (
    r"class(?:es)?|examples?|epochs?|steps?|updates?|units?|layers?|features?|samples?|rows?|"
    r"patients?|tumou?rs?|images?|pixels?|points?|trainings?|runs?|questions?|measurements?|"
    r"species|topics?|batch(?:es)?|weights?|seconds?|minutes?|digits?|decimals?|significant|"
    r"standard deviations?|parts?|checks?|cases?|outputs?|inputs?|values?|neurons?|trials?|"
    r"percentiles?|th|st|nd|rd|days?|hours?|cores?|CPUs?|GB|MB|GiB|MiB|s\b|ms\b|bits?|nats?"
)
REFERENCE_WORDS = (
    r"chapter|chapters|section|sections|part|parts|step|question|exercise|patient|case|check|"
    r"algorithm|figure|table|version|python|keras|q|cell|seed|page|eq|equation"
)

NUMBER = re.compile(
    r"(?<![\w.])[-+±]?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?|(?<![\w.])[-+±]?\d+(?:\.\d+)?(?:e[-+]?\d+)?%?"
    r"(?=x\b|×|\W|$)"
)
WORD_MAGNITUDE = re.compile(
    r"\b(?:hundreds|thousands|millions|billions|a (?:hundred|thousand|million)"
    r"(?: times)?|tens of thousands)\b",
    re.IGNORECASE,
)
WORD_RATIO = re.compile(
    r"\b(?:twice|ten|a hundred|a thousand|two|three|four|five|six|seven|eight|nine) times\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Figure:
    text: str  # the figure as written
    rule: str  # precise | ratio | magnitude | outcome
    context: str  # the words around it

    def __str__(self) -> str:
        return f"{self.text!r} ({self.rule}) in: ...{self.context}..."


def prose(markdown: str, givens: bool = False) -> str:
    """The markdown's prose: code, LaTeX, HTML, link targets, headings (and bold givens) blanked out."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.DOTALL)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.DOTALL)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"(?<!\\)\$[^$\n]+\$", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.MULTILINE)
    text = re.sub(r"^(\s*)(?:[-*]|\d+[a-z]?[.)])\s", r"\1  ", text, flags=re.MULTILINE)  # list markers
    if givens:
        text = re.sub(r"\*\*[^*\n]{0,40}\d[^*\n]{0,40}\*\*", " ", text)
    text = text.replace("**", "  ")  # bold markers are not multiplications
    for phrase in ALLOWED:
        text = text.replace(phrase, " " * len(phrase))
    return text


def _clause_before(text: str, start: int, words: int) -> str:
    """Up to `words` words before `start`, stopping at a clause boundary (. ; : or a line break)."""
    head = text[max(0, start - 80) : start]
    head = re.split(r"[.;:!?\n](?:\s|$)|\n", head)[-1]
    return " ".join(head.split()[-words:])


def _is_formula(text: str, start: int, end: int) -> bool:
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    if before.endswith(("=", "≈", "<", ">", "≤", "≥", "(", "[", "*", "/", "^", "×", "+", "−")):
        return True
    if re.search(r"(?:\bln|\blog|\bsqrt|\bexp|\bceil|\bfloor)$", before, re.IGNORECASE):
        return True
    if re.match(r"\s(?![aAI]\b)[a-zA-Z]\b(?![-'])", text[end:]):
        return True  # a coefficient: 0.2 x
    if re.search(r"\s-$", before) or re.match(r"(?:[*/^×+)\]=≈]|- )", after):
        return True
    return False


def _is_setting_or_reference(text: str, start: int, end: int, figure: str) -> bool:
    before = _clause_before(text, start, 3).lower()
    after = text[end : end + 40].lower()
    if re.search(
        rf"(?:\b(?:{SETTING_WORDS}|{REFERENCE_WORDS}))\s*(?:=|of|is|to|at|by)?\s*(?:about|around)?\s*$", before
    ):
        return True
    adjective = r"(?:(?!per\b|a\b|an\b|each\b|every\b)[a-z]+\s+)?"  # 10 balanced classes, not 0.02 per epoch
    if re.match(rf"\s*(?:-\s*)?{adjective}(?:{COUNT_NOUNS})\b", after, re.IGNORECASE):
        return True
    if re.match(r",?\s*(?:sgd|adam|adamw|rmsprop|nesterov)\b", after, re.IGNORECASE):  # at 0.01 Adam trains
        return True
    return bool(re.fullmatch(r"(?:19|20)\d\d", figure))


def run_figures(markdown: str, givens: bool = False) -> list[Figure]:
    """Every figure in the markdown's prose that looks like a run's outcome and no rule allows."""
    text = prose(markdown, givens)
    found: list[Figure] = []

    def context(start: int, end: int) -> str:
        return " ".join(text[max(0, start - 50) : end + 30].split())

    for m in WORD_MAGNITUDE.finditer(text):
        if re.search(
            r"\b(?:features?|inputs?|pixels?|targets?|values)\b", _clause_before(text, m.start(), 7), re.IGNORECASE
        ):
            continue  # the size of the data, a property of the dataset (features in the hundreds)
        found.append(Figure(m.group(), "magnitude", context(m.start(), m.end())))
    for m in WORD_RATIO.finditer(text):
        if not _is_setting_or_reference(text, m.start(), m.end(), m.group()):
            found.append(Figure(m.group(), "ratio", context(m.start(), m.end())))
    for m in NUMBER.finditer(text):
        figure, start, end = m.group(), m.start(), m.end()
        after = text[end : end + 12]
        if re.match(r"(?:x\b|\s*×|\s+times\b)", after):
            if re.fullmatch(r"10*", figure.replace(",", "")):
                continue  # a power of ten is an order of magnitude
            rule = "ratio"
        elif re.fullmatch(r"[-+±]?\d+\.\d{2,}%?", figure):
            rule = "precise"
        elif re.search(rf"\b(?:{OUTCOME_WORDS})\b", _clause_before(text, start, 4), re.IGNORECASE):
            rule = "outcome"
        else:
            continue
        if figure in ("0", "1") and not re.search(r"\bof\s*$", text[:start]):
            continue  # a bound (a loss towards 0, a ratio near 1), unless reported: "a recall of 0"
        if _is_formula(text, start, end) or _is_setting_or_reference(text, start, end, figure):
            continue
        found.append(Figure(figure, rule, context(start, end)))
    return found


# ------------------------------------------------------------------------------------------ the sources


def notebook_findings(path: Path) -> list[str]:
    """Flagged figures in a notebook's markdown cells, one readable line each."""
    givens = path.name.endswith("_exercise.ipynb")
    lines = []
    for i, cell in enumerate(notebooks.read(path).cells):
        if cell.cell_type == "markdown":
            lines += [f"{path.relative_to(SOLUTIONS)} cell {i}: {f}" for f in run_figures(cell.source, givens)]
    return lines


def bank_findings(chapter: str) -> list[str]:
    """Flagged figures in a quiz bank's prompts (bold givens allowed), explanations and hints."""
    bank = quiz.load_bank(chapter)
    lines = []
    for q in bank.questions:
        texts = [("prompt", q.prompt, True), ("explanation", q.explanation, False), ("hint", q.hint, False)]
        texts += [(f"choice {c.text[:30]!r}", c.text + "\n\n" + c.explanation, False) for c in q.choices]
        for where, text, givens in texts:
            lines += [f"{chapter}/{q.id} {where}: {f}" for f in run_figures(text, givens)]
    return lines


# ------------------------------------------------------------------------------------------ the scanner


@pytest.mark.parametrize(
    "text, figure, rule",
    [
        ("The first loss was 0.969 on the validation split.", "0.969", "precise"),
        ("Its first loss is 90, far above ln 3.", "90", "outcome"),
        ("a first loss 80 times too high", "80", "ratio"),
        ("the run is 30x slower", "30", "ratio"),
        ("a gradient 1,500 times smaller", "1,500", "ratio"),
        ("the loss falls by about 0.02 per epoch", "0.02", "precise"),
        ("the mse is in the thousands", "thousands", "magnitude"),
        ("a thousand times larger", "a thousand times", "magnitude"),
        ("the loss 2.50 after one epoch", "2.50", "precise"),
        ("with a recall of 0: not one positive found", "0", "outcome"),
        ("it reached an accuracy of 0.9 here", "0.9", "outcome"),
        ("a gradient norm of 40 in the first layer", "40", "outcome"),
        ("The loss sits at 2.30.", "2.30", "precise"),
        ("the accuracy of 1 on the training batch", "1", "outcome"),
        ("**0.985** in an explanation is not a given", "0.985", "precise"),
    ],
)
def test_scanner_flags_run_figures(text: str, figure: str, rule: str) -> None:
    found = run_figures(text)
    assert any(f.text == figure and f.rule == rule for f in found), found


@pytest.mark.parametrize(
    "text",
    [
        "Its first loss should be near $\\ln 3 \\approx 1.10$.",
        "the loss of a uniform guess, ln 10 ≈ 2.30, is far above what a trained model reaches",
        "-ln(0.25) = ln 4 ≈ 1.386",
        "(1 + 1 + 1 + 25) / 4 = 7",
        "train with learning rate 1e-3 and batch size 32 for 20 epochs",
        "The loss with `model.evaluate(x) == 0.123` is code.",
        "As section 2 showed, chapter 4 returns to it; Kingma and Ba (2014).",
        "10 classes, 1,437 examples and 64 pixels",
        "A loss of **10.2** on the first batch.",
        "Huber with delta 1 charges 2.5 for an error of 3 = 1 * (3 - 0.5).",
        "ReduceLROnPlateau multiplies the rate by 0.1 after 10 epochs",
        "try a learning rate 10 times larger",
        "a gradient 100,000 times smaller than the last layer's",
        "the gradient is 0.2 x, small but not zero",
        "Both default to 0.001 in Keras 3; SGD is often run at 0.01.",
        "the loss falls towards 0 and the ratio is near 1",
        "the same model over 10 balanced classes",
        "wine's features (some in the hundreds) are not scaled",
        "Plain SGD at 0.01 is slow; at 0.01 Adam trains.",
        "The double softmax caps it at e / (e + 9) ≈ 0.23.",
    ],
)
def test_scanner_allows_definitions_constants_settings_and_formulas(text: str) -> None:
    assert run_figures(text, givens=True) == []


def test_bold_is_a_given_only_where_givens_are_allowed() -> None:
    assert run_figures("A loss of **10.2** on the first batch.", givens=True) == []
    assert [f.text for f in run_figures("A loss of **10.2** on the first batch.")] == ["10.2"]


def test_allow_list_is_small_and_every_entry_has_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(ALLOWED) <= 10 and all(len(reason) > 20 for reason in ALLOWED.values())
    assert run_figures("its first loss of 90 on raw wine")
    monkeypatch.setitem(ALLOWED, "loss of 90", "a test entry: the phrase is blanked before the scan")
    assert run_figures("its first loss of 90 on raw wine") == []


# ------------------------------------------------------------------------------------------ the course


@pytest.mark.parametrize("chapter", quiz.available_banks())
def test_quiz_banks_write_no_run_figures(chapter: str) -> None:
    findings = bank_findings(chapter)
    assert not findings, "figures that look like a run's outcome (see tests/test_figures.py):\n" + "\n".join(findings)


@pytest.mark.parametrize("path", sorted(SOLUTIONS.rglob("*.ipynb")), ids=lambda p: str(p.relative_to(SOLUTIONS)))
def test_notebook_markdown_writes_no_run_figures(path: Path, request: pytest.FixtureRequest) -> None:
    if NOTEBOOKS_PENDING:
        request.applymarker(
            pytest.mark.xfail(reason="notebook prose is fixed in issue 12's prose branch", strict=False)
        )
    findings = notebook_findings(path)
    assert not findings, "figures that look like a run's outcome (see tests/test_figures.py):\n" + "\n".join(findings)
