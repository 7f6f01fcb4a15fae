"""The quiz engine: banks validated against the schema, widgets driven without a browser, saved progress."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
import yaml

from losslab import notebooks, quiz
from tests import quiz_cues
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
    sources = [c.source for p in tutorials for c in notebooks.read(p).cells]  # the raw JSON escapes quotes
    assert tutorials and any(f'quiz.show("{chapter}"' in source for source in sources), (
        f"the {chapter} tutorials should ask its questions with losslab.quiz.show({chapter!r}, [...])"
    )


def _bank(**question) -> dict:
    base = {
        "id": "q1",
        "type": "single",
        "prompt": "Which one is right?",
        "tags": ["t"],
        "section": "00_start_here.ipynb#Quizzes",
        "choices": [
            {"text": "yes", "correct": True, "explanation": "because it is the right one"},
            {"text": "no", "correct": False, "explanation": "because it is the wrong one"},
        ],
    }
    base.update(question)
    return {"chapter": "99_test", "title": "Test bank", "questions": [base]}


@pytest.mark.parametrize(
    "change, problem",
    [
        (
            {
                "choices": [
                    {"text": "a", "correct": True, "explanation": "right for this very reason"},
                    {"text": "b", "correct": True, "explanation": "also right, which is wrong"},
                ]
            },
            "exactly one",
        ),
        (
            {"choices": [{"text": "a", "correct": True}, {"text": "b", "correct": False, "explanation": "x" * 20}]},
            "'explanation' is a required property",
        ),
        ({"type": "numeric"}, "'answer' is a required property"),
        ({"type": "essay"}, "essay"),
        ({"section": "losses_tutorial#2"}, "does not match"),
        ({"id": "Bad Id"}, "Bad Id"),
        (
            {
                "type": "numeric",
                "choices": None,
                "answer": 1.0,
                "tolerance": 0,
                "explanation": "x" * 20,
                "hint": "y" * 20,
            },
            "minimum of 0",
        ),
        (
            {"type": "numeric", "answer": 1.0, "tolerance": 0.1, "explanation": "x" * 20, "hint": "y" * 20},
            "Unevaluated properties are not allowed",
        ),
    ],
)
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


def _position(q: quiz.Question, text: str) -> int:
    return [c.text for c in quiz.display_order(q)].index(text)


def test_grade_single_accepts_key_display_position_letter_and_text() -> None:
    q = quiz.load_bank("00_start_here")["what-training-does"]
    right = next(c for c in q.choices if c.correct)
    i = _position(q, right.text)
    for answer in (right.key, i, "abcd"[i], right.text, right.text.upper()):
        assert quiz.grade(q, answer).correct, answer
    wrong = quiz.grade(q, "The loss function")
    assert not wrong.correct and "only measures" in wrong.text  # the chosen option's own explanation
    assert not quiz.grade(q, (i + 1) % len(q.choices)).correct


def test_grade_multiple_needs_exactly_the_right_set() -> None:
    q = quiz.load_bank("00_start_here")["good-habits"]
    right = [c.key for c in q.choices if c.correct]
    wrong = next(c.key for c in q.choices if not c.correct)
    assert quiz.grade(q, right).correct
    partial = quiz.grade(q, right[:1])
    assert not partial.correct and "left out" in partial.text
    assert not quiz.grade(q, right + [wrong]).correct


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
    by_text = {c.text: c.key for c in view.question.choices}
    view.input.value = by_text["The loss function"]
    view.button.click()
    assert "Not yet" in view.feedback.value and "only measures" in view.feedback.value
    assert "1 check" in view.status.value
    view.input.value = by_text["The optimizer, such as Adam"]
    view.button.click()
    assert "Correct" in view.feedback.value and "solved on check 2" in view.status.value
    assert qz.summary() == (1, 5, 2) and "1 of 5 solved" in qz.score.value and qz.bar.value == 1


def test_widget_without_an_answer_asks_for_one(store: quiz.ProgressStore) -> None:
    qz = quiz.Quiz("00_start_here", store=store)
    view = qz.views["good-habits"]
    view.button.click()
    assert "Choose an answer" in view.feedback.value and qz.summary()[2] == 0


def test_multiple_choice_and_numeric_widgets(store: quiz.ProgressStore) -> None:
    qz = quiz.Quiz("00_start_here", store=store)
    habits = qz.views["good-habits"]
    for box, choice in zip(habits.boxes, quiz.display_order(habits.question), strict=True):
        box.value = choice.correct
    habits.button.click()
    numeric = qz.views["initial-loss-ten-classes"]
    numeric.input.value = "9"
    numeric.button.click()
    assert "Correct" in habits.feedback.value and "too high" in numeric.feedback.value


def test_progress_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    first = quiz.Quiz("00_start_here", store=quiz.ProgressStore(path))
    right = next(c for c in first.views["fit-scaler-on"].question.choices if c.correct)
    first.views["fit-scaler-on"].input.value = right.key
    first.views["fit-scaler-on"].button.click()
    saved = json.loads(path.read_text())["questions"]["00_start_here/fit-scaler-on"]
    assert saved["last_answer"] == right.key  # a key, not a position
    again = quiz.Quiz("00_start_here", store=quiz.ProgressStore(path))  # a new kernel
    view = again.views["fit-scaler-on"]
    assert view.input.value == right.key and "solved on check 1" in view.status.value
    assert again.summary() == (1, 5, 1)


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
    letter = "abcd"[_position(quiz.load_bank("00_start_here")["what-training-does"], "The optimizer, such as Adam")]
    assert "Q1." in text and f"{letter}) The optimizer, such as Adam" in text and "losslab.quiz.check(" in text
    assert "application/vnd.jupyter.widget-view+json" in bundle and "<pre>" in bundle["text/html"]


def test_show_prints_text_outside_a_kernel(capsys) -> None:
    quiz.show("00_start_here")
    out = capsys.readouterr().out
    letter = "abcd"[_position(quiz.load_bank("00_start_here")["what-training-does"], "The loss function")]
    assert "Quiz: Warming up" in out and f"{letter}) The loss function" in out


def test_check_from_a_terminal(tmp_path: Path, capsys) -> None:
    store = quiz.ProgressStore(tmp_path / "p.json")
    result = quiz.check("00_start_here", "initial-loss-ten-classes", 2.3, store=store)
    assert result.correct and "Correct" in capsys.readouterr().out
    assert store.get("00_start_here", "initial-loss-ten-classes")["solved"]


def test_every_bank_file_is_plain_yaml() -> None:
    for chapter in quiz.available_banks():
        assert isinstance(yaml.safe_load(quiz.bank_path(chapter).read_text()), dict)


# ------------------------------------------------------------------------------------------ display order


def test_display_order_is_a_fixed_permutation_per_question() -> None:
    bank = quiz.load_bank("01_losses")
    orders = {}
    for q in bank.questions:
        if q.kind == "numeric":
            continue
        shown = quiz.display_order(q)
        assert sorted(c.key for c in shown) == sorted(c.key for c in q.choices)
        assert [c.key for c in quiz.display_order(q)] == [c.key for c in shown]  # same on every call
        orders[q.id] = [q.choices.index(c) for c in shown]
    assert len({tuple(o) for o in orders.values()}) > 1, "every question got the same permutation"


def test_display_order_is_the_same_in_every_python_run() -> None:
    code = (
        "from losslab import quiz; q = quiz.load_bank('04_debugging')['imbalance-fixes'];"
        "print([c.key for c in quiz.display_order(q)])"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    q = quiz.load_bank("04_debugging")["imbalance-fixes"]
    assert runs == {str([c.key for c in quiz.display_order(q)]) + "\n"}


def _position_scores(bank: quiz.Bank) -> dict[str, float]:
    """Scores of learners who always click the k-th choice shown (the last one where a question has fewer)."""
    questions = [q for q in bank.questions if q.kind == "single"]
    if len(questions) < 3:  # with two questions one position necessarily holds half of the right answers
        return {}
    return {
        f"single/position {k + 1}": sum(quiz.display_order(q)[min(k, len(q.choices) - 1)].correct for q in questions)
        / len(questions)
        for k in range(max(len(q.choices) for q in questions))
    }


@pytest.mark.parametrize("chapter", quiz.available_banks())
def test_answering_without_reading_scores_at_most_40_percent(chapter: str) -> None:
    """The blind learners of tests/quiz_cues.py (first, longest, shortest, odd-one-out, no-absolute-word) and one
    who always clicks the same position each score at most 40 %, and the bank has none of the cue problems."""
    bank = quiz.load_bank(chapter)
    report = quiz_cues.measure(bank)
    too_high = {k: f"{v:.0%}" for k, v in (report.scores | _position_scores(bank)).items() if v > quiz_cues.LIMIT}
    assert not too_high, f"{chapter}: strategies that pass without reading the questions: {too_high}"
    assert not report.problems, f"{chapter}: questions answerable from their wording:\n" + "\n".join(report.problems)


def _giveaway_bank() -> dict:
    """A bank built to give its answers away, one tell per question kind."""

    def q(i: int, prompt: str, right: str, wrong: list[str]) -> dict:
        choices = [{"text": right, "correct": True, "explanation": "x" * 20}]
        choices += [{"text": w, "correct": False, "explanation": "y" * 20} for w in wrong]
        return {
            "id": f"q{i}",
            "type": "single",
            "prompt": prompt,
            "tags": ["t"],
            "section": "00_start_here.ipynb#Quizzes",
            "choices": choices,
        }

    questions = [
        q(0, "Is this one right?", "No, the loss measures the distance", ["Yes, always", "Yes, for every model"]),
        q(
            1,
            "The loss is flat. What now?",
            "Look at the validation loss first, then decide",
            ["The model is ready to use", "Nothing, it is fine", "It will generalize well"],
        ),
        q(
            2,
            "Why does the gradient vanish in deep sigmoid networks?",
            "The sigmoid gradient vanishes in deep networks",
            ["Bad luck", "Too few epochs", "A small batch"],
        ),
    ] + [
        q(
            i,
            "Which one is right?",
            "the right answer, written out at length",
            ["it must be so", "only that", "all of this"],
        )
        for i in range(3, 10)
    ]
    return {"chapter": "99_bad", "title": "Bad bank", "questions": questions}


def test_cue_measure_catches_a_bank_that_gives_answers_away(tmp_path: Path) -> None:
    data = _giveaway_bank()
    assert quiz.validate_bank(data) == []
    report = quiz_cues.measure(quiz_cues._bank_from_data(data))
    assert not report.ok
    assert report.scores["longest"] >= 0.7 and report.scores["no-absolute-word"] >= 0.7, report.scores
    assert report.scores["odd-one-out"] >= 0.7, report.scores  # the one choice without a number/comma/negation
    assert 0.0 < report.scores["first"] < 1.0  # the shuffle moved the right answer away from the top, sometimes
    text = "\n".join(report.problems)
    for tell in (
        "q0: a single-choice question with 3 choices",
        "'ready to use'",
        "'nothing, it is fine'",
        "'will generalize well'",
        "q2: the prompt contains the right choice's distinctive words",
        "absolute word 'must'",
        "absolute word 'all'",
        "absolute word 'only'",
    ):
        assert tell in text, (tell, report.problems)
    path = tmp_path / "99_bad.yaml"
    path.write_text(yaml.safe_dump(data))
    script = Path(quiz_cues.__file__)
    run = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1 and "FAIL" in run.stdout and "ready to use" in run.stdout, run.stdout + run.stderr


def test_odd_one_out_and_no_absolute_strategies_pick_what_a_guesser_would() -> None:
    assert quiz_cues.odd_ones(["Yes, it does", "Yes, a little", "No, it does not matter"]) == [2]
    assert quiz_cues.odd_ones(["Adam with 1e-3", "SGD with 1e-2", "RMSprop with 1e-3", "whatever works"]) == [3]
    assert quiz_cues.odd_ones(["red", "green", "blue", "white"]) == []
    item = quiz_cues.Item("q", "single", "", ("always a", "every b", "c", "never d"), (False, False, True, False))
    assert quiz_cues.strategy_scores([item])["no-absolute-word"] == 1.0


def test_cue_command_line_passes_a_clean_bank() -> None:
    script = Path(quiz_cues.__file__)
    run = subprocess.run(
        [sys.executable, str(script), str(quiz.bank_path("01_losses"))], capture_output=True, text=True
    )
    assert run.returncode == 0 and "OK" in run.stdout and "first" in run.stdout, run.stdout + run.stderr


@pytest.mark.parametrize("chapter", quiz.available_banks())
def test_widget_and_text_show_the_display_order(chapter: str, store: quiz.ProgressStore) -> None:
    qz = quiz.Quiz(chapter, store=store)
    text = quiz.bank_text(qz.bank)
    for q in qz.bank.questions:
        if q.kind == "numeric":
            continue
        shown = quiz.display_order(q)
        view = qz.views[q.id]
        if q.kind == "single":
            assert [label for label, _ in view.input.options] == [c.text for c in shown]
            assert [key for _, key in view.input.options] == [c.key for c in shown]
        else:
            assert [box.description for box in view.boxes] == [c.text for c in shown]
        lines = quiz.question_text(q).splitlines()[1:]
        assert [line for line in lines if re.match(r"  [a-z]\) ", line)] == [
            f"  {'abcdefghij'[i]}) {c.text}" for i, c in enumerate(shown)
        ]
        assert quiz.question_text(q) in text


# ------------------------------------------------------------------------------------------ sections


def _anchor(heading: str) -> str:
    """JupyterLab's anchor for a markdown heading: its text (markup removed), spaces replaced by '-'."""
    return re.sub(r"[`*]", "", heading.lstrip("#").strip()).replace(" ", "-")


