"""The language the library speaks to the learner, and its translated messages (gettext).

One setting picks the language: ``LOSSLAB_LANG`` (``en`` or ``ja``) when set; otherwise the notebook's own
metadata, ``language: ja`` in the Japanese edition (course/ja/), which the kernel finds through the notebook path
Jupyter gives it (``JPY_SESSION_NAME``); otherwise English. ``current_language()`` answers it.

Messages a learner reads are marked with ``_("...")`` (one string literal) and formatted after translation:
``_("{n} check(s) so far").format(n=3)``. Their Japanese lives in the standard gettext catalog
``losslab/locale/ja/LC_MESSAGES/losslab.po`` (the source, edited by hand), compiled to ``losslab.mo`` beside it
(committed; ``python -m losslab.messages compile`` rebuilds it reproducibly, and a test fails when it is not the
compilation of the .po). ``python -m losslab.messages extract`` adds every newly marked message to the .po with an
empty translation, keeps the others, and drops messages no longer marked; docs/i18n.md has the workflow.
Used by losslab/quiz.py, losslab/predict.py, losslab/progress.py, the training doctor (its report, findings,
prescriptions, treatment and monitor; ``N_`` marks data such as the causes' descriptions, shown later through
``_``), the grading checks, and every other message the library prints or raises for a learner (SOURCES).
"""

from __future__ import annotations

import ast
import gettext
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "losslab"
LANGUAGES = ("en", "ja")
PACKAGE = Path(__file__).resolve().parent
# Files whose marked messages the catalog holds (python -m losslab.messages extract reads them).
SOURCES = (
    "losslab/quiz.py",
    "losslab/quizlinks.py",
    "losslab/predict.py",
    "losslab/progress.py",
    "losslab/loss_names.py",  # the label formats and loss names, quoted by the rules
    "losslab/losses.py",  # chapter 1's advice (suggest_loss, explain) and explain_error
    "losslab/rules.py",  # the rule table: chapter 1's losses.explain and the doctor's findings quote it
    "losslab/clinic/cases.py",  # the cases' titles, checklist rows and fixes (N_), shown by clinic/results.py
    "losslab/clinic/results.py",
    "losslab/clinic/setup.py",
    "losslab/clinic/datasets.py",  # the generated datasets' names, quoted by the grader
    "losslab/doctor/causes.py",
    "losslab/doctor/report.py",
    "losslab/doctor/treat.py",
    "losslab/doctor/expect.py",
    "losslab/doctor/checks/model.py",
    "losslab/doctor/checks/outputs.py",
    "losslab/doctor/checks/data.py",
    "losslab/doctor/checks/gradients.py",
    "losslab/doctor/checks/training.py",
    "losslab/doctor/checks/rates.py",
    "losslab/doctor/prescriptions.py",
    "losslab/doctor/monitor.py",
    "losslab/doctor/diagnosis.py",
    "losslab/doctor/examine.py",
    "losslab/grading/core.py",
    "losslab/grading/warmup.py",
    "losslab/grading/losses.py",
    "losslab/grading/learning_rates.py",
    "losslab/grading/debugging.py",
    "losslab/grading/doctor_checks.py",
    "losslab/grading/optimizers.py",
    "losslab/grading/training_loop.py",
    "losslab/loops.py",  # chapter 2's training loop: its errors, and the slips' descriptions (N_) the grader names
    "losslab/environment.py",  # the first line of every notebook (training_device) and the environment report
    "losslab/cli.py",
    "losslab/homecourse.py",
    "losslab/backend.py",
    "losslab/data.py",
    "losslab/plots.py",
    "losslab/optim.py",  # the playground's status and surfaces (keys marked with N_, shown through _)
    "losslab/batches.py",
    "losslab/lr.py",
    "losslab/depth.py",
    "losslab/imbalance.py",
    "losslab/regularize.py",
    "losslab/segmentation.py",
    "losslab/doctor/context.py",
    "autograder/feedback.py",  # the feedback page's summary, in the submission's language (read, never imported)
)
# Notebooks whose code cells hand the library text to show: the literal question, options and ``what`` of every
# ``predict.ask(...)`` and ``<guess>.compare(...)`` call, which losslab/predict.py shows through gettext (the
# code stays English, and so do the options' identities). Code cells exist once, for both editions.
NOTEBOOK_SOURCES = "solutions"
PHRASE = re.compile(r"[A-Za-z]{2,}[ ,:;()'/-]+[A-Za-z]{2,}")  # two English words in a row: a text to translate


