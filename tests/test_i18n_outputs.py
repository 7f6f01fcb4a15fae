"""The English run's outputs in the translated edition's words (losslab/i18n_code.py, ``translate_outputs``): what
the website's Japanese pages show (website/build.py's ``japanese_page``; the test over the real executed copies is
in tests/browser/test_site.py, which runs after the notebooks' tests have written them)."""

from __future__ import annotations

import nbformat
import pytest

from losslab import i18n_code, i18n_names
from losslab.i18n_code import Field, cell_patterns, output_pattern, translate_html, translate_outputs, translate_text


def stream(text: str) -> dict:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def printed(english: str, japanese: str, output: str) -> str:
    """`output`, printed by the cell `english`, as the cell `japanese` (its translated edition) words it."""
    assert i18n_names.same_but_translated([("c", english)], [japanese], [])[0] == []
    return translate_outputs([stream(output)], cell_patterns(english, japanese))[0]["text"]


def message(msgid: str, msgstr: str, **kwargs) -> i18n_code.OutputPattern:
    """The pattern of one gettext message, as ``message_patterns`` makes it."""
    pattern = output_pattern(i18n_code._brace_shape(msgid), i18n_code._brace_shape(msgstr), isolated=True, **kwargs)
    assert pattern is not None
    return pattern


PRINTED = {  # what a cell prints (English code, Japanese code, English output) -> the Japanese output
    "an f-string's fields, by expression, with their format": (
        'print(f"after {n} epochs the loss is {loss:.3f}, accuracy {acc:>6.1%}")',
        'print(f"{n} エポック後の損失は {loss:.3f}、正解率 {acc:>6.1%}")',
        "after 12 epochs the loss is 0.125, accuracy  97.5%\n",
        "12 エポック後の損失は 0.125、正解率  97.5%\n",
    ),
    "the translation writes its fields in its own order": (
        'print(f"{name}: loss {loss:.2f} after {n} epochs")',
        'print(f"{name}: {n} エポック後の損失 {loss:.2f}")',
        "SGD: loss 1.50 after 3 epochs\n",
        "SGD: 3 エポック後の損失 1.50\n",
    ),
    "a sign, an exponent and nan are numbers too": (
        'print(f"the change is {d:+.1e} and then {e:.2f}")',
        'print(f"変化は {d:+.1e}、次に {e:.2f}")',
        "the change is -3.0e-05 and then nan\n",
        "変化は -3.0e-05、次に nan\n",
    ),
    "positional fields keep their order": (
        'print("{} of {} examples are right".format(k, n))',
        'print("{} 件中 {} 件が正解".format(k, n))',
        "7 of 10 examples are right\n",
        "7 件中 10 件が正解\n",
    ),
    "named fields": (
        'print("the best rate is {rate:.3g} ({name})".format(rate=r, name=n))',
        'print("最良の学習率は {rate:.3g}({name})".format(rate=r, name=n))',
        "the best rate is 0.01 (Adam)\n",
        "最良の学習率は 0.01(Adam)\n",
    ),
    "% conversions by position": (
        'print("%s reached loss %.3f in %d epochs" % (name, loss, n))',
        'print("%s は %.3f の損失に %d エポックで到達" % (name, loss, n))',
        "Adam reached loss 0.123 in 5 epochs\n",
        "Adam は 0.123 の損失に 5 エポックで到達\n",
    ),
    "% conversions by name": (
        'print("%(name)s stopped after %(n)d steps" % info)',
        'print("%(n)d ステップで %(name)s が止まった" % info)',
        "SGD stopped after 40 steps\n",
        "40 ステップで SGD が止まった\n",
    ),
    "a literal printed as it is: its braces and % are text": (
        'print("at 10%: {x} is close enough")',
        'print("10%: {x} なら十分に近い")',
        "at 10%: {x} is close enough\n",
        "10%: {x} なら十分に近い\n",
    ),
}


@pytest.mark.parametrize("case", PRINTED)
def test_a_printed_literal_s_fields_are_put_back_into_its_translation(case: str) -> None:
    english, japanese, output, expected = PRINTED[case]
    assert printed(english, japanese, output) == expected


