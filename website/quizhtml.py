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


# The page's own words in Japanese (the bank's texts come from its catalog: losslab.quiz.load_bank(chapter, "ja")).
JA = {
    "Several choices are right. Click each choice to see whether it is one of them, and why.": (
        "正しい選択肢は複数あります。選択肢をクリックすると、正しいかどうかとその理由が表示されます。"
    ),
    "One choice is right. Click a choice to see whether it is, and why.": (
        "正しい選択肢は1つです。選択肢をクリックすると、正しいかどうかとその理由が表示されます。"
    ),
    "Right.": "正解です。",
    "Not this one.": "これではありません。",
    "Work out a number, then compare.": "数値を求めてから、答えと比べてください。",
    "Hint": "ヒント",
    "Show the answer": "答えを見る",
    "(answers within {tolerance} count).": "(誤差 {tolerance} 以内なら正解)。",
    "Quiz: {title}": "クイズ: {title}",
    "On this page the quiz needs no kernel: click a choice to reveal its explanation. In the notebook, the same "
    "questions are widgets that keep your progress.": (
        "このページのクイズはカーネルなしで動きます。選択肢をクリックすると解説が表示されます。ノートブックでは、"
        "同じ問題が進捗を記録するウィジェットとして表示されます。"
    ),
}


def words(text: str, lang: str = "en") -> str:
    """The page's `text` in `lang` (English as written)."""
    return JA.get(text, text) if lang == "ja" else text


def question_html(chapter: str, question: losslab.quiz.Question, number: int, lang: str = "en") -> str:
    """One question as a <section>: prompt, then one <details> per choice (or the answer of a numeric one)."""
    qid = f"quiz-{chapter}-{question.id}"
    parts = [
        f'<section class="losslab-question" id="{escape(qid)}" data-kind="{escape(question.kind)}">',
        f'<p class="losslab-prompt"><b>Q{number}.</b> {markdown_html(question.prompt)}</p>',
    ]
    if question.kind == "multiple":
        several = "Several choices are right. Click each choice to see whether it is one of them, and why."
        parts.append(f'<p class="losslab-instructions"><i>{words(several, lang)}</i></p>')
    elif question.kind == "single":
        one = "One choice is right. Click a choice to see whether it is, and why."
        parts.append(f'<p class="losslab-instructions"><i>{words(one, lang)}</i></p>')
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i, choice in enumerate(display_order(question)):
        verdict = (
            f'<b class="losslab-right">✔ {words("Right.", lang)}</b>'
            if choice.correct
            else f'<b class="losslab-wrong">✘ {words("Not this one.", lang)}</b>'
        )
        parts.append(
            f'<details class="losslab-choice" data-correct="{str(choice.correct).lower()}">'
            f"<summary>{letters[i]}) {markdown_html(choice.text)}</summary>"
            f'<div class="losslab-explanation">{verdict} {markdown_html(choice.explanation)}</div></details>'
        )
    if question.kind == "numeric":
        unit = f" {escape(question.unit)}" if question.unit else ""
        parts.append(f'<p class="losslab-instructions"><i>{words("Work out a number, then compare.", lang)}</i></p>')
        if question.hint:
            parts.append(
                f'<details class="losslab-hint"><summary>{words("Hint", lang)}</summary>'
                f'<div class="losslab-explanation">{markdown_html(question.hint)}</div></details>'
            )
        within = words("(answers within {tolerance} count).", lang).format(tolerance=f"{question.tolerance:g}")
        parts.append(
            f'<details class="losslab-answer"><summary>{words("Show the answer", lang)}</summary>'
            f'<div class="losslab-explanation"><b>{question.answer:g}{unit}</b> {within} '
            f"{markdown_html(question.explanation)}</div></details>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def quiz_html(chapter: str, question_ids: Sequence[str] | None = None, lang: str = "en") -> str:
    """The chapter's quiz (or the questions named) as one static HTML block, in `lang` (a Japanese page: the bank's
    Japanese texts, the same choices in the same order)."""
    bank = losslab.quiz.load_bank(chapter, lang) if lang != "en" else losslab.quiz.load_bank(chapter)
    questions = [bank[q] for q in question_ids] if question_ids else list(bank.questions)
    body = "\n".join(question_html(chapter, q, i, lang) for i, q in enumerate(questions, start=1))
    note = (
        "On this page the quiz needs no kernel: click a choice to reveal its explanation. In the notebook, the same "
        "questions are widgets that keep your progress."
    )
    return (
        f'<div class="losslab-quiz mathjax_process" data-chapter="{escape(chapter)}">\n'
        f"<h3>{escape(words('Quiz: {title}', lang).format(title=bank.title))}</h3>\n"
        f'<p class="losslab-note">{words(note, lang)}</p>\n'
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
