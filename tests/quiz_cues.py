"""Quiz cues: how far a learner who does not read the questions gets, and the tells that let them.

``measure(source)`` takes a quiz bank (a ``losslab.quiz.Bank``, a chapter name, a path to a bank's YAML) or the
lettered questions of an exercise (a notebook path, or ``(name, right letter, {letter: statement})`` tuples as
``exercise_choices`` reads them) and returns a ``CueReport``:

- ``scores``: the share of choice questions each blind strategy gets right, every one at most ``LIMIT`` (40 %):
  ``first`` (the choice shown first), ``longest``, ``shortest``, ``odd-one-out`` (the one choice unlike the others
  in form: the only one with another first word, or without a prefix the others share, or the only one with or
  without a number, code, a colon or a comma), ``no-absolute-word`` (a choice without "always", "never", "any",
  "only", "all", "none", "every", "must", "cannot" where others have one). Ties go to the choice shown first. For a
  multiple-choice question the learner is told how many choices are right and takes that many by the same rule.
- ``problems``: single-choice questions with fewer than 4 choices; absolute words carried by wrong choices only,
  across the whole source (at least twice); strawman phrases ("ready to use", "will generalize well", ...); a
  prompt that contains its answer's distinctive words (words of the right choice that no wrong choice has).

Command line (the interface other helpers run; keep it stable)::

    python tests/quiz_cues.py losslab/quizbank/02_optimizers.yaml [more banks or *_exercise.ipynb ...]

prints the scores and problems of each and exits 1 if any strategy scores above 40 % or any problem is found.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script: import the losslab of the folder it runs in, else this repository's
    for root in (Path.cwd(), Path(__file__).resolve().parent.parent):
        if (root / "losslab" / "quiz.py").exists():
            sys.path.insert(0, str(root))
            break

from losslab import quiz

LIMIT = 0.40
MIN_CHOICES = 4
ABSOLUTE_WORDS = ("always", "never", "any", "only", "all", "none", "every", "must", "cannot")
# A wrong choice a learner can dismiss without knowing anything: it claims that nothing needs doing.
STRAWMAN_PHRASES = (
    "ready to use",
    "ready for use",
    "ready for production",
    "will generalise well",
    "will generalize well",
    "generalizes perfectly",
    "generalizes perfectly",
    "nothing, it is fine",
    "nothing, it's fine",
    "nothing is wrong",
    "it does not matter",
    "it doesn't matter",
    "no need to",
    "all of the above",
    "none of the above",
    "works perfectly",
    "guaranteed to",
)
STOPWORDS = set(
    """a an the and or but if then than that this these those is are was were be been being it its of to in on at by
    for with from as into onto over under about after before so such not no do does did done can could will would
    should may might has have had more most less least very much many each per one two same other which what when
    where who whom why how there their they them you your we our his her he she also just only all any every none
    because while both either neither too even still here""".split()
)
_WORD = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Item:
    """One choice question as the learner sees it: its choices in display order."""

    id: str
    kind: str  # "single" | "multiple"
    prompt: str
    texts: tuple[str, ...]
    correct: tuple[bool, ...]


@dataclass
class CueReport:
    name: str
    scores: dict[str, float]
    problems: list[str] = field(default_factory=list)
    n_questions: int = 0

    @property
    def too_high(self) -> dict[str, float]:
        return {k: v for k, v in self.scores.items() if v > LIMIT}

    @property
    def ok(self) -> bool:
        return not self.too_high and not self.problems

    def text(self) -> str:
        lines = [f"{self.name}: {self.n_questions} choice questions"]
        for name, value in self.scores.items():
            flag = "  <-- above 40 %" if value > LIMIT else ""
            lines.append(f"  {name:<17} {value:6.0%}{flag}")
        lines += [f"  problem: {p}" for p in self.problems] or ["  no problems"]
        lines.append("  OK" if self.ok else "  FAIL")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------ reading


def exercise_choices(notebook: dict) -> list[tuple[str, str, dict[str, str]]]:
    """(answer variable, right letter, {letter: statement}) of every lettered question in an exercise's source:
    the statements are the "- **a**: ..." list of the markdown cell before the solution that sets the letter."""
    found, options = [], {}
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            listed, current = {}, None
            for line in text.splitlines():
                start = re.match(r"^- \*\*([a-d])\*\*:\s*(.*)", line)
                if start:
                    current = start.group(1)
                    listed[current] = start.group(2)
                elif current and line.startswith("  ") and line.strip():
                    listed[current] += " " + line.strip()
                else:
                    current = None
            options = listed or options
        elif "BEGIN SOLUTION" in text and options:
            answer = re.search(r"^(\w+) = [\"']([a-d])[\"']", text, re.M)
            if answer:
                found.append((answer.group(1), answer.group(2), options))
                options = {}
    return found


def _bank_from_data(data: dict) -> quiz.Bank:
    """A bank from its YAML data, without the package's bank folder (so any file can be measured)."""
    questions = tuple(
        quiz.Question(
            id=q["id"],
            kind=q["type"],
            prompt=str(q.get("prompt", "")).strip(),
            tags=tuple(q.get("tags", ())),
            choices=tuple(
                quiz.Choice(str(c["text"]), bool(c["correct"]), str(c.get("explanation", "")))
                for c in q.get("choices", [])
            ),
            chapter=data["chapter"],
        )
        for q in data["questions"]
    )
    return quiz.Bank(data["chapter"], data.get("title", ""), questions)