def test_a_literal_printed_twice_on_a_line_and_over_several_lines() -> None:
    loop = 'for k, v in runs.items():\n    print(f"{}", end=" ")\n'
    english = loop.replace("{}", "loss of {k}: {v:.2f};") + 'print("\\nloss of the best run:", best)'
    japanese = loop.replace("{}", "{k} の損失: {v:.2f};") + 'print("\\n最良の実行の損失:", best)'
    assert i18n_names.same_but_translated([("c", english)], [japanese], [])[0] == []
    patterns = cell_patterns(english, japanese)
    text = "loss of SGD: 1.50; loss of Adam: 0.25; \nloss of the best run: Adam\n"
    assert translate_text(text, patterns) == "SGD の損失: 1.50; Adam の損失: 0.25; \n最良の実行の損失: Adam\n"
    # a literal that holds a newline matches across the lines it prints
    english = 'print(f"first epoch {a:.2f}\\nlast epoch {b:.2f}")'
    japanese = 'print(f"最初のエポック {a:.2f}\\n最後のエポック {b:.2f}")'
    out = printed(english, japanese, "first epoch 2.30\nlast epoch 0.10\nfirst epoch 2.31\nlast epoch 0.12\n")
    assert out == "最初のエポック 2.30\n最後のエポック 0.10\n最初のエポック 2.31\n最後のエポック 0.12\n"


def test_a_field_that_holds_text_keeps_it_and_a_message_in_it_is_translated() -> None:
    english = 'print(f"{run}: final loss {loss:.3f} ({verdict})")'
    japanese = 'print(f"{run}: 最終損失 {loss:.3f}({verdict})")'
    out = printed(english, japanese, "cross-entropy, SGD: final loss 0.125 (it learned well: 0.97)\n")
    assert out == "cross-entropy, SGD: 最終損失 0.125(it learned well: 0.97)\n"  # a value: as the run printed it
    outer = message("{title}: found by {checks} in {seconds:.1f} s", "{title}: {seconds:.1f} 秒で {checks} が発見")
    inner = message("learning rate too high", "学習率が高すぎる")
    text = "learning rate too high: found by curves, lr_sweep in 1.9 s"
    assert translate_text(text, [], [outer, inner]) == "学習率が高すぎる: 1.9 秒で curves, lr_sweep が発見"
    # two text fields a space apart: the second is one word ("{measure} {value}"), the first takes the rest
    row = message(
        "{title}: {measure} {broken} broken -> {fixed} fixed", "{title}: {measure} 不具合 {broken} -> 修正 {fixed}"
    )
    text = "Label noise: final val_accuracy 0.467 broken -> 0.969 fixed"
    assert translate_text(text, [], [row]) == "Label noise: final val_accuracy 不具合 0.467 -> 修正 0.969"
    # after each message found, the longest again: a shorter message must not take part of a longer one as a value
    outer = message("{loss} expects probabilities, but {seen}", "{loss} は確率を受け取りますが、{seen}")
    long = message(
        "the outputs are {kind} (range {low} to {high}, last {act})", "出力は{kind}(範囲 {low}〜{high}、最後 {act})"
    )
    short = message("the outputs are {kind} (range {low} to {high})", "出力は{kind}(範囲 {low}〜{high})")
    text = "mse expects probabilities, but the outputs are logits (range -8 to 8, last linear)"
    assert (
        translate_text(text, [], [long, outer, short])
        == "mse は確率を受け取りますが、出力はlogits(範囲 -8〜8、最後 linear)"
    )
    # a field's text stays within its clause: "; " ends it
    never = message("classes {classes} never occur in the validation data", "クラス {classes} は検証データに現れません")
    text = "classes [8] occur only in the validation data; classes [0, 1] never occur in the validation data"
    assert translate_text(text, [], [never]) == (
        "classes [8] occur only in the validation data; クラス [0, 1] は検証データに現れません"
    )
    # fields with nothing between them can't be told apart: the first takes them all (an optional suffix)
    scale = message("features range from {low} to {high}{through}; done", "特徴量{through}の範囲は {low} から {high}")
    assert translate_text("features range from 0.13 to 1,680; done", [], [scale]) == "特徴量の範囲は 0.13 から 1,680"


