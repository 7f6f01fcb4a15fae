"""Chapter 4's notebooks and quiz bank read together: checkpoints after the sections (2 to 4 questions each, every
question of the bank asked once), and facts the chapter states in several places that must agree with each other
and with chapter 1 (issue 22). The facts that Keras decides are held by experiments in tests/test_depth.py and
tests/test_regularize.py."""

from __future__ import annotations

import ast
import re

from losslab import notebooks, quiz
from tests.support import SOLUTIONS

CHAPTER = SOLUTIONS / "04_debugging"
SHOW = re.compile(r"losslab\.quiz\.show\(\s*\"04_debugging\"\s*,\s*(?:question_ids\s*=\s*)?(\[[^\]]*\])", re.S)


def _shows() -> dict[str, list[tuple[int, int, list[str]]]]:
    """{tutorial: [(cell index, number of cells, question ids)]} for every quiz.show of the chapter's tutorials."""
    found = {}
    for path in sorted(CHAPTER.glob("*_tutorial.ipynb")):
        cells = notebooks.read(path).cells
        found[path.name] = [
            (i, len(cells), ast.literal_eval(match))
            for i, cell in enumerate(cells)
            if cell.cell_type == "code"
            for match in SHOW.findall(cell.source)
        ]
    return found


def test_every_tutorial_asks_checkpoints_of_two_to_four_questions_after_its_sections() -> None:
    shows = _shows()
    assert len(shows) >= 6
    for name, calls in shows.items():
        assert calls, f"{name} asks no checkpoint question"
        assert all(2 <= len(ids) <= 4 for _, _, ids in calls), f"{name}: a checkpoint of other than 2-4 questions"
        first, size = calls[0][0], calls[0][1]
        assert first < size - 4, f"{name}: its first checkpoint is at the very end, not after a section"


def test_every_question_of_the_bank_is_asked_once() -> None:
    asked = [q for calls in _shows().values() for _, _, ids in calls for q in ids]
    bank = [q.id for q in quiz.load_bank("04_debugging").questions]
    assert sorted(asked) == sorted(bank), {
        "twice": {q for q in asked if asked.count(q) > 1},
        "never": set(bank) - set(asked),
    }


def test_imbalance_quizzes_agree_that_the_bias_changes_the_start_not_the_reward() -> None:
    """Chapter 1's output-bias-effect keys the bias as a change of the start; chapter 4's imbalance-fixes must not
    key it as a change of what the loss rewards, and keys class_weight."""
    bias_effect = quiz.load_bank("01_losses")["output-bias-effect"]
    right = [c.text for c in bias_effect.choices if c.correct]
    assert len(right) == 1 and "prior" in right[0]
    fixes = quiz.load_bank("04_debugging")["imbalance-fixes"]
    keyed = {c.text.split()[0].lower(): c.correct for c in fixes.choices}
    assert keyed["initialize"] is False and keyed["pass"] is True, keyed
    assert "rewards" in fixes.prompt


# Glorot's variance argument assumes slope 1 at 0: tanh, not sigmoid (slope 1/4; tests/test_depth.py).
GLOROT_SUITS_SIGMOID = re.compile(r"(tanh and sigmoid|sigmoid and tanh|and sigmoid after a shift)", re.I)


def test_no_chapter_4_text_says_glorot_suits_sigmoid() -> None:
    """Glorot's variance argument assumes slope 1 at 0: tanh, not sigmoid (slope 1/4; tests/test_depth.py)."""
    wrong = GLOROT_SUITS_SIGMOID
    texts = {p.name: "\n".join(c.source for c in notebooks.read(p).cells) for p in CHAPTER.glob("*.ipynb")}
    texts["04_debugging.yaml"] = "\n".join(
        q.prompt + " ".join(c.text + c.explanation for c in q.choices) for q in quiz.load_bank("04_debugging").questions
    )
    assert not {name: wrong.findall(text) for name, text in texts.items() if wrong.search(text)}


TREATMENT = "Treating a patient"
VERDICTS = ('"fixed"', '"helped"', '"no better"')


def test_part_2b_treats_a_patient_after_a_prediction_and_asks_about_it() -> None:
    """Issue 26 item 3: a section of part 2b shows the doctor's treatment on a clinic patient whose cause has an
    automatic prescription, asks for the verdict first, reveals it from the run, reads it without quoting the run's
    numbers, and checks it with questions of its own right after."""
    from losslab.doctor.prescriptions import PRESCRIPTIONS

    cells = notebooks.read(CHAPTER / "debugging_part2b_tutorial.ipynb").cells
    markdown = {i: c.source.split("\n") for i, c in enumerate(cells) if c.cell_type == "markdown"}
    heading = [i for i, lines in markdown.items() if f"## {TREATMENT}" in lines]
    assert len(heading) == 1, f"part 2b has no (or several) '## {TREATMENT}' section"
    code = [(i, c.source) for i, c in enumerate(cells) if i > heading[0] and c.cell_type == "code"]
    asks = [i for i, src in code if "predict.ask(" in src and all(v in src for v in VERDICTS)]
    treats = [i for i, src in code if ".treat(" in src and ".figure()" in src and ".compare(" in src]
    assert asks and treats and asks[0] < treats[0], "the section asks for the verdict, then treats and reveals it"
    patient = re.findall(r"clinic\.case\(\"(\w+)\"\)", cells[treats[0]].source)
    assert patient and patient[0] in PRESCRIPTIONS, f"the patient treated, {patient}, has no automatic prescription"

    checkpoints = [(i, ast.literal_eval(m)) for i, src in code if i > treats[0] for m in SHOW.findall(src)]
    assert checkpoints, "no checkpoint after the treatment"
    checkpoint, shown = checkpoints[0]
    anchor = "#" + TREATMENT.replace(" ", "-")
    linked = [q.id for q in quiz.load_bank("04_debugging").questions if q.section.endswith(anchor)]
    assert len(linked) >= 2 and set(linked) <= set(shown), {"linked to the section": linked, "shown": shown}

    reading = [c.source for c in cells[treats[0] + 1 : checkpoint] if c.cell_type == "markdown"]
    quoted = [re.findall(r"\d\.\d+|\d+\s*%", text) for text in reading]
    assert reading and not any(quoted), f"the verdict's reading quotes numbers of the run: {quoted}"