@pytest.mark.parametrize("chapter", quiz.available_banks())
def test_every_question_links_to_a_section_that_exists(chapter: str) -> None:
    for q in quiz.load_bank(chapter).questions:
        path, _, anchor = q.section.partition("#")
        notebook = SOLUTIONS / path
        assert notebook.exists(), f"{chapter}/{q.id}: section {q.section!r}: no notebook solutions/{path}"
        headings = [
            line
            for cell in notebooks.read(notebook).cells
            if cell.cell_type == "markdown"
            for line in cell.source.splitlines()
            if re.match(r"#{1,6} ", line)
        ]
        assert anchor in {_anchor(h) for h in headings}, (
            f"{chapter}/{q.id}: no heading {anchor!r} in {path}; its anchors: {[_anchor(h) for h in headings]}"
        )


def test_wrong_answers_link_to_the_section_in_widget_and_text(store: quiz.ProgressStore, capsys) -> None:
    qz = quiz.Quiz("01_losses", store=store)
    view = qz.views["binary-output-layer"]
    wrong = next(c for c in view.question.choices if not c.correct)
    view.input.value = wrong.key
    view.button.click()
    _, _, anchor = view.question.section.partition("#")
    assert "Read again" in view.reread.value and anchor.replace("-", " ") in view.reread.value
    view.input.value = next(c.key for c in view.question.choices if c.correct)
    view.button.click()
    assert view.reread.value == ""
    quiz.check("01_losses", "binary-output-layer", wrong.text, store=store)
    assert f"Read again: {view.question.section}" in capsys.readouterr().out