def test_a_cell_s_literals_are_looked_for_in_that_cell_s_outputs_only() -> None:
    from website import build as site

    english = nbformat.v4.new_notebook()
    english.cells = [
        nbformat.v4.new_code_cell('print(f"the loss went down by {d:.2f}")', id="aaaa0001"),
        nbformat.v4.new_code_cell("print(summary)", id="aaaa0002"),  # prints the same words, from a variable
    ]
    japanese = nbformat.v4.new_notebook()
    japanese.cells = [
        nbformat.v4.new_code_cell('print(f"損失は {d:.2f} 下がった")', id="aaaa0001"),
        nbformat.v4.new_code_cell("print(summary)", id="aaaa0002"),
    ]
    english.cells[0].outputs = [stream("the loss went down by 0.50\n")]
    english.cells[1].outputs = [stream("the loss went down by 0.50\n")]
    page = site.japanese_page(english, japanese, "course/ja/x.ipynb")
    assert page.cells[0].outputs[0]["text"] == "損失は 0.50 下がった\n"
    assert page.cells[1].outputs[0]["text"] == "the loss went down by 0.50\n"
    assert [c.source for c in page.cells] == [c.source for c in japanese.cells]  # the Japanese code is shown
    assert english.cells[0].outputs[0]["text"] == "the loss went down by 0.50\n"  # the English page is untouched


def test_a_name_an_output_shows_whole_is_translated_in_every_cell_of_the_page() -> None:
    from website import build as site

    english, japanese = nbformat.v4.new_notebook(), nbformat.v4.new_notebook()
    english.cells = [
        nbformat.v4.new_code_cell('runs = {"straight line": a, "two hidden layers": b}', id="bbbb0001"),
        nbformat.v4.new_code_cell('for name in runs:\n    print(f"{name}: {runs[name]:.2f}")', id="bbbb0002"),
    ]
    japanese.cells = [
        nbformat.v4.new_code_cell('runs = {"直線": a, "隠れ層2つ": b}', id="bbbb0001"),
        nbformat.v4.new_code_cell(english.cells[1].source, id="bbbb0002"),
    ]
    printed = "straight line: 0.50\ntwo hidden layers: 0.10\nthe straight line run\nstraight lines: 2\n"
    english.cells[1].outputs = [stream(printed)]
    page = site.japanese_page(english, japanese, "course/ja/x_tutorial.ipynb")
    # whole phrases only: not inside an English sentence (a word one space away), nor the start of a longer word
    assert page.cells[1].outputs[0]["text"] == "直線: 0.50\n隠れ層2つ: 0.10\nthe straight line run\nstraight lines: 2\n"
    # one occurrence of a name left in English: not the same code
    japanese.cells[1].source = 'print(runs["straight line"])'
    english.cells[1].source = 'print(runs["straight line"])'
    with pytest.raises(site.SiteError, match="translated in 2 ways"):
        site.japanese_page(english, japanese, "course/ja/x_tutorial.ipynb")


def test_a_message_is_translated_only_where_it_is_whole() -> None:
    found = message("Your prediction matches the run.", "予想は実行結果と一致しました。")
    assert translate_text("Your prediction matches the run.\n", [], [found]) == "予想は実行結果と一致しました。\n"
    # a message that does not match (other words around its fields, a word cut) stays English
    late = message("stopped after {n} epochs", "{n} エポックで停止")
    for text in ("stopped early after 4 epochs", "unstopped after 4 epochs"):
        assert translate_text(text, [], [late]) == text
    # a message of two words inside another sentence (an English word one space before or after) stays English
    rate = message("learning rate", "学習率")
    sentence = "hence its learning rate is not settable"
    assert translate_text(sentence, [], [rate]) == sentence
    assert translate_text("x: learning rate (log scale)", [], [rate]) == "x: 学習率 (log scale)"
    # a one-word message only as a whole line, or a line's leading label
    label = message("Measured:", "測定:", whole_line=True)
    text = "Measured:  mse\nwhat was Measured: here; Measured: there"
    assert translate_text(text, [], [label]) == "測定:  mse\nwhat was Measured: here; 測定: there"
    # a message in a translated message's value is found once the outer one no longer puts a word before it
    outer = message("plateaued (explained by {cause})", "横ばいになった(原因は{cause})")
    cause = message("learning rate too high", "学習率が高すぎる")
    text = "plateaued (explained by learning rate too high)"
    assert translate_text(text, [], [cause, outer]) == "横ばいになった(原因は学習率が高すぎる)"
    # a message in code's quotes stays English: guess.choose takes the English option
    option = message("far below ln 10: it learned", "ln 10 よりずっと下: 学習した")
    text = "  a) far below ln 10: it learned\npredict with  guess.choose('far below ln 10: it learned')  first"
    assert translate_text(text, [], [option]) == (
        "  a) ln 10 よりずっと下: 学習した\npredict with  guess.choose('far below ln 10: it learned')  first"
    )


