"""Generate the learner's edition, course/, from solutions/ (``make release``).

- ``solutions/00_start_here.ipynb`` and every tutorial (any notebook that is not ``*_exercise.ipynb``) and
  data file are copied unchanged, apart from notebook normalization;
- each ``*_exercise.ipynb`` goes through ``nbgrader generate_assignment``: solutions become stubs, hidden
  tests disappear, cells are locked and checksummed, and the assignment is recorded in the gradebook.

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
from pathlib import Path

from autograder.config import COURSE, HERE, REPO, SOLUTIONS
from losslab import notebooks

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


def build(out: Path, release_dir: Path, db_url: str | None = None) -> list[Path]:
    """Write the whole learner's edition into `out`, a folder that must not exist yet; returns its files."""
    out.mkdir(parents=True)
    released = {name: generate(name, release_dir, db_url) for name in assignments()}
    for src in sorted(SOLUTIONS.rglob("*")):
        rel = src.relative_to(SOLUTIONS)
        if src.is_dir() or SKIP & set(rel.parts):
            continue
        dst = out / rel
        if src.name.endswith("_exercise.ipynb"):
            _copy_notebook(released[rel.parts[0]] / src.name, dst)
        elif src.suffix == ".ipynb":
            _copy_notebook(src, dst)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    return sorted(p for p in out.rglob("*") if p.is_file())


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
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory(prefix="losslab-release-") as tmp:
            fresh = Path(tmp) / "course"
            build(fresh, Path(tmp) / "release", db_url=f"sqlite:///{tmp}/gradebook.db")
            diff = differences(COURSE, fresh)
        for line in diff:
            print(line)
        print("course/ matches solutions/" if not diff else "course/ is out of date: run `make release`")
        return 1 if diff else 0
    with tempfile.TemporaryDirectory(prefix="losslab-release-") as tmp:
        written = build(Path(tmp) / "course", HERE / "release")
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
    print(f"course/ regenerated from solutions/: {len(written)} files, assignments: {', '.join(assignments())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
