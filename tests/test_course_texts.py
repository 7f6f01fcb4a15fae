"""What the course's texts say, held against the notebooks' own code, Keras and each other (issue 22): a run's
outcome is printed by the run ("this run: ..."), never stated by the prose; a reference to a patient names the
part that holds it; a clinic fix changes one thing; quiz explanations describe no run; each tutorial ends with its
summary and the pointer onwards; a topic taught in one place is linked from the others.

Chapters 2 and 3 are read here, never required to change: their own tests are tests/test_optim.py and
tests/test_lr.py."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from losslab import clinic, notebooks, quiz
from tests.support import SOLUTIONS
from tests.test_debugging_course import GLOROT_SUITS_SIGMOID
from tests.test_losses_facts import WRONG_CLASS_WEIGHT, _probe, _torch_path, probe_script
from tests.test_quiz import _anchor, _shown

CH4 = SOLUTIONS / "04_debugging"
TUTORIALS = sorted(SOLUTIONS.glob("0*/*_tutorial.ipynb"))
BANKS = [b for b in quiz.available_banks() if b[:2].isdigit() and b[:2] != "00"]
HEADING = re.compile(r"^(#{1,6}) +(.+?)\s*$")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _cells(path: Path) -> list:
    return notebooks.read(path).cells


def _markdown(path: Path) -> str:
    return _flat(" ".join(c.source for c in _cells(path) if c.cell_type == "markdown"))


def _code(path: Path) -> str:
    return "\n".join(c.source for c in _cells(path) if c.cell_type == "code")


def _section(path: Path, heading: str) -> list:
    """The cells from the markdown cell whose heading line starts with `heading` to the next heading of the same
    or a higher level (a heading inside a later cell ends it)."""
    cells, found, level = _cells(path), None, 0
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            m = HEADING.match(line)
            if not m:
                continue
            if found is None and m.group(2).startswith(heading):
                found, level = i, len(m.group(1))
            elif found is not None and i > found and len(m.group(1)) <= level:
                before = cell.source[: cell.source.index(line)]  # the end of the section shares the cell
                return cells[found:i] + [SimpleNamespace(cell_type="markdown", source=before)]
    assert found is not None, f"{path.name}: no heading {heading!r}"
    return cells[found:]


def _question_text(q: quiz.Question) -> str:
    return _flat(" ".join([q.prompt, q.explanation] + [f"{c.text} {c.explanation}" for c in q.choices]))


def _explanations(q: quiz.Question) -> list[str]:
    return [_flat(t) for t in [q.explanation, *(c.explanation for c in q.choices)] if t]


# ------------------------------------------------------------------------------------------ "this run: ..."


def _verdict_prints(tree: ast.AST) -> list[ast.Call]:
    """print calls whose first argument starts with "this run" and whose words depend on the run (a conditional
    expression among the arguments): the notebook's verdict on its own run."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "print" and node.args):
            continue
        first = node.args[0]
        head = first.value if isinstance(first, ast.Constant) else None
        if isinstance(first, ast.JoinedStr) and first.values and isinstance(first.values[0], ast.Constant):
            head = first.values[0].value
        if (
            isinstance(head, str)
            and head.startswith("this run")
            and any(isinstance(n, ast.IfExp) for arg in node.args for n in ast.walk(arg))
        ):
            found.append(node)
    return found


def _enclosing_for(tree: ast.AST, target: ast.AST) -> ast.For | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and any(n is target for n in ast.walk(node)):
            return node
    return None


def test_patient_5_trains_the_bias_alone_and_class_weight_alone_and_prints_each_verdict() -> None:
    """Issue 22 item 1.3: the two changes one at a time, from the same broken setup, each with its own verdict."""
    source = "\n".join(
        c.source for c in _section(CH4 / "debugging_part1_tutorial.ipynb", "Patient 5") if c.cell_type == "code"
    )
    tree = ast.parse(source)
    runs = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and isinstance(value, ast.Call)
                    and getattr(value.func, "id", "") == "one_change"
                ):
                    runs[key.value] = sorted(k.arg for k in value.keywords if getattr(k.value, "value", None) is True)
    assert runs.get("bias alone") == ["use_bias"] and runs.get("class_weight alone") == ["use_weights"], runs
    prints = _verdict_prints(tree)
    assert prints, "patient 5 prints no 'this run: ...' verdict"
    loops = [_enclosing_for(tree, p) for p in prints]
    labels = {
        elt.value for loop in loops if loop is not None and isinstance(loop.iter, ast.Tuple) for elt in loop.iter.elts
    }
    assert {"bias alone", "class_weight alone"} <= labels, f"the verdicts are printed for {labels}"