def test_code_in_an_output_is_left_as_it_is() -> None:
    cause = message("learning rate too high", "学習率が高すぎる")
    lines = [
        "def broken(seed=0):",
        '    """Learning rate too high."""',
        "    return Adam(9)  # <- learning rate too high",
    ]
    source = "\n".join(lines)
    text = f"# --- broken: lr\n{source}\n\nthe doctor says: learning rate too high\n"
    assert translate_text(text, [], [cause]) == f"# --- broken: lr\n{source}\n\nthe doctor says: 学習率が高すぎる\n"
    label = message("Measured:", "測定:", whole_line=True)  # "Measured:  mse" parses (an annotation): not code
    assert translate_text("Measured:  mse\n\nx = 1\n", [], [label]) == "測定:  mse\n\nx = 1\n"


def test_message_patterns_come_from_the_catalog_and_skip_single_words_with_fields() -> None:
    patterns = i18n_code.message_patterns("ja")
    sizes = [p.size for p in patterns]
    assert len(patterns) > 300 and sizes == sorted(sizes, reverse=True)
    out = translate_text(
        "Predicted: no prediction made\n(Choose in the widget above and run this cell again to compare.)", [], patterns
    )
    assert "Predicted" not in out and "no prediction made" not in out and "Choose in the widget" not in out, out
    # a message of one English word with fields ("{a} is {b}") would match any sentence: it has no pattern
    assert "Because sign is flat: its gradient is 0" == translate_text(
        "Because sign is flat: its gradient is 0", [], patterns
    )


def test_html_outputs_translate_text_nodes_only() -> None:
    pattern = message("learning rate too high", "学習率が高すぎる")
    html = (
        '<p title="learning rate too high"><b>suspects: lr_too_high (learning rate too high)</b></p>'
        "<pre>Predict: it&#x27;s learning rate too high</pre><script>var a = 'learning rate too high';</script>"
        "<td>learning <b>rate</b> too high</td>"
    )
    out = translate_html(html, [], [pattern])
    assert out == (
        '<p title="learning rate too high"><b>suspects: lr_too_high (学習率が高すぎる)</b></p>'
        "<pre>Predict: it&#x27;s learning rate too high</pre><script>var a = 'learning rate too high';</script>"
        "<td>learning <b>rate</b> too high</td>"
    )  # an attribute, a script, a text cut by a tag, and a message inside another sentence are left
    outputs = [
        nbformat.v4.new_output(
            "execute_result",
            data={
                "text/html": "<i>learning rate too high</i>",
                "text/plain": "learning rate too high",
                "image/png": "AAA=",
            },
            execution_count=1,
        )
    ]
    done = translate_outputs(outputs, [], [pattern])
    assert done[0]["data"] == {
        "text/html": "<i>学習率が高すぎる</i>",
        "text/plain": "学習率が高すぎる",
        "image/png": "AAA=",
    }
    assert outputs[0]["data"]["text/plain"] == "learning rate too high"  # a copy: the English outputs are kept


@pytest.mark.parametrize(
    ("english", "translated"),
    [
        (["{", Field("x"), "}"], ["{", Field("y"), "}"]),  # the translation formats a value the English does not
        ([Field("x")], [Field("x"), " です"]),  # no constant text: it would match anything
    ],
)
def test_no_pattern_without_the_same_fields_or_without_text(english: list, translated: list) -> None:
    assert output_pattern(english, translated) is None
