"""The learning path: every notebook of the course, in the order a learner reads it. The one list.

The website's sidebar and previous/next links, the README's chapter table and the start notebook's path table all
follow it (tests/test_course.py checks each, and that every notebook of solutions/ and course/ is here).
Adding a notebook is one line in NOTEBOOKS, where the learner should meet it; a new chapter also needs its title
in CHAPTERS. Paths are relative to solutions/ (and to course/, which `make release` generates from it).

    python -m losslab.course readme    # the README's chapter table, to paste after a change
"""

from __future__ import annotations

import sys
from pathlib import Path

NOTEBOOKS: tuple[str, ...] = (
    "00_start_here.ipynb",
    "00_warmup/warmup_exercise.ipynb",
    "01_losses/losses_tutorial.ipynb",
    "01_losses/losses_classes_tutorial.ipynb",
    "01_losses/losses_regression_tutorial.ipynb",
    "01_losses/losses_part2_tutorial.ipynb",
    "01_losses/losses_exercise.ipynb",
    "02_optimizers/optimizers_tutorial.ipynb",
    "02_optimizers/optimizers_part2_tutorial.ipynb",
    "02_optimizers/training_loop_tutorial.ipynb",
    "02_optimizers/optimizers_exercise.ipynb",
    "02_optimizers/training_loop_exercise.ipynb",
    "03_learning_rates/learning_rates_tutorial.ipynb",
    "03_learning_rates/learning_rates_part2_tutorial.ipynb",
    "03_learning_rates/learning_rates_part3_tutorial.ipynb",
    "03_learning_rates/learning_rates_exercise.ipynb",
    "04_debugging/debugging_checks_exercise.ipynb",
    "04_debugging/debugging_part1_tutorial.ipynb",
    "04_debugging/debugging_part1b_tutorial.ipynb",
    "04_debugging/debugging_part2_tutorial.ipynb",
    "04_debugging/debugging_part2b_tutorial.ipynb",
    "04_debugging/debugging_part3_tutorial.ipynb",
    "04_debugging/debugging_part4_tutorial.ipynb",
    "04_debugging/debugging_exercise.ipynb",
)

# Chapter number (the first two digits of a notebook's folder, or of the start notebook) -> title.
CHAPTERS: dict[int, str] = {0: "Start here", 1: "Losses", 2: "Optimizers", 3: "Learning rates", 4: "Debugging"}


def chapter(path: str) -> int:
    """The chapter number of a notebook path ('01_losses/x.ipynb' -> 1, '00_start_here.ipynb' -> 0)."""
    head = path.split("/", 1)[0]
    if not head[:2].isdigit():
        raise ValueError(f"{path}: course folders and notebooks start with a chapter number, as '01_losses'")
    return int(head[:2])


def is_exercise(path: str) -> bool:
    return path.endswith("_exercise.ipynb")


def position(path: str) -> int:
    """Where a notebook comes in the learning path; a clear error for one that is not in it."""
    try:
        return NOTEBOOKS.index(path)
    except ValueError:
        raise ValueError(
            f"{path} is not in the learning path: add it to NOTEBOOKS in losslab/course.py, where a learner "
            "should meet it (one line)"
        ) from None


def chapters() -> dict[str, list[str]]:
    """{'0. Start here': [paths...], '1. Losses': [...]} in reading order."""
    grouped: dict[str, list[str]] = {}
    for path in NOTEBOOKS:
        number = chapter(path)
        grouped.setdefault(f"{number}. {CHAPTERS[number]}", []).append(path)
    return grouped


def unlisted(root: Path) -> tuple[list[str], list[str]]:
    """(notebooks under ``root`` missing from NOTEBOOKS, NOTEBOOKS missing under ``root``). A translated edition
    (``root/ja/``, losslab/i18n.py) has the same path and is checked on its own: ``unlisted(root / "ja")``."""
    from losslab.i18n import LANGUAGES

    found = {
        p.relative_to(root).as_posix()
        for p in Path(root).rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and p.relative_to(root).parts[0] not in LANGUAGES
    }
    return sorted(found - set(NOTEBOOKS)), [p for p in NOTEBOOKS if p not in found]


def readme_table() -> str:
    """The README's chapter table (course/ paths), in the learning path's order."""
    rows = ["| chapter | tutorial | exercise |", "|---|---|---|"]
    for name, paths in chapters().items():
        tutorials = [p for p in paths if not is_exercise(p)]
        exercises = [p for p in paths if is_exercise(p)]
        first = [f"`course/{tutorials[0]}`"] + [f"`{p.rsplit('/', 1)[-1]}`" for p in tutorials[1:]]
        listed = ", then ".join(first[:2]) + "".join(f", {t}" for t in first[2:])
        rows.append(f"| {name} | {listed} | {', '.join(f'`course/{p}`' for p in exercises) or '-'} |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    if argv[1:] == ["readme"]:
        print(readme_table())
        return 0
    print("usage: python -m losslab.course readme", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
