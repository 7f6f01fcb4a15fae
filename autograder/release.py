"""Generate the learner's edition, course/, from solutions/ (``make release``).

- ``solutions/00_start_here.ipynb`` and every tutorial (any notebook that is not ``*_exercise.ipynb``) and
  data file are copied unchanged, apart from notebook normalization;
- each ``*_exercise.ipynb`` goes through ``nbgrader generate_assignment``: solutions become stubs, hidden
  tests disappear, cells are locked and checksummed, and the assignment is recorded in the gradebook.

The Japanese edition, ``course/ja/`` (same layout), is built the same way from a translated copy of solutions/
(``losslab.i18n.edition``: every markdown block from its catalog under i18n/ja/, links pointed at the translated
headings, ``language: ja`` in each notebook's metadata); its exercises go through ``generate_assignment`` too
(with a throwaway gradebook: the code cells, hidden tests and points are the English ones). A block without an
up-to-date translation stops the release and every one is named; ``--partial`` (development only, never used by
``make release``) keeps the English of such blocks instead.

``python -m autograder.release --check`` regenerates into a temporary folder (with a throwaway gradebook) and
reports every difference from the committed course/: the drift test runs exactly this.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder.config import COURSE, HERE, REPO, SOLUTIONS
from losslab import i18n, notebooks

SKIP = {".ipynb_checkpoints", "__pycache__", ".DS_Store"}


def assignments(solutions: Path = SOLUTIONS) -> list[str]:
    """Assignment folders: ``NN_name/`` holding at least one ``*_exercise.ipynb``."""
    return sorted({p.parent.name for p in solutions.glob("[0-9][0-9]_*/*_exercise.ipynb")})


def nbgrader(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run an nbgrader command in autograder/ (where its config lives), the venv's bin first on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    full_env = {**os.environ, **(env or {})}
    full_env["PATH"] = bin_dir + os.pathsep + full_env.get("PATH", "")
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=HERE, env=full_env, capture_output=True, text=True
    )


def generate(assignment: str, release_dir: Path, db_url: str | None = None, source: Path | None = None) -> Path:
    """``nbgrader generate_assignment`` into release_dir; returns the released assignment folder.

    `source` is nbgrader's source folder (default: solutions/); the tests use a fixture course of their own.
    """
    args = ["generate_assignment", assignment, "--force", f"--CourseDirectory.release_directory={release_dir}"]
    if db_url:
        args.append(f"--CourseDirectory.db_url={db_url}")
    if source is not None:
        args.append(f"--CourseDirectory.source_directory={source}")
    done = nbgrader(*args)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{done.stdout}\n{done.stderr}")
    return release_dir / assignment


def _copy_notebook(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    notebooks.write(notebooks.normalize(notebooks.read(src), path_hint=src.name), dst)


class MissingTranslations(RuntimeError):
    """A translated edition cannot be built: the message names every missing or stale block."""


def check_translations(lang: str) -> None:
    """Raise MissingTranslations naming every block and quiz text of `lang` without an up-to-date translation."""
    found = i18n.all_problems(lang)
    if found:
        raise MissingTranslations(
            f"the {lang} edition cannot be released: {len(found)} block(s) or quiz text(s) have no up-to-date "
            f"{lang} translation:\n{i18n.summary(found)}\n"
            f"Write them in i18n/{lang}/ (`python -m losslab.i18n check {lang}` lists every one; docs/i18n.md)."
        )


def build_edition(out: Path, lang: str, strict: bool = True) -> list[Path]:
    """Write the `lang` edition into `out` (course/<lang>/ in a release): every notebook of solutions/ translated,
    exercises through ``generate_assignment`` from the translated copy with a throwaway gradebook."""
    if strict:
        check_translations(lang)
        for chapter in i18n._all_banks():
            i18n.translated_bank(chapter, lang)  # the quiz banks the edition's widgets load
    out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix=f"losslab-release-{lang}-") as tmp:
        source = Path(tmp) / "source"
        for src in sorted(SOLUTIONS.rglob("*")):
            rel = src.relative_to(SOLUTIONS)
            if src.is_dir() or SKIP & set(rel.parts):
                continue
            dst = source / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.suffix == ".ipynb":
                notebooks.write(i18n.edition(src, lang, strict=strict), dst)
            else:
                shutil.copy2(src, dst)
        db = f"sqlite:///{tmp}/gradebook.db"
        released = {name: generate(name, Path(tmp) / "release", db, source=source) for name in assignments()}
        _write_edition(source, released, out)
    return sorted(p for p in out.rglob("*") if p.is_file())


def build(
    out: Path, release_dir: Path, db_url: str | None = None, *, strict: bool = True, languages=i18n.LANGUAGES
) -> list[Path]:
    """Write the whole learner's edition into `out`, a folder that must not exist yet, and each translated
    edition into out/<lang>/; returns its files. With `strict` (always, in `make release`) a missing or stale
    translation is a MissingTranslations error naming each one, raised before anything is written."""
    if strict:
        for lang in languages:
            check_translations(lang)
    out.mkdir(parents=True)
    # The translated editions build beside the English one (nbgrader runs as subprocesses: two cores, half the wait).
    with ThreadPoolExecutor(max_workers=max(len(languages), 1)) as pool:
        editions = [pool.submit(build_edition, out / lang, lang, strict) for lang in languages]
        _build_english(out, release_dir, db_url)
        for future in editions:
            future.result()
    return sorted(p for p in out.rglob("*") if p.is_file())


def _build_english(out: Path, release_dir: Path, db_url: str | None) -> None:
    released = {name: generate(name, release_dir, db_url) for name in assignments()}
    _write_edition(SOLUTIONS, released, out, skip=SKIP)


def _write_edition(source: Path, released: dict[str, Path], out: Path, skip: frozenset | set = frozenset()) -> None:
    """Every file of `source` into `out`: exercises as nbgrader released them (`released`: assignment -> folder),
    other notebooks normalized, anything else copied; paths with a part in `skip` left out."""
    for src in sorted(source.rglob("*")):
        rel = src.relative_to(source)
        if src.is_dir() or skip & set(rel.parts):
            continue
        dst = out / rel
        if src.name.endswith("_exercise.ipynb"):
            _copy_notebook(released[rel.parts[0]] / src.name, dst)
        elif src.suffix == ".ipynb":
            _copy_notebook(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def differences(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between two trees (missing on either side, or different bytes)."""
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and not SKIP & set(p.parts)}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and not SKIP & set(p.parts)}
    out = [f"only in {a.name}/: {p}" for p in sorted(files_a - files_b)]
    out += [f"only in {b.name}/: {p}" for p in sorted(files_b - files_a)]
    out += [f"differs: {p}" for p in sorted(files_a & files_b) if not filecmp.cmp(a / p, b / p, shallow=False)]
    return out