def _items_from_bank(bank: quiz.Bank) -> list[Item]:
    items = []
    for q in bank.questions:
        if q.kind == "numeric":
            continue
        shown = quiz.display_order(q)
        items.append(Item(q.id, q.kind, q.prompt, tuple(c.text for c in shown), tuple(c.correct for c in shown)))
    return items


def _items_from_exercise(questions: Iterable[tuple[str, str, dict[str, str]]]) -> list[Item]:
    items = []
    for name, letter, options in questions:
        letters = sorted(options)
        items.append(Item(name, "single", "", tuple(options[k] for k in letters), tuple(k == letter for k in letters)))
    return items


def load_items(source: Any) -> tuple[str, list[Item]]:
    """(name, choice questions) of a bank, a chapter name, a YAML or notebook path, or exercise tuples."""
    if isinstance(source, quiz.Bank):
        return source.chapter, _items_from_bank(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.suffix == ".ipynb":
            return path.name, _items_from_exercise(exercise_choices(json.loads(path.read_text(encoding="utf-8"))))
        if path.suffix in (".yaml", ".yml"):
            import yaml

            return path.name, _items_from_bank(_bank_from_data(yaml.safe_load(path.read_text(encoding="utf-8"))))
        return str(source), _items_from_bank(quiz.load_bank(str(source)))
    source = list(source)
    if source and isinstance(source[0], Item):
        return "questions", source
    return "exercise questions", _items_from_exercise(source)


# ------------------------------------------------------------------------------------------ strategies


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("-", " "))


def _has_absolute(text: str) -> bool:
    return any(w in ABSOLUTE_WORDS for w in _words(text))


def _form(text: str) -> dict[str, Any]:
    """Features of a choice's form that a learner can see without reading its meaning."""
    words = text.split()
    return {
        "first word": words[0].strip(",.:;").lower() if words else "",
        "number": bool(re.search(r"\d", text)),
        "code": "`" in text or "(" in text,
        "colon": ":" in text,
        "comma": "," in text,
        "negation": bool(re.search(r"\b(not|no|never|cannot|n't)\b", text.lower())),
    }


def odd_ones(texts: Sequence[str]) -> list[int]:
    """Indices of choices unlike all the others in form: for some feature, the others share one value and this
    one has another. Needs at least 3 choices."""
    if len(texts) < 3:
        return []
    forms = [_form(t) for t in texts]
    odd = []
    for feature in forms[0]:
        values = [f[feature] for f in forms]
        for i, v in enumerate(values):
            others = values[:i] + values[i + 1 :]
            if len(set(others)) == 1 and others[0] != v and i not in odd:
                odd.append(i)
    return odd


