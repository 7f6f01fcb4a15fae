"""Names in code cells: plain strings holding an English phrase that a tutorial keeps in variables, containers,
conditions and keys (``{"straight line": broken, "two hidden layers": fixed}``, ``"deeper valley" if ... else
"shallow valley"``, ``results["cross-entropy, SGD"]``), printed later through a ``{name}`` field or shown as a
legend. Such a text is translated the same way at every one of its occurrences in the notebook, so that dict keys,
comparisons and lookups stay consistent by construction: one catalogue entry per distinct text per notebook::

    - key: name
      en: 5d41402abc          # hash of the English text
      source: |
        "straight line"
      text: |
        "直線"

A text is a name of a tutorial (a notebook that is not ``*_exercise.ipynb``: nbgrader checksums an exercise's
cells) when it holds two English words with a space (or a slash) between them, at least one of its occurrences
is neither printed or displayed (losslab/i18n_code.py: those alone are translated per cell) nor only read (a
subscript, a comparison: a key read there but never written comes from elsewhere), and none of its occurrences is
refused (``REFUSED``): a docstring, an assert's message, an argument of ``ask``/``compare``/``choose`` or ``what=``
(gettext translates them; options are keys), the value of a keyword that is not displayed (``loc="upper
right"``), a string a method is called on (``"a, b".split``) or that ``%`` formats. Never a name either: a
message of the gettext catalog (prediction options and other keys the library translates itself), a string
constant anywhere in losslab/ (keys the library compares: ``lr.regions``' "too high", the optimizer surfaces'
names), a quiz id (kebab-case), a text with a quote, backslash, brace or line break. The other branch of a
conditional whose one branch is a name is a name too (``'raised' if ... else 'did not raise'``), and so is a
one-word sibling of a name (letters only, three or more): another key of the same dict literal (``{"sorted": broken,
"shuffled first": fixed}``), or the same position of another tuple of the same list or tuple literal (``[("clean",
y), ("with outliers", y_bad)]``), unless it is refused as above or is a direct argument of a call other than
``print``/``display`` anywhere in the notebook (an identifier that flows into Keras: ``"relu"``, ``"adam"``).

A name's translation is a plain string literal with no quote, backslash or line break; two names of a notebook may
not have the same translation, nor may a translation be another string of the notebook.
"""

from __future__ import annotations

import ast
import copy
import functools
import re
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from losslab import i18n_code
from losslab.i18n_code import Literal, OutputPattern
from losslab.messages import PHRASE

NAME_KEY = "name"  # the `key` of a name's catalogue entry
_SPACED = re.compile(r"[A-Za-z]{2,}[^A-Za-z\n]*[ /][^A-Za-z\n]*[A-Za-z]{2,}")  # two words: a space or / between
_KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
_UNSAFE = re.compile(r"[\"'\\\n{}]")
_WORD = re.compile(r"[A-Za-z]{3,}")  # a one-word sibling of a name
_HYPHENED = re.compile(r"[A-Za-z]{2,}(?:-[A-Za-z]{2,})+")  # ... or a hyphenated one ("one-cycle", "cross-entropy")
_SHOWING = {"print", "display"}  # the calls whose plain string arguments a sibling may be
REFUSED = {
    "docstring": "a docstring or a string statement",
    "assert": "an assert's message",
    "prediction": "an argument of ask/compare/choose (gettext translates it; options are keys)",
    "keyword": "the value of a keyword that is not displayed",
    "method": "a string a method is called on, or a % format",
    "position": "an occurrence the source scan does not find (a nested f-string's field)",
}


@functools.cache
def library_strings() -> frozenset[str]:
    """Every string constant of losslab/'s modules: the texts the library may compare a name with."""
    found: set[str] = set()
    for path in Path(__file__).resolve().parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return frozenset(found)


@functools.cache
def _msgids() -> frozenset[str]:
    from losslab import messages

    return frozenset(k for lang in messages.LANGUAGES if lang != "en" for k in messages.catalog(lang))


def _spaced(text: str) -> bool:
    """Whether `text` holds an English phrase (``PHRASE``) and two words with a space or a slash between them
    (not ``cross-entropy``, a kebab-case quiz id or an identifier)."""
    return bool(PHRASE.search(text) and _SPACED.search(text))


def _one_word(text: str) -> bool:
    return bool(_WORD.fullmatch(text) or _HYPHENED.fullmatch(text))


