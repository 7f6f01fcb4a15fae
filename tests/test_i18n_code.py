"""losslab/i18n_code.py: which literals of a code cell are translated, and which translations are refused."""

from __future__ import annotations

import pytest

from losslab import i18n_code

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
    out = i18n_code.translate_code(code, {'"after some epochs"': '"数エポック後"', 'f"after {n} epochs"': 'f"{n} 後"'})
    assert out == 'print(f"{n} 後")\nprint(results["after some epochs"], "数エポック後")\n'
    assert i18n_code.same_but_printed_words(code, out) is None
    assert "outside its printed literals" in i18n_code.same_but_printed_words(code, out.replace("results", "other"))
    assert "other values" in i18n_code.same_but_printed_words(code, out.replace("{n} 後", "後"))
    assert "printed literals" in i18n_code.same_but_printed_words(code, out + 'print("one more line")\n')