def test_reread_link_opens_the_section_in_jupyterlab(tmp_path: Path) -> None:
    section = "01_losses/losses_tutorial.ipynb#2.-The-loss-before-training"
    notebook_dir = tmp_path / "course" / "04_debugging"
    (tmp_path / "course" / "01_losses").mkdir(parents=True)
    notebook_dir.mkdir()
    (tmp_path / "course" / "01_losses" / "losses_tutorial.ipynb").write_text("{}")
    html = quiz.reread_html(section, notebook_dir, roots=[tmp_path, Path("/elsewhere")])
    assert "data-commandlinker-command='rendermime:handle-local-link'" in html
    args = json.loads(unescape(re.search(r"data-commandlinker-args='([^']*)'", html).group(1)))
    assert args == {"path": "course/01_losses/losses_tutorial.ipynb", "id": "#2.-The-loss-before-training"}
    assert ">2. The loss before training</a>" in html
    plain = quiz.reread_html(section, notebook_dir, roots=[])  # no server: the title and the notebook, no link
    assert "<a" not in plain and "2. The loss before training" in plain and "losses_tutorial.ipynb" in plain


def test_section_href_is_relative_to_the_notebook_folder(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "01_losses").mkdir(parents=True)
    (course / "01_losses" / "losses_tutorial.ipynb").write_text("{}")
    section = "01_losses/losses_tutorial.ipynb#2.-The-loss-before-training"
    assert quiz.section_href(section, course / "01_losses") == "losses_tutorial.ipynb#2.-The-loss-before-training"
    assert quiz.section_href(section, course) == section
    (course / "04_debugging").mkdir()
    assert quiz.section_href(section, course / "04_debugging") == "../" + section