def text_refusal(text: str, sibling: bool = False) -> str | None:
    """Why `text` can never be a name (None when it may be one). A `sibling` of a name (a key of the same dict
    literal ...) may be kebab-case: a quiz id is never one, being a call's argument."""
    if _KEBAB.fullmatch(text) and not (sibling and _HYPHENED.fullmatch(text)):
        return "a quiz id (kebab-case)"
    if _UNSAFE.search(text):
        return "it holds a quote, backslash, brace or line break"
    if text in _msgids():
        return "a message of the gettext catalog (translated by the library)"
    if text in library_strings():
        return "a string constant of losslab/ (a key the library may compare)"
    return None


def _roles(code: str) -> list[tuple[ast.Constant, str]]:
    """Every plain string of `code` (an f-string's fields included, not its constant text) and its role: ``shown``
    (printed or displayed), ``read`` (a subscript's index, a comparison's operand), ``other``, or a key of
    ``REFUSED``."""
    tree = i18n_code._parse(code)
    if tree is None:
        return []
    parent: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parent[id(child)] = node
    shown = {id(n) for arg, _kind in i18n_code._sites(tree) for n in i18n_code._printed(arg)}
    refused: dict[int, str] = {}

    def refuse(nodes: Iterable[ast.AST], why: str) -> None:  # the outer reason stands (a prediction's what=)
        for node in nodes:
            refused.setdefault(id(node), why)

    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.msg is not None:
            refuse(ast.walk(node.msg), "assert")
        elif isinstance(node, ast.Call) and i18n_code.is_prediction(node):
            refuse((n for a in [*node.args, *node.keywords] for n in ast.walk(a)), "prediction")
        elif isinstance(node, ast.keyword) and node.arg not in i18n_code.DISPLAY_KEYWORDS:
            refuse(i18n_code._printed(node.value), "keyword")
        elif isinstance(node, ast.Expr) and i18n_code._is_string(node.value):
            refuse([node.value], "docstring")
        elif isinstance(node, ast.Attribute) and i18n_code._is_string(node.value):
            refuse([node.value], "method")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and i18n_code._is_string(node.left):
            refuse([node.left], "method")
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        up = parent.get(id(node))
        if isinstance(up, ast.JoinedStr):  # an f-string's constant text
            continue
        if id(node) in refused:
            role = refused[id(node)]
        elif id(node) in shown:
            role = "shown"
        elif isinstance(up, ast.Compare) or (isinstance(up, ast.Subscript) and up.slice is node):
            role = "read"
        else:
            role = "other"
        out.append((node, role))
    return out


def _siblings(tree: ast.AST) -> list[list[str]]:
    """The groups of sibling plain strings of `tree`: the keys of a dict literal; the items at one position of the
    tuples (or lists) that make up a list or tuple literal."""
    groups = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            groups.append([k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)])
        elif isinstance(node, (ast.List, ast.Tuple)) and len(node.elts) > 1:
            rows = [e.elts for e in node.elts if isinstance(e, (ast.Tuple, ast.List))]
            if len(rows) != len(node.elts):
                continue
            for i in range(min(len(row) for row in rows)):
                groups.append(
                    [r[i].value for r in rows if isinstance(r[i], ast.Constant) and isinstance(r[i].value, str)]
                )
    return [g for g in groups if len(g) > 1]


