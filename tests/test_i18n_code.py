"""losslab/i18n_code.py: which literals of a code cell are translated, and which translations are refused."""

from __future__ import annotations

import pytest

from losslab import i18n_code, i18n_names

CELL = """%matplotlib inline
results = {"with momentum": 0.5}
print(f"after {n} epochs the loss is {loss:.3f}")
print("best rate:", best, "(lower is better)" if ok else "no rate worked here", "raised" if up else "did not raise")
print("%s: final loss %.2f" % (name, value), "done")
print("rows of the table:", " | ".join(["left side", "right side"]))
print("{name} trained for {n} epochs".format(name="the small model", n=n))
print(results["with momentum"], describe("an argument of a call"), "loss")
plt.title("a plot title stays English")
label = "a label kept in a variable"
print(f"aligned, over "
      f"two lines {x!r}")
print("héllo wörld: «non-ASCII» before", f"the value {x}")
guess = predict.ask(f"after {n} epochs, which run is ahead?", [f"batch {b}" for b in sizes])
other = predict.ask("a literal question goes through gettext", ["one option", "another option"])
"""


def test_printed_literals_are_the_english_phrases_print_shows() -> None:
    found = [lit.source for lit in i18n_code.printed_literals(CELL)]
    assert found == [
        'f"after {n} epochs the loss is {loss:.3f}"',
        '"best rate:"',
        '"(lower is better)"',
        '"no rate worked here"',
        '"raised"',
        '"did not raise"',
        '"%s: final loss %.2f"',
        '"rows of the table:"',
        '"left side"',
        '"right side"',
        '"{name} trained for {n} epochs"',
        '"the small model"',
        'f"aligned, over "\n      f"two lines {x!r}"',
        '"héllo wörld: «non-ASCII» before"',
        'f"the value {x}"',
        'f"after {n} epochs, which run is ahead?"',
    ]
    for lit in i18n_code.printed_literals(CELL):
        assert CELL[lit.start : lit.end] == lit.source  # offsets in characters, non-ASCII lines included
    assert [lit.source for lit in i18n_code.printed_literals(CELL, english=False)][-3:] == [
        '"héllo wörld: «non-ASCII» before"',
        'f"the value {x}"',
        'f"after {n} epochs, which run is ahead?"',
    ]
    assert i18n_code.printed_literals("print('unclosed") == []


@pytest.mark.parametrize(
    ("english", "translated", "why"),
    [
        ('f"after {n} epochs: {loss:.3f}"', 'f"{n} エポック後: {loss:.3f}"', None),
        ('f"after {n} epochs: {loss:.3f}"', 'f"損失 {loss:.3f}（{n} エポック後）"', None),  # reordered
        ('f"after {n} epochs"', 'f"after {n} epochs"', None),
        ('f"aligned, over "\n  f"two lines {x!r}"', 'f"二行に {x!r}"', None),
        ('"%s: final loss %.2f"', '"%s: 最終損失 %.2f"', None),
        ('"{name} trained"', '"{name} を学習"', None),
        ('"{a} of {b}"', '"{b} の {a}"', None),  # named fields may move
        ('"{} of {}"', '"{} の {}"', None),
        ('"{} of {:.2f}"', '"{:.2f} の {}"', "by position"),  # positional fields may not
        ('"%s of %d"', '"%d の %s"', "by position"),
        ('f"after {n} epochs: {loss:.3f}"', 'f"{n} エポック後: {loss:.2f}"', "other values"),
        ('f"after {n} epochs: {loss:.3f}"', 'f"{n} エポック後"', "other values"),
        ('f"after {n} epochs: {loss:.3f}"', '"{n} エポック後: {loss:.3f}"', "keep its kind"),
        ('"%s: final loss %.2f"', '"%s: 最終損失 %d"', "other values"),
        ('"{name} trained"', '"{model} を学習"', "other values"),
        ('"a sentence"', "訳: 'a sentence'", "not one string literal"),
        ('"a sentence"', '"a" + x', "not one string literal"),
    ],
)
def test_a_translation_must_format_the_same_values(english: str, translated: str, why: str | None) -> None:
    problem = i18n_code.translation_problem(english, translated)
    assert (problem is None) if why is None else (problem is not None and why in problem), problem


def test_translate_code_replaces_only_the_literals_it_is_given() -> None:
    code = 'print(f"after {n} epochs")\nprint(results["after some epochs"], "after some epochs")\n'
    out = i18n_names.translate_code(code, {'"after some epochs"': '"数エポック後"', 'f"after {n} epochs"': 'f"{n} 後"'})
    assert out == 'print(f"{n} 後")\nprint(results["after some epochs"], "数エポック後")\n'
    assert same(code, out) == []
    assert "outside its literals" in same(code, out.replace("results", "other"))[0]
    assert "other values" in same(code, out.replace("{n} 後", "後"))[0]
    assert "outside its literals" in same(code, out + 'print("one more line")\n')[0]
    assert "neither a translated literal nor a name" in same(code, out.replace('["after', '["訳after'))[0]


