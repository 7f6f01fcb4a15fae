"""Widget quizzes with instant feedback, attempt counts and progress that survives kernel restarts.

Questions are data: one YAML bank per chapter in ``losslab/quizbank/<chapter>.yaml``, validated against
``quizbank/schema.json`` plus the rules in ``validate_bank`` (exactly one right answer for single choice, an
explanation for every choice, unique ids). Three kinds: ``single``, ``multiple`` and ``numeric`` (with a
tolerance). Tutorials ask them in checkpoints of 2 to 4 questions right after the section that teaches them,
``losslab.quiz.show("<chapter>", ["question-id", ...])``; each question is shown once in its chapter.

Choices appear in a fixed per-question shuffle, ``display_order(question)``: seeded by a hash of the chapter and
the question id, so it is the same in the widget, in the text version and in every Python run, and it does not
give the answer away (in the bank files the right answer is often written first). Answers are stored by each
choice's stable ``key`` (a hash of its text), never by position. A question's ``section`` names the notebook
section that teaches its point; a wrong answer's feedback links to it.

Where widgets cannot display (nbconvert, GitHub, a terminal) a quiz renders as readable text, and
``losslab.quiz.check(chapter, question_id, answer)`` checks an answer without widgets (letters and numbers
count in display order).
The learner's language (``losslab.messages.current_language``: ``LOSSLAB_LANG``, or the Japanese edition's
notebook metadata) picks the bank's language: ``load_bank(chapter, "ja")`` reads the Japanese texts from the
catalog losslab/quizbank/ja/<chapter>.yaml (``losslab.i18n.translated_bank``) while every choice keeps the key of
its English text, so progress is the same in both editions. Every label and message goes through gettext.
Progress lives in a small JSON file in the learner's home (``~/.losslab/progress.json``, or the path in
``$LOSSLAB_PROGRESS``); a missing or corrupt file is recovered from, never a crash.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from losslab.messages import _, current_language
from losslab.quizlinks import COURSE_DIR, reread_html, section_href, section_title  # noqa: F401 - quiz.section_href etc.

BANK_DIR = Path(__file__).with_name("quizbank")
SCHEMA_PATH = BANK_DIR / "schema.json"
LETTERS = "abcdefghijklmnopqrstuvwxyz"


class QuizBankError(ValueError):
    """A question bank that breaks the schema or the rules; the message names the file and question."""


# ------------------------------------------------------------------------------------------ the bank


def choice_key(text: str) -> str:
    """A choice's stable key: a short hash of its text (spacing and case ignored), the same in every run."""
    normal = " ".join(text.split()).lower()
    return "c" + hashlib.sha256(normal.encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True)
class Choice:
    text: str
    correct: bool
    explanation: str
    key_text: str = ""  # the English text the key is made from, in a translated bank ("" : `text` is English)

    @property
    def key(self) -> str:
        return choice_key(self.key_text or self.text)


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # "single" | "multiple" | "numeric"
    prompt: str
    tags: tuple[str, ...]
    choices: tuple[Choice, ...] = ()
    answer: float | None = None
    tolerance: float | None = None
    unit: str = ""
    explanation: str = ""
    hint: str = ""
    chapter: str = ""
    section: str = ""  # "<folder>/<notebook>.ipynb#<JupyterLab heading anchor>", relative to course/


def display_order(question: Question) -> list[Choice]:
    """The question's choices in the order a learner sees them, everywhere (widget, text, site).

    A permutation of the bank's order seeded by a hash of chapter and question id: fixed across restarts,
    Python runs and machines (no dependence on PYTHONHASHSEED), different from question to question.
    """
    seed = int.from_bytes(hashlib.sha256(f"{question.chapter}/{question.id}".encode()).digest()[:8], "big")
    order = list(question.choices)
    random.Random(seed).shuffle(order)
    return order