def _call_arguments(tree: ast.AST) -> set[str]:
    """The plain strings of `tree` that are a direct argument of a call other than print/display, or the value of a
    keyword that is not displayed (``progress="sorted"`` is shown; ``activation="relu"`` flows into Keras)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _SHOWING):
            shown = [k.value for k in node.keywords if k.arg not in i18n_code.DISPLAY_KEYWORDS]
            for arg in [*node.args, *shown]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    out.add(arg.value)
    return out


def notebook_names(cells: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The names of a tutorial whose code cells are `cells` (in order of first occurrence), and {text: why it is
    not a name} for every other plain string with two English words that occurs outside a print or display."""
    roles: dict[str, set[str]] = {}
    pairs: list[tuple[str, str]] = []  # the branches of a conditional of two plain strings
    order: list[str] = []
    misplaced: set[str] = set()
    groups: list[list[str]] = []  # sibling strings of a literal container
    arguments: set[str] = set()  # direct arguments of a call other than print/display
    for code in cells:
        found = _roles(code)
        for node, role in found:
            roles.setdefault(node.value, set()).add(role)
            if node.value not in order:
                order.append(node.value)
        tree = i18n_code._parse(code)
        if tree is not None:
            groups += _siblings(tree)
            arguments |= _call_arguments(tree)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.IfExp) and all(
                isinstance(b, ast.Constant) and isinstance(b.value, str) for b in (node.body, node.orelse)
            ):
                pairs.append((node.body.value, node.orelse.value))  # type: ignore[attr-defined]
        counts: dict[str, int] = {}
        for node, _role in found:
            counts[node.value] = counts.get(node.value, 0) + 1
        for text, count in counts.items():  # every occurrence must be one the translation finds in the source
            if (_spaced(text) or _one_word(text)) and len(name_occurrences(code, {text})) != count:
                misplaced.add(text)

    def refusal(text: str, sibling: bool = False) -> str | None:
        seen = roles[text]
        if text in misplaced:
            return REFUSED["position"]
        bad = [key for key in REFUSED if key in seen]  # the first reason REFUSED lists
        return REFUSED[bad[0]] if bad else text_refusal(text, sibling)

    names = [t for t in order if _spaced(t) and "other" in roles[t] and not refusal(t)]
    for group in groups:  # {"sorted": broken, "shuffled first": fixed}: a one-word sibling of a name is a name too
        if any(t in names for t in group):
            for text in group:
                if text not in names and _one_word(text) and text not in arguments and not refusal(text, True):
                    names.append(text)
    for a, b in pairs:  # 'raised' if ... else 'did not raise': the other branch is a name too
        for one, other in ((a, b), (b, a)):
            if one in names and other not in names and re.search("[A-Za-z]", other) and not refusal(other):
                names.append(other)
    names.sort(key=order.index)
    why = {
        t: refusal(t) or "only read (a subscript or a comparison), never written in the notebook"
        for t in order
        if t not in names and _spaced(t) and roles[t] - {"shown"}
    }
    return names, why


def name_problem(english: str, translated: str) -> str | None:
    """Why the literal `translated` cannot be the translation of the name written `english` (a literal: the
    catalogue entry's ``source``; None when it can)."""
    value = literal_value(translated)
    if value is None or translated.strip()[:1] in "fFbB":
        return "a name's translation is one plain string literal (no f prefix)"
    if not value.strip() or _UNSAFE.search(value):
        return "a name's translation has no quote, backslash, brace or line break, and is not empty"
    return i18n_code.translation_problem(english, translated)


def collisions(translations: dict[str, str], strings: Collection[str]) -> dict[str, str]:
    """{English name: why} for the names whose translation (in `translations`, English: translated text) is
    another name's, or another string of the notebook (`strings`): a dict would lose a key, a test would pass."""
    out = {}
    for english, text in translations.items():
        if text == english:
            continue
        twins = [e for e, t in translations.items() if t == text and e != english]
        if twins:
            out[english] = f"{text!r} is also the translation of {twins[0]!r}"
        elif text in strings:
            out[english] = f"{text!r} is another string of the notebook"
    return out


def strings_of(cells: Sequence[str]) -> set[str]:
    """Every plain string of `cells` (an f-string's fields included)."""
    return {n.value for code in cells for n, _role in _roles(code)}


def literal_value(source: str) -> str | None:
    """The text of a plain string literal's source; None when it is no plain string literal."""
    try:
        value = ast.literal_eval(f"(\n{source.strip()}\n)")
    except (SyntaxError, ValueError):
        return None
    return value if isinstance(value, str) else None


_QUOTE = re.compile(r"([rRbBuUfF]*)('\'\'|\"\"\"|'|\")")


