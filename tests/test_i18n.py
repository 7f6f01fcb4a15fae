"""The Japanese edition's translations (losslab/i18n.py) and messages (losslab/messages.py).

Completeness: every markdown block of every notebook under solutions/ and every quiz text has a translation made
from its current English, each problem named. Units: blocks, hashes, staleness, translation sheets, translated
notebooks and their links, the gettext catalog (complete, compiled, holding every marked message), the language
setting, and the quiz, predict and progress widgets speaking Japanese with the English choice keys.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from string import Formatter

import nbformat
import pytest
import yaml

from losslab import i18n, messages, notebooks, quiz
from losslab.grading.core import GradingError, as_choice
from tests.support import REPO, SOLUTIONS

NOTEBOOKS = i18n._all_notebooks()


# ------------------------------------------------------------------------------------------ completeness


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(SOLUTIONS).as_posix())
def test_every_notebook_block_has_an_up_to_date_translation(notebook: Path) -> None:
    found = i18n.problems(notebook, "ja")
    assert not found, (
        f"{len(found)} block(s) without an up-to-date ja translation (`python -m losslab.i18n check ja "
        f"{notebook.relative_to(SOLUTIONS.parent)}`; docs/i18n.md):\n" + "\n".join(map(str, found))
    )


@pytest.mark.parametrize("chapter", i18n._all_banks())
def test_every_quiz_text_has_an_up_to_date_translation(chapter: str) -> None:
    found = i18n.bank_problems(chapter, "ja")
    assert not found, f"{len(found)} quiz text(s) without an up-to-date ja translation:\n" + "\n".join(map(str, found))


def test_every_catalog_belongs_to_a_notebook_or_a_bank() -> None:
    expected = {i18n.catalogue_path(p, "ja") for p in NOTEBOOKS}
    expected |= {i18n.bank_catalogue_path(c, "ja") for c in i18n._all_banks()}
    found = [*(i18n.CATALOGUES / "ja").rglob("*.yaml"), *(i18n.BANK_CATALOGS / "ja").glob("*.yaml")]
    orphans = sorted(str(p.relative_to(i18n.REPO)) for p in found if p not in expected)
    assert not orphans, f"catalogs of notebooks or banks that no longer exist (delete them): {orphans}"


# ------------------------------------------------------------------------------------------ units


def test_blocks_split_at_blank_lines_but_never_inside_a_fence_or_display_math() -> None:
    text = "# Title\n\nA paragraph\non two lines.\n\n```python\nx = 1\n\ny = 2\n```\n\n$$\na\n\nb\n$$\n\n- one\n- two"
    assert i18n.blocks(text) == [
        "# Title",
        "A paragraph\non two lines.",
        "```python\nx = 1\n\ny = 2\n```",
        "$$\na\n\nb\n$$",
        "- one\n- two",
    ]


def test_block_hash_ignores_trailing_spaces_and_sees_every_other_change() -> None:
    assert i18n.block_hash("Hello  \nworld\n") == i18n.block_hash("Hello\nworld")
    assert i18n.block_hash("Hello world") != i18n.block_hash("Hello world.")
    assert len(i18n.block_hash("x")) == 10


def _notebook(*markdown: str, code: str = "x = 1") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(m) for m in markdown] + [nbformat.v4.new_code_cell(code)]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell{i}"
    return nb


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway solutions/, i18n/ and quiz-bank catalogs that losslab.i18n reads and writes instead of the
    course's."""
    monkeypatch.setattr(i18n, "SOLUTIONS", tmp_path / "solutions")
    monkeypatch.setattr(i18n, "CATALOGUES", tmp_path / "i18n")
    monkeypatch.setattr(i18n, "BANK_CATALOGS", tmp_path / "banks")
    (tmp_path / "solutions" / "01_x").mkdir(parents=True)
    return tmp_path


def _fill(catalog: Path, prefix: str = "訳: ") -> None:
    """Translate every entry of a catalog with dummy text (headings keep their level)."""
    entries = i18n.load_catalogue(catalog)
    sheet = {}
    for e in entries:
        source = str(e["source"]).rstrip("\n")
        hashes = len(source) - len(source.lstrip("#"))
        sheet[e["en"]] = ("#" * hashes + " " + prefix + source.lstrip("# ")) if hashes else prefix + source
    path = catalog.with_suffix(".sheet.yaml")
    path.write_text(yaml.safe_dump(sheet, allow_unicode=True), encoding="utf-8")
    filled, unused = i18n.apply_sheet(catalog, path)
    assert filled == len(entries) and not unused


def test_changing_one_english_sentence_stales_exactly_one_entry(tree: Path) -> None:
    path = tree / "solutions" / "01_x" / "a_tutorial.ipynb"
    notebooks.write(_notebook("# Title\n\nFirst paragraph.\n\nSecond paragraph.", "Another cell."), path)
    assert i18n.extract(path, "ja") == (4, 4)
    assert [p.kind for p in i18n.problems(path, "ja")] == ["missing"] * 4
    _fill(i18n.catalogue_path(path, "ja"))
    assert i18n.problems(path, "ja") == []
    nb = notebooks.read(path)
    nb.cells[0].source = nb.cells[0].source.replace("Second paragraph.", "Second paragraph, rewritten.")
    notebooks.write(nb, path)
    found = i18n.problems(path, "ja")
    assert [(p.cell, p.kind, p.english) for p in found] == [("cell0", "stale", "Second paragraph, rewritten.")]
    assert "cell0: stale: Second paragraph, rewritten." in str(found[0])
    total, missing = i18n.extract(path, "ja")  # keeps the three unchanged translations, adds the new block
    assert (total, missing) == (4, 1)
    texts = [e["text"] for e in i18n.load_catalogue(i18n.catalogue_path(path, "ja"))]
    assert sum(bool(t) for t in texts) == 3


