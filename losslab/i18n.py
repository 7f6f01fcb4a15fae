"""Translations of the course's notebooks: one catalogue per notebook, one entry per paragraph.

English is the source. A markdown cell of a notebook under solutions/ is cut into blocks (paragraphs, list items,
headings, tables, fenced code and display math, split at blank lines outside fences); each block's translation is
stored in ``i18n/<lang>/<notebook path>.yaml`` against the cell's id and a hash of the block's English text:

    entries:
    - cell: 3a1f9c0e            # the cell's id in solutions/
      en: 5d41402abc            # hash of the English block the translation was made from
      source: |                 # that English block, for the translator and the reviewer (not used by the build)
        ## Cross-entropy, by hand
      text: |                   # the translation ("" while missing)
        ## 交差エントロピーを手で計算する

Changing one English sentence makes exactly the block that holds it stale, so only that block's translation is
touched. ``python -m losslab.i18n extract ja`` adds entries for new blocks and keeps every translation whose block
is unchanged; ``python -m losslab.i18n check ja`` lists every missing or stale block by notebook, cell and text
(exit 1 when any); ``python -m losslab.i18n apply ja CATALOGUE SHEET`` fills a catalogue from a sheet that
maps English hashes to translations; ``translate_notebook`` builds a notebook's translated edition from its catalogue.
"""

from __future__ import annotations

import copy
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from nbformat import NotebookNode

from losslab import i18n_code, i18n_names, notebooks

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
CATALOGUES = REPO / "i18n"
LANGUAGES = ("ja",)
_FENCE = re.compile(r"^\s*(```|~~~)")


def blocks(markdown: str) -> list[str]:
    """The blocks of a markdown cell: split at blank lines, never inside a fenced block or $$ display math."""
    out: list[str] = []
    current: list[str] = []
    fence: str | None = None
    math = False
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence is None and not math and not stripped:
            if current:
                out.append("\n".join(current).rstrip())
                current = []
            continue
        current.append(line)
        match = _FENCE.match(line)
        if match and not math:
            fence = None if fence == match.group(1) else (fence or match.group(1))
        elif fence is None and stripped.count("$$") % 2 == 1:
            math = not math
    if current:
        out.append("\n".join(current).rstrip())
    return out


def block_hash(text: str) -> str:
    """The hash a translation is stored against: 10 hex digits of SHA-1 of the block, trailing spaces ignored."""
    normal = "\n".join(line.rstrip() for line in text.strip("\n").splitlines())
    return hashlib.sha1(normal.encode("utf-8")).hexdigest()[:10]


def catalogue_path(notebook: Path, lang: str) -> Path:
    rel = notebook.resolve().relative_to(SOLUTIONS)
    return CATALOGUES / lang / rel.with_suffix(".yaml")


@dataclass(frozen=True)
class Problem:
    """A block of a notebook without an up-to-date translation."""

    notebook: str
    cell: str
    kind: str  # "missing" (no translation), "stale" (translated from another English text) or "invalid" (a printed
    # literal's translation that would format other values: losslab/i18n_code.py)
    english: str

    def __str__(self) -> str:
        first = self.english.strip().splitlines()[0][:90] if self.english.strip() else ""
        where = "name" if self.cell == i18n_names.NAME_KEY else f"cell {self.cell}"
        return f"{self.notebook} {where}: {self.kind}: {first}"


class _Literal(str):
    pass


def _literal(dumper: yaml.SafeDumper, data: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|" if "\n" in data or data else None)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal)


def load_catalogue(path: Path) -> list[dict[str, Any]]:
    """A catalogue's entries ([] when the file does not exist); a malformed file is a ValueError naming it."""
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc}); fix the indentation of the entry it names") from exc
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and "en" in e and ("cell" in e or "key" in e) for e in entries
    ):
        raise ValueError(f"{path}: expected 'entries:', a list of mappings with cell (or key), en, source and text")
    return entries


