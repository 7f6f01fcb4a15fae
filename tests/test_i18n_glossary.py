"""The Japanese terminology (docs/glossary-ja.md): its table is well formed, and no translation uses a term of
its 避ける (avoid) column where the glossary names the term to use. Each hit names the catalog entry."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from losslab import i18n, messages
from tests.support import REPO

GLOSSARY = REPO / "docs" / "glossary-ja.md"
HEADER = ["English", "日本語", "避ける"]


@dataclass(frozen=True)
class Term:
    english: str
    japanese: str
    avoid: tuple[str, ...]
    line: int


def read_glossary(text: str) -> tuple[list[Term], list[str]]:
    """The table's rows, and every problem with it ("line N: ..."): a row needs three cells, an English and a
    Japanese term; an avoided term must differ from every term to use and appear in one row only."""
    terms, problems = [], []
    rows = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip().startswith("|")]
    if not rows or [c.strip() for c in rows[0][1].strip().strip("|").split("|")] != HEADER:
        return [], [f"the table must start with the header | {' | '.join(HEADER)} |"]
    for n, line in rows[2:]:
        cells = [c.strip() for c in line.strip().removeprefix("|").removesuffix("|").split("|")]
        if len(cells) != 3:
            problems.append(f"line {n}: {len(cells)} cells, expected 3 (English | 日本語 | 避ける): {line}")
            continue
        english, japanese, avoid = cells
        if not english or not japanese:
            problems.append(f"line {n}: an English and a Japanese term are required: {line}")
            continue
        terms.append(Term(english, japanese, tuple(a.strip() for a in avoid.split(",") if a.strip()), n))
    preferred = {t.japanese for t in terms}
    seen: dict[str, int] = {}
    for t in terms:
        for a in t.avoid:
            if a in preferred:
                problems.append(f"line {t.line}: {a!r} is avoided here but is the term to use in another row")
            if a in seen:
                problems.append(f"line {t.line}: {a!r} is already avoided on line {seen[a]}")
            seen[a] = t.line
    return terms, problems


def test_the_glossary_table_is_well_formed() -> None:
    terms, problems = read_glossary(GLOSSARY.read_text(encoding="utf-8"))
    assert not problems, "docs/glossary-ja.md:\n" + "\n".join(problems)
    names = {t.japanese for t in terms}
    for required in ("損失関数", "交差エントロピー", "学習率", "オプティマイザ", "勾配消失", "過学習"):
        assert required in names, f"docs/glossary-ja.md lacks {required}"


def test_a_malformed_glossary_is_reported() -> None:
    good = "| English | 日本語 | 避ける |\n|---|---|---|\n| loss | 損失 | ロス |\n"
    assert read_glossary(good)[1] == []
    assert "2 cells, expected 3" in read_glossary(good + "| loss | 損失 |\n")[1][0]
    assert "required" in read_glossary(good + "| loss |  | ロス |\n")[1][0]
    assert "term to use" in read_glossary(good + "| loss function | 損失関数 | 損失 |\n")[1][0]
    assert "header" in read_glossary("| a | b |\n")[1][0]


def _catalogue_texts() -> list[tuple[str, str]]:
    """(where, text) of every translation: notebook and quiz catalogs, and the messages' .po."""
    out = []
    for path in sorted([*(i18n.CATALOGUES / "ja").rglob("*.yaml"), *(i18n.BANK_CATALOGS / "ja").glob("*.yaml")]):
        rel = path.relative_to(REPO).as_posix()
        for entry in i18n.load_catalogue(path):
            if entry.get("text"):
                out.append((f"{rel} {entry.get('cell', entry.get('key'))} ({entry['en']})", str(entry["text"])))
    for message in messages._read_po("ja"):
        if message.id and message.string:
            out.append((f"losslab.po {message.id[:50]!r}", str(message.string)))
    return out


_KATAKANA = "[\u30a0-\u30ff]"


def _pattern(term: str) -> re.Pattern[str]:
    """A term as a word: katakana at its edge must not run on into more katakana (ロス is not in クロス)."""
    before = f"(?<!{_KATAKANA})" if re.match(_KATAKANA, term) else ""
    after = f"(?!{_KATAKANA})" if re.match(_KATAKANA, term[-1]) else ""
    return re.compile(before + re.escape(term) + after)


def _avoided_uses(terms: list[Term], texts: list[tuple[str, str]]) -> list[str]:
    hits = []
    for where, text in texts:
        plain = re.sub(r"`[^`]*`", "", text)  # code is English, never a term
        for t in terms:
            for a in t.avoid:
                if _pattern(a).search(plain):
                    hits.append(f"{where}: uses {a!r}; the glossary's term for {t.english!r} is {t.japanese!r}")
    return hits


def test_translations_use_the_glossary_terms() -> None:
    terms, _ = read_glossary(GLOSSARY.read_text(encoding="utf-8"))
    hits = _avoided_uses(terms, _catalogue_texts())
    assert not hits, f"{len(hits)} translation(s) use a term docs/glossary-ja.md avoids:\n" + "\n".join(hits)


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("クロスエントロピーを使います。", True),
        ("交差エントロピーを使います。", False),
        ("`ロス` はコード", False),
        ("ロスが下がる", True),
        ("オプティマイザーを選ぶ", True),
        ("オプティマイザを選ぶ", False),
    ],
)
def test_an_avoided_term_is_caught_and_named(text: str, caught: bool) -> None:
    terms, _ = read_glossary(GLOSSARY.read_text(encoding="utf-8"))
    hits = _avoided_uses(terms, [("i18n/ja/x.yaml cell1 (abc)", text)])
    assert bool(hits) == caught, hits
    if caught:
        assert all("i18n/ja/x.yaml cell1" in hit for hit in hits)