def test_apply_sheet_fills_by_hash_and_reports_unknown_hashes(tree: Path) -> None:
    path = tree / "solutions" / "01_x" / "a_tutorial.ipynb"
    notebooks.write(_notebook("Hello: a colon, `code` and # hash."), path)
    i18n.extract(path, "ja")
    catalog = i18n.catalogue_path(path, "ja")
    digest = i18n.block_hash("Hello: a colon, `code` and # hash.")
    sheet = tree / "sheet.yaml"
    sheet.write_text(
        f"{digest}: |\n  こんにちは: コロン、`code` と # 記号。\nffffffffff: |\n  どこにもない\n", encoding="utf-8"
    )
    filled, unused = i18n.apply_sheet(catalog, sheet)
    assert (filled, unused) == (1, ["ffffffffff"])
    assert catalog.read_text(encoding="utf-8").startswith("# ja for solutions/01_x/a_tutorial.ipynb")
    assert i18n.problems(path, "ja") == []
    sheet.write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected a mapping"):
        i18n.apply_sheet(catalog, sheet)


def test_translate_notebook_is_strict_and_keeps_code(tree: Path) -> None:
    path = tree / "solutions" / "01_x" / "a_tutorial.ipynb"
    notebooks.write(_notebook("# Title\n\nText.", code="x = len(['same', 'code'])"), path)  # no name
    i18n.extract(path, "ja")
    with pytest.raises(ValueError, match=r"a_tutorial.ipynb cell cell0: no ja translation of '# Title'"):
        i18n.translate_notebook(notebooks.read(path), path, "ja")
    partial = i18n.translate_notebook(notebooks.read(path), path, "ja", strict=False)
    assert partial.cells[0].source == "# Title\n\nText."
    _fill(i18n.catalogue_path(path, "ja"))
    ja = i18n.translate_notebook(notebooks.read(path), path, "ja")
    assert ja.cells[0].source == "# 訳: Title\n\n訳: Text."
    assert ja.cells[1].source == "x = len(['same', 'code'])" and ja.metadata["language"] == "ja"
    assert notebooks.normalize(ja).metadata["language"] == "ja"  # kept by the release's normalization


def test_a_printed_literal_is_catalogued_and_translated_only_when_it_formats_the_same_values(tree: Path) -> None:
    path = tree / "solutions" / "01_x" / "a_tutorial.ipynb"
    code = 'curves["with momentum"] = 1\nprint(f"after {n} epochs the loss is {loss:.3f}")\nplt.title("a plot title")'
    notebooks.write(_notebook("Text.", code=code), path)
    assert i18n.extract(path, "ja") == (3, 3)  # the paragraph, the printed f-string, the title; not the key
    literal, title = 'f"after {n} epochs the loss is {loss:.3f}"', '"a plot title"'
    assert [(p.cell, p.english) for p in i18n.problems(path, "ja")] == [
        ("cell0", "Text."),
        ("cell1", literal),
        ("cell1", title),
    ]
    catalog, sheet = i18n.catalogue_path(path, "ja"), tree / "sheet.yaml"
    dropped = 'f"{n} エポック後の損失"'  # loses {loss:.3f}: refused
    sheet.write_text(
        f"{i18n.block_hash('Text.')}: 訳\n{i18n.block_hash(literal)}: '{dropped}'\n"
        f"{i18n.block_hash(title)}: '\"図の題名\"'\n",
        encoding="utf-8",
    )
    i18n.apply_sheet(catalog, sheet)
    [problem] = i18n.problems(path, "ja")
    assert problem.kind == "invalid" and "keep every {...}" in str(problem)
    with pytest.raises(ValueError, match=r"cell cell1: the ja translation of .*keep every"):
        i18n.translate_notebook(notebooks.read(path), path, "ja")
    good = 'f"{n} エポック後の損失は {loss:.3f}"'
    sheet.write_text(f"{i18n.block_hash(literal)}: '{good}'\n", encoding="utf-8")
    i18n.apply_sheet(catalog, sheet)
    assert i18n.problems(path, "ja") == []
    ja = i18n.translate_notebook(notebooks.read(path), path, "ja")
    assert ja.cells[1].source == code.replace(literal, good).replace(title, '"図の題名"')