@cache
def _notebook_language(path: str, mtime: float) -> str:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    metadata = data.get("metadata", {}) if isinstance(data, dict) else {}
    lang = metadata.get("language") or (metadata.get("losslab") or {}).get("language") or ""
    return lang if isinstance(lang, str) else ""


def notebook_language() -> str:
    """The ``language`` of the notebook this kernel runs ("" when unknown, or outside Jupyter)."""
    session = os.environ.get("JPY_SESSION_NAME", "")
    if not session.endswith(".ipynb"):
        return ""
    path = Path(session)
    if not path.is_absolute():
        path = Path.cwd() / path.name  # a kernel runs in its notebook's folder
    try:
        return _notebook_language(str(path), path.stat().st_mtime)
    except OSError:
        return ""


def current_language() -> str:
    """``en`` or ``ja``: LOSSLAB_LANG when set, else the notebook's metadata, else English."""
    wanted = os.environ.get("LOSSLAB_LANG", "").strip().lower().replace("_", "-").split("-")[0]
    if not wanted:
        wanted = notebook_language()
    return wanted if wanted in LANGUAGES else "en"


@cache
def translation(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of `lang` (English, or a missing .mo: the messages as written)."""
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang], fallback=True)


def gettext_for(lang: str):  # a str -> str function
    """The gettext function of `lang` (English for a language without a catalog), for text whose language is
    not the learner's setting but a document's: the grader's feedback on a Japanese submission."""
    return translation(lang if lang in LANGUAGES else "en").gettext


def _(message: str) -> str:
    """`message` in the learner's language."""
    return translation(current_language()).gettext(message)


def N_(message: str) -> str:  # gettext's name for a marker
    """Mark `message` for the catalog without translating it (data shown later through ``_``)."""
    return message


# ------------------------------------------------------------------------------------------ maintenance
def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def extract_messages() -> dict[str, list[str]]:
    """{msgid: ["losslab/file.py:line", ...]} for every string literal passed to ``_`` in SOURCES, read from the
    syntax tree (so a call inside an f-string counts too); a call with anything but one literal is a ValueError
    naming it (gettext could not find its message). Then the notebooks' prediction questions and the exercises'
    visible assert messages and printed lines."""
    found: dict[str, list[str]] = {}
    for name in SOURCES:
        tree = ast.parse((PACKAGE.parent / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_")):
                continue
            where = f"{name}:{node.lineno}"
            arg = node.args[0] if len(node.args) == 1 and not node.keywords else None
            if node.func.id == "_" and isinstance(arg, (ast.Name, ast.Attribute, ast.Subscript)):
                continue  # _(data): data whose texts are marked with N_ where they are defined
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise ValueError(
                    f"{where}: {node.func.id}() takes one string literal (or, for _, a name of data marked with "
                    "N_), so that the catalog can hold it; format after translating"
                )
            found.setdefault(arg.value, []).append(where)
    for where, text in notebook_messages() + assert_messages() + print_messages():
        found.setdefault(text, []).append(where)
    notebooks = sorted({w.split(":")[0] for v in found.values() for w in v} - set(SOURCES))
    order = {name: i for i, name in enumerate([*SOURCES, *notebooks])}

    def first(where: list[str]) -> tuple[int, int]:
        file, line = where[0].split(":")
        return order[file], int(line)

    return {k: sorted(v, key=lambda w: first([w])) for k, v in sorted(found.items(), key=lambda kv: first(kv[1]))}


def _notebook_code(select: Callable[[dict, str], str | None]) -> Iterator[tuple[str, ast.Module]]:
    """("solutions/<chapter>/<notebook>.ipynb:<cell number>", syntax tree) of every code cell of the notebooks of
    NOTEBOOK_SOURCES for which `select(cell, source)` gives the code to read (None: skip the cell); IPython's
    magic and shell lines are blanked, and a cell that does not parse is skipped."""
    for path in sorted((PACKAGE.parent / NOTEBOOK_SOURCES).rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        for number, cell in enumerate(cells):
            if cell.get("cell_type") != "code":
                continue
            code = select(cell, "".join(cell.get("source", "")))
            if code is None:
                continue
            code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())
            try:
                tree = ast.parse(code)
            except SyntaxError:
                continue
            yield f"{path.relative_to(PACKAGE.parent).as_posix()}:{number}", tree


def notebook_messages() -> list[tuple[str, str]]:
    """("solutions/<chapter>/<notebook>.ipynb:<cell number>", text) for every string literal a code cell passes
    to ``predict.ask`` (the question, each option) and to ``.compare`` (its ``what``): the texts the
    predict-then-run widget shows through gettext."""
    out = []
    asks = lambda _cell, source: source if "predict.ask(" in source or ".compare(" in source else None  # noqa: E731
    for where, tree in _notebook_code(asks):
        lists = {  # options = ["...", ...] earlier in the cell, passed by name
            target.id: node.value.elts
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple))
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr == "ask" and isinstance(node.func.value, ast.Name) and node.func.value.id == "predict":
                options = node.args[1] if len(node.args) > 1 else None
                if isinstance(options, ast.Name):
                    options = ast.List(elts=lists.get(options.id, []))
                texts = node.args[:1] + (options.elts if isinstance(options, (ast.List, ast.Tuple)) else [])
            elif node.func.attr == "compare":
                texts = [k.value for k in node.keywords if k.arg == "what"]
            else:
                continue
            out += [(where, t.value) for t in texts if isinstance(t, ast.Constant) and isinstance(t.value, str)]
    return out


def _visible_tests(cell: dict, source: str) -> str | None:
    """The code of a cell nbgrader grades or locks, its hidden tests blanked (line numbers kept); None for any
    other cell."""
    from losslab.notebooks import visible_lines

    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    if not (meta.get("grade") or meta.get("locked")):
        return None
    visible = visible_lines(source)
    return "\n".join(visible.get(n, "") for n in range(1, source.count("\n") + 2))


def brace_format(node: ast.JoinedStr, where: str = "") -> str:
    """An f-string as the ``str.format`` text a catalog holds: ``f"gives {x:.3f}"`` is ``"gives {x:.3f}"``, each
    field named by its expression's source. An expression that ``str.format`` could not read back as one field
    name (a ``:``, ``!`` or brace in it) is a ValueError naming `where`."""
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(_literal(str(value.value)))
            continue
        assert isinstance(value, ast.FormattedValue)
        name = ast.unparse(value.value)
        spec = value.format_spec
        if not _nameable(name) or (spec and not all(isinstance(v, ast.Constant) for v in spec.values)):
            raise ValueError(
                f"{where}: the f-string field {{{name}}} cannot be a catalog placeholder: compute the value into a "
                "name before the assert and format that name"
            )
        conversion = "" if value.conversion == -1 else "!" + chr(value.conversion)
        format_spec = ":" + "".join(str(v.value) for v in spec.values) if spec else ""  # type: ignore[attr-defined]
        parts.append("{" + name + conversion + format_spec + "}")
    return "".join(parts)


def assert_messages() -> list[tuple[str, str]]:
    """("solutions/<chapter>/<notebook>.ipynb:<cell number>", text) for the literal message of every ``assert`` in
    the visible part of a code cell nbgrader grades or locks (an exercise's visible tests: the same code in both
    editions, their messages shown translated by losslab/asserts.py); an f-string's message is its
    ``brace_format``. Hidden tests are never read: the catalog ships to learners."""
    out = []
    for where, tree in _notebook_code(_visible_tests):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert) and _is_text(node.msg):
                out.append((where, node.msg.value))
            elif isinstance(node, ast.Assert) and isinstance(node.msg, ast.JoinedStr):
                out.append((where, brace_format(node.msg, where)))
    return out


def print_messages() -> list[tuple[str, str]]:
    """("solutions/<chapter>/<notebook>.ipynb:<cell number>", text) for every ``print(...)`` call in the visible part
    of a code cell nbgrader grades or locks whose arguments include a literal with an English phrase
    (``PHRASE``): the line it prints as a ``str.format`` text, shown translated by losslab/prints.py.
    Each argument in turn, joined by " ": a literal as its text, an f-string as its ``brace_format``, any other
    argument as a field named by its expression (``{losses.describe_loss(loss)}``), or by its position (``{1}``)
    when the expression could not be a field's name. A call with ``sep=``, ``file=`` or a starred argument is left
    out. Hidden tests are never read: the catalog ships to learners."""

    out = []
    for where, tree in _notebook_code(_visible_tests):
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"):
                continue
            literals = [a for a in node.args if isinstance(a, ast.JoinedStr) or _is_text(a)]
            if any(k.arg in ("sep", "file", None) for k in node.keywords) or any(
                isinstance(a, ast.Starred) for a in node.args
            ):
                continue
            if not any(PHRASE.search(a.value if _is_text(a) else _constant_text(a)) for a in literals):
                continue
            parts = []
            for position, arg in enumerate(node.args):
                if _is_text(arg):
                    parts.append(_literal(arg.value))
                elif isinstance(arg, ast.JoinedStr):
                    parts.append(brace_format(arg, where))
                else:
                    name = ast.unparse(arg)
                    parts.append("{" + (name if _nameable(name) else str(position)) + "}")
            out.append((where, " ".join(parts)))
    return out


def _literal(text: str) -> str:
    """A literal's text inside a ``str.format`` message: its braces doubled."""
    return text.replace("{", "{{").replace("}", "}}")


def _nameable(expression: str) -> bool:
    """Whether ``str.format`` can read `expression`'s source back as one field's name (no ``:``, ``!`` or brace)."""
    return not any(c in expression for c in ":!{}")


def _is_text(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _constant_text(node: ast.JoinedStr) -> str:
    return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))


