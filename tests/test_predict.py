"""Predict, then run: the widget driven without a browser, the text fallback, and the comparison."""

from __future__ import annotations

import pytest

from losslab import notebooks, predict
from tests.support import SOLUTIONS

OPTIONS = ["SGD", "momentum", "Nesterov", "RMSprop", "Adam"]
QUESTION = "After 20 epochs, which optimizer's training loss is lowest?"


def test_neutral_order_is_a_fixed_permutation_that_depends_on_the_question() -> None:
    order = predict.neutral_order(QUESTION, OPTIONS)
    assert sorted(order) == sorted(OPTIONS)
    assert order == predict.neutral_order(QUESTION, OPTIONS), "the order must not change between runs"
    orders = {tuple(predict.neutral_order(f"question {i}", OPTIONS)) for i in range(20)}
    assert len(orders) > 5, "the shuffle should depend on the question"
    firsts = {order[0] for order in orders}
    assert len(firsts) >= 3, "the first option should not always be the same one"


def test_given_order_is_kept() -> None:
    rates = ["0.05", "0.2", "0.9", "1.1"]
    assert predict.Prediction("Which diverge?", rates, order="given", widget=False).options == rates


@pytest.mark.parametrize(
    "options, order, problem",
    [
        (["only one"], "shuffle", "at least two"),
        (["a", "a"], "shuffle", "differ"),
        (["a", "b"], "alphabetical", "order must be"),
    ],
)
def test_bad_questions_are_refused_with_a_clear_message(options: list[str], order: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        predict.Prediction("q?", options, order=order, widget=False)


def test_no_prediction_still_shows_what_the_run_measured(capsys: pytest.CaptureFixture[str]) -> None:
    guess = predict.Prediction(QUESTION, OPTIONS, widget=False)
    outcome = guess.compare("Adam", {name: float(i) for i, name in enumerate(OPTIONS)}, what="final loss")
    out = capsys.readouterr()
    assert predict.NO_PREDICTION in out.out and "Measured:  Adam" in out.out and "final loss" in out.out
    assert out.err == "", "nbgrader and the notebook tests treat stderr as an alarm"
    assert outcome.made is False and outcome.matched is None


def test_a_prediction_made_in_code_is_compared_with_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    right = predict.Prediction(QUESTION, OPTIONS, widget=False).choose("momentum")
    assert right.compare("momentum").matched is True
    wrong = predict.Prediction(QUESTION, OPTIONS, widget=False).choose("SGD")
    outcome = wrong.compare("momentum")
    assert outcome.matched is False
    text = capsys.readouterr().out
    assert "Predicted: SGD" in text and "differs" in text
    with pytest.raises(ValueError, match="before the run"):
        wrong.choose("Adam")


def test_multiple_answers_match_only_as_a_set() -> None:
    rates = ["0.05", "0.2", "0.9", "1.1"]
    exact = predict.Prediction("Which diverge?", rates, multiple=True, order="given", widget=False)
    assert exact.choose("1.1").compare(["1.1"]).matched is True
    too_many = predict.Prediction("Which diverge?", rates, multiple=True, order="given", widget=False)
    assert too_many.choose("0.9", "1.1").compare(["1.1"]).matched is False
    single = predict.Prediction("Which one?", rates, widget=False)
    with pytest.raises(ValueError, match="one answer"):
        single.choose("0.9", "1.1")
    with pytest.raises(ValueError, match="one answer"):
        single.compare(["0.9", "1.1"])


def test_unknown_options_are_refused() -> None:
    guess = predict.Prediction(QUESTION, OPTIONS, widget=False)
    with pytest.raises(ValueError, match="not one of the options"):
        guess.choose("Adagrad")
    with pytest.raises(ValueError, match="not among the options"):
        guess.compare("Adagrad")


def test_widget_prediction_is_read_and_locked_after_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    guess = predict.Prediction(QUESTION, OPTIONS, widget=True)
    assert guess.prediction == frozenset()
    guess._choice.value = "RMSprop"  # what a click in the front-end does
    outcome = guess.compare("Adam", {"Adam": 0.01, "RMSprop": 0.02})
    assert outcome.prediction == frozenset({"RMSprop"}) and outcome.matched is False
    assert guess._choice.disabled, "after the run the prediction can no longer change"
    assert "Predicted: RMSprop" in capsys.readouterr().out


def test_widget_without_a_choice_does_not_lock_and_does_not_fail() -> None:
    guess = predict.Prediction(QUESTION, OPTIONS, widget=True)
    assert guess.compare("Adam").made is False
    assert not guess._choice.disabled, "a learner who has not chosen yet may still choose and run again"


def test_multiple_choice_widget_and_text_rendering() -> None:
    rates = ["0.05", "0.2", "0.9", "1.1"]
    guess = predict.Prediction("Which diverge?", rates, multiple=True, order="given", widget=True)
    guess.choose("1.1", "0.9")
    assert [box.value for box in guess._boxes] == [False, False, True, True]
    assert guess.prediction == frozenset({"0.9", "1.1"})
    bundle = guess._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "a) 0.05" in bundle["text/plain"] and "<pre>" in bundle["text/html"]


def test_nan_values_are_shown_as_nan(capsys: pytest.CaptureFixture[str]) -> None:
    guess = predict.Prediction("Which run ends lowest?", ["a", "b"], widget=False)
    guess.compare("a", {"a": 0.5, "b": float("nan")})
    assert "nan" in capsys.readouterr().out


CHAPTERS = ["01_losses", "02_optimizers", "03_learning_rates", "04_debugging"]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_has_three_predict_then_run_experiments(chapter: str) -> None:
    """Each ask() in a tutorial is answered by a compare() on the same name, after it, from the run."""
    asked, compared = [], []
    for path in sorted((SOLUTIONS / chapter).glob("*_tutorial.ipynb")):
        for cell in notebooks.read(path).cells:
            if cell.cell_type != "code":
                continue
            for line in cell.source.splitlines():
                if "predict.ask(" in line and "=" in line.split("predict.ask(")[0]:
                    asked.append(line.split("=")[0].strip())
                for name in asked:
                    if f"{name}.compare(" in line and name not in compared:
                        compared.append(name)
    assert len(asked) >= 3, f"{chapter}: {len(asked)} predictions, at least 3 wanted ({asked})"
    assert sorted(asked) == sorted(compared), f"{chapter}: asked {asked} but compared {compared}"


def test_compare_never_receives_a_hard_coded_outcome() -> None:
    """The measured option passed to compare() must come from a name (the run), not a string literal."""
    for path in sorted(SOLUTIONS.glob("0[1-4]_*/*_tutorial.ipynb")):
        for cell in notebooks.read(path).cells:
            for line in cell.source.splitlines():
                if ".compare(" in line and "predict" not in line and "clinic" not in line:
                    argument = line.split(".compare(", 1)[1].lstrip()
                    assert not argument.startswith(("'", '"')), f"{path.name}: hard-coded outcome in {line!r}"


def test_an_outcome_as_the_last_line_of_a_cell_shows_nothing_more() -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    outcome = predict.Prediction("q?", ["a", "b"], widget=False).compare("a")
    formatted, _metadata = shell.display_formatter.format(outcome)
    assert formatted == {}, "the comparison was printed once; the cell should not show the Outcome's repr too"