AUGMENTATION = CH4 / "debugging_part4_tutorial.ipynb"


def test_augmentation_is_compared_with_a_control_trained_as_long_and_the_run_gives_the_verdict() -> None:
    """Issue 22 items 1.24 and 1.26: the unaugmented model trains again for the same doubled budget, in the same
    loop; the run prints its verdict, and the prose asks rather than tells what the run shows."""
    cells = _section(AUGMENTATION, "3. Data augmentation")
    source = "\n".join(c.source for c in cells if c.cell_type == "code")
    tree = ast.parse(source)
    loops = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.For)
        and isinstance(node.iter, ast.Tuple)
        and [getattr(e.elts[0], "value", None) for e in node.iter.elts if isinstance(e, ast.Tuple)]
        == ["large", "augmented"]
    ]
    assert len(loops) == 1, "no single loop trains the control ('large') and the augmented model alike"
    (control,) = [e for e in loops[0].iter.elts if e.elts[0].value == "large"]
    assert isinstance(control.elts[1], ast.Constant) and control.elts[1].value is None, "the control is augmented"
    trains = [n for n in ast.walk(loops[0]) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "train"]
    assert len(trains) == 1 and any(k.arg == "epochs" for k in trains[0].keywords), "both train in one call"
    assert _verdict_prints(tree), "section 3 prints no 'this run ...' verdict"

    prose = _flat(" ".join(c.source for c in cells if c.cell_type == "markdown"))
    assert "this run's verdict" in prose
    outcome = re.compile(r"\b(lowered|lowers|narrowed|narrows|keeps falling|turned up|beats|beat|won|wins|helped)\b")
    claims = [s for s in re.split(r"(?<=[.?!])\s+", prose) if outcome.search(s) and not s.endswith("?")]
    assert not claims, f"the prose states the run's outcome: {claims}"


def test_chapter_3_prints_its_verdict_on_lowering_the_rate() -> None:
    """Issue 22 item 1.25 (read only): the verdict is the run's print, both ways."""
    path = SOLUTIONS / "03_learning_rates" / "learning_rates_part3_tutorial.ipynb"
    code = _code(path)
    assert "lowering the rate did NOT end below keeping 1e-3 in this run" in code
    assert "ended at validation MSE" in code
    assert "ends well above" not in _markdown(path)


# ------------------------------------------------------------------------------------------ constant-loss


SIGN_PROBE = probe_script(
    """
def error_rate(y_true, y_pred):
    right = keras.ops.cast(y_true, "float32") * 2 - 1
    return keras.ops.mean((1 - keras.ops.sign(right * (y_pred[:, 1] - y_pred[:, 0]))) / 2)
"""
)


@pytest.mark.parametrize(
    "backend",
    [
        "tensorflow",
        "jax",
        pytest.param("torch", marks=pytest.mark.skipif(_torch_path() is None, reason="PyTorch is not installed")),
    ],
)
def test_a_loss_through_sign_trains_without_error_and_moves_no_weight(backend: str) -> None:
    """constant-loss's fact, on every backend: sign has a gradient, and it is 0 (argmax has none on TensorFlow)."""
    assert _probe(backend, SIGN_PROBE) == {"raised": None, "moved": False}


def test_constant_loss_agrees_with_what_each_backend_does() -> None:
    """Issue 22 item 1.9: the question's loss goes through sign, its key says the gradient is 0, and nothing in
    it gives TensorFlow's argmax error as what every flat loss does."""
    q = quiz.load_bank("04_debugging")["constant-loss"]
    text = _question_text(q)
    assert "keras.ops.sign" in q.prompt
    (key,) = [c for c in q.choices if c.correct]
    assert "sign" in key.text and re.search(r"gradient is 0|gradient of 0", _flat(key.text + " " + key.explanation))
    assert "No gradients provided" not in text
    zero = re.compile(r"(argmax|round)\b[^.;(]*\b(zero gradient|gradient of 0|gradients? (is|are) (exactly )?0)", re.I)
    assert not zero.search(text), zero.search(text).group(0)
    assert "sign" in inspect.getsource(clinic.error_rate)  # the clinic's patient 8 is the quiz's loss