def catalog(lang: str) -> dict[str, str]:
    """{English message: translation} of the compiled catalog of `lang` (what an installed losslab has: no
    sources to extract from); empty for English."""
    found = getattr(translation(lang), "_catalog", None) or {}  # gettext.GNUTranslations keeps the .mo's pairs here
    return {k: v for k, v in found.items() if isinstance(k, str) and k and isinstance(v, str)}


def _read_po(lang: str):  # babel's Catalog, imported lazily (a developer's tool)
    from babel.messages.pofile import read_po

    with po_path(lang).open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def extract(lang: str) -> tuple[int, int]:
    """Bring the .po up to date with the marked messages; returns (messages, messages without a translation)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    old = _read_po(lang) if po_path(lang).exists() else None
    catalog = Catalog(locale=lang, domain=DOMAIN, project="losslab", version="1", charset="utf-8", fuzzy=False)
    catalog.creation_date = catalog.revision_date = old.creation_date if old is not None else catalog.creation_date
    catalog.copyright_holder, catalog.msgid_bugs_address = "Loss Lab", ""
    catalog.last_translator, catalog.language_team = "Loss Lab", "ja"
    for msgid, where in extract_messages().items():
        known = old.get(msgid) if old is not None else None
        locations = [(w.split(":")[0], int(w.split(":")[1])) for w in where]
        catalog.add(msgid, known.string if known is not None else "", locations=locations)
    po_path(lang).parent.mkdir(parents=True, exist_ok=True)
    with po_path(lang).open("wb") as handle:
        write_po(handle, catalog, width=116, omit_header=False, sort_output=False, no_location=False)
    return len(catalog), len(untranslated(lang))


def untranslated(lang: str) -> list[str]:
    """Every message of the .po without a translation, or marked fuzzy: its msgid."""
    out = []
    for message in _read_po(lang):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def compiled(lang: str) -> bytes:
    """The .mo the .po compiles to, byte for byte the same on every machine (Babel's writer; dates from the .po)."""
    import io

    from babel.messages.mofile import write_mo

    catalog = _read_po(lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def compile_catalog(lang: str) -> Path:
    mo_path(lang).write_bytes(compiled(lang))
    return mo_path(lang)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in ("extract", "compile", "check"):
        print("usage: python -m losslab.messages extract|compile|check", file=sys.stderr)
        return 2
    status = 0
    for lang in LANGUAGES[1:]:
        if args[0] == "extract":
            total, missing = extract(lang)
            print(f"{po_path(lang).relative_to(PACKAGE.parent)}: {total} messages, {missing} to translate")
        elif args[0] == "compile":
            print(f"{compile_catalog(lang).relative_to(PACKAGE.parent)} written")
        else:
            for msgid in untranslated(lang):
                print(f"{lang}: no translation (or fuzzy): {msgid!r}")
                status = 1
            if not mo_path(lang).exists() or mo_path(lang).read_bytes() != compiled(lang):
                print(f"{mo_path(lang).relative_to(PACKAGE.parent)} is not the compiled .po: run compile")
                status = 1
            print(f"{lang}: complete" if status == 0 else "")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