def test_a_name_is_catalogued_once_filled_from_a_sheet_of_literals_and_translated_everywhere(tree: Path) -> None:
    path = tree / "solutions" / "01_x" / "a_tutorial.ipynb"
    code = (
        'runs = {"straight line": broken, "two hidden layers": fixed}\n'
        "print(f\"{runs['straight line']:.2f}\")\n"
        'best = "straight line" if x else "two hidden layers"\n'
        'ax.legend(loc="upper right")\n'
    )
    notebooks.write(_notebook("Text.", code=code), path)
    assert i18n.extract(path, "ja") == (3, 3)  # the paragraph and two names (one entry each, not per occurrence)
    found = i18n.problems(path, "ja")
    assert [str(p) for p in found[1:]] == [
        '01_x/a_tutorial.ipynb name: missing: "straight line"',
        '01_x/a_tutorial.ipynb name: missing: "two hidden layers"',
    ]
    catalog, sheet = i18n.catalogue_path(path, "ja"), tree / "sheet.yaml"
    assert [e.get("key") for e in i18n.load_catalogue(catalog)] == [None, "name", "name"]
    sheet.write_text(  # the translators' sheets: by source, whatever its quotes; null keeps the English
        "entries:\n- source: \"'straight line'\"\n  text: \"'直線'\"\n"
        "- source: '\"two hidden layers\"'\n  text: null\n- source: '\"upper right\"'\n  text: '\"右上\"'\n",
        encoding="utf-8",
    )
    assert i18n.apply_sheet(catalog, sheet) == (2, ['"upper right"'])
    texts = [e["text"] for e in i18n.load_catalogue(catalog)]
    assert texts[1:] == ['"直線"\n', '"two hidden layers"\n']
    with pytest.raises(ValueError, match="cell cell0: no ja translation"):
        i18n.translate_notebook(notebooks.read(path), path, "ja")
    partial = i18n.translate_notebook(notebooks.read(path), path, "ja", strict=False)
    assert partial.cells[1].source == code.replace("straight line", "直線")  # every occurrence, none else
    # two names with one translation: refused (the dict would lose a key)
    entries = i18n.load_catalogue(catalog)
    entries[0]["text"], entries[2]["text"] = "訳\n", '"直線"\n'
    i18n._write_catalogue(catalog, "", entries)
    assert [(p.cell, p.kind) for p in i18n.problems(path, "ja")] == [("name", "invalid"), ("name", "invalid")]
    with pytest.raises(ValueError, match="the name 'straight line': .* also the translation of 'two hidden layers'"):
        i18n.translate_notebook(notebooks.read(path), path, "ja")
    assert i18n.translate_notebook(notebooks.read(path), path, "ja", strict=False).cells[1].source == code
    # a changed English name stales its entry only
    entries[2]["text"] = '"隠れ層2つ"\n'
    i18n._write_catalogue(catalog, "", entries)
    notebooks.write(_notebook("Text.", code=code.replace("two hidden layers", "two layers")), path)
    assert [str(p) for p in i18n.problems(path, "ja")] == ['01_x/a_tutorial.ipynb name: stale: "two layers"']
    ja = i18n.translate_notebook(notebooks.read(path), path, "ja", strict=False)
    assert ja.cells[1].source == code.replace("straight line", "直線").replace("two hidden layers", "two layers")


def test_links_to_a_heading_land_on_its_translation(tree: Path) -> None:
    target = tree / "solutions" / "01_x" / "b_tutorial.ipynb"
    notebooks.write(_notebook("## 2. The `loss` before training\n\nText.\n\n### Sub\nright under it"), target)
    source = tree / "solutions" / "01_x" / "a_tutorial.ipynb"
    notebooks.write(
        _notebook(
            "# Start\n\nSee [there](b_tutorial.ipynb#2.-The-loss-before-training), [here](#Start), "
            "[plain](b_tutorial.ipynb) and [away](https://example.org/#x)."
        ),
        source,
    )
    for path in (target, source):
        i18n.extract(path, "ja")
        _fill(i18n.catalogue_path(path, "ja"))
    assert i18n.heading_anchor("## 2. The `loss` before training") == "2.-The-loss-before-training"
    assert i18n.anchor_map(target, "ja") == {
        "2.-The-loss-before-training": "訳:-2.-The-loss-before-training",
        "Sub": "訳:-Sub",  # a heading with its paragraph in one block
    }
    text = i18n.edition(source, "ja").cells[0].source
    assert "(b_tutorial.ipynb#訳:-2.-The-loss-before-training)" in text and "(#訳:-Start)" in text
    assert "(b_tutorial.ipynb)" in text and "(https://example.org/#x)" in text
    assert i18n.translate_section("01_x/b_tutorial.ipynb#2.-The-loss-before-training", "ja").endswith(
        "#訳:-2.-The-loss-before-training"
    )


def test_the_release_refuses_missing_translations_and_names_them(tree: Path) -> None:
    from autograder import release

    path = tree / "solutions" / "01_x" / "a_tutorial.ipynb"
    notebooks.write(_notebook("# Title"), path)
    with pytest.raises(release.MissingTranslations, match=r"01_x/a_tutorial.ipynb: 1 missing[\s\S]*# Title"):
        release.check_translations("ja")


# ------------------------------------------------------------------------------------------ answers


@pytest.mark.parametrize("typed", ["b", "B", "ｂ", "Ｂ", " ｂ ", "\u3000b\u3000", "「b」", "『Ｂ』", "“b”"])
def test_a_lettered_answer_typed_on_a_japanese_keyboard_counts(typed: str) -> None:
    assert as_choice(typed, "abcd", "answer") == "b"


