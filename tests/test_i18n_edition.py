"""The Japanese edition, course/ja/, is the English one with its markdown, its literals and its names translated:
proved here by structure, not by running it again (`make test` executes the English notebooks once); CI's JAX
tier runs the Japanese edition instead of the English (``LOSSLAB_EDITION=ja``, tests/support.py's ``edition``),
whose setting and whose report of the English left in a Japanese run's outputs (``english_left``) are tested here.

Every notebook of course/ has its Japanese twin with the same cells, ids, nbgrader grade cells, points and
checksums, the same code but for translated literals: the words of those its cells print or display (each a
translation that formats the same values: losslab/i18n_code.py) and a tutorial's names, each replaced by the same
Japanese at every occurrence, none by another name's or another string's (losslab/i18n_names.py), so that it
computes what the English computes; ``language: ja`` in its
metadata, and links that land on a notebook and heading of course/ja/. One round trip (the warmup, the smallest
assignment) grades a Japanese solution to full marks and the Japanese blank edition (with two wrong answers, whose
visible tests fail with their messages in Japanese) to zero through the grader the English round trips use
(tests/test_grading.py), with no flag from the kernel guard. That the committed
course/ja/ is a fresh build is tests/test_release.py's drift test (course/ja/ is under course/).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from losslab import i18n, i18n_names, messages, notebooks
from tests.support import COURSE, exercise_notebooks, write_submission

JA = COURSE / "ja"
ENGLISH = sorted(
    p.relative_to(COURSE)
    for p in COURSE.rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts and p.relative_to(COURSE).parts[0] not in i18n.LANGUAGES
)
_LINK = re.compile(r"\]\(([^()\s]+)\)")


def _japanese(rel: Path):  # a NotebookNode
    path = JA / rel
    assert path.exists(), f"course/ja/{rel.as_posix()} is missing: run `make release` (docs/i18n.md)"
    return notebooks.read(path)


def test_the_japanese_edition_has_every_notebook_and_no_other() -> None:
    found = sorted(p.relative_to(JA) for p in JA.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    assert found == ENGLISH, f"course/ja/ differs from course/ (run `make release`): {set(found) ^ set(ENGLISH)}"
    assert (JA / "00_start_here.ipynb").exists()


def _grading(cell) -> dict:
    return dict(cell.metadata.get("nbgrader", {}))


@pytest.mark.parametrize("rel", ENGLISH, ids=lambda p: p.as_posix())
def test_a_japanese_notebook_has_the_english_code_and_grading(rel: Path) -> None:
    english, japanese = notebooks.read(COURSE / rel), _japanese(rel)
    where = f"course/ja/{rel.as_posix()}"
    assert japanese.metadata.get("language") == "ja", f"{where}: metadata lacks language: ja"
    assert [(c.id, c.cell_type) for c in japanese.cells] == [(c.id, c.cell_type) for c in english.cells], (
        f"{where}: cells differ in number, id or type from course/{rel.as_posix()}"
    )
    free = []  # the code cells nbgrader neither grades nor locks: translated literals and names may differ
    for en, ja in zip(english.cells, japanese.cells, strict=True):
        if en.cell_type == "code" and "nbgrader" in en.metadata:
            assert ja.source == en.source, f"{where} cell {en.id}: graded or locked code differs from the English"
            assert _grading(ja) == _grading(en), f"{where} cell {en.id}: nbgrader metadata (points, checksum) differs"
        elif en.cell_type == "code":
            free.append((en, ja))
            assert "nbgrader" not in ja.metadata, f"{where} cell {en.id}: nbgrader metadata the English lacks"
        else:
            en_meta, ja_meta = _grading(en), _grading(ja)
            en_meta.pop("checksum", None), ja_meta.pop("checksum", None)  # a locked markdown cell's text differs
            assert ja_meta == en_meta, f"{where} cell {en.id}: nbgrader metadata differs"
    # the same code but for translated literals (printed or displayed, each a valid translation) and the
    # notebook's names, each replaced the same way at every occurrence (none in an exercise)
    names = i18n_names.notebook_names([en.source for en, _ja in free])[0] if i18n.is_tutorial(rel) else []
    problems, _found = i18n_names.same_but_translated(
        [(en.id, en.source) for en, _ja in free], [ja.source for _en, ja in free], names
    )
    assert not problems, f"{where}:\n" + "\n".join(problems)
    assert notebooks.graded_cells(japanese) == notebooks.graded_cells(english), f"{where}: graded cells differ"


@pytest.mark.parametrize("rel", ENGLISH, ids=lambda p: p.as_posix())
def test_links_in_the_japanese_edition_land(rel: Path) -> None:
    nb = _japanese(rel)
    base = (JA / rel).parent
    anchors: dict[Path, set[str]] = {}
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for target in _LINK.findall(cell.source):
            path, _, anchor = target.partition("#")
            if re.match(r"[a-z]+:", path) or not (path.endswith(".ipynb") or (not path and anchor)):
                continue
            file = (base / path).resolve() if path else (JA / rel).resolve()
            if not file.is_file() or not file.is_relative_to(JA.resolve()):
                problems.append(f"cell {cell.id}: {target} is no notebook of course/ja/")
                continue
            if anchor:
                if file not in anchors:
                    anchors[file] = {
                        i18n.heading_anchor(line)
                        for c in notebooks.read(file).cells
                        if c.cell_type == "markdown"
                        for line in c.source.splitlines()
                        if re.match(r"#{1,6} ", line)
                    }
                if anchor not in anchors[file]:
                    problems.append(f"cell {cell.id}: {target}: no heading with that anchor")
    assert not problems, f"course/ja/{rel.as_posix()}:\n" + "\n".join(problems)


_PRINTED = (  # a call, the catalog's message it prints (learning_rates_exercise.ipynb) and the value of its field
    'print(f"training loss after the budget: {2.0:.3f}")',
    "training loss after the budget: {loss:.3f}",
    ("{loss:.3f}", "2.000"),
)


@pytest.mark.slow
def test_a_japanese_exercise_is_graded_as_the_english_one(tmp_path: Path) -> None:
    from autograder.coordinator import grade

    assignment = "00_warmup"
    sources = exercise_notebooks(assignment)
    solutions = {p.name: i18n.edition(p, "ja") for p in sources}
    typed = 0
    for nb in solutions.values():  # the lettered answer typed in full width, as on a Japanese keyboard
        for cell in nb.cells:
            if cell.cell_type == "code" and 'first_loss_diagnosis = "a"' in cell.source:
                cell.source = cell.source.replace('first_loss_diagnosis = "a"', 'first_loss_diagnosis = "ａ"') + (
                    f"\n{_PRINTED[0]}"  # a line of the catalog (the warm-up's graded cells print none)
                )
                typed += 1
    assert typed == 1, "the warmup's lettered answer cell changed: update this test"
    write_submission(tmp_path, "solution", assignment, solutions)
    blanks = {p.name: notebooks.read(JA / assignment / p.name) for p in sources}
    wrong = {  # two wrong answers in the blank edition: their visible tests fail, in Japanese (losslab/asserts.py)
        "expected-initial-loss": f"def expected_initial_loss(n_classes):\n    return 1.0\n{_PRINTED[0]}",
        "first-loss-diagnosis": 'first_loss_diagnosis = "ｅ"',
    }
    for gid, source in wrong.items():
        next(notebooks.cell_by_grade_id(nb, gid) for nb in blanks.values()).source = source
    write_submission(tmp_path, "blank", assignment, blanks)
    results = {r.student: r for r in grade(assignment, root=tmp_path, jobs=2, feedback=False)}
    cells: dict[str, float] = {}
    for path in sources:
        cells.update(notebooks.graded_cells(notebooks.read(path)))
    solution, blank = results["solution"], results["blank"]
    assert solution.status == "ok" and blank.status == "ok", (solution.detail, blank.detail, solution.log[-1500:])
    assert solution.score == solution.max_score == sum(cells.values()), (
        f"Japanese solution: {solution.score}/{solution.max_score}: {solution.cells}"
    )
    assert blank.score == 0, f"Japanese blank edition scored {blank.score}: {blank.cells}"
    assert not solution.flags and not blank.flags, (solution.flags, blank.flags)  # the handler is the course's own
    graded = {n: notebooks.read(tmp_path / "autograded" / "blank" / assignment / n) for n in blanks}
    ja = messages.gettext_for("ja")
    for gid, english in (
        ("test-expected-initial-loss", "for 10 classes the answer is about 2.3026"),
        ("test-first-loss-diagnosis", "answer with one letter: 'a', 'b', 'c' or 'd'"),
    ):
        cell = next(notebooks.cell_by_grade_id(nb, gid) for nb in graded.values())
        errors = [(o.ename, o.evalue) for o in cell.outputs if o.output_type == "error"]
        assert ja(english) != english and errors == [("AssertionError", ja(english))], (gid, errors)
        assert blank.cells[gid][0] == 0, (gid, blank.cells[gid])
    # a printed line of the catalog, Japanese in both submissions' kernels (losslab/prints.py), with no guard flag
    solved = {n: notebooks.read(tmp_path / "autograded" / "solution" / assignment / n) for n in blanks}
    for graded_nbs in (graded, solved):
        printed = [
            o.text
            for nb in graded_nbs.values()
            for cell in nb.cells
            if cell.cell_type == "code" and _PRINTED[0] in cell.source
            for o in cell.get("outputs", [])
            if o.output_type == "stream" and o.name == "stdout"
        ]
        assert printed == [ja(_PRINTED[1]).replace(*_PRINTED[2]) + "\n"] and ja(_PRINTED[1]) != _PRINTED[1], printed


def test_the_report_of_english_left_finds_prose_and_catalog_messages_not_code() -> None:
    """english_left (run on every executed Japanese tutorial by CI's JAX tier, tests/test_notebooks.py), on a
    made-up executed notebook: prose and figure texts with an English phrase are reported, Keras' lines, code,
    calls, paths, names and a figure's repr beside its image are not, and a line that is a catalog message in
    English (plain, or with a field) is what the tier fails on."""
    import nbformat

    from tests.support import english_left

    gettext = messages.gettext_for("ja")
    message = next(m for m in sorted(messages.catalog("ja")) if m[:1].isalpha() and messages.PHRASE.search(m))
    printed = _PRINTED[1].replace(*_PRINTED[2])  # the English of a catalog message with a field, as printed
    stream = nbformat.v4.new_output(
        "stream",
        name="stdout",
        text=f"{message}\n{gettext(message)}\n{printed}\nEpoch 1/5\n8/8 ━━━━━━━━ 0s 2ms/step - loss: 0.5\n"
        "Total params: 1,234 (4.82 KB)\nBatch 3: Invalid loss, terminating training\n"
        "-    x = f(a, training=True)  # the loop\n/k/src/losses.py:7: UserWarning: the loss is odd\n"
        "Loss Lab 環境レポート\n/usr/lib/python3/site-packages\nfitが停止: ValueError: No gradients provided\n"
        "the loss went down\n\n"
        "model = keras.Sequential([keras.layers.Dense(3)])\nloss_name = 'mean squared error'\n",
    )
    figure = nbformat.v4.new_output(
        "display_data",
        data={
            "image/png": "",
            "text/plain": "<Figure size 640x480 with 1 Axes>",
            "application/json": {"losslab-figure-texts": ["Loss while training", "エポック", "loss"]},
        },
    )
    page = nbformat.v4.new_output(
        "execute_result",
        data={
            "text/html": "<p>学習率: the step size, SGDとの PR-AUC [-inf, inf]</p><code>keras optimizers adam</code>",
            "text/plain": "x y",
        },
        execution_count=1,
    )
    widget = nbformat.v4.new_output(
        "display_data",
        data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "m", "version_major": 2, "version_minor": 0},
            "text/plain": f"HBox(children=(IntProgress(value=0, description='{message}', max=20),…",
        },
    )
    cell = nbformat.v4.new_code_cell("...", id="c1")
    cell.outputs = [stream, figure, page, widget]
    found = english_left(nbformat.v4.new_notebook(cells=[cell]))
    assert found.left == [
        f"cell c1: {message}",
        f"cell c1: {printed}",
        "cell c1: the loss went down",
        "cell c1: 学習率: the step size, SGDとの PR-AUC [-inf, inf]",
        f"cell c1: {message}",  # a widget's description: reported, not a printed catalog message
    ], found.left
    assert found.catalog == [f"cell c1: {message}", f"cell c1: {printed}"], found.catalog
    assert found.figures == ["cell c1: 'Loss while training'"], found.figures
    assert found.lines == 15, found.lines  # the code paragraph is not counted


def test_the_edition_setting_picks_the_tutorials_and_solutions_the_slow_tests_run(monkeypatch) -> None:
    """LOSSLAB_EDITION (CI's JAX tier: ja) picks which edition tests/test_notebooks.py executes and
    tests/test_grading.py submits; unset, the English (make test)."""
    from tests import support

    warmup = exercise_notebooks("00_warmup")[0]
    monkeypatch.delenv("LOSSLAB_EDITION", raising=False)
    english = support.tutorials()
    assert english and all(support.language_of(p) == "en" and p.is_relative_to(COURSE) for p in english)
    assert support.solution(warmup).metadata.get("language") is None
    monkeypatch.setenv("LOSSLAB_EDITION", "ja")
    japanese = support.tutorials()
    assert [p.relative_to(JA) for p in japanese] == [p.relative_to(COURSE) for p in english]
    assert all(support.language_of(p) == "ja" for p in japanese) and support.course() == JA
    assert support.solution(warmup).metadata.get("language") == "ja"
    monkeypatch.setenv("LOSSLAB_EDITION", "fr")
    with pytest.raises(ValueError, match="LOSSLAB_EDITION='fr'"):
        support.tutorials()


def test_the_report_of_english_left_tells_code_identifiers_and_quoted_errors_from_english() -> None:
    """english_left, both ways: the code identifiers a Japanese line may hold (Keras' activation names, Python's
    constants, class names, an assignment, quoted keys, the project's dependency groups) are not English, and the
    same words beside real English do not hide it; a line whose English is a Keras error message it quotes (or an
    exception's message) is reported apart, a made-up message after the same label is English left. The Japanese
    edition's run fails on what is left (tests/test_notebooks.py)."""
    import nbformat

    from tests.support import english_left

    code = [
        "relu,    Glorotの一様分布: 標準偏差 第1層 0.566",
        "10 x sigmoid, BatchNormalization   | 0.82",
        "SGD      learning_rate 0.01; momentum 0, nesterov False",
        "CSVLogger が書き込んだ列: ['epoch', 'accuracy', 'learning_rate', 'loss']",
        "グループ learner, jax, instructor, dev: パッケージ 205 個。keras 3.15.1, jupyterlab 4.6.6",
        "見つけたもの: TrainingMonitor (発散)",
    ]
    english = [
        "relu units died in training",
        "False alarms are rare here",
        "スイープでのラベルは 'too low'",
        "ネットワーク | final loss | 検証正解率",
        "every learner reads this sentence",
        "TrainingMonitor (diverging badly)",
    ]
    quoted = [
        "Keras のメッセージ: Arguments `target` and `output` must have the same rank (ndim). Received: "
        "target.shape=(None,), output.shape=(None, 10)",
        "keras.optimizers.Adam(lr=1e-4) は失敗する: Argument(s) not recognized: {'lr': 0.0001}",
        "CE  RAISES InvalidArgumentError: Received a label value of -1 which is outside the valid range of [0, 1).",
    ]
    made_up = "Keras のメッセージ: the labels went the wrong way round"
    stream = nbformat.v4.new_output("stream", name="stdout", text="\n".join([*code, *english, *quoted, made_up]) + "\n")
    figure = nbformat.v4.new_output(
        "display_data",
        data={
            "image/png": "",
            "text/plain": "<Figure size 640x480 with 1 Axes>",
            "application/json": {
                "losslab-figure-texts": ["SGD lr = 1e-4 (訓練)", "NaN / inf", "mean, batch 32", "sum, batch 256"]
            },
        },
    )
    cell = nbformat.v4.new_code_cell("...", id="c2")
    cell.outputs = [stream, figure]
    found = english_left(nbformat.v4.new_notebook(cells=[cell]))
    assert found.left == [f"cell c2: {line}" for line in [*english, made_up]], found.left
    assert found.quoted == [f"cell c2: {line[:160]}" for line in quoted], found.quoted
    assert found.figures == ["cell c2: 'mean, batch 32'", "cell c2: 'sum, batch 256'"], found.figures
    assert found.problems() == [*found.left, *(f"figure {text}" for text in found.figures)]
