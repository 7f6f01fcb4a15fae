"""Translations of the sentences a code cell prints or displays: the string literals of its ``print(...)`` calls,
plot labels, progress descriptions and Markdown texts.

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
"did not lower"``); a prediction question written as an f-string (``predict.ask(f"...", options)``), which gettext
cannot look up (``printed``); and the same at a place where a cell displays a text: a plot's title or label, a
progress bar's description, a ``Markdown`` or ``HTML`` text, an f-string label a comprehension makes there
(``displayed``: ``DISPLAY_KEYWORDS``, ``DISPLAY_CALLS``, ``_made_labels``). Not translated here: a literal used
as a key or kept in a variable (a tutorial's names, translated at every occurrence: losslab/i18n_names.py), or in
a cell that nbgrader grades or locks (its checksum and hidden tests are the English ones).

A translation is refused unless it is a literal of the same kind that formats the same values: an f-string's
``{...}`` expressions are the same expressions, with the same conversion and format; a plain string's ``{...}``
fields and ``%`` conversions are the same. So the translated cell computes exactly what the English one computes,
and only the printed words differ; that is why the Japanese edition is not executed again.
"""

from __future__ import annotations

import ast
import copy
import functools
import html
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from losslab.messages import PHRASE

_STRING_METHODS = frozenset({"format", "join", "ljust", "rjust", "center", "strip", "upper", "lower", "capitalize"})
_FIELD = re.compile(r"(?<!\{)\{[^{}]*\}(?!\})")
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
_MAGIC = re.compile(r"^\s*[%!]")


@dataclass(frozen=True)
class Literal:
    """A translated literal of a code cell: its source text, where it stands in the cell (character offsets), and
    its kind: ``printed`` (an argument of ``print``) or ``displayed`` (a plot's label, a progress bar's
    description, a ``Markdown``/``HTML`` text: ``DISPLAY_KEYWORDS``, ``DISPLAY_CALLS``)."""

    start: int
    end: int
    source: str
    kind: str = "printed"


# where a code cell shows a text other than through print: keyword arguments of any call, and positional
# arguments of these calls (by name: a method or a function; the argument's position)
DISPLAY_KEYWORDS = frozenset({"title", "xlabel", "ylabel", "label", "suptitle", "progress", "description"})
DISPLAY_CALLS = {
    "set_title": 0, "set_xlabel": 0, "set_ylabel": 0, "suptitle": 0, "title": 0, "xlabel": 0, "ylabel": 0,
    "annotate": 0, "text": 2, "track": 1, "EpochProgress": 0, "Markdown": 0, "HTML": 0, "bar": 0, "barh": 0,
}  # fmt: skip
PREDICTION_CALLS = frozenset({"ask", "compare", "choose"})  # their arguments are gettext's (options are keys)
FIGURE_HELPERS = frozenset({"clinic"})  # a module whose compare() draws a figure: no prediction's


def is_prediction(call: ast.Call) -> bool:
    """Whether `call` is the predict-then-run widget's (``predict.ask``, ``guess.compare``, ``guess.choose``)."""
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr in PREDICTION_CALLS
        and not (isinstance(func.value, ast.Name) and func.value.id in FIGURE_HELPERS)
    )


def _parse(code: str) -> ast.Module | None:
    """The cell's syntax tree, IPython's magic and shell lines blanked (offsets kept); None when it does not parse."""
    lines = code.split("\n")
    clean = "\n".join(" " * len(line) if _MAGIC.match(line) else line for line in lines)
    try:
        return ast.parse(clean)
    except SyntaxError:
        return None


def _offsets(code: str):  # (lineno, col) -> character offset
    lines = code.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def offset(lineno: int, col: int) -> int:  # ast's columns count UTF-8 bytes
        line = lines[lineno - 1]
        return starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8"))

    return offset


def span(code: str, node: ast.AST, offset=None) -> tuple[int, int]:
    """A node's (start, end) character offsets in `code`."""
    offset = offset or _offsets(code)
    return offset(node.lineno, node.col_offset), offset(node.end_lineno or node.lineno, node.end_col_offset or 0)


def _words(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))  # type: ignore[attr-defined]