def same(english: str, translated: str, names: tuple[str, ...] = ()) -> list[str]:
    """The problems of one cell's translation (``same_but_translated``)."""
    return i18n_names.same_but_translated([("c", english)], [translated], names)[0]


DISPLAYED = """fig, ax = plt.subplots()
ax.set_title("Digits: loss per epoch")
ax.set(xlabel="epoch of training", ylabel=f"loss after {n} steps")
ax.plot(x, y, label="training loss" if ok else "no loss at all")
fig.suptitle("Two panels side by side")
ax.text(0.5, 0.5, "a note on the plot", ha="center")
ax.annotate("the lowest point", xy=(1, 2))
clinic.compare(runs, "accuracy", title="Digits: accuracy per epoch", ylabel="accuracy (fraction correct)")
model.fit(x, y, callbacks=[EpochProgress("breast cancer run")])
setup.train(progress="He init run")
for item in progress.track(items, "SGD sweep over rates"):
    pass
display(Markdown(f"| model | test MAE |\\n|---|---|\\n| mlp | {mae:.2f} |"), HTML("<b>a bold note</b>"))
ax.legend(loc="upper right")
guess.compare(actual, what="final training loss")
print("printed words here", "too")
"""


def test_displayed_literals_are_the_labels_titles_progress_and_markdown_a_cell_shows() -> None:
    found = [(lit.kind, lit.source) for lit in i18n_code.cell_literals(DISPLAYED)]
    assert found == [
        ("displayed", '"Digits: loss per epoch"'),
        ("displayed", '"epoch of training"'),
        ("displayed", 'f"loss after {n} steps"'),
        ("displayed", '"training loss"'),
        ("displayed", '"no loss at all"'),
        ("displayed", '"Two panels side by side"'),
        ("displayed", '"a note on the plot"'),
        ("displayed", '"the lowest point"'),
        ("displayed", '"Digits: accuracy per epoch"'),
        ("displayed", '"accuracy (fraction correct)"'),
        ("displayed", '"breast cancer run"'),
        ("displayed", '"He init run"'),
        ("displayed", '"SGD sweep over rates"'),
        ("displayed", 'f"| model | test MAE |\\n|---|---|\\n| mlp | {mae:.2f} |"'),
        ("displayed", '"<b>a bold note</b>"'),
        ("printed", '"printed words here"'),
    ]  # not loc= (no display keyword), nor what= of a prediction, nor ha="center" (one word)
    assert [lit.source for lit in i18n_code.printed_literals(DISPLAYED)] == ['"printed words here"']
    assert i18n_code.cell_literals(DISPLAYED, names=["training loss"])[3].source == '"no loss at all"'


NOTEBOOK = [
    'runs = {"straight line": broken, "two hidden layers": fixed}\n'
    'clinic.compare(runs, title="Moons: loss per epoch")\n'
    "print(f\"{runs['straight line']}: {'raised' if up else 'did not raise'} the loss\")\n",
    'best = "deeper valley" if x < 0 else "shallow valley"\n'
    'if best == "deeper valley":\n'
    '    print("deeper valley")\n'
    'print(results["cross-entropy, SGD"])  # read, never written: a key made elsewhere\n',
    "def helper():\n"
    '    """A docstring of two words."""\n'
    '    assert ok, "the loss went up"\n'
    'guess = predict.ask("Which run wins here?", ["the first run", "the second run"])\n'
    'choice = "the first run"\n'
    'guess.compare(choice, what="final loss value")\n'
    'where = "upper right"\n'
    'ax.legend(loc="upper right")\n'
    'surface = "loss function"  # a message of the gettext catalog\n'
    'kind = "smooth surface"  # a string of losslab/ (a key of losslab.data)\n'
    'quiz.show("ten-classes")\n'
    'parts = "two words".split()\n',
    'line = "%s went down" % name\n',
    'doc = "A docstring of two words."\n'
    'message = "the loss went up"\n'
    'value = "final loss value"\n'
    'other = "%s went down"\n',
    'nested = {\'a nested name\': 1}\nprint(f"""{str(f\'{nested["a nested name"]}\')}""")\n',
]


