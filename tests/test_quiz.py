"""The quiz engine: banks validated against the schema, widgets driven without a browser, saved progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from losslab import notebooks, quiz
from tests.support import SOLUTIONS

MINIMUM_QUESTIONS = {"01_losses": 10, "02_optimizers": 10, "03_learning_rates": 10, "04_debugging": 12}


# ------------------------------------------------------------------------------------------ banks


@pytest.mark.parametrize("chapter", quiz.available_banks())
def test_bank_is_valid(chapter: str) -> None:
    quiz.load_bank.cache_clear()
    bank = quiz.load_bank(chapter)
    assert bank.chapter == chapter, f"{chapter}.yaml says chapter {bank.chapter!r}"
    assert len(bank.questions) >= MINIMUM_QUESTIONS.get(chapter, 1)
    for q in bank.questions:
        if q.kind != "numeric":
            assert all(c.explanation for c in q.choices)


@pytest.mark.parametrize("chapter", sorted(MINIMUM_QUESTIONS))
def test_every_chapter_has_a_bank_used_by_its_tutorial(chapter: str) -> None:
    assert chapter in quiz.available_banks(), f"no quizbank/{chapter}.yaml"
    tutorials = list((SOLUTIONS / chapter).glob("*_tutorial.ipynb"))
    sources = ["\n".join(c.source for c in notebooks.read(p).cells) for p in tutorials]  # not the raw JSON
    assert tutorials and any(f'quiz.show("{chapter}"' in source for source in sources), \
        f"the {chapter} tutorial should end with losslab.quiz.show({chapter!r})"


def _bank(**question) -> dict:
    base = {"id": "q1", "type": "single", "prompt": "Which one is right?", "tags": ["t"],
            "choices": [{"text": "yes", "correct": True, "explanation": "because it is the right one"},
                        {"text": "no", "correct": False, "explanation": "because it is the wrong one"}]}
    base.update(question)
    return {"chapter": "99_test", "title": "Test bank", "questions": [base]}


@pytest.mark.parametrize("change, problem", [
    ({"choices": [{"text": "a", "correct": True, "explanation": "right for this very reason"},
                  {"text": "b", "correct": True, "explanation": "also right, which is wrong"}]}, "exactly one"),
    ({"choices": [{"text": "a", "correct": True}, {"text": "b", "correct": False, "explanation": "x" * 20}]},
     "'explanation' is a required property"),
    ({"type": "numeric"}, "'answer' is a required property"),
    ({"type": "essay"}, "essay"),
    ({"id": "Bad Id"}, "Bad Id"),
    ({"type": "numeric", "choices": None, "answer": 1.0, "tolerance": 0, "explanation": "x" * 20,
      "hint": "y" * 20}, "minimum of 0"),
    ({"type": "numeric", "answer": 1.0, "tolerance": 0.1, "explanation": "x" * 20, "hint": "y" * 20},
     "Unevaluated properties are not allowed"),
])
def test_broken_banks_are_rejected(change: dict, problem: str) -> None:
    data = _bank(**change)
    data["questions"][0] = {k: v for k, v in data["questions"][0].items() if v is not None}
    problems = quiz.validate_bank(data, "test.yaml")
    assert problems and any(problem in p for p in problems), problems


def test_duplicate_ids_are_rejected() -> None:
    data = _bank()
    data["questions"].append(dict(data["questions"][0]))
    assert any("duplicate" in p for p in quiz.validate_bank(data))


def test_missing_bank_names_the_available_ones() -> None:
    with pytest.raises(quiz.QuizBankError, match="00_start_here"):
        quiz.load_bank("77_nothing")


# ------------------------------------------------------------------------------------------ grading


def test_grade_single_accepts_index_letter_and_text() -> None:
    q = quiz.load_bank("00_start_here")["what-training-does"]
    assert quiz.grade(q, 1).correct and quiz.grade(q, "b").correct and quiz.grade(q, "The optimizer").correct
    wrong = quiz.grade(q, 0)
    assert not wrong.correct and "only measures" in wrong.text  # the chosen option's own explanation


def test_grade_multiple_needs_exactly_the_right_set() -> None:
    q = quiz.load_bank("00_start_here")["good-habits"]
    right = [i for i, c in enumerate(q.choices) if c.correct]
    assert quiz.grade(q, right).correct
    partial = quiz.grade(q, right[:1])
    assert not partial.correct and "left out" in partial.text
    assert not quiz.grade(q, right + [3]).correct


def test_grade_numeric_uses_the_tolerance() -> None:
    q = quiz.load_bank("00_start_here")["initial-loss-ten-classes"]
    assert quiz.grade(q, "2.30").correct and quiz.grade(q, 2.31).correct
    assert "too high" in quiz.grade(q, 2.5).text and "too low" in quiz.grade(q, 1.0).text
    assert "not a number" in quiz.grade(q, "ten").text


# ------------------------------------------------------------------------------------------ widgets


@pytest.fixture
def store(tmp_path: Path) -> quiz.ProgressStore:
    return quiz.ProgressStore(tmp_path / "progress.json")


def test_widget_check_gives_feedback_counts_attempts_and_scores(store: quiz.ProgressStore) -> None:
    qz = quiz.Quiz("00_start_here", store=store)
    view = qz.views["what-training-does"]
    view.input.value = 0
    view.button.click()
    assert "Not yet" in view.feedback.value and "only measures" in view.feedback.value
    assert "1 check" in view.status.value
    view.input.value = 1
    view.button.click()
    assert "Correct" in view.feedback.value and "solved on check 2" in view.status.value
    assert qz.summary() == (1, 4, 2) and "1 of 4 solved" in qz.score.value and qz.bar.value == 1


def test_widget_without_an_answer_asks_for_one(store: quiz.ProgressStore) -> None:
    qz = quiz.Quiz("00_start_here", store=store)
    view = qz.views["good-habits"]
    view.button.click()
    assert "Choose an answer" in view.feedback.value and qz.summary()[2] == 0


def test_multiple_choice_and_numeric_widgets(store: quiz.ProgressStore) -> None:
    qz = quiz.Quiz("00_start_here", store=store)
    habits = qz.views["good-habits"]
    for box, choice in zip(habits.boxes, habits.question.choices, strict=True):
        box.value = choice.correct
    habits.button.click()
    numeric = qz.views["initial-loss-ten-classes"]
    numeric.input.value = "9"
    numeric.button.click()
    assert "Correct" in habits.feedback.value and "too high" in numeric.feedback.value


def test_progress_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    first = quiz.Quiz("00_start_here", store=quiz.ProgressStore(path))
    first.views["fit-scaler-on"].input.value = 0
    first.views["fit-scaler-on"].button.click()
    again = quiz.Quiz("00_start_here", store=quiz.ProgressStore(path))  # a new kernel
    view = again.views["fit-scaler-on"]
    assert view.input.value == 0 and "solved on check 1" in view.status.value
    assert again.summary() == (1, 4, 1)


def test_two_notebooks_do_not_erase_each_other(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    a, b = quiz.ProgressStore(path), quiz.ProgressStore(path)
    a.record("00_start_here", "fit-scaler-on", True, 0)
    b.record("00_start_here", "good-habits", False, [0])
    fresh = quiz.ProgressStore(path)
    assert fresh.get("00_start_here", "fit-scaler-on")["solved"]
    assert fresh.get("00_start_here", "good-habits")["attempts"] == 1


@pytest.mark.parametrize("content", ["{not json", '{"questions": 3}', "[]", '{"questions": {"a": 1}}'])
def test_corrupt_progress_file_is_kept_aside_not_a_crash(tmp_path: Path, content: str, capsys) -> None:
    path = tmp_path / "progress.json"
    path.write_text(content)
    store = quiz.ProgressStore(path)
    assert store.get("00_start_here", "fit-scaler-on")["attempts"] == 0
    assert "unreadable" in capsys.readouterr().out
    backups = list(tmp_path.glob("progress.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text() == content
    store.record("00_start_here", "fit-scaler-on", True, 0)
    assert json.loads(path.read_text())["questions"]["00_start_here/fit-scaler-on"]["solved"]


def test_unwritable_progress_keeps_working_in_memory(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = quiz.ProgressStore(blocker / "progress.json")  # parent is a file: cannot be created
    store.record("00_start_here", "fit-scaler-on", True, 0)
    assert store.get("00_start_here", "fit-scaler-on")["solved"]
    assert "cannot be saved" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ text


def test_text_rendering_without_widgets(store: quiz.ProgressStore) -> None:
    bundle = quiz.Quiz("00_start_here", store=store)._repr_mimebundle_()
    text = bundle["text/plain"]
    assert "Q1." in text and "b) The optimizer" in text and "losslab.quiz.check(" in text
    assert "application/vnd.jupyter.widget-view+json" in bundle and "<pre>" in bundle["text/html"]


def test_show_prints_text_outside_a_kernel(capsys) -> None:
    quiz.show("00_start_here")
    out = capsys.readouterr().out
    assert "Quiz: Warming up" in out and "a) The loss function" in out


def test_check_from_a_terminal(tmp_path: Path, capsys) -> None:
    store = quiz.ProgressStore(tmp_path / "p.json")
    result = quiz.check("00_start_here", "initial-loss-ten-classes", 2.3, store=store)
    assert result.correct and "Correct" in capsys.readouterr().out
    assert store.get("00_start_here", "initial-loss-ten-classes")["solved"]


def test_every_bank_file_is_plain_yaml() -> None:
    for chapter in quiz.available_banks():
        assert isinstance(yaml.safe_load(quiz.bank_path(chapter).read_text()), dict)