# ------------------------------------------------------------------------------------------ patient numbers


def _patients() -> dict[int, set[str]]:
    """{patient number: the chapter 4 notebooks whose headings hold it}, from the headings themselves."""
    where: dict[int, set[str]] = {}
    for path in sorted(CH4.glob("*.ipynb")):
        for cell in _cells(path):
            if cell.cell_type == "markdown":
                for n in re.findall(r"^#+ Patient (\d+)\b", cell.source, re.M):
                    where.setdefault(int(n), set()).add(path.name)
    return where


MENTION = re.compile(
    r"(?:\b[Pp]art (?P<before>\d+b?)(?: of chapter 4)?(?:'s|,) )?\b[Pp]atients? (?P<n>\d+)"
    r"(?:(?: to |-|–| and )(?P<m>\d+))?"
    r"(?:\)?\]\((?P<link>[^)#\s]*\.ipynb)[^)]*\)|,? (?:\(|in |of )?(?:in )?part (?P<after>\d+b?)\b)?"
)


def _misplaced_patients(texts: dict[str, str], where: dict[int, set[str]]) -> list[str]:
    """Each mention of a patient (or a range) that names a part or links a notebook where that patient is not,
    or names a patient no notebook of chapter 4 holds."""
    wrong = []
    for name, text in texts.items():
        for m in MENTION.finditer(_flat(text)):
            first, last = int(m["n"]), int(m["m"] or m["n"])
            part = m["before"] or m["after"]
            target = Path(m["link"]).name if m["link"] else f"debugging_part{part}_tutorial.ipynb" if part else None
            own = {Path(name).name} if name.endswith(".ipynb") else set()
            for n in range(first, last + 1):
                holders = where.get(n, set())
                if (
                    target
                    and target not in holders
                    or not target
                    and not holders - {"debugging_exercise.ipynb"}
                    and not holders & own
                ):
                    wrong.append(f"{name}: {m.group(0)!r} (patient {n} is in {sorted(holders) or 'no notebook'})")
    return wrong


def test_every_reference_to_a_patient_names_the_part_that_holds_it() -> None:
    """Issue 22 item 1.15: "part 1 of chapter 4, patient 13" pointed at a part without patient 13."""
    texts = {
        str(p.relative_to(SOLUTIONS)): "\n".join(c.source for c in _cells(p))
        for p in sorted(SOLUTIONS.glob("0*/*.ipynb"))
    }
    texts.update({f"{b}/{q.id}": _question_text(q) for b in BANKS for q in quiz.load_bank(b).questions})
    where = _patients()
    assert len(where) >= 20 and all(where.get(n) for n in range(1, 21)), where
    assert not _misplaced_patients(texts, where), _misplaced_patients(texts, where)


def test_the_patient_reference_check_catches_a_wrong_part() -> None:
    where = {13: {"debugging_part2_tutorial.ipynb"}, 3: {"debugging_part1_tutorial.ipynb"}}
    wrong = {
        "a": "as in part 1 of chapter 4, patient 13, the batch",
        "b": "see patient 13 of part 1.",
        "c": "[patient 3](../04_debugging/debugging_part2_tutorial.ipynb)",
        "d": "patient 21 shows",
    }
    assert len(_misplaced_patients(wrong, where)) == 4
    right = {"a": "patient 13 of part 2", "b": "[patient 3](debugging_part1_tutorial.ipynb)", "c": "patient 13 shows"}
    assert _misplaced_patients(right, where) == []


# ------------------------------------------------------------------------------------------ banks 1 and 4


def test_regression_output_activation_names_only_what_the_notebook_trains() -> None:
    """Issue 22 item 1.19: no sigmoid output and no "perfect" model that the notebook never trains."""
    q = quiz.load_bank("01_losses")["regression-output-activation"]
    path, _, _ = q.section.partition("#")
    code, markdown = _code(SOLUTIONS / path), _markdown(SOLUTIONS / path)
    assert "perfect" not in _question_text(q).lower()
    trained = set(re.findall(r"output_activation=\"(\w+)\"", code))
    for text in _explanations(q):
        for number, activation in re.findall(r"Section (\d+) trains the same regressor with an? (\w+) output", text):
            assert f"## {number}. " in "\n".join(c.source for c in _cells(SOLUTIONS / path)), number
            assert activation in trained, f"{activation} output: the notebook trains {trained}"
        named = re.search(r"\b(section|notebook|tutorial)\b", text, re.I)
        assert not (named and "sigmoid" in text and "sigmoid" not in trained), text
    (key,) = [c for c in q.choices if c.correct]
    assert re.search(r"Section \d+ trains the same regressor", key.explanation), key.explanation
    assert "relu output" in markdown and "relu" in trained