MANIFEST = HERE / "release" / "course-manifest.json"  # what the last `make release` wrote (git-ignored)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): _digest(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not SKIP & set(p.relative_to(root).parts)
    }


def _last_release() -> dict[str, str]:
    try:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in manifest.items()}
    except (OSError, ValueError, AttributeError):
        return {}  # no release yet on this machine, or an unreadable manifest: trust only git and the build


def learner_edits(fresh: dict[str, str] | None = None) -> list[str]:
    """Files under course/ that regenerating would lose: changed since git's last commit, and equal neither
    to what the last ``make release`` wrote nor to what this one writes (`fresh`: path -> sha256).

    A new chapter's files (untracked until committed) and a re-release after editing solutions/ are not
    edits: their bytes came from a release. Empty outside a git checkout.
    """
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "--", "course"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:
        return []
    ours = _last_release()
    fresh = fresh or {}
    at_risk = []
    for line in done.stdout.splitlines():
        path = line[3:].strip().strip('"')
        if " -> " in path:  # a rename: the new name is the file on disc
            path = path.split(" -> ", 1)[1]
        local = REPO / path
        if not local.is_file():
            continue  # deleted: nothing to lose
        rel = str(local.relative_to(COURSE))
        digest = _digest(local)
        if digest not in (ours.get(rel), fresh.get(rel)):
            at_risk.append(path)
    return at_risk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare a fresh release with course/, write nothing")
    parser.add_argument("--force", action="store_true", help="overwrite uncommitted changes in course/")
    parser.add_argument(
        "--partial",
        action="store_true",
        help="development only: keep the English of blocks without an up-to-date translation (never in a release)",
    )
    args = parser.parse_args(argv)
    strict = not args.partial
    if args.check:
        with tempfile.TemporaryDirectory(prefix="losslab-release-") as tmp:
            fresh = Path(tmp) / "course"
            try:
                build(fresh, Path(tmp) / "release", db_url=f"sqlite:///{tmp}/gradebook.db", strict=strict)
            except MissingTranslations as exc:
                print(exc)
                return 1
            diff = differences(COURSE, fresh)
        for line in diff:
            print(line)
        print("course/ matches solutions/" if not diff else "course/ is out of date: run `make release`")
        return 1 if diff else 0
    with tempfile.TemporaryDirectory(prefix="losslab-release-") as tmp:
        try:
            written = build(Path(tmp) / "course", HERE / "release", strict=strict)
        except MissingTranslations as exc:
            print(exc)
            return 1
        digests = _tree_digests(Path(tmp) / "course")
        edited = learner_edits(digests)
        if edited and not args.force:
            print(
                "course/ holds changes that are neither committed nor written by a release (a learner's "
                "work?):\n  "
                + "\n  ".join(edited)
                + "\nRegenerating would overwrite them. Commit or copy them elsewhere, or run "
                "`make release FORCE=1` to overwrite."
            )
            return 3
        shutil.rmtree(COURSE, ignore_errors=True)
        shutil.copytree(Path(tmp) / "course", COURSE)
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    MANIFEST.write_text(json.dumps(digests, indent=1, sort_keys=True), encoding="utf-8")
    editions = "".join(f", course/{lang}/" for lang in i18n.LANGUAGES)
    note = " (--partial: untranslated blocks kept in English; do not commit this)" if args.partial else ""
    print(
        f"course/{editions} regenerated from solutions/{note}: {len(written)} files, "
        f"assignments: {', '.join(assignments())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