def test_a_lettered_answer_cell_is_rewritten_before_it_runs() -> None:
    from losslab.answers import normalize_answers

    cell = ['answer = "ｂ"  # 全角で入力\n', 'other = "「Ｃ」"\n', 'note = "日本語のまま"\n', "text = '「ab」'\n"]
    assert normalize_answers(cell) == ["answer = 'b'  # 全角で入力\n", "other = 'C'\n", cell[2], cell[3]]
    ascii_cell = ['answer = "b"\n']
    assert normalize_answers(ascii_cell) is ascii_cell
    broken = ['answer = "ｂ\n']
    assert normalize_answers(broken) == broken  # the learner's syntax error is reported as typed


def test_a_full_width_answer_is_still_checked() -> None:
    with pytest.raises(GradingError, match="should be one of"):
        as_choice("ｅ", "abcd", "answer")


# ------------------------------------------------------------------------------------------ messages


def test_the_catalog_translates_every_marked_message() -> None:
    catalog = messages._read_po("ja")
    in_po = {m.id for m in catalog if m.id}
    marked = messages.extract_messages()
    new = sorted(set(marked) - in_po)
    assert not new, f"marked but not in the .po (run `python -m losslab.messages extract`): {new}"
    gone = sorted(in_po - set(marked))
    assert not gone, f"in the .po but no longer marked (run `python -m losslab.messages extract`): {gone}"
    missing = messages.untranslated("ja")
    assert not missing, f"messages without a Japanese msgstr, or fuzzy: {missing}"
    for m in catalog:
        if m.id:
            names = {f[1] for f in Formatter().parse(m.id) if f[1]}
            got = {f[1] for f in Formatter().parse(m.string) if f[1]}
            assert names == got, f"{m.id!r}: the translation's placeholders {got} differ from {names}"


def test_the_compiled_catalogue_is_current() -> None:
    assert messages.mo_path("ja").read_bytes() == messages.compiled("ja"), (
        "losslab/locale/ja/LC_MESSAGES/losslab.mo is not the compiled .po: run `python -m losslab.messages compile`"
    )


def test_one_setting_picks_the_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOSSLAB_LANG", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert messages.current_language() == "en" and messages._("Check") == "Check"
    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    assert messages.current_language() == "ja" and messages._("Check") == "答え合わせ"
    monkeypatch.setenv("LOSSLAB_LANG", "ja_JP.UTF-8")
    assert messages.current_language() == "ja"
    monkeypatch.setenv("LOSSLAB_LANG", "xx")
    assert messages.current_language() == "en"
    monkeypatch.delenv("LOSSLAB_LANG")
    notebook = tmp_path / "a.ipynb"  # the Japanese edition's notebook, as Jupyter names it to the kernel
    notebook.write_text(json.dumps({"metadata": {"language": "ja"}, "cells": []}), encoding="utf-8")
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    assert messages.current_language() == "ja"
    monkeypatch.setenv("LOSSLAB_LANG", "en")  # the environment wins
    assert messages.current_language() == "en"