def _is_string(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _printed(node: ast.expr) -> Iterator[ast.expr]:
    """The string literals whose text `node`, an argument of print (or a displayed text), shows as it is."""
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


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _sites(tree: ast.AST) -> Iterator[tuple[ast.expr, str]]:
    """Every argument whose text a cell shows, and how: ``printed`` (``print``'s arguments, an f-string question
    of ``predict.ask``) or ``displayed`` (``DISPLAY_KEYWORDS`` of any call but a prediction's, the argument of
    ``DISPLAY_CALLS`` at its position), or ``made`` (displayed: ``_made_labels``, one English word is enough)."""
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        name = _callee(call)
        if isinstance(call.func, ast.Name) and name == "print":
            yield from ((arg, "printed") for arg in call.args)
        elif name == "ask" and call.args and isinstance(call.func, ast.Attribute):
            # a prediction question built with an f-string (``predict.ask(f"... {EPOCHS} epochs ...", options)``):
            # a literal question goes through gettext (losslab/predict.py); the options are keys, never translated
            if isinstance(call.args[0], ast.JoinedStr):
                yield call.args[0], "printed"
        elif not is_prediction(call):
            position = DISPLAY_CALLS.get(name)
            if position is not None and len(call.args) > position and not isinstance(call.args[position], ast.ListComp):
                yield call.args[position], "displayed"
            yield from ((k.value, "displayed") for k in call.keywords if k.arg in DISPLAY_KEYWORDS)
            yield from ((label, "made") for label in _made_labels(call))


def _made_labels(call: ast.Call) -> Iterator[ast.JoinedStr]:
    """The f-strings that make, for this call alone, the labels it draws: the element of a list comprehension at a
    ``DISPLAY_CALLS`` position (``ax.bar([f"{name}, outliers" for name in runs], ...)``), the key of a dict
    comprehension that is an argument (``plots.curves({f"{name}, batch {b}": run for ...})``: a legend). One
    English word beside a field is enough for them to be translated."""
    position = DISPLAY_CALLS.get(_callee(call))
    listed = call.args[position:][:1] if position is not None else []
    yield from (a.elt for a in listed if isinstance(a, ast.ListComp) and isinstance(a.elt, ast.JoinedStr))
    arguments = [*call.args, *(k.value for k in call.keywords)]
    yield from (a.key for a in arguments if isinstance(a, ast.DictComp) and isinstance(a.key, ast.JoinedStr))


def cell_literals(code: str, english: bool = True, names: Collection[str] = ()) -> list[Literal]:
    """Every literal of `code` that a ``print`` prints or that the cell displays (``_sites``) and, with `english`,
    that holds an English phrase (the ones a catalogue translates per cell), in order. A plain string whose text
    is one of `names` (the notebook's names, losslab/i18n_names.py) is a name there, not a literal of the cell."""
    tree = _parse(code)
    if tree is None:
        return []
    offset = _offsets(code)
    found: dict[int, Literal] = {}
    for arg, kind in _sites(tree):
        made = kind == "made" and re.search("[A-Za-z]{3,}", _words(arg))
        kind = "displayed" if kind == "made" else kind
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
            if english and not made and not PHRASE.search(_words(node)) and id(node) not in paired:
                continue
            if isinstance(node, ast.Constant) and node.value in names:
                continue
            start, end = span(code, node, offset)
            if start not in found or kind == "printed":
                found[start] = Literal(start, end, code[start:end], kind)
    return [found[k] for k in sorted(found)]


def printed_literals(code: str, english: bool = True, names: Collection[str] = ()) -> list[Literal]:
    """The literals of `code` that a ``print`` prints (``cell_literals`` of the kind ``printed``)."""
    return [lit for lit in cell_literals(code, english, names) if lit.kind == "printed"]


def _outer_strings(node: ast.AST) -> Iterator[ast.expr]:
    """The string literals under `node` that are no part of another (found by the tree, not by positions: those
    of an f-string's inner nodes can be wrong in Python 3.11)."""
    for child in ast.iter_child_nodes(node):
        if _is_string(child):
            yield child  # type: ignore[misc]
        else:
            yield from _outer_strings(child)


def top_literals(code: str) -> list[Literal]:
    """Every string literal of `code` that is no part of another (an f-string's field holds its own), in order;
    [] when the code does not parse. A translated cell has as many, in the same order, and the same code between
    them: that is how a cell is paired with its translation."""
    tree = _parse(code)
    if tree is None:
        return []
    offset = _offsets(code)
    spans = sorted({span(code, n, offset) for n in _outer_strings(tree)})
    return [Literal(start, end, code[start:end], "top") for start, end in spans]


def paired_literals(english: str, translated: str, names: Collection[str] = ()) -> list[tuple[Literal, Literal]]:
    """Each printed or displayed literal of `english` (``cell_literals``, English or not, `names` left out) with
    the literal at its place in `translated` (``top_literals``: the same code between them); [] when the two do not
    hold as many literals."""
    mine, theirs = top_literals(english), top_literals(translated)
    if len(mine) != len(theirs):
        return []
    at = {lit.start: i for i, lit in enumerate(mine)}
    return [(lit, theirs[at[lit.start]]) for lit in cell_literals(english, False, names) if lit.start in at]


class _Rename(ast.NodeTransformer):
    """A syntax tree with each plain string whose text is a key of `names` replaced by its value."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:  # ast's name
        if isinstance(node.value, str) and node.value in self.names:
            return ast.Constant(self.names[node.value])
        return node


def _dump(node: ast.AST, names: dict[str, str] | None = None) -> str:
    return ast.dump(_Rename(names).visit(copy.deepcopy(node)) if names else node)


def _fields(source: str, names: dict[str, str] | None = None) -> tuple[str, list[str]] | None:
    """A literal's kind and what it formats: the dumps of an f-string's expressions (with the names of `names`
    translated), or a plain string's ``{}`` fields and ``%`` conversions; None when `source` is not one string
    literal."""
    try:
        node = ast.parse(f"(\n{source.strip()}\n)", mode="eval").body  # parentheses: a literal cut over lines
    except SyntaxError:
        return None
    if isinstance(node, ast.JoinedStr):
        return "f-string", sorted(_dump(v, names) for v in node.values if isinstance(v, ast.FormattedValue))
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        fields = _FIELD.findall(node.value) + _PERCENT.findall(node.value)
        positional = any(re.match(r"\{[:!}]|%[^(]", f) for f in fields)  # "{}" and "%s" take values in order
        return "string", fields if positional else sorted(fields)
    return None


def translation_problem(english: str, translated: str, names: dict[str, str] | None = None) -> str | None:
    """Why `translated` cannot replace the literal `english` (None when it can). With `names`, the translation's
    fields hold those names translated (as the translated edition's code does)."""
    mine, theirs = _fields(english, names), _fields(translated)
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


# ------------------------------------------------------------------------------------------ a run's outputs
# The translated edition's page shows the English run's outputs (the website: website/build.py), with what that run
# printed in the words the translated edition prints: each printed literal of the cell (its English text turned
# into a pattern, its translation filled with what the pattern captured), then the library's gettext messages.
_TOKEN = re.compile("\ue000(\\d+)\ue001")  # a span left as it is (code), put back once the text is translated
_CALL = re.compile(r"[A-Za-z_][\w.]*\([^()\n]*\)")  # guess.choose('an option'): code, whose quoted keys stay
_WORD = re.compile(r"[A-Za-z]{2,}")
_NUMBER = r"[-+]?(?:(?:\d[\d,_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?%?|nan|inf)"
_WIDTH = re.compile(r"^(?:.?[<>=^])?[-+ ]?#?0?[1-9]")  # a format spec with a width: the value is padded
_PERCENT_FIELD = re.compile(r"%%|%(?:\(([^)]+)\))?[-+#0]*(\d+)?(?:\.\d+)?([diouxXeEfFgGcrsa])")
_NUMERIC = frozenset("deEfFgGn%")
_TEXT = r"(?:(?!; )[^\n])*"  # a field's text: on one line, within one clause ("a; b" are two)


@dataclass(frozen=True)
class Field:
    """A replacement field of a literal or message: the key that pairs it with its translation's field (an
    f-string's expression, a field's name, or its position), whether what it formats is a number, and whether
    it is padded to a width."""

    key: str
    number: bool = False
    padded: bool = False

    @staticmethod
    def of(key: str, spec: str, conversion: str = "") -> Field:
        """The field `key` formatted by `spec` (``.3f``, ``>8``) after `conversion` (``r``, ``s``, or none)."""
        return Field(key, not conversion and spec[-1:] in _NUMERIC, bool(_WIDTH.match(spec)))


Shape = list[str | Field]  # constant text and fields, in order


def _brace_shape(text: str) -> Shape | None:
    """``str.format``'s fields of `text` (None when it is no valid format string)."""
    import string

    shape: Shape = []
    auto = 0
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return None
    for constant, name, spec, conversion in parsed:
        if constant:
            shape.append(constant)
        if name is None:
            continue
        if name == "":
            name, auto = str(auto), auto + 1
        if "{" in (spec or ""):  # a nested field ({x:{width}}): the value is text of any width
            spec = ""
        shape.append(Field.of(name, spec or "", conversion or ""))
    return shape


def _percent_shape(text: str) -> Shape:
    """The ``%`` conversions of `text` (a literal that is the left operand of ``%``)."""
    shape: Shape = []
    last, position = 0, 0
    for match in _PERCENT_FIELD.finditer(text):
        shape.append(text[last : match.start()])
        last = match.end()
        if match.group(0) == "%%":
            shape.append("%")
            continue
        name = match.group(1)
        if name is None:
            name, position = str(position), position + 1
        number = match.group(3) in "diueEfFgG"
        shape.append(Field(name, number, match.group(2) is not None))
    shape.append(text[last:])
    return [s for s in shape if s != ""]


def _literal_shape(source: str, after: str = "", names: dict[str, str] | None = None) -> Shape | None:
    """What a printed literal prints: its constant text and its fields. An f-string's fields are its expressions;
    a plain string's are its ``{}`` fields when ``.format`` follows it (`after`: the code after the literal), its
    ``%`` conversions when ``%`` does, else none; `names` (text: text) renamed in an f-string's fields, so that a
    translation's field has its English key. None when `source` is not one string literal."""
    try:
        node = ast.parse(f"(\n{source.strip()}\n)", mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.JoinedStr):
        shape: Shape = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                shape.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                spec = value.format_spec
                text = _words(spec) if isinstance(spec, ast.JoinedStr) and len(spec.values) == 1 else ""
                shape.append(Field.of(_dump(value, names), text, "" if value.conversion == -1 else "r"))
        return shape
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None
    if re.match(r"\s*\.format\(", after):
        return _brace_shape(node.value)
    if re.match(r"\s*%", after):
        return _percent_shape(node.value)
    return [node.value] if node.value else []


@dataclass(frozen=True)
class OutputPattern:
    """An English text as it shows in an output (a regular expression, its fields captured) and its translation
    (constant text and the fields to fill with what was captured)."""

    regex: re.Pattern[str]
    groups: tuple[str, ...]  # the key of each group, in order
    translation: tuple[str | Field, ...]
    anchor: str  # the longest constant piece of the English: a quick test before the regular expression
    size: int  # the length of the English's constant text: the longest patterns are tried first

    def fill(self, match: re.Match[str]) -> str:
        """The translation of what `match` (of ``regex``) found, with the values it captured."""
        values = {key: match.group(f"g{i}") for i, key in enumerate(self.groups)}
        lead = match.groupdict().get("lead") or ""  # the spaces a whole line or a label starts with
        return lead + "".join(p if isinstance(p, str) else values[p.key] for p in self.translation)

    def sub(self, text: str) -> str:
        if self.anchor not in text:
            return text
        return self.regex.sub(self.fill, text)


def _words_in(shape: Shape) -> int:
    return sum(len(_WORD.findall(part)) for part in shape if isinstance(part, str))


def _capture(english: Shape, i: int) -> str:
    """The regular expression of the field `english[i]`: a number (spaces around it when padded); or text on one
    line and within one clause (no '; '), as little as lets the rest match, but: to the end of its clause ('; ',
    ': ', '. ', Japanese punctuation or the line's end) when it ends the English; as much as lets the rest match
    when another field follows it at once, and nothing when it follows one ("{high}{through}": the second is an
    optional suffix, and a run of fields can't be told apart); one word when it follows another field across
    nothing but spaces ("{measure} {value}")."""
    part = english[i]
    assert isinstance(part, Field)
    if part.number:
        return rf"\ *{_NUMBER}\ *" if part.padded else _NUMBER
    if i > 0 and isinstance(english[i - 1], Field):  # the fields of a run can't be told apart: the first takes all
        return ""
    if i == len(english) - 1:
        return r"[^\n]*?(?=[;:.](?:\s|$)|[、。，：；）]|\n|$)"
    if isinstance(english[i + 1], Field):
        return _TEXT
    if i >= 2 and isinstance(english[i - 2], Field) and not str(english[i - 1]).strip(" "):
        return r"\S+"
    return _TEXT + "?"


def output_pattern(
    english: Shape, translated: Shape, whole_line: bool = False, isolated: bool = False
) -> OutputPattern | None:
    """The pattern that finds `english` in an output and writes `translated` in its place; None when the two do
    not format the same values (a field of the translation the English lacks), or when the English has no
    constant text. A field captures what ``_capture`` says; a field the English holds twice must capture the
    same text twice. With `whole_line`, the English must be a whole line (or, when it ends with ':', a label that
    starts a line or a clause: after ';', '。', '、' or a parenthesis); with `isolated`, no English word may come
    right before or after it, one space apart (a message that would be part of another sentence: "at a learning
    rate that")."""
    keys = {p.key for p in english if isinstance(p, Field)}
    constant = "".join(p for p in english if isinstance(p, str))
    if not constant.strip() or any(isinstance(p, Field) and p.key not in keys for p in translated):
        return None
    parts, groups, seen = [], [], {}
    for i, part in enumerate(english):
        if isinstance(part, str):
            parts.append(re.escape(part))
        elif part.key in seen:
            parts.append(f"(?P=g{seen[part.key]})")
        else:
            seen[part.key] = len(groups)
            groups.append(part.key)
            parts.append(f"(?P<g{len(groups) - 1}>{_capture(english, i)})")
    body = "".join(parts)
    starts, ends = isinstance(english[0], str), isinstance(english[-1], str)
    if whole_line and constant.rstrip().endswith(":"):  # a label: at a line's or a clause's start
        body = rf"(?m:(?:^|(?<=[;。、(（]))(?P<lead>[ \t]*)){body}(?m:(?=[ \t]|$))"
    elif whole_line:
        body = rf"(?m:^(?P<lead>[ \t]*)){body}(?m:(?=[ \t]*$))"
    else:  # a text that starts or ends with a word starts or ends at a word's edge
        if starts and re.match(r"\w", english[0]):
            body = (r"(?<![A-Za-z] )" if isolated else "") + r"(?<![A-Za-z0-9_])" + body
        if ends and re.search(r"\w$", english[-1]):
            body += r"(?![A-Za-z0-9_])" + (r"(?! [A-Za-z])" if isolated else "")
    pieces = [p for p in english if isinstance(p, str)]
    return OutputPattern(
        re.compile(body), tuple(groups), tuple(translated), max(pieces, key=len), len(constant.strip())
    )


def cell_patterns(english: str, translated: str, names: dict[str, str] | None = None) -> list[OutputPattern]:
    """The patterns of a code cell's printed and displayed literals: `english` is the cell's code, `translated`
    the translated edition's (the same code but for translated literals and `names`, English: translated, the
    notebook's names: losslab/i18n_names.py), longest first. A literal without an English word, or the same in
    both, has none."""
    back = {v: k for k, v in (names or {}).items()}
    out = []
    for a, b in paired_literals(english, translated, names or ()):
        if a.source == b.source:
            continue
        shape = _literal_shape(a.source, english[a.end :])
        other = _literal_shape(b.source, translated[b.end :], back)
        if shape is None or other is None or not _words_in(shape):
            continue
        pattern = output_pattern(shape, other)
        if pattern is not None:
            out.append(pattern)
    return sorted(out, key=lambda p: -p.size)


def english_phrases(english: str, translated: str, names: dict[str, str] | None = None) -> list[str]:
    """What `translated` (a cell's translated edition) no longer prints of `english`: each constant piece of two
    English words or more of its translated printed literals, but those the translated code still holds. A check
    for translated outputs: none of these should be left where the cell printed it."""
    out: list[str] = []
    for a, b in paired_literals(english, translated, names or ()):
        shape = _literal_shape(a.source, english[a.end :]) if a.source != b.source and a.kind == "printed" else None
        for piece in shape or []:
            text = piece.strip() if isinstance(piece, str) else ""
            if len(_WORD.findall(text)) >= 2 and text not in translated and text not in out:
                out.append(text)
    return out


@functools.cache
def message_patterns(lang: str) -> list[OutputPattern]:
    """The patterns of the library's gettext messages (losslab/messages.py) that `lang` translates, longest first.
    A message is looked for only where it cannot be part of another sentence: one of a single English word must
    be a whole line (or a label that starts a line or a clause: 'Measured:') and has no field; one of more words
    must not follow or precede an English word one space apart; one without an English word is left out."""
    from losslab import messages

    gettext = messages.gettext_for(lang)
    found = (_message_pattern(msgid, gettext(msgid)) for msgid in messages.extract_messages())
    return sorted((p for p in found if p is not None), key=lambda p: -p.size)


def _message_pattern(msgid: str, msgstr: str) -> OutputPattern | None:
    """The pattern of one gettext message and its translation, as ``message_patterns`` says (None: none)."""
    english, translated = _brace_shape(msgid), _brace_shape(msgstr)
    if msgstr == msgid or english is None or translated is None:
        return None
    words, fields = _words_in(english), any(isinstance(p, Field) for p in english)
    if words == 0 or (words == 1 and fields):
        return None
    return output_pattern(english, translated, whole_line=words == 1, isolated=True)


@functools.cache
def _compiled_patterns(lang: str) -> tuple[dict[str, list[tuple[int, OutputPattern]]], int, re.Pattern[str]]:
    """The patterns of the messages with a field in the compiled catalog of `lang` (an installed losslab has no
    sources to extract them from), longest first, numbered in that order and indexed by the first (up to)
    ``_LEAD`` characters of the English (``""`` for one that starts with a field), so that a text is tried only
    against the patterns it can start with; the longest prefix indexed; and a regular expression that finds any
    anchor of those that start with a field (a text holding none needs no more look at them)."""
    from losslab import messages

    found = []
    for msgid, msgstr in messages.catalog(lang).items():
        pattern = _message_pattern(msgid, msgstr) if _FIELD.search(msgid) else None
        if pattern is not None:
            shape = _brace_shape(msgid) or [""]
            found.append((shape[0][:_LEAD] if isinstance(shape[0], str) else "", pattern))
    index: dict[str, list[tuple[int, OutputPattern]]] = {}
    for order, (lead, pattern) in enumerate(sorted(found, key=lambda lp: -lp[1].size)):
        index.setdefault(lead, []).append((order, pattern))
    anchors = sorted({p.anchor for _order, p in index.get("", [])}, key=len, reverse=True)
    gate = re.compile("|".join(map(re.escape, anchors))) if anchors else re.compile("(?!)")
    return index, max(map(len, index), default=0), gate


_LEAD = 4
_NEWLINE = "\x1f"  # a value printed over lines (a long NumPy array) is matched as if on one line


def translate_message(text: str, lang: str) -> str:
    """`text`, one whole message (an AssertionError's, losslab/asserts.py, or a printed line, losslab/prints.py),
    in `lang` when the library's catalog knows it: as a message of its own, or as a message with fields (an
    f-string's, ``messages.brace_format``) whose pattern matches all of `text`, the values it captured (a value
    may span lines) put into the translation. Any other text, and a text that only holds a known message, is
    returned as it is."""
    from losslab import messages

    translated = messages.gettext_for(lang)(text) if text else text
    if translated != text:
        return translated
    index, longest, gate = _compiled_patterns(lang)
    candidates = [p for n in range(min(longest, len(text)), 0, -1) for p in index.get(text[:n], ())]
    if gate.search(text):
        candidates += index.get("", [])
    if not candidates:
        return text
    lines = "\n" in text and _NEWLINE not in text
    flat = text.replace("\n", _NEWLINE) if lines else text
    for _order, pattern in sorted(candidates, key=lambda op: op[0]):
        match = pattern.regex.fullmatch(flat) if pattern.anchor in flat else None
        if match:
            return pattern.fill(match).replace(_NEWLINE, "\n") if lines else pattern.fill(match)
    return text


_CODE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.For, ast.While, ast.With)
_CODE += (ast.If, ast.Try, ast.Return, ast.Assign, ast.AugAssign)


def _is_code(paragraph: str) -> bool:
    """Whether an output's paragraph is Python source (the clinic shows a case's code): it parses, with a
    statement in it (a definition, an import, an assignment, a loop ...), not only expressions or annotations
    ("Measured:  mse" is one)."""
    import textwrap

    if not re.search(r"[=:]|\bimport\b", paragraph):
        return False
    try:
        tree = ast.parse(textwrap.dedent(paragraph))
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(node, _CODE) for node in tree.body)