def test_the_clipping_prompt_does_not_say_clipping_made_the_training_work() -> None:
    """Issue 22 item 1.20."""
    q = quiz.load_bank("04_debugging")["clipping"]
    works = re.compile(
        r"\b(trains|trained|learns|learned|works|worked|fixe[sd]|solve[sd]|converge[sd]|cure[sd])\b", re.I
    )
    assert not works.search(q.prompt), works.search(q.prompt).group(0)
    (key,) = [c for c in q.choices if c.correct]
    assert "remain" in key.text
    assert "relieves the symptom" in _markdown(CH4 / "debugging_part1b_tutorial.ipynb")


def test_l2_is_written_in_keras_form_in_chapter_4() -> None:
    """Issue 22 item 1.13 (and the minor one): Keras' L2(l) adds l * sum(w ** 2); a penalty (λ/2)·‖w‖² is L2(λ/2).
    The key points learners at Keras' source, not at the course's test suite."""
    l2 = keras.regularizers.L2(0.25)
    assert float(keras.ops.convert_to_numpy(l2(np.array([2.0, 0.0], "float32")))) == pytest.approx(0.25 * 4)
    part4 = _markdown(CH4 / "debugging_part4_tutorial.ipynb")
    assert r"`L2(l)` adds $l \sum w^2$, with no $1/2$" in part4 and "is `L2(λ / 2)`" in part4
    q = quiz.load_bank("04_debugging")["l2-penalty-form"]
    lam = float(re.search(r"λ = (\d[\d.]*(?:e-?\d+)?)", q.prompt).group(1))
    (key,) = [c for c in q.choices if c.correct]
    assert float(re.search(r"L2\((\d[\d.]*(?:e-?\d+)?)\)", key.text).group(1)) == pytest.approx(lam / 2)
    assert "l * sum(w ** 2)" in key.explanation and "keras/src/regularizers/regularizers.py" in key.explanation
    bank4 = " ".join(_question_text(q) for q in quiz.load_bank("04_debugging").questions)
    assert not re.search(r"\btests/|\btest_[a-z_]+\.py\b|\btest_regularize\b|\bpytest\b", bank4 + part4), (
        "a text points learners at the test suite"
    )


def test_early_stopping_full_run_says_what_keras_does_at_the_end_of_training() -> None:
    """Issue 22 item 1.18: Keras sets the best weights back in on_train_end, stopped or not."""
    from keras.src.callbacks.early_stopping import EarlyStopping

    end = inspect.getsource(EarlyStopping.on_train_end)
    guard = next(line for line in end.splitlines() if "restore_best_weights" in line)
    assert "stopped_epoch" not in guard and "set_weights(self.best_weights)" in end
    q = quiz.load_bank("04_debugging")["early-stopping-full-run"]
    best = re.search(r"lowest at epoch \*\*(\d+)\*\*", q.prompt).group(1)
    (key,) = [c for c in q.choices if c.correct]
    assert f"epoch {best}" in key.text and "on_train_end" in key.explanation and "whether or not" in key.explanation
    assert "stopped early or not" in _markdown(CH4 / "debugging_part4_tutorial.ipynb")


# ------------------------------------------------------------------------------------------ all banks


RUN_OUTCOME = re.compile(
    r"(the tutorial's run|in the tutorial,? the run|\b(your|the|this) run (showed|found|gave|ended|reached)\b"
    r"|tutorial\b[^.]*\b(ended|reached|fell|dropped|rose|climbed|beat|won|lowered|narrowed|kept falling|turned up)\b)",
    re.I,
)