# ------------------------------------------------------------------------------------------ old progress


def test_index_based_answers_from_version_1_are_cleared_not_misread(tmp_path: Path, capsys) -> None:
    path = tmp_path / "progress.json"
    old = {
        "version": 1,
        "questions": {
            "00_start_here/fit-scaler-on": {"attempts": 2, "solved": True, "solved_on_attempt": 2, "last_answer": 0},
            "00_start_here/good-habits": {
                "attempts": 1,
                "solved": False,
                "solved_on_attempt": None,
                "last_answer": [0, 1],
            },
            "00_start_here/initial-loss-ten-classes": {
                "attempts": 1,
                "solved": True,
                "solved_on_attempt": 1,
                "last_answer": "2.30",
            },
        },
    }
    path.write_text(json.dumps(old))
    qz = quiz.Quiz("00_start_here", store=quiz.ProgressStore(path))
    assert "2 answer(s) saved by an earlier version" in capsys.readouterr().out
    assert json.loads(path.read_text())["version"] == 2  # migrated on reading, before any new answer
    assert qz.views["fit-scaler-on"].input.value is None  # blank, not whatever is shown first now
    assert not any(box.value for box in qz.views["good-habits"].boxes)
    assert qz.views["initial-loss-ten-classes"].input.value == "2.30"  # numeric answers keep their meaning
    assert "solved on check 2" in qz.views["fit-scaler-on"].status.value  # attempts and solved flags kept
    assert qz.summary() == (2, 5, 4)
    qz.views["good-habits"].boxes[0].value = True
    qz.views["good-habits"].button.click()
    saved = json.loads(path.read_text())
    assert saved["version"] == 2 and saved["questions"]["00_start_here/fit-scaler-on"]["last_answer"] is None
    assert quiz.ProgressStore(path).notes == []  # cleared once, not at every start


