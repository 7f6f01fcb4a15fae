"""Translations of the sentences a code cell prints: the string literals of its ``print(...)`` calls.

The code of a notebook exists once, in English, under solutions/. What a learner reads of it when it runs is mostly
printed by the library (gettext, losslab/messages.py) but partly by the cell itself: ``print(f"after {n} epochs the
loss is {loss:.3f}")``. Such a literal is stored in the notebook's catalogue like a markdown block, against the
cell's id and a hash of the literal's source, and the translated edition replaces the literal's source with its
translation, another literal of the same kind::

    - cell: 5c1d2e3f
      en: 8a7b6c5d4e
      source: |
        f"after {n} epochs the loss is {loss:.3f}"
      text: |
        f"{n} エポック後の損失は {loss:.3f}"

What is translated: a string literal (or f-string) with an English phrase in it (two words in a row) that is an
argument of ``print``, alone or through ``+``, ``%``, a conditional expression or a string method (``.format``,
``.join``), with the other branch of a conditional whose one branch is such a phrase (``"lowered" if ... else
"did not lower"``); and a prediction question written as an f-string (``predict.ask(f"...", options)``), which gettext
cannot look up. Not translated: a literal used as a key or compared (``results["with momentum"]``), passed to another
function (a plot's label stays English: docs/i18n.md, Plots), or in a cell that nbgrader grades or locks (its
checksum and hidden tests are the English ones).

A translation is refused unless it is a literal of the same kind that formats the same values: an f-string's
``{...}`` expressions are the same expressions, with the same conversion and format; a plain string's ``{...}``
fields and ``%`` conversions are the same. So the translated cell computes exactly what the English one computes,
and only the printed words differ; that is why the Japanese edition is not executed again.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

PHRASE = re.compile(r"[A-Za-z]{2,}[ ,:;()'/-]+[A-Za-z]{2,}")  # two English words in a row
_STRING_METHODS = frozenset({"format", "join", "ljust", "rjust", "center", "strip", "upper", "lower", "capitalize"})
_FIELD = re.compile(r"(?<!\{)\{[^{}]*\}(?!\})")
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
_MAGIC = re.compile(r"^\s*[%!]")


@dataclass(frozen=True)
class Literal:
    """A printed literal of a code cell: its source text and where it stands in the cell (character offsets)."""

    start: int
    end: int
    source: str


def _parse(code: str) -> ast.Module | None:
    """The cell's syntax tree, IPython's magic and shell lines blanked (offsets kept); None when it does not parse."""
    lines = code.split("\n")
    clean = "\n".join(" " * len(line) if _MAGIC.match(line) else line for line in lines)
    try:
        return ast.parse(clean)
    except SyntaxError:
        return None


def _words(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))  # type: ignore[attr-defined]


def _is_string(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _printed(node: ast.expr) -> Iterator[ast.expr]:
    """The string literals whose text `node`, an argument of print, prints as it is."""
    if _is_string(node):
        yield node
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        yield from _printed(node.left)
        yield from _printed(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _printed(node.body)
        yield from _printed(node.orelse)
    elif isinstance(node, ast.Tuple | ast.List):  # "%s: %s" % ("a", b)
        for element in node.elts:
            yield from _printed(element)
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _STRING_METHODS
        and _is_string(node.func.value)
    ):
        yield node.func.value
        for arg in node.args:
            yield from _printed(arg)
        for keyword in node.keywords:
            yield from _printed(keyword.value)


def printed_literals(code: str, english: bool = True) -> list[Literal]:
    """Every literal of `code` that a ``print`` call prints and, with `english`, that holds an English phrase (the
    ones a catalogue translates), in order."""
    tree = _parse(code)
    if tree is None:
        return []
    lines = code.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(lineno: int, col: int) -> int:  # ast's columns count UTF-8 bytes
        line = lines[lineno - 1]
        return starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8"))

    found: dict[int, Literal] = {}
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        if isinstance(call.func, ast.Name) and call.func.id == "print":
            shown = list(call.args)
        elif isinstance(call.func, ast.Attribute) and call.func.attr == "ask" and call.args:
            # a prediction question built with an f-string (``predict.ask(f"... {EPOCHS} epochs ...", options)``):
            # a literal question goes through gettext (losslab/predict.py); the options are keys, never translated
            shown = [call.args[0]] if isinstance(call.args[0], ast.JoinedStr) else []
        else:
            continue
        for arg in shown:
            nodes = list(_printed(arg))
            paired = {  # "lowered" if ... else "did not lower": a single word beside a phrase is translated too
                id(branch)
                for choice in ast.walk(arg)
                if isinstance(choice, ast.IfExp) and _is_string(choice.body) and _is_string(choice.orelse)
                if any(PHRASE.search(_words(b)) for b in (choice.body, choice.orelse))
                for branch in (choice.body, choice.orelse)
                if re.search("[A-Za-z]", _words(branch))
            }
            for node in nodes:
                if english and not PHRASE.search(_words(node)) and id(node) not in paired:
                    continue
                start = offset(node.lineno, node.col_offset)
                end = offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
                found[start] = Literal(start, end, code[start:end])
    return [found[k] for k in sorted(found)]


def _fields(source: str) -> tuple[str, list[str]] | None:
    """A literal's kind and what it formats: the dumps of an f-string's expressions, or a plain string's
    ``{}`` fields and ``%`` conversions; None when `source` is not one string literal."""
    try:
        node = ast.parse(f"(\n{source.strip()}\n)", mode="eval").body  # parentheses: a literal cut over lines
    except SyntaxError:
        return None
    if isinstance(node, ast.JoinedStr):
        return "f-string", sorted(ast.dump(v) for v in node.values if isinstance(v, ast.FormattedValue))
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        fields = _FIELD.findall(node.value) + _PERCENT.findall(node.value)
        positional = any(re.match(r"\{[:!}]|%[^(]", f) for f in fields)  # "{}" and "%s" take values in order
        return "string", fields if positional else sorted(fields)
    return None


def translation_problem(english: str, translated: str) -> str | None:
    """Why `translated` cannot replace the literal `english` (None when it can)."""
    mine, theirs = _fields(english), _fields(translated)
    if theirs is None:
        return "the translation is not one string literal: keep the quotes and the f prefix of the English"
    if mine is None or mine[0] != theirs[0]:
        return f"the English is {mine[0] if mine else 'no literal'}, the translation a {theirs[0]}: keep its kind"
    if mine[1] != theirs[1]:
        return (
            "the translation formats other values than the English: keep every {...} and % field as it is "
            "(a {} or %s without a name takes its value by position: keep those in the English order)"
        )
    return None


def translate_code(code: str, translations: dict[str, str]) -> str:
    """`code` with each printed literal whose source is in `translations` replaced by its translation."""
    out, last = [], 0
    for literal in printed_literals(code):
        text = translations.get(literal.source)
        if text is None:
            continue
        out += [code[last : literal.start], text.strip()]
        last = literal.end
    return "".join(out) + code[last:]


def same_but_printed_words(english: str, translated: str) -> str | None:
    """Why `translated` is not `english` with some printed literals translated (None when it is): every other
    character the same, and each changed literal a valid translation."""
    mine, theirs = printed_literals(english, english=False), printed_literals(translated, english=False)
    if len(mine) != len(theirs):
        return f"{len(mine)} printed literals in the English, {len(theirs)} in the translation"
    for a, b in zip(mine, theirs, strict=True):
        why = a.source != b.source and translation_problem(a.source, b.source)
        if why:
            return f"{b.source!r} for {a.source!r}: {why}"
    if translate_code(english, {a.source: b.source for a, b in zip(mine, theirs, strict=True)}) != translated:
        return "the code differs outside its printed literals"
    return None
