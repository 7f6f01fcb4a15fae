"""Lettered answers typed on a Japanese keyboard read as the English letter, in the cells a kernel runs.

An exercise asks for a letter: ``first_loss_diagnosis = "b"``. A learner of the Japanese edition may type it in
full width (``"ｂ"``, ``"Ｂ"``), with Japanese quotes inside the string (``"「b」"``) or with full-width spaces;
the exercise's own visible test (``.strip().lower() in {"a", "b", "c", "d"}``) and the hidden checks must accept
it as they accept ``"b"``. ``install()`` (called by ``losslab.quiet()``, the first cell of every exercise) adds
an IPython input transformer that rewrites such a string literal to its one ASCII letter (NFKC normalization,
then quotes and spaces stripped) before the cell runs, in the learner's kernel and in the grader's alike. Any
other string is left exactly as typed; an all-ASCII cell is not even tokenized. The graders' own parser
(``losslab.grading.core.as_text``) normalizes the same way.
"""

from __future__ import annotations

import ast
import io
import tokenize
import unicodedata
from typing import Any

QUOTES = "「」『』“”‘’\"'"


def normalize_letter(text: str) -> str:
    """``"ｂ"``, ``"「Ｂ」"`` or ``"\u3000b"`` as its ASCII letter; any other text unchanged."""
    normal = unicodedata.normalize("NFKC", text).strip().strip(QUOTES + " ").strip()
    return normal if len(normal) == 1 and normal.isascii() and normal.isalpha() else text


def normalize_answers(lines: list[str]) -> list[str]:
    """An IPython ``input_transformers_post`` step: the cell's lines, lettered answers in ASCII."""
    source = "".join(lines)
    if source.isascii():
        return lines
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return lines  # let Python report the learner's syntax error as it is
    rows = source.splitlines(keepends=True)
    edits = []
    for token in tokens:
        if token.type != tokenize.STRING or token.start[0] != token.end[0]:
            continue
        try:
            value = ast.literal_eval(token.string)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, str) and normalize_letter(value) != value:
            edits.append((token.start, token.end, repr(normalize_letter(value))))
    for (row, start), (_, end), text in reversed(edits):
        line = rows[row - 1]
        rows[row - 1] = line[:start] + text + line[end:]
    return rows if edits else lines


def install(shell: Any = None) -> None:
    """Register ``normalize_answers`` with `shell` or the running IPython (once); nothing outside IPython. The
    grader's kernel guard installs it before it snapshots the shell (autograder/kernel_guard.py)."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is not None and normalize_answers not in shell.input_transformers_post:
        shell.input_transformers_post.append(normalize_answers)