@pytest.mark.parametrize("chapter", BANKS)
def test_no_quiz_explanation_describes_a_run(chapter: str) -> None:
    """Issue 22 item 1.31: an explanation says what holds, and leaves what one run showed to the run's print."""
    found = [
        f"{q.id}: {m.group(0)}"
        for q in quiz.load_bank(chapter).questions
        for text in _explanations(q)
        for m in [RUN_OUTCOME.search(text)]
        if m
    ]
    assert not found, found


def test_the_run_description_check_catches_one() -> None:
    assert RUN_OUTCOME.search("in the tutorial the run at 1e-2 ended lower")
    assert RUN_OUTCOME.search("The tutorial's run shows it")
    assert not RUN_OUTCOME.search("in the tutorial the state was even restored on purpose")


def test_class_weight_and_glorot_are_worded_alike_in_every_chapter() -> None:
    """Issue 22 item 1.33: the wordings checked in one chapter are checked where the others restate them."""
    texts = {p.name: _markdown(p) for p in sorted(SOLUTIONS.glob("0*/*.ipynb"))}
    texts.update({f"{b}/{q.id}": _question_text(q) for b in BANKS for q in quiz.load_bank(b).questions})
    for pattern in (WRONG_CLASS_WEIGHT, GLOROT_SUITS_SIGMOID):
        assert not {k: pattern.search(t).group(0) for k, t in texts.items() if pattern.search(t)}
    together = "all positives together weigh as much"
    assert together in texts["debugging_part1_tutorial.ipynb"]
    assert together in texts["04_debugging/imbalance-fixes"]


# ------------------------------------------------------------------------------------------ one change per patient


def _setup_facts(setup: clinic.Setup) -> dict:
    opt = setup.model.optimizer
    return {
        "optimizer": (type(opt).__name__, float(keras.ops.convert_to_numpy(opt.learning_rate))),
        "fit": setup.fit,
        "layers": [
            (type(layer).__name__, layer.get_config().get("units"), layer.get_config().get("activation"))
            for layer in setup.model.layers
        ],
        "loss": repr(setup.model.loss),
    }


@pytest.mark.parametrize(
    ("cause", "differs"), [("unscaled_inputs", "x"), ("label_noise", "y")], ids=["unscaled_inputs", "label_noise"]
)
def test_a_clinic_fix_changes_only_the_cause(cause: str, differs: str) -> None:
    """Issue 22 items 1.22 and 1.23: the same optimizer, rate, epochs, batch and model; only the inputs' scaling
    (or the labels) differ between the broken and the fixed training."""
    case = clinic.case(cause)
    broken, fixed = case.broken(0), case.fixed(0)
    assert _setup_facts(broken) == _setup_facts(fixed)
    same = "y" if differs == "x" else "x"
    assert np.array_equal(getattr(broken, same), getattr(fixed, same))
    assert getattr(broken, differs).shape == getattr(fixed, differs).shape
    assert not np.array_equal(getattr(broken, differs), getattr(fixed, differs))


# ------------------------------------------------------------------------------------------ flow


def _links(text: str) -> list[str]:
    return [Path(t).name for t in re.findall(r"\]\(([^)#\s]+\.ipynb)[^)]*\)", text)]


def _headings(cells: list) -> list[str]:
    return [
        m.group(2)
        for c in cells
        if c.cell_type == "markdown"
        for ln in c.source.splitlines()
        if (m := HEADING.match(ln))
    ]


SUMMARY = re.compile(r"^(Summary\b|What part \w+ measured|The checklist)")


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_a_tutorial_ends_with_its_pointer_onwards_and_an_exercise_pointer_follows_a_summary(path: Path) -> None:
    """Issue 22 item 2.3: after its last checkpoint a tutorial ends on a cell that links the chapter's exercise or
    its next tutorial; one that sends the learner to the exercise has its summary after the last checkpoint."""
    cells = _cells(path)
    shows = [i for i, _, _ in _shown(path)]
    after = cells[shows[-1] + 1 :] if shows else cells
    last = cells[-1]
    assert last.cell_type == "markdown", f"{path.name} ends on a code cell"
    onwards = [t for t in _links(last.source) if (path.parent / t).exists() and t != path.name]
    assert onwards, f"{path.name}'s last cell links no other notebook of its chapter"
    if any(t.endswith("_exercise.ipynb") for t in onwards):
        summaries = [h for h in _headings(after) if SUMMARY.match(h)]
        assert summaries, f"{path.name}: no summary after its last checkpoint: {_headings(after)}"