def translate_text(text: str, cell: Sequence[OutputPattern], messages: Sequence[OutputPattern] = ()) -> str:
    """`text` (an output's) with the cell's printed literals translated, then the library's messages: the longest
    that matches, then again from the longest, while one matches ("(explained by learning rate too high)" is one
    message in another, whose inner one is found once the outer one no longer puts an English word before it,
    and before a shorter message could take part of it as a field's value). Code is left as it
    is: a paragraph of Python source (``_is_code``), and, for the messages, a call that quotes an argument
    (``guess.choose('an option')``: the translated edition takes the English option too)."""
    frozen: list[str] = []

    def keep(part: str) -> str:
        frozen.append(part)
        return f"\ue000{len(frozen) - 1}\ue001"

    parts = re.split(r"(\n[ \t]*\n)", text)
    text = "".join(keep(p) if i % 2 == 0 and _is_code(p) else p for i, p in enumerate(parts))
    for pattern in cell:
        text = pattern.sub(text)
    if messages:
        text = _CALL.sub(lambda m: keep(m.group(0)) if re.search("['\"]", m.group(0)) else m.group(0), text)
        for _ in range(100):  # longest first, from the longest again after each change (bounded, come what may)
            found = next(((p, done) for p in messages if (done := p.sub(text)) != text), None)
            if found is None:
                break
            text = found[1]
    while _TOKEN.search(text):  # a call kept inside ... nothing else: each token is put back, innermost last
        text = _TOKEN.sub(lambda m: frozen[int(m.group(1))], text)
    return text