def field_strings(source: str) -> list[tuple[int, int]]:
    """The (start, end) of each plain string literal inside the ``{...}`` fields of the f-string (or implicit
    concatenation) `source`: scanned, since Python 3.11's syntax tree may misplace them."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(source)
    while i < n:
        match = _QUOTE.match(source, i)
        if not match or (i and (source[i - 1].isalnum() or source[i - 1] == "_")):
            i += 1
            continue
        prefix, quote = match.group(1).lower(), match.group(2)
        i, depth = match.end(), 0
        while i < n:
            char = source[i]
            if depth == 0:
                if source.startswith(quote, i):
                    i += len(quote)
                    break
                if char == "\\" and "r" not in prefix:
                    i += 2
                elif "f" in prefix and source.startswith("{{", i):
                    i += 2
                else:
                    depth += "f" in prefix and char == "{"
                    i += 1
            elif char in "'\"":
                mark = char * 3 if source.startswith(char * 3, i) else char
                end = source.find(mark, i + len(mark))
                if end < 0:
                    return out
                if not source[i - 1].isalpha():  # a prefixed string (f'...') is no plain one
                    out.append((i, end + len(mark)))
                i = end + len(mark)
            else:
                depth += (char in "([{") - (char in ")]}")
                i += 1
    return out


def name_occurrences(code: str, names: Collection[str]) -> list[Literal]:
    """Every plain string of `code` whose text is one of `names`, an f-string's fields included (found by
    ``i18n_code.field_strings``), in order."""
    tree = i18n_code._parse(code) if names else None
    if tree is None:
        return []
    found = []
    for outer in i18n_code.top_literals(code):
        if literal_value(outer.source) in names:
            found.append(Literal(outer.start, outer.end, outer.source, "name"))
            continue
        for start, end in field_strings(outer.source):
            if literal_value(outer.source[start:end]) in names:
                found.append(Literal(outer.start + start, outer.start + end, outer.source[start:end], "name"))
    return found


def render_name(text: str, occurrence: str) -> str:
    """The literal that writes `text` (a name's translation: no quote, backslash or line break) where the
    literal `occurrence` stood, with its quotes (an f-string's field keeps the quote it needs)."""
    quote = re.match(r"[rRuU]?('''|\"\"\"|'|\")", occurrence)
    mark = quote.group(1) if quote else '"'
    return f"{mark}{text}{mark}"


def name_literal(text: str) -> str:
    """A name as its catalogue entry's ``source`` writes it: a double-quoted literal."""
    return render_name(text, '"')


def translate_code(code: str, translations: dict[str, str], names: dict[str, str] | None = None) -> str:
    """`code` with each printed or displayed literal whose source is in `translations` replaced by its
    translation, then every occurrence of a name of `names` (English text: translated text) by its translation."""
    out, last = [], 0
    for literal in i18n_code.cell_literals(code, names=names or ()):
        text = translations.get(literal.source)
        if text is None:
            continue
        out += [code[last : literal.start], text.strip()]
        last = literal.end
    code = "".join(out) + code[last:]
    out, last = [], 0
    for occurrence in name_occurrences(code, names or {}):
        text = (names or {})[literal_value(occurrence.source) or ""]
        out += [code[last : occurrence.start], render_name(text, occurrence.source)]
        last = occurrence.end
    return "".join(out) + code[last:]


# ------------------------------------------------------------------------------------------ the edition's check
def _expression(source: str) -> ast.expr | None:
    try:
        return ast.parse(f"(\n{source.strip()}\n)", mode="eval").body
    except SyntaxError:
        return None


class _Blank(ast.NodeTransformer):
    """A syntax tree with every plain string's text blanked; an f-string's own text (its format spec's) is kept."""

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.JoinedStr:  # ast's name
        for value in node.values:
            if not isinstance(value, ast.Constant):
                self.visit(value)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:  # ast's name
        return ast.Constant("") if isinstance(node.value, str) else node


def _blank(node: ast.AST) -> str:
    """A dump of `node` with every plain string's text blanked (an f-string's text, and format spec, kept)."""
    return ast.dump(_Blank().visit(copy.deepcopy(node)))


def _plain_strings(tree: ast.AST) -> list[ast.Constant]:
    """The plain strings of `tree`, in ``ast.walk`` order; an f-string's own text is none."""
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    return [
        n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in parts
    ]


def _pair_strings(a: ast.AST, b: ast.AST, names: Collection[str], seen: dict[str, set[str]]) -> str | None:
    """Pair the plain strings of two expressions of the same shape: each the same, or a name (its translation is
    recorded in `seen`)."""
    if _blank(a) != _blank(b):
        return "the code differs outside its literals and names"
    strings = [_plain_strings(tree) for tree in (a, b)]  # an f-string's own text is in the dumps compared
    for x, y in zip(*strings, strict=True):
        if x.value in names:
            seen.setdefault(x.value, set()).add(y.value)
        elif x.value != y.value:
            return f"{y.value!r} for {x.value!r}, which is neither a translated literal nor a name"
    return None


def _fields_pairs(a: ast.JoinedStr, b: ast.JoinedStr, names: Collection[str], seen: dict[str, set[str]]) -> str:
    """Pair the fields of an f-string and its translation (whose order may differ) by their shape, and their names."""
    theirs = [v for v in b.values if isinstance(v, ast.FormattedValue)]
    for field in (v for v in a.values if isinstance(v, ast.FormattedValue)):
        match = next((t for t in theirs if _blank(t) == _blank(field)), None)
        if match is None:
            return "the translation formats other values than the English"
        theirs.remove(match)
        why = _pair_strings(field, match, names, seen)
        if why:
            return why
    return "the translation formats other values than the English" if theirs else ""


def _cell_pairs(english: str, translated: str, names: Collection[str], seen: dict[str, set[str]]) -> str | None:
    """Why `translated` is not `english` with its literals and names translated (None when it may be); the names'
    translations found are added to `seen`."""
    mine, theirs = i18n_code.top_literals(english), i18n_code.top_literals(translated)
    if i18n_code._parse(english) is None or len(mine) != len(theirs):
        return None if english == translated else "the code differs outside its literals and names"
    last_a = last_b = 0
    for a, b in zip(mine, theirs, strict=True):
        if english[last_a : a.start] != translated[last_b : b.start]:
            return "the code differs outside its literals and names"
        last_a, last_b = a.end, b.end
    if english[last_a:] != translated[last_b:]:
        return "the code differs outside its literals and names"
    own = {lit.start for lit in i18n_code.cell_literals(english, False, names)}
    for a, b in zip(mine, theirs, strict=True):
        x, y = _expression(a.source), _expression(b.source)
        if x is None or y is None:
            return f"{b.source!r} for {a.source!r}: not a literal"
        if a.start in own and isinstance(x, ast.JoinedStr) and isinstance(y, ast.JoinedStr):
            why = _fields_pairs(x, y, names, seen)
        elif a.start in own:
            why = None  # a plain literal: translation_problem, once the names are known
        elif isinstance(x, ast.Constant) and x.value in names:
            value = literal_value(b.source)
            why = "a name's translation is a plain string" if value is None else None
            seen.setdefault(x.value, set()).add(value or "")
        else:
            why = _pair_strings(x, y, names, seen)
        if why:
            return f"{b.source!r} for {a.source!r}: {why}"
    return None


def same_but_translated(
    english: Sequence[tuple[str, str]], translated: Sequence[str], names: Collection[str]
) -> tuple[list[str], dict[str, str]]:
    """Whether a notebook's translated code cells are its English ones (`english`: (cell id, code) pairs) with
    only their printed and displayed literals translated (each a valid translation) and its `names` (the English
    notebook's: ``notebook_names``; none in an exercise) replaced, each the same way at every occurrence. Returns
    (problems, each naming its cell or name; {English name: its translation})."""
    problems, seen = [], {}
    for (cell, a), b in zip(english, translated, strict=True):
        why = _cell_pairs(a, b, names, seen)
        if why:
            problems.append(f"cell {cell}: {why}")
    found = {en: sorted(texts)[0] for en, texts in seen.items()}
    for en, texts in seen.items():
        if len(texts) > 1:
            problems.append(f"the name {en!r} is translated in {len(texts)} ways: {sorted(texts)}")
        elif found[en] != en and (why := name_problem(name_literal(en), name_literal(found[en]))):
            problems.append(f"the name {en!r}: {why}")
    problems += [
        f"the name {en!r}: {why}" for en, why in collisions(found, strings_of([a for _c, a in english])).items()
    ]
    for (cell, a), b in zip(english, translated, strict=True):
        for x, y in i18n_code.paired_literals(a, b, names):
            why = x.source != y.source and i18n_code.translation_problem(x.source, y.source, found)
            if why:
                problems.append(f"cell {cell}: {y.source!r} for {x.source!r}: {why}")
    return problems, found


def name_patterns(translations: dict[str, str]) -> list[OutputPattern]:
    """The patterns that put each translated name (a whole phrase) in an output: not inside a word, nor one space
    from an English word (a name that is part of another sentence stays), longest first."""
    out = [
        i18n_code.output_pattern([en], [ja], isolated=True)
        for en, ja in translations.items()
        if ja != en and i18n_code._words_in([en])
    ]
    return sorted((p for p in out if p is not None), key=lambda p: -p.size)