def test_every_chain_of_tutorials_reaches_an_exercise() -> None:
    ends = {p: [t for t in _links(_cells(p)[-1].source) if (p.parent / t).exists()] for p in TUTORIALS}
    for start in TUTORIALS:
        seen, todo = set(), [start]
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            todo += [p.parent / t for t in ends.get(p, []) if t.endswith("_tutorial.ipynb")]
        reached = {t for p in seen for t in ends.get(p, []) if t.endswith("_exercise.ipynb")}
        assert reached, f"from {start.name} no last cell leads to an exercise"


TOPICS = {
    "shuffling": re.compile(r"shuffl", re.I),
    "batch size": re.compile(r"batch size|small batches", re.I),
    "vanishing gradients": re.compile(r"vanishing gradients", re.I),
}


@pytest.mark.parametrize("topic", TOPICS)
def test_a_topic_is_taught_in_one_tutorial_and_linked_from_the_others(topic: str) -> None:
    """Issue 22 item 4.4: of the tutorials with a heading on the topic, one links none of the others (it teaches
    it), and each other one links that one."""
    pattern = TOPICS[topic]
    headed = [p for p in TUTORIALS if any(pattern.search(h) for h in _headings(_cells(p)))]
    assert headed, f"no tutorial has a heading on {topic}"
    names = {p.name for p in headed}
    links = {p.name: set(_links(" ".join(c.source for c in _cells(p) if c.cell_type == "markdown"))) for p in headed}
    teachers = [p.name for p in headed if not (links[p.name] & names - {p.name})]
    assert len(teachers) == 1, f"{topic}: taught by {teachers or 'none of'} {sorted(names)}"
    assert all(teachers[0] in links[n] for n in names - {teachers[0]}), {n: links[n] for n in names}


@pytest.mark.parametrize(
    ("chapter", "qid", "words"),
    [("02_optimizers", "two-valleys", r"valley|local minim"), ("03_learning_rates", "log-read-back", r"\blog")],
)
def test_the_question_is_asked_in_the_tutorial_that_teaches_it(chapter: str, qid: str, words: str) -> None:
    """Issue 22 items 4.7 and 4.9: the two-valleys and log-read-back questions exist and a checkpoint after their
    section shows them."""
    q = quiz.load_bank(chapter)[qid]
    assert re.search(words, q.prompt, re.I), q.prompt
    path, _, anchor = q.section.partition("#")
    notebook = SOLUTIONS / path
    cells = _cells(notebook)
    heading = [
        i for i, c in enumerate(cells) if c.cell_type == "markdown" and anchor in {_anchor(h) for h in _headings([c])}
    ]
    shows = [i for i, shown_chapter, ids in _shown(notebook) if shown_chapter == chapter and qid in (ids or [])]
    assert heading and shows and heading[0] < shows[0], f"{qid}: heading at {heading}, shown at {shows}"


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.name)
def test_a_tutorial_has_at_most_40_cells_and_no_code_cell_over_30_lines(path: Path) -> None:
    """Issue 22 items 4.1 and 4.2, for every chapter's tutorials (setup cells included)."""
    cells = _cells(path)
    assert len(cells) <= 40, f"{path.name}: {len(cells)} cells"
    long = [
        (i, len(c.source.splitlines()))
        for i, c in enumerate(cells)
        if c.cell_type == "code" and len(c.source.splitlines()) > 30
    ]
    assert not long, f"{path.name}: code cells over 30 lines: {long}"


def test_deep_dive_boxes_are_closed_and_titled() -> None:
    """Backend internals sit in collapsible boxes a first reading can skip: every <details> of a tutorial is closed
    (no attributes, no `open`) and titled "Deep dive: "; chapters 2 and 3 hold at least 4 of them."""
    boxes = 0
    for path in TUTORIALS:
        for cell in _cells(path):
            if cell.cell_type == "markdown":
                source = cell.source
                assert "<details " not in source and "<details open" not in source, path.name
                assert source.count("<details>") == source.count("</details>"), path.name
                assert source.count("<details>") == source.count("<summary>Deep dive: "), path.name
                if path.parent.name in ("02_optimizers", "03_learning_rates"):
                    boxes += source.count("<details>")
    assert boxes >= 4, f"chapters 2 and 3 hold {boxes} deep-dive boxes; the course has at least 4"
