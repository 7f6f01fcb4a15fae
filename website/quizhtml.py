"""Static HTML for a chapter's quiz, from the same banks the widgets use (losslab/quizbank/*.yaml).

A page of the website has no kernel, so each question is shown with its choices, in the order the widgets show
them (``losslab.quiz.display_order`` where it exists), and each choice is a ``<details>`` element: a click on it
reveals whether it is right and its explanation from the bank. A numeric question reveals its answer, tolerance
and explanation, and separately its hint. No script is needed; the page works with JavaScript off.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from html import escape

import losslab.quiz

# MathJax (as Sphinx configures it) reads \( \) inside elements of class "mathjax_process", not $...$.
_DOLLAR_MATH = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")


def markdown_html(text: str, inline: bool = True) -> str:
    """The bank's markdown as HTML (mistune, as the widgets render it), with $math$ written for MathJax."""
    import mistune

    html = mistune.html(_DOLLAR_MATH.sub(r"\\(\1\\)", text)).strip()
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def display_order(question: losslab.quiz.Question) -> list[losslab.quiz.Choice]:
    """The choices in the order the notebook's widgets show them (the bank's order before display_order)."""
    order = getattr(losslab.quiz, "display_order", lambda q: list(q.choices))
    return list(order(question))


def question_html(chapter: str, question: losslab.quiz.Question, number: int) -> str:
    """One question as a <section>: prompt, then one <details> per choice (or the answer of a numeric one)."""
    qid = f"quiz-{chapter}-{question.id}"
    parts = [
        f'<section class="losslab-question" id="{escape(qid)}" data-kind="{escape(question.kind)}">',
        f'<p class="losslab-prompt"><b>Q{number}.</b> {markdown_html(question.prompt)}</p>',
    ]
    if question.kind == "multiple":
        parts.append(
            '<p class="losslab-instructions"><i>Several choices are right. Click each choice to see '
            "whether it is one of them, and why.</i></p>"
        )
    elif question.kind == "single":
        parts.append(
            '<p class="losslab-instructions"><i>One choice is right. Click a choice to see whether it is, '
            "and why.</i></p>"
        )
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i, choice in enumerate(display_order(question)):
        verdict = (
            '<b class="losslab-right">✔ Right.</b>'
            if choice.correct
            else '<b class="losslab-wrong">✘ Not this one.</b>'
        )
        parts.append(
            f'<details class="losslab-choice" data-correct="{str(choice.correct).lower()}">'
            f"<summary>{letters[i]}) {markdown_html(choice.text)}</summary>"
            f'<div class="losslab-explanation">{verdict} {markdown_html(choice.explanation)}</div></details>'
        )
    if question.kind == "numeric":
        unit = f" {escape(question.unit)}" if question.unit else ""
        parts.append('<p class="losslab-instructions"><i>Work out a number, then compare.</i></p>')
        if question.hint:
            parts.append(
                f'<details class="losslab-hint"><summary>Hint</summary>'
                f'<div class="losslab-explanation">{markdown_html(question.hint)}</div></details>'
            )
        parts.append(
            f'<details class="losslab-answer"><summary>Show the answer</summary><div class="losslab-explanation">'
            f"<b>{question.answer:g}{unit}</b> (answers within {question.tolerance:g} count). "
            f"{markdown_html(question.explanation)}</div></details>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def quiz_html(chapter: str, question_ids: Sequence[str] | None = None) -> str:
    """The chapter's quiz (or the questions named) as one static HTML block."""
    bank = losslab.quiz.load_bank(chapter)
    questions = [bank[q] for q in question_ids] if question_ids else list(bank.questions)
    body = "\n".join(question_html(chapter, q, i) for i, q in enumerate(questions, start=1))
    return (
        f'<div class="losslab-quiz mathjax_process" data-chapter="{escape(chapter)}">\n'
        f"<h3>Quiz: {escape(bank.title)}</h3>\n"
        '<p class="losslab-note">On this page the quiz needs no kernel: click a choice to reveal its '
        "explanation. In the notebook, the same questions are widgets that keep your progress.</p>\n"
        f"{body}\n</div>"
    )


def quiz_calls(source: str) -> list[tuple[str, list[str] | None]]:
    """The ``losslab.quiz.show(chapter[, question_ids])`` (or ``quiz.show``) calls in a code cell's source.

    Returns [] for code that does not parse (IPython magics, say) or calls nothing of the kind.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "show"):
            continue
        owner = node.func.value
        if not (
            isinstance(owner, ast.Attribute)
            and owner.attr == "quiz"
            or isinstance(owner, ast.Name)
            and owner.id == "quiz"
        ):
            continue
        args = list(node.args) + [k.value for k in node.keywords]
        try:
            chapter = ast.literal_eval(args[0])
            ids = ast.literal_eval(args[1]) if len(args) > 1 else None
        except (ValueError, IndexError) as exc:
            raise ValueError(
                f"a quiz.show call the website cannot read statically: {ast.unparse(node)}; "
                "give the chapter (and question ids) as literals"
            ) from exc
        calls.append((chapter, list(ids) if ids else None))
    return calls