def test_names_are_plain_strings_kept_in_variables_keys_and_conditions_with_every_exclusion() -> None:
    names, why = i18n_names.notebook_names(NOTEBOOK)
    assert names == ["straight line", "two hidden layers", "raised", "did not raise", "deeper valley", "shallow valley"]
    assert why == {
        "cross-entropy, SGD": "only read (a subscript or a comparison), never written in the notebook",
        "A docstring of two words.": i18n_names.REFUSED["docstring"],
        "the loss went up": i18n_names.REFUSED["assert"],
        "Which run wins here?": i18n_names.REFUSED["prediction"],
        "the first run": i18n_names.REFUSED["prediction"],
        "the second run": i18n_names.REFUSED["prediction"],
        "final loss value": i18n_names.REFUSED["prediction"],
        "upper right": i18n_names.REFUSED["keyword"],
        "loss function": "a message of the gettext catalog (translated by the library)",
        "smooth surface": "a string constant of losslab/ (a key the library may compare)",
        "two words": i18n_names.REFUSED["method"],
        "%s went down": i18n_names.REFUSED["method"],
        "a nested name": i18n_names.REFUSED["position"],  # inside an f-string inside a field: never replaced
    }  # the title is displayed, per cell; "ten-classes" (a quiz id) has no space: never a candidate
    assert i18n_names.text_refusal("ten-classes") == "a quiz id (kebab-case)"
    assert i18n_names.text_refusal("a 'quoted' run") and i18n_names.text_refusal("a {field} run")
    # a name is no literal of its cell: "deeper valley" printed alone is the name there
    assert [lit.source for lit in i18n_code.cell_literals(NOTEBOOK[1], names=names)] == []


def test_a_name_used_as_a_key_is_translated_at_every_occurrence() -> None:
    names = i18n_names.notebook_names(NOTEBOOK)[0]
    japanese = {"straight line": "直線", "two hidden layers": "隠れ層2つ", "raised": "上げた",
                "did not raise": "上げなかった", "deeper valley": "深い谷", "shallow valley": "浅い谷"}  # fmt: skip
    cells = [i18n_names.translate_code(code, {}, japanese) for code in NOTEBOOK]
    assert cells[0].startswith('runs = {"直線": broken, "隠れ層2つ": fixed}\n')
    assert "{runs['直線']}: {'上げた' if up else '上げなかった'} the loss" in cells[0]  # quotes of the field kept
    assert 'best = "深い谷" if x < 0 else "浅い谷"\nif best == "深い谷":\n    print("深い谷")' in cells[1]
    assert 'results["cross-entropy, SGD"]' in cells[1] and cells[2:] == NOTEBOOK[2:]
    english = [(str(i), code) for i, code in enumerate(NOTEBOOK)]
    problems, found = i18n_names.same_but_translated(english, cells, names)
    assert problems == [] and found == japanese
    # one occurrence left in English: the key would no longer be found
    half = [cells[0], cells[1].replace('== "深い谷"', '== "deeper valley"'), *cells[2:]]
    assert "'deeper valley' is translated in 2 ways" in i18n_names.same_but_translated(english, half, names)[0][0]
    # two names with one translation (a dict would lose a key), or a translation that is another string
    twins = [code.replace("隠れ層2つ", "直線") for code in cells]
    assert "also the translation of" in i18n_names.same_but_translated(english, twins, names)[0][0]
    clash = [code.replace("浅い谷", "upper right") for code in cells]
    assert "another string of the notebook" in i18n_names.same_but_translated(english, clash, names)[0][0]
    # a string that is no name may not change
    other = [*cells[:2], cells[2].replace('"upper right"\nax', '"右上"\nax'), *cells[3:]]
    assert "neither a translated literal nor a name" in i18n_names.same_but_translated(english, other, names)[0][0]
    # a printed f-string translated per cell keeps its fields, with the names in them translated
    printed = cells[0].replace(' the loss")', ' 損失")').replace('f"{runs', 'f"損失: {runs')
    assert i18n_names.same_but_translated(english, [printed, *cells[1:]], names)[0] == []
    wrong = printed.replace("{runs['直線']}", "{runs['隠れ層2つ']}")
    assert i18n_names.same_but_translated(english, [wrong, *cells[1:]], names)[0]


SIBLINGS = [
    'runs = {"unchanged": broken, "bias alone": fixed, "sorted": other}\n'
    'for name, y in [("clean", y_std), ("with outliers", y_bad), ("L2", y_l2)]:\n'
    '    model.train(progress="clean")\n',
    'acts = {"gelu": gelu_model, "selu": selu_model, "leaky slope": leaky}\nlayer = Dense(4, activation="gelu")\n'
    'pairs = [("swish", "first run"), ("elu", "second run")]\nlayers.Activation("selu")\n'
    'plain = {"alpha": 1, "beta": 2}\nrows = [("clean run", "mse"), ("noisy run", "mae")]\n',
]


