"""Before and after a submission runs: what the assignment expects (from the gradebook and the release), the
checks of a submission before grading (missing, unreadable, edited or deleted cells, the static scan), and the
status of every submission, decided here only: ``no_notebook`` (nothing to run), ``failed_run`` (nbgrader did
not finish), ``classify`` (graded to the end, from the executor's RunReports) and ``grader_error`` (the unit
itself failed, after its one retry, autograder/executors.py). Used by autograder/unit.py."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import scan
from autograder.config import CONFIG, Limits
from autograder.gradebook import db_url, open_gradebook
from autograder.records import NbgraderRun, Result, RunReport

# Worst first: the status shown is the first that applies (see classify()).
STATUSES = (
    "error",
    "invalid-notebook",
    "missing-notebook",
    "memory",
    "disk",
    "output",
    "timeout",
    "kernel-died",
    "suspicious",
    "import-error",
    "restored-tests",
    "ok",
)

# ----------------------------------------------------------------------------------------------- checks


@dataclass
class NotebookInfo:
    name: str
    points: dict[str, float]  # test cell -> points
    checksums: dict[str, set[str]]  # locked cell -> the checksums it may have (released or source edition)
    release: nbformat.NotebookNode | None


def assignment_info(assignment: str, root: Path) -> dict[str, NotebookInfo]:
    """The assignment's notebooks, their test cells and locked cells, from the gradebook and the release."""
    info: dict[str, NotebookInfo] = {}
    with open_gradebook(db_url(root)) as gb:
        for notebook in gb.find_assignment(assignment).notebooks:
            checksums = {cell.name: {cell.checksum} for cell in notebook.source_cells if cell.locked}
            points = {cell.name: float(cell.max_score) for cell in notebook.grade_cells}
            info[notebook.name] = NotebookInfo(notebook.name, points, checksums, None)
    for name, notebook in info.items():
        path = root / "release" / assignment / f"{name}.ipynb"
        if path.exists():
            notebook.release = nbformat.read(str(path), as_version=4)
            for cell in notebook.release.cells:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if meta.get("locked") and meta.get("checksum") and meta.get("grade_id") in notebook.checksums:
                    notebook.checksums[meta["grade_id"]].add(meta["checksum"])
    return info


@dataclass
class Check:
    valid: dict[str, nbformat.NotebookNode] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def _restore_setup_cells(nb: nbformat.NotebookNode, release: nbformat.NotebookNode) -> list[str]:
    """Put back deleted read-only cells that are not tests (nbgrader restores only test cells)."""
    present = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells}
    restored = []
    previous_id = None
    for cell in release.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        setup = meta.get("locked") and not meta.get("grade") and not meta.get("solution")
        if gid and setup and gid not in present:
            position = 0
            if previous_id is not None:
                for index, existing in enumerate(nb.cells):
                    if existing.get("metadata", {}).get("nbgrader", {}).get("grade_id") == previous_id:
                        position = index + 1
                        break
            nb.cells.insert(position, nbformat.from_dict(json.loads(json.dumps(cell))))
            present.add(gid)
            restored.append(gid)
        if gid:
            previous_id = gid
    return restored


def check_submission(folder: Path, info: dict[str, NotebookInfo]) -> Check:
    from nbgrader.utils import compute_checksum

    check = Check()
    expected = {f"{name}.ipynb": name for name in info}
    for path in sorted(folder.glob("*.ipynb")):
        if path.name not in expected:
            check.others.append(path.name)
    for filename, name in expected.items():
        path = folder / filename
        if path.is_symlink():
            check.flags.append(f"{filename} is a symbolic link to {os.path.realpath(path)} (not graded)")
            check.missing.append(name)
            continue
        if not path.is_file():
            check.missing.append(name)
            continue
        try:
            nb = nbformat.read(str(path), as_version=4)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("no list of cells")
        except Exception as exc:  # any unreadable notebook is a status, not a crash
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            check.invalid[name] = f"{type(exc).__name__}: {first}"
            continue
        notebook = info[name]
        seen = {}
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
            gid = meta.get("grade_id")
            if gid in notebook.checksums:
                seen[gid] = cell
        for gid, allowed in notebook.checksums.items():
            cell = seen.get(gid)
            if cell is None:
                if gid in notebook.points:
                    check.deleted.append(gid)
                continue
            try:
                checksum = compute_checksum(cell)
            except Exception:  # metadata mangled beyond reading: nbgrader restores it
                checksum = ""
            if checksum not in allowed:
                check.edited.append(gid)
        if notebook.release is not None:
            restored = _restore_setup_cells(nb, notebook.release)
            if restored:
                check.notes.append(f"restored the deleted read-only cell(s) {', '.join(restored)}")
        check.flags.extend(f"code: {finding}" for finding in scan.scan_notebook(nb))
        check.valid[name] = nb
    return check


# A watchdog event's reason -> (status, detail for the notes).
_EVENTS = {
    "memory": ("memory", "the kernel went over the memory limit{where}"),
    "disk": ("disk", "the submission wrote more than its disk limit into its folder{where}"),
    "output": ("output", "the cells printed or displayed more than the output limit{where}"),
    "timeout": ("timeout", "the submission reached its time limit{where}"),
    "died": ("kernel-died", "the kernel died{where}"),
    "unresponsive": ("timeout", "{cell} ran past the per-cell limit and ignored the interrupt"),
}