# ------------------------------------------------------------------ the exercises' multiple-choice questions


_exercise_choices = quiz_cues.exercise_choices


def _choice_giveaways(questions: list[tuple[str, str, dict[str, str]]]) -> dict[str, float]:
    """Share of questions a learner gets right by always taking the longest, the shortest, or one letter."""
    right = {"longest": 0, "shortest": 0, **{f"letter {k}": 0 for k in "abcd"}}
    for _, letter, options in questions:
        right["longest"] += max(options, key=lambda k: len(options[k])) == letter
        right["shortest"] += min(options, key=lambda k: len(options[k])) == letter
        right[f"letter {letter}"] += 1
    return {name: count / max(1, len(questions)) for name, count in right.items()}


def test_exercise_choices_give_nothing_away() -> None:
    """The exercises' lettered questions, course-wide: no strategy that skips reading (the longest statement, the
    shortest, always the same letter) scores above 40 %, and no right statement stands out by its length (at
    most 1.25 times the longest wrong one)."""
    questions = []
    for path in sorted(SOLUTIONS.glob("[0-9][0-9]_*/*_exercise.ipynb")):
        questions += _exercise_choices(json.loads(path.read_text(encoding="utf-8")))
    assert len(questions) >= 10, "the lettered questions of the exercises were not found"
    assert all(set(options) == set("abcd") for _, _, options in questions)
    scores = _choice_giveaways(questions)
    assert not {k: v for k, v in scores.items() if v > 0.4}, scores
    report = quiz_cues.measure(questions)
    assert not report.too_high and not report.problems, report.text()
    long_right = [
        name
        for name, letter, options in questions
        if len(options[letter]) > 1.25 * max(len(v) for k, v in options.items() if k != letter)
    ]
    assert not long_right, f"right statements much longer than every wrong one: {long_right}"


def test_exercise_choice_check_catches_a_giveaway() -> None:
    cells = []
    for i in range(5):
        listed = "\n".join(f"- **{k}**: {'the right one, explained at length' if k == 'b' else 'no'}" for k in "abcd")
        cells.append({"cell_type": "markdown", "source": [f"**Q{i}.**\n\n", listed, "\n\nAnswer."]})
        cells.append({"cell_type": "code", "source": [f'### BEGIN SOLUTION\nq{i} = "b"\n### END SOLUTION']})
    questions = _exercise_choices({"cells": cells})
    assert [q[:2] for q in questions] == [(f"q{i}", "b") for i in range(5)]
    scores = _choice_giveaways(questions)
    assert scores["longest"] == 1.0 and scores["letter b"] == 1.0 and scores["shortest"] == 0.0


# ------------------------------------------------------------------ where the notebooks show the questions

SHOW = re.compile(r"quiz\.show\(\s*[\"'](\w+)[\"']\s*(?:,\s*(?:question_ids\s*=\s*)?\[([^\]]*)\])?")
# Chapters whose tutorials ask their questions in checkpoints after the sections that teach them.
CHECKPOINTED = ("01_losses",)


def _shown(path: Path) -> list[tuple[int, str, list[str] | None]]:
    """(cell index, chapter, question ids or None for the whole bank) of every quiz.show call in a notebook."""
    calls = []
    for i, cell in enumerate(notebooks.read(path).cells):
        if cell.cell_type == "code":
            for chapter, listed in SHOW.findall(cell.source):
                calls.append((i, chapter, re.findall(r"[\"']([^\"']+)[\"']", listed) if listed else None))
    return calls