@pytest.fixture
def japanese(tree: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """LOSSLAB_LANG=ja, and a dummy Japanese catalog of the 00_start_here bank."""
    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    i18n.extract_bank("00_start_here", "ja")
    _fill(i18n.bank_catalogue_path("00_start_here", "ja"), prefix="問: ")
    quiz.load_bank.cache_clear()
    yield tree
    quiz.load_bank.cache_clear()


def test_the_quiz_widget_speaks_japanese_and_keeps_english_keys(japanese: Path, tmp_path: Path) -> None:
    store = quiz.ProgressStore(tmp_path / "progress.json")
    english = quiz.load_bank("00_start_here")
    qz = quiz.Quiz("00_start_here", store=store)
    view = qz.views["what-training-does"]
    assert view.button.description == "答え合わせ" and "クイズ: 問: " in qz.widget.children[0].value
    assert view.question.prompt.startswith("問: ")
    assert [c.key for c in view.question.choices] == [c.key for c in english["what-training-does"].choices]
    right = next(c for c in view.question.choices if c.correct)
    view.input.value = right.key
    view.button.click()
    assert "正解です。" in view.feedback.value and "1 回目で正解" in view.status.value
    saved = json.loads((tmp_path / "progress.json").read_text(encoding="utf-8"))
    assert saved["questions"]["00_start_here/what-training-does"]["last_answer"] == choice_key_en(right)
    view.check()
    assert "答え合わせ 2 回" in view.status.value


def choice_key_en(choice: quiz.Choice) -> str:
    return quiz.choice_key(choice.key_text)


def test_quiz_text_and_check_speak_japanese(japanese: Path, tmp_path: Path, capsys) -> None:
    quiz.show("00_start_here", ["what-training-does"])
    out = capsys.readouterr().out
    assert out.startswith("クイズ: 問: ") and "ここではウィジェットを表示できません" in out
    result = quiz.check("00_start_here", "what-training-does", "ｂ", store=quiz.ProgressStore(tmp_path / "p.json"))
    assert result.text.startswith(("正解です。", "まだです。"))


def test_predict_and_progress_speak_japanese(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from losslab import predict, progress

    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    guess = predict.Prediction("Which optimizer wins?", ["SGD", "Adam"], widget=False)
    assert guess.text().startswith("予想しよう: ")
    guess.compare("Adam", {"SGD": 1.0, "Adam": 0.5}, what="final loss")
    out = capsys.readouterr().out
    # `what` goes through gettext too: "final loss" is a catalog message (the sweep's legend, losslab/lr.py)
    assert "予想: 予想はまだありません" in out and "測定:  Adam" in out and "実行で測定した値 (最終の損失):" in out
    bar = progress.Bar(2, "sweep")
    bar.update()
    bar.close()
    assert "1/2 完了" in capsys.readouterr().out


def test_a_notebooks_prediction_question_speaks_japanese_and_keeps_english_keys(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The literal question, options and ``what`` of every predict call in solutions/ are in the catalog; the
    widget shows them translated, and the code (choose, compare) keeps using the English options."""
    from losslab import predict

    found = messages.notebook_messages()
    question = "Ten sigmoid layers, before training: which weight matrix gets the smallest gradient?"
    depths = ["the first (next to the input)", "one in the middle", "the last (next to the output)"]
    assert {question, *depths, "gradient norm before training (the middle: the smallest of them)"} <= {
        text for _where, text in found
    }
    assert all(where.startswith("solutions/") and where.split(":")[1].isdigit() for where, _text in found)
    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    guess = predict.Prediction(question, depths, order="given", widget=True)
    assert [label for label, _key in guess._choice.options] == [messages._(d) for d in depths]
    assert guess._choice.options[1] == ("真ん中の行列", "one in the middle")
    assert "勾配が最も小さくなるのはどの重み行列" in guess.text() and "guess.choose('the first" in guess.text()
    guess.choose("one in the middle")
    guess.compare("one in the middle", {d: 0.1 for d in depths}, what="gradient norm before training")
    out = capsys.readouterr().out
    assert "測定:  真ん中の行列" in out and "予想は実行結果と一致しました" in out, out
    ticks = predict.Prediction("Which?", ["above 0.5", "below 0.05"], multiple=True, widget=True)
    ticks._boxes[1].value = True
    assert ticks._boxes[1].description == "0.05 未満" and ticks.prediction == frozenset({"below 0.05"})


def test_chapter_1_and_3_grading_rules_and_clinic_speak_japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    import keras

    from losslab import clinic
    from losslab.grading import fresh

    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    losses, rates = fresh("losses"), fresh("learning_rates")
    with pytest.raises(losses.GradingError) as info:  # the grader's frame, and the rule it quotes (rules.py)
        losses.check_task("spam_filter", (keras.layers.Dense(1), "binary_crossentropy"))
    assert "初めて見るラベル" in str(info.value) and "生のスコア(ロジット)" in str(info.value), str(info.value)
    with pytest.raises(losses.GradingError, match="メールフィルタは yes/no"):
        losses.check_task("spam_filter", (keras.layers.Dense(3, activation="softmax"), "binary_crossentropy"))
    with pytest.raises(losses.GradingError, match="^どちらの損失関数も外れ値を無視しません"):
        losses.check_outliers("d")
    with pytest.raises(rates.GradingError, match="ランプが指数的ではありません"):
        rates.check_range_lr(lambda step, start, end, n: start + (end - start) * step / (n - 1))
    with pytest.raises(KeyError, match="クリニックに 'nope' という症例はありません"):
        clinic.case("nope")
    assert messages._(clinic.case("lr_too_high").title) == "学習率が高すぎる"


def test_the_clinics_goals_and_measures_speak_japanese(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from types import SimpleNamespace

    from losslab import clinic

    goals = {"lr_too_high": "val_accuracy >= 0.9", "overfitting": "<= 1.15", "unmonitored": ">= 1"}
    english = {cause: clinic.case(cause).goal_text for cause in goals}
    assert english == {
        "lr_too_high": "final val_accuracy >= 0.9",
        "overfitting": "overfit ratio <= 1.15",
        "unmonitored": "has validation >= 1",
    }
    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    japanese = {cause: clinic.case(cause).goal_text for cause in goals}
    assert japanese == {
        "lr_too_high": "最終エポックの val_accuracy >= 0.9",
        "overfitting": "過学習の比 <= 1.15",
        "unmonitored": "検証曲線の有無 >= 1",
    }
    every = [case.goal_text for case in clinic.CASES]  # no measure left in English
    assert not [g for g in every if re.search(r"\b(final|ratio|difference|has)\b", g)], every
    runs = [SimpleNamespace(refused=False, history={"val_accuracy": [v]}) for v in (0.5, 0.95)]
    results = clinic.Results()
    results.record(clinic.case("lr_too_high"), *runs, report="TrainingMonitor")
    out = capsys.readouterr().out
    assert "学習率が高すぎる: 最終エポックの val_accuracy 不具合あり 0.5 -> 修正後 0.95" in out, out
    assert "最終エポックの val_accuracy: 0.5 -&gt; 0.95" in results._repr_html_()


# ------------------------------------------------------------------------------------------ website


def test_a_japanese_page_shows_the_english_outputs_in_japanese_and_switches_back() -> None:
    from website import build as site

    english = _notebook("# Title", code="print(1)")
    english.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    japanese = _notebook("# 題名", code="print(1)")
    page = site.japanese_page(english, japanese, "course/ja/x.ipynb")
    assert page.cells[0].source == "# 題名" and page.cells[1].outputs == english.cells[1].outputs
    english.cells[1].source = 'print(f"the loss after training is {x:.2f}")'
    english.cells[1].outputs = [nbformat.v4.new_output("stream", text="the loss after training is 0.25\n")]
    japanese.cells[1].source = 'print(f"学習後の損失は {x:.2f}")'  # a printed literal translated: the same code
    page = site.japanese_page(english, japanese, "course/ja/x.ipynb")
    assert page.cells[1].source == japanese.cells[1].source  # the Japanese code, and what it would print
    assert page.cells[1].outputs[0]["text"] == "学習後の損失は 0.25\n"
    assert english.cells[1].outputs[0]["text"] == "the loss after training is 0.25\n"  # the English page's own
    japanese.cells[1].source = 'print(f"学習後の損失は {y:.2f}")'  # another value printed: not the same code
    with pytest.raises(site.SiteError, match="run `make release`"):
        site.japanese_page(english, japanese, "course/ja/x.ipynb")
    japanese.cells[1].source = "print(2)"
    with pytest.raises(site.SiteError, match="run `make release`"):
        site.japanese_page(english, japanese, "course/ja/x.ipynb")
    en, ja = site.Page(Path("01_losses/a_tutorial.ipynb")), site.Page(Path("01_losses/a_tutorial.ipynb"), "ja")
    assert (en.other(), ja.other()) == (ja, en) and ja.course_path == "course/ja/01_losses/a_tutorial.ipynb"
    assert site.relative(en.docname, ja.docname) == "../ja/01_losses/a_tutorial.html"
    assert site.relative(ja.docname, en.docname) == "../../01_losses/a_tutorial.html"
    assert 'href="../../01_losses/a_tutorial.html">English<' in site.language_switch(ja.docname, en.docname, "ja")
    # a Japanese tutorial page with the English run's outputs says so, in Japanese but for what stays as the run
    # printed it; with a Japanese run, it says that; without outputs, nothing; the English page and exercises never
    note = site._launch_cell(ja, "owner/repo", outputs=site.ENGLISH_RUN).source
    assert "英語版ノートブックを実行したとき" in note and "日本語に置き換えて" in note and "図のタイトル" in note
    note = site._launch_cell(ja, "owner/repo", outputs=site.JAPANESE_RUN).source
    assert "日本語版のノートブック" in note and "英語版" not in note and 'data-run="japanese"' in note
    assert "losslab-outputs" not in site._launch_cell(ja, "owner/repo").source
    assert "losslab-outputs" not in site._launch_cell(en, "owner/repo", outputs=site.ENGLISH_RUN).source
    exercise = site.Page(Path("01_losses/a_exercise.ipynb"), "ja")
    assert "losslab-outputs" not in site._launch_cell(exercise, "owner/repo").source


# ------------------------------------------------------------------------------------------ where a learner starts


def test_make_lab_lang_ja_opens_the_japanese_start_notebook() -> None:
    def dry_run(*args: str) -> str:
        done = subprocess.run(
            ["make", "-n", "-o", "setup-learner", "lab", "OPEN=no", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    japanese = dry_run("LANG=ja")
    assert "LOSSLAB_LANG=ja LANG=C.UTF-8 ./start" in japanese
    assert "--LabApp.default_url=/lab/tree/course/ja/00_start_here.ipynb" in japanese
    english = dry_run("LANG=C.UTF-8")
    assert "LOSSLAB_LANG" not in english and "default_url=/lab/tree/course/00_start_here.ipynb" in english


def test_the_readme_has_a_japanese_badge_and_section() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    badge = "https://mybinder.org/v2/gh/losslab/losslab/HEAD?urlpath=lab/tree/course/ja/00_start_here.ipynb"
    assert badge in readme.split("\n## ", 1)[0], "README.md: no Binder badge for course/ja/00_start_here.ipynb"
    section = readme.split("\n## 日本語版", 1)
    assert len(section) == 2, "README.md has no Japanese section (## 日本語版)"
    body = section[1].split("\n## ", 1)[0]
    for needed in ("make lab LANG=ja", "course/ja/00_start_here.ipynb", "docs/glossary-ja.md"):
        assert needed in body, f"README.md's Japanese section does not mention {needed}"


def test_the_doctors_report_speaks_japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    from losslab.doctor.report import Finding, Report

    report = Report([Finding("lr", "problem", "loss rose", "lower it", cause="lr_too_high")], 1.0)
    assert str(report).startswith("Training doctor: 1 finding in 1.0 s; suspects: lr_too_high (learning rate")
    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    text = str(report)
    assert text.startswith("訓練ドクター: 1.0 秒で所見 1 件。疑わしい原因: lr_too_high (学習率が高すぎる)")
    assert "対処: lower it" in text and "<th>重大度</th>" in report._repr_html_()


def test_the_librarys_printed_lines_and_errors_speak_japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    from losslab import environment, lr, optim, regularize

    gap = regularize.Gap(0.1234, 0.5, 0.9, 0.75)
    assert str(gap) == "train loss 0.123, val loss 0.500 (gap +0.377); train acc 0.900, val acc 0.750"
    monkeypatch.setattr(environment, "devices", lambda: [environment.Device("CPU", "cpu")])
    monkeypatch.setattr(environment, "backend", lambda: "jax")
    monkeypatch.setattr(environment, "cpu_threads_available", lambda: [0, 1])
    assert environment.training_device() == "CPU: no GPU visible to the jax backend (2 CPU threads)"
    report = environment.Report([("trains on", "x"), ("memory", "y")])
    assert str(report) == "trains on  x\nmemory     y"
    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    assert str(gap) == "訓練損失 0.123、検証損失 0.500(差 +0.377)、訓練正解率 0.900、検証正解率 0.750"
    assert environment.training_device() == "CPU: jax バックエンドから GPU が見えません(CPU スレッド 2 個)"
    # The row names are shown in Japanese, aligned by the columns a wide character takes; as_dict keeps the keys.
    assert str(report) == "訓練に使うデバイス  x\nメモリ              y"
    assert list(report.as_dict()) == ["trains on", "memory"]
    with pytest.raises(ValueError, match="num_steps は 2 以上にしてください。渡された値: 1"):
        lr.LRRangeTest(num_steps=1)
    playground = optim.Playground("saddle", names=("SGD",))
    assert ("鞍点", "saddle") in playground.surface.options and playground.surface.value == "saddle"
    assert playground.status.value.startswith("描画 1: 学習率 0.05、モーメンタム 0.90。SGD: ")


def test_the_feedback_summary_speaks_the_submissions_language() -> None:
    from autograder import feedback

    nb = _notebook("# Exercise", code="raise NotImplementedError()")
    nb.cells[1].metadata["nbgrader"] = {"grade": True, "grade_id": "t1", "points": 2, "solution": False}
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="NotImplementedError", evalue="", traceback=[])]
    english = feedback.summary_markdown(nb)
    assert "## Autograder summary" in english and "an answer this test uses is not written yet" in english
    nb.metadata["language"] = "ja"
    japanese = feedback.summary_markdown(nb)
    assert "## 自動採点の結果" in japanese and "合格したテスト: **1 件中 0 件**(2 点中 0 点)" in japanese
    assert "このテストが使う答えがまだ書かれていません" in japanese


def test_the_grading_kernel_speaks_the_submissions_language(tmp_path: Path) -> None:
    from autograder.unit import submission_language

    assert submission_language(tmp_path) == "en"
    (tmp_path / "a_exercise.ipynb").write_text(json.dumps({"metadata": {"language": "ja"}}), encoding="utf-8")
    assert submission_language(tmp_path) == "ja"
    (tmp_path / "a_exercise.ipynb").write_text(json.dumps({"metadata": {"language": "xx"}}), encoding="utf-8")
    assert submission_language(tmp_path) == "en"


# ------------------------------------------------------------------------------------------ unmarked English

# What a learner reads from the library goes through gettext: every module of losslab/ is scanned but these,
# whose English is read by the course's authors, translators and developers only (each with the reason).
ENGLISH_MODULES = {
    "losslab/pins.py": "the Binder pins' generator (make binder, make lock) and its errors: a developer's tool",
    "losslab/i18n.py": "the translators' tool (python -m losslab.i18n extract|apply|check) and its reports",
    "losslab/i18n_code.py": "the check of the translated literals of code cells: reports for translators",
    "losslab/i18n_names.py": "the check of the names of code cells: reports for translators",
    "losslab/messages.py": "the gettext catalog's maintenance (python -m losslab.messages) and its errors",
    "losslab/notebooks.py": "the notebooks' format check (make format) and its errors for course authors",
    "losslab/course.py": "the learning path's errors for course authors and the README's chapter table",
    "losslab/doctor/registry.py": "errors for the author of a doctor check who registers it (never a learner)",
}
MARKED_MODULES = sorted(
    path
    for path in (REPO / "losslab").rglob("*.py")
    if path.relative_to(REPO).as_posix() not in ENGLISH_MODULES and "__pycache__" not in path.parts
)
# English prose: two words in a row (code such as "smooth(raw_losses, beta)" or "huber(..., delta=" is not).
_PROSE = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,}")
# Literals that stay English on purpose, by file and beginning, with the reason. An entry that matches nothing
# fails the test too, so that the list cannot outlive its reasons.
ENGLISH_ON_PURPOSE = {
    ("losslab/grading/integrity.py", "something the checks rely on"): "the tamper report is built while the "
    "built-ins may be replaced: it stays plain English so that building it cannot fail",
    ("losslab/grading/integrity.py", "the built-in "): "the tamper report (see above)",
    ("losslab/grading/integrity.py", "the math module"): "the tamper report (see above)",
    ("losslab/grading/integrity.py", "the module "): "the tamper report (see above)",
    ("losslab/grading/private.py", "the tests cannot run"): "the tamper report (see above)",
    ("losslab/grading/private.py", ". Remove the code that does it"): "the tamper report (see above)",
    ("losslab/grading/private.py", "cannot load "): "an error for the author of a hidden test, not a learner",
    ("losslab/grading/private.py", "not a module name"): "an error for the author of a hidden test",
    ("losslab/grading/private.py", "no grading module "): "an error for the author of a hidden test",
    ("losslab/grading/optimizers.py", "Unknown variable"): "Keras' own message, matched, never shown",
    ("losslab/loss_names.py", "0/1 labels, one column"): "_EXPECTS' descriptions: never shown",
    ("losslab/loss_names.py", "one-hot rows (one column"): "_EXPECTS' descriptions: never shown",
    ("losslab/loss_names.py", "integer class numbers 0 .. K-1"): "_EXPECTS' descriptions: never shown",
    ("losslab/loss_names.py", "Keras picks binary"): "a LossSpec option, never shown",
    ("losslab/losses.py", "must have the same (rank|shape)"): "a pattern matching Keras' errors",
    ("losslab/losses.py", "axes fraction"): "a matplotlib argument",
    ("losslab/losses.py", "offset points"): "a matplotlib argument",
    ("losslab/clinic/results.py", "<td style"): "HTML markup",
    ("losslab/__init__.py", "module 'losslab' has no attribute"): "Python's own AttributeError, as a module raises it",
    ("losslab/cli.py", "Loss Lab "): "the product's name and version",
    ("losslab/data.py", "smooth surface"): "a data set's name (Split.name), an identifier",
    ("losslab/doctor/report.py", '<span style="background:'): "HTML markup",
    ("losslab/doctor/report.py", "</td><td style"): "HTML markup",
    ("losslab/environment.py", "</th><td style"): "HTML markup",
    ("losslab/environment.py", "<tr><th style"): "HTML markup",
    ("losslab/imbalance.py", "lower left"): "a matplotlib argument",
    ("losslab/loops.py", "grads = [g + n"): "a line of code (a slip's edit of the training loop)",
    ("losslab/predict.py", "1px solid"): "CSS",
    ("losslab/quiz.py", "1px solid"): "CSS",
    ("losslab/quiz.py", "<span style="): "HTML markup",
    ("losslab/quiz.py", "[losslab quiz] "): "the tag before the quiz's notes (their text is translated)",
    ("losslab/quiz.py", "(top level)"): "validate_bank's report: for the authors of a quiz bank",
    ("losslab/quiz.py", ": duplicate id"): "validate_bank's report (see above)",
    ("losslab/quiz.py", ": a single-choice question"): "validate_bank's report (see above)",
    ("losslab/quiz.py", ": a multiple-choice question"): "validate_bank's report (see above)",
    ("losslab/quiz.py", ": two choices have"): "validate_bank's report (see above)",
    ("losslab/quiz.py", "no question bank for "): "a missing or broken bank: for the course's authors",
    ("losslab/quiz.py", " is not valid YAML: "): "a broken bank (see above)",
    ("losslab/quiz.py", "questions is not a mapping"): "caught: the learner is told the file was unreadable",
}


def unmarked_english(source: str, marked: set[str]) -> list[tuple[int, str]]:
    """(line, literal) of every string literal with English prose in `source` that is not a docstring, not
    inside ``_()`` or ``N_()``, not a message marked elsewhere (`marked`: shown later through ``_``) and not a
    clinic case's ``symptom`` (never shown: tests/test_clinic.py reads it)."""
    import ast

    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body:
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_"):
            skip.update(id(sub) for sub in ast.walk(node))
        if isinstance(node, ast.keyword) and node.arg == "symptom":
            skip.update(id(sub) for sub in ast.walk(node.value))
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and node.value not in marked
        and _PROSE.search(node.value)
    )


def test_the_modules_left_out_of_the_scan_exist() -> None:
    missing = sorted(name for name in ENGLISH_MODULES if not (REPO / name).is_file())
    assert not missing, f"ENGLISH_MODULES names modules that do not exist any more: {missing}"
    assert len(MARKED_MODULES) > 40, "the scan covers losslab/ (and its subpackages)"


def test_the_scan_finds_english_outside_gettext() -> None:
    source = (
        '"""A docstring is no message."""\n'
        "def check(x):\n"
        '    require(x, _("the value is {x}").format(x=x))\n'
        '    require(x, f"the value is {x}")\n'
        '    print("code such as smooth(raw_losses, beta) is not prose")\n'
        '    return {"a": N_("a hint"), "b": "known hint"}\n'
    )
    found = unmarked_english(source, marked={"known hint"})
    assert found == [(4, "the value is "), (5, "code such as smooth(raw_losses, beta) is not prose")]


@pytest.mark.parametrize("path", MARKED_MODULES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_learner_facing_english_goes_through_gettext(path: Path) -> None:
    name, source = path.relative_to(REPO).as_posix(), path.read_text(encoding="utf-8")
    if re.search(r"\bN?_\(", source):
        assert name in messages.SOURCES, f"{name} marks messages: add it to losslab.messages.SOURCES"
    marked = set(messages.extract_messages())
    allowed = {start for (file, start) in ENGLISH_ON_PURPOSE if file == name}
    found = unmarked_english(source, marked)
    unmarked = [(line, text) for line, text in found if not any(text.startswith(a) for a in allowed)]
    assert not unmarked, (
        f"{name}: English a learner may read is not marked for translation (wrap it in _() and format after "
        f"translating, docs/i18n.md; or list it in ENGLISH_ON_PURPOSE with the reason): "
        + "; ".join(f"line {line}: {text[:70]!r}" for line, text in unmarked)
    )
    unused = sorted(a for a in allowed if not any(text.startswith(a) for _line, text in found))
    assert not unused, f"{name}: ENGLISH_ON_PURPOSE entries that match nothing any more: {unused}"