def classify(result: Result, check: Check, runs: list[RunReport]) -> None:
    """The status of a submission that nbgrader graded to the end (see STATUSES), with its detail."""
    details: list[str] = []
    statuses: list[str] = []
    for run in runs:
        for event in run.events:
            cell = event.cell
            where = (f" in {cell}" if cell != "replay" else " while re-running the cells") if cell else ""
            if event.reason in _EVENTS:
                status, text = _EVENTS[event.reason]
                statuses.append(status)
                details.append(text.format(where=where, cell=cell))
        stuck = {e.cell for e in run.events if e.reason == "unresponsive"}
        timeouts = [c for c in run.cell_timeouts if c not in stuck]
        if timeouts:
            statuses.append("timeout")
            details.append(f"over the per-cell time limit: {', '.join(sorted(set(timeouts)))}")
        if run.restarts:
            details.append(f"kernel restarted {run.restarts} time(s); the cells after the failure were graded")
        if run.stopped:
            details.append(f"grading stopped at {run.stopped_at or 'the start'}: later tests scored 0")
        if run.guard == "unavailable":
            result.notes.append("the kernel guard did not load: tricks against the tests were not checked")
        for error in run.errors:
            if error.kind == "setup" or error.ename in ("ImportError", "ModuleNotFoundError"):
                statuses.append("import-error")
                details.append(f"{error.cell} raised {error.ename}: {error.evalue}")
    if check.invalid:
        statuses.append("invalid-notebook")
        details += [f"{name}.ipynb is not a readable notebook ({why}): 0 points" for name, why in check.invalid.items()]
    if check.missing:
        statuses.append("missing-notebook")
        details.append(f"missing: {', '.join(n + '.ipynb' for n in check.missing)} (0 points)")
    if check.edited or check.deleted:
        statuses.append("restored-tests")
    if result.flags:
        statuses.append("suspicious")
    statuses.append("ok")
    result.status = min(statuses, key=STATUSES.index)
    seen: list[str] = []
    for text in details:
        if text not in seen:
            seen.append(text)
    result.detail = "; ".join(seen)


def no_notebook(result: Result, check: Check) -> str:
    """The status of a submission with no gradable notebook; returns the gradebook action ("zero")."""
    if check.invalid:
        result.status = "invalid-notebook"
        result.detail = "; ".join(
            f"{name}.ipynb is not a readable notebook ({why})" for name, why in check.invalid.items()
        )
    else:
        result.status = "missing-notebook"
        expected = ", ".join(f"{name}.ipynb" for name in check.missing)
        found = f"; found {', '.join(check.others)} instead (rename it to grade it)" if check.others else ""
        result.detail = f"no {expected} in the submission{found}"
    return "zero"


# What nbclient says when a kernel never came up (it died or stayed silent before answering kernel_info): no cell of
# the submission ran, so it is the grading that failed, not the submission (autograder/unit.py tries it again).
KERNEL_START_FAILURES = ("Kernel died before replying to kernel_info", "Kernel didn't respond in")


def kernel_never_started(run: NbgraderRun) -> bool:
    """nbgrader failed because a notebook's kernel did not start (not a limit, not the submission's cells)."""
    return not run.killed and run.returncode != 0 and any(text in run.log for text in KERNEL_START_FAILURES)


def failed_run(result: Result, run: NbgraderRun, limits: Limits) -> str:
    """The status of a submission whose nbgrader did not finish (the driver's backstop, or nbgrader failed);
    returns the gradebook action: "zero", or "keep" (the student's previous grades stay)."""
    log = run.log
    if run.killed == "timeout":
        result.status = "timeout"
        result.detail = (
            f"the driver stopped the grading {CONFIG.backstop_grace_s:.0f} s after the "
            f"{limits.wall_s:.0f} s limit; no test result was kept"
        )
    elif run.killed == "memory":
        result.status = "memory"
        ceiling = limits.memory_mb + CONFIG.backstop_extra_mb
        result.detail = f"the driver stopped the grading above {ceiling:.0f} MB; no test result was kept"
    elif run.killed == "output":
        result.status = "output"
        result.detail = (
            f"the kernel wrote more than {limits.output_mb:.0f} MB to its own output streams; the driver stopped "
            "the grading and no test result was kept"
        )
    elif run.killed == "cancelled":
        result.status, result.detail = "error", "grading was cancelled"
        return "keep"
    elif any(word in log for word in ("NotJSONError", "ValidationError", "does not appear to be JSON")):
        result.status = "invalid-notebook"
        result.detail = "nbgrader could not read the notebook: " + last_error(log)
    else:
        result.status = "error"
        result.detail = f"nbgrader autograde failed ({last_error(log)}); previous grades, if any, are kept"
        return "keep"
    return "zero"


def grader_error(result: Result, failure: str, log: str = "") -> None:
    """The status of a student whose grading failed in the grader itself: "error", previous grades kept."""
    result.status, result.detail = "error", failure
    if log:
        result.log = (result.log + "\n" + log)[-6000:]


def last_error(log: str) -> str:
    """The last line of an nbgrader log that names an error (or its last line)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "ERROR" in line:
            return line[:200]
    return lines[-1][:200] if lines else "no output"