def _all_shown() -> dict[str, list[tuple[Path, int, list[str] | None]]]:
    found: dict[str, list] = {}
    for path in sorted(SOLUTIONS.rglob("*.ipynb")):
        for i, chapter, ids in _shown(path):
            found.setdefault(chapter, []).append((path, i, ids))
    return found


def test_every_quiz_id_a_notebook_shows_exists() -> None:
    for chapter, calls in _all_shown().items():
        assert chapter in quiz.available_banks(), f"{calls[0][0].name} shows a quiz of {chapter!r}: no such bank"
        known = {q.id for q in quiz.load_bank(chapter).questions}
        for path, i, ids in calls:
            missing = set(ids or ()) - known
            assert not missing, f"{path.name}, cell {i}: no question {sorted(missing)} in {chapter}.yaml"


@pytest.mark.parametrize("chapter", quiz.available_banks())
def test_every_question_is_shown_somewhere(chapter: str) -> None:
    calls = _all_shown().get(chapter, [])
    shown = (
        set().union(
            *({q.id for q in quiz.load_bank(chapter).questions} if ids is None else set(ids) for _, _, ids in calls)
        )
        if calls
        else set()
    )
    never = [q.id for q in quiz.load_bank(chapter).questions if q.id not in shown]
    assert not never, f"{chapter}: questions no notebook shows: {never}"


def _checkpoint_problems(paths: list[Path], bank: quiz.Bank) -> list[str]:
    """Each question shown once, in a checkpoint of 2 to 4 questions placed after the heading of its section,
    in the same notebook: what breaks that, in words."""
    problems, seen = [], []
    for path in paths:
        cells = notebooks.read(path).cells
        for i, _, ids in _shown(path):
            if ids is None or not 2 <= len(ids) <= 4:
                problems.append(f"{path.name}, cell {i}: a checkpoint of {ids or 'the whole bank'}")
                continue
            seen += ids
            headings = {
                _anchor(line)
                for cell in cells[:i]
                if cell.cell_type == "markdown"
                for line in cell.source.splitlines()
                if re.match(r"#{1,6} ", line)
            }
            for qid in ids:
                notebook, _, anchor = bank[qid].section.partition("#")
                if notebook != f"{bank.chapter}/{path.name}" or anchor not in headings:
                    problems.append(f"{path.name}, cell {i}: {qid} asks about {bank[qid].section}, not taught above")
    twice = sorted({q for q in seen if seen.count(q) > 1})
    never = sorted({q.id for q in bank.questions} - set(seen))
    return problems + ([f"shown twice: {twice}"] if twice else []) + ([f"never shown: {never}"] if never else [])


@pytest.mark.parametrize("chapter", CHECKPOINTED)
def test_checkpoints_follow_the_sections_they_ask_about(chapter: str) -> None:
    paths = sorted((SOLUTIONS / chapter).glob("*_tutorial.ipynb"))
    problems = _checkpoint_problems(paths, quiz.load_bank(chapter))
    assert not problems, "\n".join(problems)


def test_checkpoint_check_catches_misplaced_questions(tmp_path: Path) -> None:
    cells = [
        notebooks.code('losslab.quiz.show("99_t", ["a", "b"])'),  # before the section that teaches a
        notebooks.markdown("## 1. Later"),
        notebooks.code('losslab.quiz.show("99_t", ["b"])'),  # one question alone, and b a second time
    ]
    path = tmp_path / "x_tutorial.ipynb"
    notebooks.write(notebooks.notebook(cells), path)
    bank = quiz.Bank(
        "99_t",
        "t",
        tuple(
            quiz.Question(qid, "single", "?", ("t",), chapter="99_t", section="99_t/x_tutorial.ipynb#1.-Later")
            for qid in ("a", "b", "c")
        ),
    )
    problems = "\n".join(_checkpoint_problems([path], bank))
    assert "cell 0: a asks about" in problems and "cell 2: a checkpoint of ['b']" in problems
    assert "shown twice" not in problems and "never shown: ['c']" in problems


def test_no_prompt_quotes_a_run_to_many_decimals() -> None:
    """A prompt that quotes a loss to five or more decimals quotes one backend's run (e.g. 0.870564)."""
    quoted = [
        f"{chapter}/{q.id}: {m}"
        for chapter in quiz.available_banks()
        for q in quiz.load_bank(chapter).questions
        for m in re.findall(r"\d\.\d{5,}", q.prompt)
    ]
    assert not quoted, quoted