_TAG = re.compile(r"(<!--.*?-->|<[^>]*>)", re.S)


def translate_html(text: str, cell: Sequence[OutputPattern], messages: Sequence[OutputPattern] = ()) -> str:
    """An HTML output with each text node translated as ``translate_text`` does (tags, attributes, scripts and
    styles as they are): a text cut by a tag (``<b>``) is not found, and stays as it is."""
    parts = _TAG.split(text)
    skip = False
    for i, part in enumerate(parts):
        if i % 2:
            name = re.match(r"</?\s*(\w+)", part)
            if name and name.group(1).lower() in ("script", "style"):
                skip = not part.startswith("</")
            continue
        if skip or not _WORD.search(part):
            continue
        plain = html.unescape(part)
        done = translate_text(plain, cell, messages)
        if done != plain:
            parts[i] = html.escape(done, quote=False)
    return "".join(parts)


def translate_outputs(
    outputs: Sequence[dict], cell: Sequence[OutputPattern], messages: Sequence[OutputPattern] = ()
) -> list[dict]:
    """A copy of a code cell's outputs (nbformat's) with their text translated: stream outputs (stdout and
    stderr), and the ``text/plain``, ``text/markdown`` and ``text/html`` of results and displays. `cell`: the
    cell's patterns (``cell_patterns``), tried first and only on this cell's outputs; `messages`: the library's
    (``message_patterns``). Images, widgets and errors are left as they are."""
    out = copy.deepcopy(list(outputs))
    for output in out:
        if output.get("output_type") == "stream" and isinstance(output.get("text"), str):
            output["text"] = translate_text(output["text"], cell, messages)
        data = output.get("data") or {}
        for mime in ("text/plain", "text/markdown"):
            if isinstance(data.get(mime), str):
                data[mime] = translate_text(data[mime], cell, messages)
        if isinstance(data.get("text/html"), str):
            data["text/html"] = translate_html(data["text/html"], cell, messages)
    return out