def _ranking(strategy: str, texts: Sequence[str]) -> list[int]:
    """The choices in the order a blind strategy prefers them; ties keep the display order."""
    order = list(range(len(texts)))
    if strategy == "first":
        return order
    if strategy == "longest":
        return sorted(order, key=lambda i: -len(texts[i]))
    if strategy == "shortest":
        return sorted(order, key=lambda i: len(texts[i]))
    if strategy == "odd-one-out":
        odd = odd_ones(texts)
        return sorted(order, key=lambda i: i not in odd)
    if strategy == "no-absolute-word":
        return sorted(order, key=lambda i: _has_absolute(texts[i]))
    raise ValueError(f"unknown strategy {strategy!r}")


STRATEGIES = ("first", "longest", "shortest", "odd-one-out", "no-absolute-word")


def strategy_scores(items: Sequence[Item]) -> dict[str, float]:
    """Share of the questions each blind strategy answers right (all of a multiple choice's right ones, no more)."""
    scores = {}
    for strategy in STRATEGIES:
        right = 0
        for item in items:
            k = sum(item.correct) if item.kind == "multiple" else 1
            chosen = set(_ranking(strategy, item.texts)[:k])
            right += chosen == {i for i, c in enumerate(item.correct) if c}
        scores[strategy] = right / len(items) if items else 0.0
    return scores


# ------------------------------------------------------------------------------------------ problems


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "ed", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _content(text: str) -> set[str]:
    return {_stem(w) for w in _words(text) if len(w) >= 4 and w not in STOPWORDS}


def echoed_words(item: Item) -> set[str]:
    """Words of the right choice that no wrong choice has and the prompt repeats (single choice only)."""
    if item.kind != "single" or not item.prompt:
        return set()
    right = item.correct.index(True)
    wrong = set().union(*(_content(t) for i, t in enumerate(item.texts) if i != right))
    return (_content(item.texts[right]) - wrong) & _content(item.prompt)


def problems(items: Sequence[Item]) -> list[str]:
    found = []
    for item in items:
        if item.kind == "single" and len(item.texts) < MIN_CHOICES:
            found.append(f"{item.id}: a single-choice question with {len(item.texts)} choices (needs {MIN_CHOICES})")
        for text in item.texts:
            for phrase in STRAWMAN_PHRASES:
                if phrase in " ".join(text.lower().split()):
                    found.append(f"{item.id}: strawman phrase {phrase!r} in choice {text!r}")
        echo = echoed_words(item)
        if len(echo) >= 2:
            found.append(f"{item.id}: the prompt contains the right choice's distinctive words {sorted(echo)}")
    on_right: dict[str, int] = {}
    on_wrong: dict[str, int] = {}
    for item in items:
        for text, correct in zip(item.texts, item.correct, strict=True):
            for w in set(_words(text)) & set(ABSOLUTE_WORDS):
                counts = on_right if correct else on_wrong
                counts[w] = counts.get(w, 0) + 1
    for w in sorted(on_wrong):
        if on_wrong[w] >= 2 and not on_right.get(w):
            found.append(f"absolute word {w!r} is on {on_wrong[w]} wrong choices and on no right one")
    return found


def measure(source: Any, name: str | None = None) -> CueReport:
    """Blind scores and cue problems of a bank or of an exercise's lettered questions (see the module's doc)."""
    found_name, items = load_items(source)
    return CueReport(name or found_name, strategy_scores(items), problems(items), len(items))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or any(a in ("-h", "--help") for a in args):
        print(__doc__)
        return 0 if args else 2
    failed = False
    for arg in args:
        if Path(arg).suffix in (".yaml", ".yml", ".ipynb") and not Path(arg).exists():
            print(f"{arg}: no such file; give a quiz bank (.yaml), an exercise (.ipynb) or a chapter name")
            return 2
        report = measure(arg)
        print(report.text())
        failed |= not report.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