def test_a_one_word_sibling_of_a_name_in_a_literal_container_is_a_name() -> None:
    names, _why = i18n_names.notebook_names(SIBLINGS)
    # another key of the dict; the same position of another tuple (a displayed keyword does not refuse it)
    assert names == [
        *("unchanged", "bias alone", "clean", "with outliers", "leaky slope"),
        *("first run", "second run", "clean run", "noisy run"),
    ]
    # refused: a string of losslab/ ("sorted"), not three letters ("L2"), an argument of a call elsewhere ("gelu",
    # a keyword's value, and "selu", a positional one), siblings of no name ("alpha", "swish" in the column beside
    # "first run"'s, "mse" beside the names' column)
    assert i18n_names.text_refusal("sorted")
    japanese = {"unchanged": "変更なし", "bias alone": "バイアスのみ", "clean": "きれい", "with outliers": "外れ値あり"}
    cell = i18n_names.translate_code(SIBLINGS[0], {}, japanese)
    assert '{"変更なし": broken, "バイアスのみ": fixed, "sorted": other}' in cell
    assert '[("きれい", y_std), ("外れ値あり", y_bad), ("L2", y_l2)]' in cell and 'progress="きれい"' in cell


@pytest.mark.parametrize(
    ("translated", "why"),
    [('"直線"', None), ("'直線'", None), ('f"直線"', "plain string"), ('"直\'線"', "no quote"), ('""', "not empty"),
     ('"直線 {x}"', "no quote, backslash, brace"), ("直線", "plain string")],
)  # fmt: skip
def test_a_names_translation_is_one_plain_string(translated: str, why: str | None) -> None:
    problem = i18n_names.name_problem('"straight line"', translated)
    assert (problem is None) if why is None else (problem is not None and why in problem), problem


def test_strings_inside_an_f_strings_fields_are_found_by_scanning_its_source() -> None:
    source = "f\"a {d['x y']:.2f} {{not a field}} {g('p q', f'{z}')}\"\n  f'{h[\"k\"]} \"quoted\" text'"
    assert [source[a:b] for a, b in i18n_names.field_strings(source)] == ["'x y'", "'p q'", '"k"']
    code = f"print({source})"
    assert [lit.source for lit in i18n_names.name_occurrences(code, {"x y", "k", "quoted"})] == ["'x y'", '"k"']


def test_labels_an_f_string_makes_in_a_comprehension_for_a_figure_are_displayed() -> None:
    """A bar chart's categories written as a list comprehension and a dict comprehension's keys passed to a call
    (a figure helper's legend) are displayed literals, one English word beside a field being enough; an f-string
    made elsewhere (a key kept in a variable) and a dict comprehension's plain keys are not."""
    code = (
        'ax.bar([f"{name}, outliers" for name in runs], values, label="5% outliers")\n'
        'plots.curves({f"{name}, batch {b}": run for (name, b), run in runs.items()}, "loss")\n'
        'kept = {f"{name}, epoch {e}": run for name, e, run in rows}\n'
        'plots.curves({name: run for name, run in runs.items()}, "loss")\n'
        'print(", ".join(f"{n} runs" for n in counts))\n'
    )
    found = [(lit.kind, lit.source) for lit in i18n_code.cell_literals(code)]
    assert found == [("displayed", 'f"{name}, outliers"'), ("displayed", 'f"{name}, batch {b}"')], found


def test_a_hyphenated_sibling_of_a_name_is_a_name_but_a_quiz_id_is_not() -> None:
    cells = [
        'schedules = {"piecewise constant": a, "one-cycle": b, "cross-entropy": c}\n'
        'quiz.show("ten-classes")\nrows = [("ten-classes", 1), ("one-hot-rows", 2)]\n'
    ]
    names, _why = i18n_names.notebook_names(cells)
    assert names == ["piecewise constant", "one-cycle", "cross-entropy"], names
    assert i18n_names.text_refusal("ten-classes") and i18n_names.text_refusal("one-cycle")  # alone: a quiz id
    assert i18n_names.text_refusal("one-cycle", sibling=True) is None


def test_shown_puts_a_key_of_the_library_in_the_learners_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """losslab.shown: a key the library compares ("too low", "one-hot", "diverging"), as the learner reads it; in
    English, and for a text the catalog does not know, the key itself."""
    import losslab

    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("LOSSLAB_LANG", "en")
    assert [losslab.shown(k) for k in ("too low", "one-hot", "diverging")] == ["too low", "one-hot", "diverging"]
    monkeypatch.setenv("LOSSLAB_LANG", "ja")
    assert [losslab.shown(k) for k in ("too low", "one-hot", "diverging", "diabetes")] == [
        "低すぎる", "ワンホット", "発散", "糖尿病"
    ]  # fmt: skip
    assert losslab.shown("直線") == "直線" and losslab.shown("no such key here") == "no such key here"