@dataclass(frozen=True)
class Bank:
    chapter: str
    title: str
    questions: tuple[Question, ...]

    def __getitem__(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(
            _("{chapter} has no question {id}; it has {known}").format(
                chapter=self.chapter, id=repr(question_id), known=[q.id for q in self.questions]
            )
        )


def bank_path(chapter: str) -> Path:
    return BANK_DIR / f"{chapter}.yaml"


def available_banks() -> list[str]:
    return sorted(p.stem for p in BANK_DIR.glob("*.yaml"))


def validate_bank(data: Any, source: str = "<bank>") -> list[str]:
    """Every problem with a bank's data, as readable strings (empty list: valid)."""
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{source}: {where}: {error.message}")
    if problems or not isinstance(data, dict):
        return problems
    seen: set[str] = set()
    for q in data["questions"]:
        where = f"{source}: question {q['id']!r}"
        if q["id"] in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(q["id"])
        choices = q.get("choices", [])
        n_correct = sum(c["correct"] for c in choices)
        if q["type"] == "single" and n_correct != 1:
            problems.append(f"{where}: a single-choice question needs exactly one correct choice, has {n_correct}")
        if q["type"] == "multiple" and n_correct < 1:
            problems.append(f"{where}: a multiple-choice question needs at least one correct choice")
        texts = [c["text"].strip().lower() for c in choices]
        if len(set(texts)) != len(texts) or len({choice_key(t) for t in texts}) != len(texts):
            problems.append(f"{where}: two choices have the same text")
    return problems


@cache
def load_bank(chapter: str, lang: str = "en") -> Bank:
    """Load and validate ``quizbank/<chapter>.yaml``; QuizBankError lists every problem found. With `lang` other
    than English, the texts come from its catalog (a missing translation is a QuizBankError naming it) and
    each choice keeps its English key; sections point at the translated headings of course/<lang>/."""
    import yaml

    path = bank_path(chapter)
    if not path.exists():
        raise QuizBankError(f"no question bank for {chapter!r}: expected {path}; banks: {available_banks()}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise QuizBankError(f"{path.name} is not valid YAML: {exc}") from exc
    problems = validate_bank(data, path.name)
    if problems:
        raise QuizBankError("\n".join(problems))
    if lang != "en":
        from losslab import i18n

        try:
            data = i18n.translated_bank(chapter, lang)
        except ValueError as exc:
            raise QuizBankError(str(exc)) from exc
        for q in data["questions"]:
            if q.get("section"):
                q["section"] = i18n.translate_section(q["section"], lang)
    questions = []
    for q in data["questions"]:
        questions.append(
            Question(
                id=q["id"],
                kind=q["type"],
                prompt=q["prompt"].strip(),
                tags=tuple(q["tags"]),
                choices=tuple(
                    Choice(c["text"], c["correct"], c["explanation"].strip(), c.get("text_en", ""))
                    for c in q.get("choices", [])
                ),
                answer=q.get("answer"),
                tolerance=q.get("tolerance"),
                unit=q.get("unit", ""),
                explanation=q.get("explanation", "").strip(),
                hint=q.get("hint", "").strip(),
                chapter=data["chapter"],
                section=q.get("section", ""),
            )
        )
    return Bank(data["chapter"], data["title"], tuple(questions))


def learner_bank(chapter: str) -> Bank:
    """The bank in the learner's language (``current_language``); English, with a printed note, when its
    translation is incomplete (a release never ships one: tests/test_i18n.py)."""
    lang = current_language()
    try:
        return load_bank(chapter, lang)
    except QuizBankError as exc:
        if lang == "en" or not bank_path(chapter).exists():
            raise
        print("[losslab quiz] " + _("{lang}: {error}; the quiz is shown in English").format(lang=lang, error=exc))
        return load_bank(chapter)


# ------------------------------------------------------------------------------------------ grading


@dataclass(frozen=True)
class Feedback:
    correct: bool
    lines: tuple[str, ...]  # markdown-ish sentences, one per explanation
    section: str = ""  # after a wrong answer: the notebook section to read again

    @property
    def text(self) -> str:
        read = f"\n{_('Read again:')} {self.section}" if self.section and not self.correct else ""
        return (_("Correct.") if self.correct else _("Not yet.")) + " " + "\n".join(self.lines) + read

    @property
    def html(self) -> str:
        head = (
            f"<b style='color:#1a7f37'>✔ {_('Correct.')}</b>"
            if self.correct
            else f"<b style='color:#b35900'>✘ {_('Not yet.')}</b>"
        )
        return head + "<ul>" + "".join(f"<li>{_md(line, inline=True)}</li>" for line in self.lines) + "</ul>"


def _choice(question: Question, value: Any) -> Choice:
    """The choice an answer names: its key, its letter or number in display order, or its text."""
    shown = display_order(question)
    if isinstance(value, Choice) and value in shown:
        return value
    if isinstance(value, bool):
        raise ValueError(_("give a choice's letter, number or text, not True/False"))
    if isinstance(value, int):
        if not 0 <= value < len(shown):
            raise ValueError(
                _("choice number {value} is out of range 0-{last}").format(value=value, last=len(shown) - 1)
            )
        return shown[value]
    if isinstance(value, str):
        # full-width letters (ｂ, Ｂ) read as ASCII, and Japanese quotes around the answer are dropped
        wanted = unicodedata.normalize("NFKC", value).strip().strip("「」『』“”‘’\"' ").lower()
        if len(wanted) == 1 and wanted in LETTERS[: len(shown)]:
            return shown[LETTERS.index(wanted)]
        for choice in shown:
            if wanted in (choice.key, choice.text.strip().lower()):
                return choice
    raise ValueError(
        _("{value} is not one of the choices:").format(value=repr(value))
        + " "
        + "; ".join(f"{LETTERS[i]}) {c.text}" for i, c in enumerate(shown))
    )


def grade(question: Question, answer: Any) -> Feedback:
    """Check an answer: a choice (key, display letter/number or text) for single, a collection of them for
    multiple, a number for numeric. A wrong answer's feedback names the section to read again."""
    if question.kind == "single":
        chosen = _choice(question, answer)
        return Feedback(chosen.correct, (f"**{chosen.text}**: {chosen.explanation}",), question.section)
    if question.kind == "multiple":
        if isinstance(answer, (str, int)):
            answer = [answer]
        picked_keys = {_choice(question, a).key for a in answer}
        picked = [c for c in display_order(question) if c.key in picked_keys]
        right = {c.key for c in question.choices if c.correct}
        lines = [f"**{c.text}**: {c.explanation}" for c in picked]
        missed = right - picked_keys
        if missed and not picked_keys - right:
            lines.append(
                _("You left out {n} right choice(s); look again at the ones you did not tick.").format(n=len(missed))
            )
        return Feedback(picked_keys == right, tuple(lines), question.section)
    # numeric
    try:
        value = float(str(answer).strip().replace(",", ""))
    except ValueError:
        return Feedback(
            False, (_("{answer} is not a number: type a number such as 2.30.").format(answer=repr(answer)),)
        )
    if not math.isfinite(value):
        return Feedback(False, (_("Give a finite number."),))
    assert question.answer is not None and question.tolerance is not None
    if abs(value - question.answer) <= question.tolerance:
        return Feedback(True, (question.explanation,))
    message = (
        _("{value} is too high. Hint: {hint}") if value > question.answer else _("{value} is too low. Hint: {hint}")
    )
    return Feedback(False, (message.format(value=f"{value:g}", hint=question.hint),), question.section)


def stored_answer(question: Question, answer: Any) -> Any:
    """What progress saves for an answer: choice keys (never positions), or the numeric answer as typed."""
    if question.kind == "single":
        return _choice(question, answer).key
    if question.kind == "multiple":
        answers = [answer] if isinstance(answer, (str, int)) else answer
        return sorted({_choice(question, a).key for a in answers})
    return answer


# ------------------------------------------------------------------------------------------ progress


def default_progress_path() -> Path:
    return Path(os.environ.get("LOSSLAB_PROGRESS") or Path.home() / ".losslab" / "progress.json")


class ProgressStore:
    """Attempts and solved flags per question, saved to a small JSON file after every check.

    A missing file is an empty record. A corrupt one is kept aside (``progress.json.corrupt-<time>``) and a
    fresh record is started, with a printed note; an unwritable home keeps progress in memory with a note.
    Each save re-reads the file and merges, so two open notebooks do not erase each other's progress.

    Version 2 saves choice answers by the choices' keys. A version-1 file saved them by position in the bank,
    which the shuffle and rewritten banks no longer match: those answers are cleared (with a note), so none
    points at another choice; attempts and solved flags are kept.
    """

    VERSION = 2

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_progress_path()
        self.notes: list[str] = []
        self._unsaved_noted = False
        self._cleared = 0
        self._memory: dict[str, dict[str, Any]] = self._read()
        if self._cleared:
            self._save()  # as version 2 at once, so the note about cleared answers is shown only once

    def _note(self, message: str) -> None:
        self.notes.append(message)
        print(f"[losslab quiz] {message}")

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            self._note(
                _("could not read {path} ({error}); progress is kept in memory for now").format(
                    path=self.path, error=exc
                )
            )
            return {}
        try:
            records, cleared = self._parse(json.loads(raw))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            backup = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            try:
                os.replace(self.path, backup)
                kept = _("it was kept as {name}").format(name=backup.name)
            except OSError:
                kept = _("it was left in place")
            self._note(
                _("your progress file {path} was unreadable ({error}); {kept} and a fresh record was started").format(
                    path=self.path, error=exc.__class__.__name__, kept=kept
                )
            )
            return {}
        self._cleared = cleared
        if cleared:
            self._note(
                _(
                    "{n} answer(s) saved by an earlier version of the quizzes were cleared: choices are now shown "
                    "in a new order and saved by name. Your checks and solved questions are kept."
                ).format(n=cleared)
            )
        return records

    @classmethod
    def _parse(cls, data: Any) -> tuple[dict[str, dict[str, Any]], int]:
        """The records of a progress file's JSON, and how many old position-based answers were cleared."""
        questions = data["questions"]
        if not isinstance(questions, dict) or not all(isinstance(v, dict) for v in questions.values()):
            raise TypeError("questions is not a mapping of records")
        records = {k: cls._clean(v) for k, v in questions.items()}
        cleared = 0
        if data.get("version", 1) < 2:
            for rec in records.values():
                if rec["last_answer"] is not None and not cls._numeric_answer(rec["last_answer"]):
                    rec["last_answer"] = None
                    cleared += 1
        return records, cleared

    @staticmethod
    def _numeric_answer(answer: Any) -> bool:
        """A numeric question's answer as version 1 saved it (a float or typed text), not a choice index."""
        if isinstance(answer, bool) or isinstance(answer, int):
            return False
        try:
            return math.isfinite(float(answer))
        except (TypeError, ValueError):
            return False

    @staticmethod
    def _clean(record: dict[str, Any]) -> dict[str, Any]:
        attempts = record.get("attempts", 0)
        return {
            "attempts": attempts if isinstance(attempts, int) and attempts >= 0 else 0,
            "solved": bool(record.get("solved", False)),
            "solved_on_attempt": record.get("solved_on_attempt"),
            "last_answer": record.get("last_answer"),
        }

    def get(self, chapter: str, question_id: str) -> dict[str, Any]:
        return dict(
            self._memory.get(
                f"{chapter}/{question_id}",
                {"attempts": 0, "solved": False, "solved_on_attempt": None, "last_answer": None},
            )
        )

    def record(self, chapter: str, question_id: str, correct: bool, answer: Any) -> dict[str, Any]:
        """Count one check of `question_id` and save; returns the updated record."""
        key = f"{chapter}/{question_id}"
        on_disk = self._read_quietly()
        self._memory.update({k: v for k, v in on_disk.items() if k != key})
        rec = self.get(chapter, question_id)
        previous = on_disk.get(key)
        if previous and previous["attempts"] > rec["attempts"]:
            rec = previous
        rec["attempts"] += 1
        rec["last_answer"] = answer
        if correct and not rec["solved"]:
            rec["solved"], rec["solved_on_attempt"] = True, rec["attempts"]
        self._memory[key] = rec
        self._save()
        return dict(rec)

    def _read_quietly(self) -> dict[str, dict[str, Any]]:
        try:
            return self._parse(json.loads(self.path.read_text(encoding="utf-8")))[0]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def _save(self) -> None:
        payload = json.dumps({"version": self.VERSION, "questions": self._memory}, indent=1, sort_keys=True)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".progress-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(tmp, self.path)
        except OSError as exc:
            if not self._unsaved_noted:
                self._unsaved_noted = True
                self._note(
                    _(
                        "progress cannot be saved to {path} ({error}); it is kept until the kernel stops. "
                        "Set LOSSLAB_PROGRESS to a writable file to keep it."
                    ).format(path=self.path, error=exc)
                )

    def summary(self, chapter: str, question_ids: Iterable[str]) -> tuple[int, int, int]:
        """(solved, total, checks) over the given questions."""
        records = [self.get(chapter, q) for q in question_ids]
        return sum(r["solved"] for r in records), len(records), sum(r["attempts"] for r in records)


# ------------------------------------------------------------------------------------------ rendering


def _md(text: str, inline: bool = False) -> str:
    import mistune

    html = mistune.html(text)
    if inline and html.startswith("<p>") and html.rstrip().endswith("</p>") and html.count("<p>") == 1:
        html = html.strip()[3:-4]
    return html


def question_text(question: Question, number: int | None = None) -> str:
    """A question as plain text, for terminals and notebooks rendered without widgets."""
    head = f"Q{number}. " if number is not None else ""
    lines = [f"{head}{question.prompt}"]
    if question.kind == "multiple":
        lines.append(_("(choose all that apply)"))
    for i, choice in enumerate(display_order(question)):
        lines.append(f"  {LETTERS[i]}) {choice.text}")
    if question.kind == "numeric":
        note = _("(a number, in {unit}; answers within {tolerance} count)") if question.unit else None
        note = note or _("(a number; answers within {tolerance} count)")
        lines.append("  " + note.format(unit=question.unit, tolerance=f"{question.tolerance:g}"))
    return "\n".join(lines)


def bank_text(bank: Bank, question_ids: Sequence[str] | None = None) -> str:
    questions = [bank[q] for q in question_ids] if question_ids else list(bank.questions)
    parts = [_("Quiz: {title} ({n} questions)").format(title=bank.title, n=len(questions))]
    parts += [question_text(q, i) for i, q in enumerate(questions, start=1)]
    parts.append(
        _("Widgets are not available here. Check an answer with")
        + f"\n  losslab.quiz.check({bank.chapter!r}, {questions[0].id!r}, 'a')"
    )
    return "\n\n".join(parts)


# ------------------------------------------------------------------------------------------ widgets


class QuestionView:
    """One question's widgets: prompt, input, Check button, feedback and attempt count."""

    def __init__(self, chapter: str, question: Question, number: int, store: ProgressStore, on_check=None) -> None:
        import ipywidgets as w

        self.chapter, self.question, self.store, self._on_check = chapter, question, store, on_check
        self.prompt = w.HTMLMath(f"<b>Q{number}.</b> {_md(question.prompt, inline=True)}")
        wide = w.Layout(width="auto")
        if question.kind == "single":
            self.input = w.RadioButtons(
                options=[(c.text, c.key) for c in display_order(question)], value=None, layout=wide
            )
            self.boxes: list = []
        elif question.kind == "multiple":
            self.boxes = [
                w.Checkbox(value=False, description=c.text, indent=False, layout=wide) for c in display_order(question)
            ]
            self.input = w.VBox([w.HTML(f"<i>{_('Tick every right answer.')}</i>"), *self.boxes])
        else:
            self.boxes = []
            unit = f" ({question.unit})" if question.unit else ""
            self.input = w.Text(placeholder=_("a number") + unit, layout=w.Layout(width="220px"))
        self.button = w.Button(description=_("Check"), button_style="primary", icon="check")
        self.button.on_click(lambda _button: self.check())
        self.feedback = w.HTMLMath("")
        self.reread = w.HTML("")  # after a wrong answer, a link to the section that teaches the point
        self.status = w.HTML("")
        self.widget = w.VBox(
            [self.prompt, self.input, w.HBox([self.button, self.status]), self.feedback, self.reread],
            layout=w.Layout(border="1px solid #ddd", padding="6px", margin="6px 0"),
        )
        self._restore()

    def _restore(self) -> None:
        rec = self.store.get(self.chapter, self.question.id)
        last = rec["last_answer"]
        keys = [c.key for c in display_order(self.question)]
        if last is None:
            pass
        elif self.question.kind == "single":
            if last in keys:  # a key only; a choice whose text changed since starts blank
                self.input.value = last
        elif self.question.kind == "multiple":
            if isinstance(last, list) and last and set(last) <= set(keys):
                for key in last:
                    self.boxes[keys.index(key)].value = True
        else:
            self.input.value = str(last)
        self._show_status(rec)

    def _show_status(self, rec: dict[str, Any]) -> None:
        if rec["solved"]:
            solved = _("solved on check {n}").format(n=rec["solved_on_attempt"])
            checks = _("{n} check(s)").format(n=rec["attempts"])
            self.status.value = f"<span style='color:#1a7f37'>{solved}</span> · {checks}"
        elif rec["attempts"]:
            self.status.value = _("{n} check(s) so far").format(n=rec["attempts"])
        else:
            self.status.value = ""

    def current_answer(self) -> Any:
        if self.question.kind == "single":
            return self.input.value
        if self.question.kind == "multiple":
            shown = display_order(self.question)
            return [choice.key for choice, box in zip(shown, self.boxes, strict=True) if box.value]
        return self.input.value.strip() or None

    def check(self) -> Feedback | None:
        answer = self.current_answer()
        if answer is None or answer == []:
            self.feedback.value = f"<i>{_('Choose an answer first, then press Check.')}</i>"
            return None
        result = grade(self.question, answer)
        rec = self.store.record(self.chapter, self.question.id, result.correct, stored_answer(self.question, answer))
        wrong = not result.correct and self.question.section
        reread = reread_html(self.question.section) if wrong else ""
        self._show_status(rec)
        if self._on_check:
            self._on_check()
        self.reread.value = reread
        self.feedback.value = result.html  # last: once the feedback shows, everything else is up to date
        return result


class Quiz:
    """A chapter's quiz (or some of its questions) as widgets, with a score summary at the bottom."""

    def __init__(
        self, chapter: str, question_ids: Sequence[str] | None = None, store: ProgressStore | None = None
    ) -> None:
        import ipywidgets as w

        self.bank = learner_bank(chapter)
        self.store = store or ProgressStore()
        questions = [self.bank[q] for q in question_ids] if question_ids else list(self.bank.questions)
        self.views = {
            q.id: QuestionView(chapter, q, i, self.store, self._refresh) for i, q in enumerate(questions, start=1)
        }
        self.score = w.HTML("")
        self.bar = w.IntProgress(min=0, max=len(questions), layout=w.Layout(width="240px"))
        self.widget = w.VBox(
            [
                w.HTML(f"<h3>{escape(_('Quiz: {title}').format(title=self.bank.title))}</h3>"),
                *(v.widget for v in self.views.values()),
                w.HBox([self.bar, self.score]),
            ]
        )
        self._refresh()

    def summary(self) -> tuple[int, int, int]:
        return self.store.summary(self.bank.chapter, list(self.views))

    def _refresh(self) -> None:
        solved, total, checks = self.summary()
        self.bar.value = solved
        done = _("{solved} of {total} solved").format(solved=solved, total=total)
        self.score.value = f"<b>{done}</b> · " + _("{n} check(s) in this quiz").format(n=checks)

    def text(self) -> str:
        return bank_text(self.bank, list(self.views))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = self.widget._repr_mimebundle_(**kwargs)
        data["text/plain"] = self.text()
        data["text/html"] = "<pre>" + escape(self.text()) + "</pre>"
        return data


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython

        return getattr(get_ipython(), "kernel", None) is not None
    except ImportError:
        return False


def show(chapter: str, question_ids: Sequence[str] | None = None) -> None:
    """Display a chapter's quiz: widgets in a notebook, readable text anywhere else."""
    if _in_kernel():
        from IPython.display import display

        display(Quiz(chapter, question_ids))
    else:
        print(bank_text(learner_bank(chapter), question_ids))


def check(chapter: str, question_id: str, answer: Any, store: ProgressStore | None = None) -> Feedback:
    """Check one answer without widgets (terminals); prints the feedback and saves progress."""
    question = learner_bank(chapter)[question_id]
    result = grade(question, answer)
    (store or ProgressStore()).record(chapter, question_id, result.correct, stored_answer(question, answer))
    print(result.text, file=sys.stdout)
    return result