def _lookup(entries: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    return {(str(e.get("cell", e.get("key"))), str(e["en"])): str(e.get("text") or "") for e in entries}


def _markdown_cells(nb: NotebookNode) -> list[NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "markdown" and c.source.strip()]


def _write_catalogue(path: Path, header: str, entries: list[dict[str, Any]]) -> None:
    """Write a catalog: its header comment, then its entries (`source` and `text` in the `|` block style)."""
    rows = [{k: _Literal(str(v)) if k in ("source", "text") else v for k, v in e.items()} for e in entries]
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.dump({"entries": rows}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)
    path.write_text(header + body, encoding="utf-8")


def _refresh(
    path: Path, header: str, field: str, items: list[tuple[str, str]], seeds: dict[str, str] | None = None
) -> tuple[int, int]:
    """Rewrite the catalog at `path` for `items` ((cell id or key, English) pairs, under `field`; a name's under
    ``key``), keeping every translation whose English is unchanged (a name without one takes its text from
    `seeds`, English literal: translation); returns (entries, entries still without a translation)."""
    known = _lookup(load_catalogue(path))
    entries = []
    for ident, english in items:
        digest = block_hash(english)
        text = known.get((ident, digest), "") or ((seeds or {}).get(english, "") if ident == NAME else "")
        kind = "key" if ident == NAME else field
        entries.append({kind: ident, "en": digest, "source": english.rstrip("\n") + "\n", "text": text})
    _write_catalogue(path, header, entries)
    return len(entries), sum(not e["text"] for e in entries)


def _problems(where: str, path: Path, items: list[tuple[str, str]]) -> list[Problem]:
    """The items whose translation in the catalog at `path` is missing, or stale (the cell or key has a
    translation, but of another English text; a name: the catalog has a translated name no longer used)."""
    entries = load_catalogue(path)
    known = _lookup(entries)
    translated = {str(e.get("cell", e.get("key"))) for e in entries if e.get("text")}
    names = {block_hash(english) for ident, english in items if ident == NAME}
    if not any(e.get("key") == NAME and e.get("text") and str(e["en"]) not in names for e in entries):
        translated.discard(NAME)
    return [
        Problem(where, ident, "stale" if ident in translated else "missing", english)
        for ident, english in items
        if not known.get((ident, block_hash(english)))
    ]


def notebook_blocks(notebook: Path) -> list[tuple[str, str]]:
    """(cell id, English block) for every block of `notebook`'s markdown cells, in order."""
    return [(cell.id, block) for cell in _markdown_cells(notebooks.read(notebook)) for block in blocks(cell.source)]


def _printing_cells(nb: NotebookNode) -> list[NotebookNode]:
    """The code cells whose printed and displayed literals are translated: every one that nbgrader neither grades
    nor locks (nor marks as a solution)."""
    return [c for c in nb.cells if c.cell_type == "code" and "nbgrader" not in c.get("metadata", {})]


NAME = i18n_names.NAME_KEY  # the key of a name's catalog entry


def is_tutorial(notebook: Path) -> bool:
    """A tutorial (its names are translated), not an exercise (whose cells nbgrader checksums)."""
    return not notebook.name.endswith("_exercise.ipynb")


def notebook_names(notebook: Path, nb: NotebookNode | None = None) -> list[str]:
    """The names of `notebook` (losslab/i18n_names.py): none in an exercise."""
    if not is_tutorial(notebook):
        return []
    nb = nb if nb is not None else notebooks.read(notebook)
    return i18n_names.notebook_names([c.source for c in _printing_cells(nb)])[0]


def notebook_literals(notebook: Path) -> list[tuple[str, str]]:
    """(cell id, literal's source) for every printed or displayed literal of `notebook`'s code cells
    (losslab/i18n_code.py) that is not a name, each once per cell, in order; then ("name", the name as a literal)
    for each of its names (losslab/i18n_names.py)."""
    nb = notebooks.read(notebook)
    names = notebook_names(notebook, nb)
    out: list[tuple[str, str]] = []
    for cell in _printing_cells(nb):
        for literal in i18n_code.cell_literals(cell.source, names=names):
            if (cell.id, literal.source) not in out:
                out.append((cell.id, literal.source))
    return out + [(NAME, i18n_names.name_literal(name)) for name in names]


def notebook_texts(notebook: Path) -> list[tuple[str, str]]:
    """Everything of `notebook` that a catalogue translates: its markdown blocks, its printed and displayed
    literals, then its names."""
    return notebook_blocks(notebook) + notebook_literals(notebook)


def _literal_translation(known: dict[tuple[str, str], str], cell: str, english: str) -> tuple[str, str]:
    """(translation, why it is refused) of a printed or displayed literal, or of a name (`cell` is ``NAME``), from
    a catalogue's `known` texts; ("", "") when missing, and the reason is "" for a valid translation."""
    text = known.get((cell, block_hash(english)), "")
    check = i18n_names.name_problem if cell == NAME else i18n_code.translation_problem
    return text, ((check(english, text) or "") if text else "")


def name_translations(notebook: Path, lang: str) -> tuple[dict[str, str], dict[str, str]]:
    """({English name: its translation} for each name of `notebook` with a valid translation, {English name: why
    its translation is refused} for the others that have one: invalid, or the same as another's)."""
    known = _lookup(load_catalogue(catalogue_path(notebook, lang)))
    nb = notebooks.read(notebook)
    found, refused = {}, {}
    for name in notebook_names(notebook, nb):
        text, why = _literal_translation(known, NAME, i18n_names.name_literal(name))
        if why:
            refused[name] = why
        elif text:
            found[name] = i18n_names.literal_value(text) or ""
    strings = i18n_names.strings_of([c.source for c in _printing_cells(nb)])
    for name, why in i18n_names.collisions(found, strings).items():
        refused[name] = why
        del found[name]
    return found, refused


def extract(notebook: Path, lang: str) -> tuple[int, int]:
    """Bring `notebook`'s catalogue up to date; returns (blocks, blocks still without a translation). A new name
    takes the translation of a literal with its text that the catalogue had per cell (it was printed alone)."""
    header = (
        f"# {lang} for solutions/{notebook.resolve().relative_to(SOLUTIONS).as_posix()}: one entry per block of its\n"
        f"# markdown cells; one per literal its code cells print or display (plot labels, progress bars, Markdown),\n"
        f"# a Python literal: keep every {{...}} field (losslab/i18n_code.py); then `key: name`, one per name of the\n"
        f"# notebook, a string it keeps in variables, keys, conditions: its translation (a plain literal) replaces\n"
        f"# it at every occurrence (losslab/i18n_names.py). Never translated: docstrings, comments, assert\n"
        f"# messages, ask/compare/choose arguments (gettext's), keys the library knows, other keyword values.\n"
        f"# Write `text`; leave `cell`, `key`, `en` and `source` as they are.\n"
    )
    path = catalogue_path(notebook, lang)
    seeds = {}
    for entry in load_catalogue(path):
        value, text = (i18n_names.literal_value(str(entry.get(k) or "")) for k in ("source", "text"))
        if (
            "cell" in entry
            and value
            and text
            and not i18n_names.name_problem(i18n_names.name_literal(value), i18n_names.name_literal(text))
        ):
            seeds[i18n_names.name_literal(value)] = i18n_names.name_literal(text)
    return _refresh(path, header, "cell", notebook_texts(notebook), seeds)


def problems(notebook: Path, lang: str) -> list[Problem]:
    """Every block of `notebook` whose translation is missing, or was made from another English text, and every
    literal or name whose translation is refused (``invalid``)."""
    rel = notebook.resolve().relative_to(SOLUTIONS).as_posix()
    path = catalogue_path(notebook, lang)
    found = _problems(rel, path, notebook_texts(notebook))
    known = _lookup(load_catalogue(path))
    for cell, english in notebook_literals(notebook):
        _text, why = _literal_translation(known, cell, english)
        if why:
            found.append(Problem(rel, cell, "invalid", f"{why}; the English: {english.strip()}"))
    _names, refused = name_translations(notebook, lang)
    for name, why in refused.items():
        if not any(p.cell == NAME and p.english.strip() == i18n_names.name_literal(name) for p in found):
            found.append(Problem(rel, NAME, "invalid", f"{why}; the English: {i18n_names.name_literal(name)}"))
    return found


def translate_notebook(nb: NotebookNode, notebook: Path, lang: str, strict: bool = True) -> NotebookNode:
    """`nb` (read from `notebook` under solutions/) with its markdown, its printed and displayed literals and its
    names in `lang`. With `strict`, a text without an up-to-date valid translation is a ValueError that names it;
    otherwise the English is kept."""
    known = _lookup(load_catalogue(catalogue_path(notebook, lang)))
    out = copy.deepcopy(nb)
    for cell in _markdown_cells(out):
        parts = []
        for block in blocks(cell.source):
            text = known.get((cell.id, block_hash(block)))
            if not text:
                if strict:
                    raise ValueError(
                        f"{notebook.name} cell {cell.id}: no {lang} translation of {block.splitlines()[0][:80]!r}; "
                        f"run `python -m losslab.i18n extract {lang}` and write its text"
                    )
                text = block
            parts.append(text.rstrip("\n"))
        cell.source = "\n\n".join(parts)
    all_names = notebook_names(notebook, nb)
    names, refused = name_translations(notebook, lang)
    missing = [n for n in all_names if n not in names]
    if strict and missing:
        name = missing[0]
        raise ValueError(
            f"{notebook.name}: the {lang} translation of the name {name!r}: "
            + (refused.get(name) or f"missing; run `python -m losslab.i18n extract {lang}` and write its text")
        )
    for cell in _printing_cells(out):
        translations = {}
        for literal in i18n_code.cell_literals(cell.source, names=all_names):
            text, why = _literal_translation(known, cell.id, literal.source)
            if text and not why:
                translations[literal.source] = text
            elif strict:
                raise ValueError(
                    f"{notebook.name} cell {cell.id}: "
                    + (
                        f"the {lang} translation of {literal.source!r}: {why}"
                        if why
                        else f"no {lang} translation of the {literal.kind} {literal.source[:80]!r}; run "
                        f"`python -m losslab.i18n extract {lang}` and write its text"
                    )
                )
        cell.source = i18n_names.translate_code(cell.source, translations, names)
    out.metadata["language"] = lang
    return out


# ------------------------------------------------------------------------------------------ quiz banks
QUIZBANKS = Path(__file__).resolve().parent / "quizbank"
BANK_CATALOGS = QUIZBANKS  # <lang>/<chapter>.yaml, beside the banks, in the package


def bank_texts(bank: dict[str, Any]) -> list[tuple[str, str]]:
    """Every learner-facing text of a quiz bank as (key, English): the title, and each question's prompt, unit,
    choices (text, explanation), explanation and hint; keys like ``ten-classes.choices.2.explanation``."""
    out = [("title", str(bank["title"]))]
    for q in bank["questions"]:
        qid = q["id"]
        for field in ("prompt", "unit"):
            if q.get(field):
                out.append((f"{qid}.{field}", str(q[field])))
        for i, choice in enumerate(q.get("choices") or []):
            out.append((f"{qid}.choices.{i}.text", str(choice["text"])))
            out.append((f"{qid}.choices.{i}.explanation", str(choice["explanation"])))
        for field in ("explanation", "hint"):
            if q.get(field):
                out.append((f"{qid}.{field}", str(q[field])))
    return out


def bank_catalogue_path(chapter: str, lang: str) -> Path:
    """A quiz bank's catalog lives in the package, beside the bank (losslab/quizbank/<lang>/<chapter>.yaml): the
    quiz widgets read it in an installed losslab too, as Binder's postBuild installs it (not editable)."""
    return BANK_CATALOGS / lang / f"{chapter}.yaml"


def _read_bank(chapter: str) -> dict[str, Any]:
    return yaml.safe_load((QUIZBANKS / f"{chapter}.yaml").read_text(encoding="utf-8"))


def extract_bank(chapter: str, lang: str) -> tuple[int, int]:
    """Bring a quiz bank's catalogue up to date; returns (texts, texts still without a translation)."""
    header = (
        f"# {lang} for losslab/quizbank/{chapter}.yaml: one entry per prompt, choice, explanation and hint\n"
        f"# (see losslab/i18n.py). Write `text`; leave `key`, `en` and `source` as they are.\n"
    )
    return _refresh(bank_catalogue_path(chapter, lang), header, "key", bank_texts(_read_bank(chapter)))


def bank_problems(chapter: str, lang: str) -> list[Problem]:
    """Every text of a quiz bank whose translation is missing or was made from another English text."""
    return _problems(f"quizbank/{chapter}", bank_catalogue_path(chapter, lang), bank_texts(_read_bank(chapter)))


def translated_bank(chapter: str, lang: str) -> dict[str, Any]:
    """The quiz bank `chapter` with every text in `lang`; a missing or stale text is a ValueError naming it."""
    bank = _read_bank(chapter)
    known = _lookup(load_catalogue(bank_catalogue_path(chapter, lang)))

    def text(key: str, english: str) -> str:
        found = known.get((key, block_hash(english)))
        if not found:
            raise ValueError(
                f"quizbank/{chapter} {key}: no {lang} translation of {english.strip()[:60]!r}; "
                f"run `python -m losslab.i18n extract {lang}` and write its text"
            )
        return found.rstrip("\n") + ("\n" if english.endswith("\n") else "")

    out = copy.deepcopy(bank)
    out["title"] = text("title", str(bank["title"]))
    for q in out["questions"]:
        for field in ("prompt", "unit", "explanation", "hint"):
            if q.get(field):
                q[field] = text(f"{q['id']}.{field}", str(q[field]))
        for i, choice in enumerate(q.get("choices") or []):
            choice["text_en"] = choice["text"]  # the key a choice is stored under stays the English one
            choice["text"] = text(f"{q['id']}.choices.{i}.text", str(choice["text"]))
            choice["explanation"] = text(f"{q['id']}.choices.{i}.explanation", str(choice["explanation"]))
    return out


def _all_banks() -> list[str]:
    return sorted(p.stem for p in QUIZBANKS.glob("*.yaml"))


def apply_sheet(catalogue: Path, sheet: Path) -> tuple[int, list[str]]:
    """Fill a catalogue's `text` fields from a translation sheet: a YAML mapping of English hash (the entries'
    ``en``) to translated text, or a sheet of literals (``entries:``, a list of ``{source, text}``: ``source`` the
    English Python literal, ``text`` its translation, null to keep the English; ``apply_literals``). Returns
    (entries filled, hashes or sources of the sheet that match no entry)."""
    raw = catalogue.read_text(encoding="utf-8")
    header = "".join(line + "\n" for line in raw.splitlines() if line.startswith("#"))
    entries = load_catalogue(catalogue)
    try:
        mapping = yaml.safe_load(sheet.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{sheet}: not valid YAML ({exc})") from exc
    if not isinstance(mapping, dict):
        raise ValueError(f"{sheet}: expected a mapping of English hash to translated text")
    if isinstance(mapping.get("entries"), list):
        filled, unused = apply_literals(entries, mapping["entries"])
    else:
        mapping = {str(k): str(v) for k, v in mapping.items()}
        filled = 0
        for entry in entries:
            text = mapping.get(str(entry["en"]))
            if text:
                entry["text"] = text
                filled += 1
        unused = sorted(set(mapping) - {str(e["en"]) for e in entries})
    _write_catalogue(catalogue, header, entries)
    return filled, unused


def apply_literals(entries: list[dict[str, Any]], rows: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """Fill the empty `text` of literal and name entries from `rows` ({source, text}) by their English source:
    a literal's entries whose ``source`` is the row's (every cell that has it); a name's entry whose text is the
    row's literal's, whatever its quotes (the name's translation rewritten as a double-quoted literal). A row whose
    text is null (or empty) keeps the English: the entry's text becomes its source. A translated entry is left as
    it is. Returns (entries filled, the sources of rows that match no entry)."""
    filled, unused = 0, []
    for row in rows:
        source = str(row.get("source") or "").strip()
        text = row.get("text")
        value = i18n_names.literal_value(source)
        hit = False
        for entry in entries:
            if "cell" not in entry and entry.get("key") != NAME:
                continue
            english = str(entry.get("source") or "").strip()
            if entry.get("key") == NAME:
                matches = value is not None and i18n_names.literal_value(english) == value
                new = i18n_names.name_literal(i18n_names.literal_value(str(text)) or "") if text else english
            else:
                matches = english == source and i18n_code._fields(english) is not None  # a literal, no markdown
                new = str(text).strip() if text else english
            if not matches:
                continue
            hit = True
            if not entry.get("text") and new and new != '""':
                entry["text"] = new + "\n"
                filled += 1
        if not hit:
            unused.append(source)
    return filled, unused


# ------------------------------------------------------------------------------------------ editions
_HEADING = re.compile(r"^(#{1,6}) +(.+?)\s*#*\s*$")
_LINK = re.compile(r"\]\(([^()\s#]*\.ipynb)?#([^()\s]+)\)")


def heading_anchor(heading: str) -> str:
    """JupyterLab's anchor for a markdown heading: its text (markup removed), spaces replaced by '-'."""
    match = _HEADING.match(heading.strip().splitlines()[0]) if heading.strip() else None
    text = match.group(2) if match else heading.strip().lstrip("#").strip()
    return re.sub(r"[`*]", "", text).strip().replace(" ", "-")


def anchor_map(notebook: Path, lang: str) -> dict[str, str]:
    """{English heading anchor: the anchor of its translation} for a notebook under solutions/. A heading without
    an up-to-date translation maps to itself (its English heading is what a non-strict build keeps)."""
    nb = notebooks.read(notebook)
    known = _lookup(load_catalogue(catalogue_path(notebook, lang)))
    out: dict[str, str] = {}
    for cell in _markdown_cells(nb):
        for block in blocks(cell.source):
            english = [line for line in block.splitlines() if _HEADING.match(line)]
            if not english or _FENCE.match(block):  # a fenced block's `# comment` is no heading
                continue
            text = known.get((cell.id, block_hash(block))) or block
            translated = [line for line in text.splitlines() if _HEADING.match(line)]
            if len(translated) == len(english):  # a block's headings, in order (one, nearly always)
                for en, ja in zip(english, translated, strict=True):
                    out.setdefault(heading_anchor(en), heading_anchor(ja))
    return out


def rewrite_links(nb: NotebookNode, notebook: Path, lang: str) -> NotebookNode:
    """In a translated notebook, point every ``[text](other.ipynb#English-Anchor)`` (and ``(#Anchor)``) link at
    the anchor of that heading's translation in the target notebook, so that links still land. A target outside
    solutions/ or an anchor no heading has is left as it is."""
    maps: dict[Path, dict[str, str]] = {}

    def replace(match: re.Match[str]) -> str:
        target, anchor = match.group(1) or "", match.group(2)
        path = (notebook.parent / target).resolve() if target else notebook.resolve()
        if not path.is_file() or not path.is_relative_to(SOLUTIONS):
            return match.group(0)
        if path not in maps:
            maps[path] = anchor_map(path, lang)
        return f"]({target}#{maps[path].get(anchor, anchor)})"

    for cell in _markdown_cells(nb):
        cell.source = _LINK.sub(replace, cell.source)
    return nb


def translate_section(section: str, lang: str) -> str:
    """A quiz question's ``section`` ("01_losses/x.ipynb#English-Anchor", relative to solutions/) with the
    anchor of the heading's translation; unchanged when the notebook or heading is unknown."""
    path, _, anchor = section.partition("#")
    notebook = SOLUTIONS / path
    if not anchor or not notebook.is_file():
        return section
    return f"{path}#{anchor_map(notebook, lang).get(anchor, anchor)}"


def edition(notebook: Path, lang: str, strict: bool = True) -> NotebookNode:
    """The `lang` edition of a notebook under solutions/: translated (``translate_notebook``), its links pointed at
    the translated headings, and ``language: <lang>`` in its metadata (what losslab reads to speak `lang`)."""
    nb = translate_notebook(notebooks.read(notebook), notebook, lang, strict=strict)
    return rewrite_links(nb, notebook, lang)


def all_problems(lang: str) -> list[Problem]:
    """Every missing or stale text of every notebook and quiz bank, in file order."""
    found = [p for notebook in _all_notebooks() for p in problems(notebook, lang)]
    return found + [p for chapter in _all_banks() for p in bank_problems(chapter, lang)]


def summary(found: list[Problem], limit: int = 3) -> str:
    """Problems grouped by file: a count per file and its first few blocks, for an error message."""
    by_file: dict[str, list[Problem]] = {}
    for problem in found:
        by_file.setdefault(problem.notebook, []).append(problem)
    lines = []
    for name, items in by_file.items():
        kinds = ", ".join(
            f"{sum(p.kind == k for p in items)} {k}"
            for k in ("missing", "stale", "invalid")
            if any(p.kind == k for p in items)
        )
        lines.append(f"  {name}: {kinds}")
        lines += [f"      {p}" for p in items[:limit]]
    return "\n".join(lines)


def _is_literal_sheet(sheet: Path) -> bool:
    data = yaml.safe_load(sheet.read_text(encoding="utf-8"))
    return isinstance(data, dict) and isinstance(data.get("entries"), list)


def _all_notebooks() -> list[Path]:
    return sorted(p for p in SOLUTIONS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 4 and args[0] == "apply" and args[1] in LANGUAGES:
        filled, unused = apply_sheet(Path(args[2]), Path(args[3]))
        print(f"{args[2]}: {filled} entries filled" + (f"; no entry has these: {unused}" if unused else ""))
        return 1 if unused and not _is_literal_sheet(Path(args[3])) else 0
    if len(args) < 2 or args[0] not in ("extract", "check") or args[1] not in LANGUAGES:
        print(
            f"usage: python -m losslab.i18n extract|check {'|'.join(LANGUAGES)} [notebook.ipynb | bank chapter ...]\n"
            f"       python -m losslab.i18n apply {'|'.join(LANGUAGES)} CATALOG.yaml SHEET.yaml",
            file=sys.stderr,
        )
        return 2
    command, lang = args[0], args[1]
    targets = [Path(a) for a in args[2:]] or _all_notebooks()
    banks = [a for a in args[2:] if not a.endswith(".ipynb")] if args[2:] else _all_banks()
    targets = [t for t in targets if t.suffix == ".ipynb"]
    if command == "extract":
        for notebook in targets:
            total, missing = extract(notebook, lang)
            print(f"{catalogue_path(notebook, lang).relative_to(REPO)}: {total} texts, {missing} to translate")
        for chapter in banks:
            total, missing = extract_bank(chapter, lang)
            print(f"{bank_catalogue_path(chapter, lang).relative_to(REPO)}: {total} texts, {missing} to translate")
        return 0
    found = [p for notebook in targets for p in problems(notebook, lang)]
    found += [p for chapter in banks for p in bank_problems(chapter, lang)]
    for problem in found:
        print(problem)
    print(f"{len(found)} block(s) without an up-to-date {lang} translation" if found else f"{lang}: complete")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
