"""Put the course into a learner's home folder on a JupyterHub whose homes are persistent volumes.

Zero to JupyterHub mounts each learner's volume over the home folder, hiding whatever the image held there; the
image therefore keeps the repository outside it (repo2docker --target-repo-dir) and `start` calls this at every
session start: the first time it copies the whole course in; later it adds only files the home lacks (a notebook
added to the course), and never overwrites or deletes one a learner has (their work).

    python3 -m losslab.homecourse SOURCE_COURSE_DIR DEST_DIR
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from losslab.messages import _

SKIPPED = {".ipynb_checkpoints", "__pycache__"}


def copy_missing(source: Path, dest: Path) -> tuple[list[Path], list[Path]]:
    """Copy every file of ``source`` that ``dest`` lacks; returns (copied, kept) as paths relative to ``dest``."""
    source, dest = Path(source), Path(dest)
    if not source.is_dir():
        raise FileNotFoundError(_("no course folder at {source}").format(source=source))
    copied: list[Path] = []
    kept: list[Path] = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if SKIPPED & set(relative.parts) or not path.is_file():
            continue
        target = dest / relative
        if target.exists() or target.is_symlink():
            kept.append(relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied.append(relative)
    return copied, kept


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    try:
        copied, kept = copy_missing(Path(argv[1]), Path(argv[2]))
    except OSError as exc:
        print(
            _("Loss Lab: could not copy the course into {dest}: {error}").format(dest=argv[2], error=exc),
            file=sys.stderr,
        )
        return 1
    if copied:
        print(
            _("Loss Lab: copied {copied} course files into {dest} ({kept} already there, kept)").format(
                copied=len(copied), dest=argv[2], kept=len(kept)
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
