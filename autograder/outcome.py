"""What a grading run shows and keeps: the progress line, the summary table, the details and
reports/<assignment>.json, from one Result per student (autograder/records.py; statuses in autograder/POLICY.md)."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

from autograder.config import Limits
from autograder.records import Result

# ----------------------------------------------------------------------------------------------- output


class Progress:
    """A progress bar on a terminal, one line per finished submission otherwise."""

    def __init__(self, total: int, enabled: bool, stream=None) -> None:
        self.total, self.enabled, self.done, self.started = total, enabled, 0, time.perf_counter()
        self.stream = stream or sys.stdout
        self.tty = enabled and self.stream.isatty()
        self.lock = threading.Lock()

    def update(self, result: Result) -> None:
        if not self.enabled:
            return
        with self.lock:
            self.done += 1
            elapsed = time.perf_counter() - self.started
            left = self.total - self.done
            eta = f"about {elapsed / self.done * left:.0f} s left" if left else "done"
            if self.tty:
                width = 30
                filled = int(width * self.done / max(1, self.total))
                bar = "#" * filled + "." * (width - filled)
                self.stream.write(
                    f"\r[{bar}] {self.done}/{self.total} graded, "
                    f"{elapsed:5.0f} s, {eta}, last: {result.student} {result.status}\x1b[K"
                )
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(
                    f"[{self.done:>{len(str(self.total))}}/{self.total}] {result.student}: "
                    f"{result.score:g}/{result.max_score:g} in {result.seconds:.1f} s, "
                    f"{result.status} on {result.where} ({elapsed:.0f} s elapsed, {eta})\n"
                )
            self.stream.flush()


def summary_table(results: list[Result]) -> str:
    width = max([7] + [len(r.student) for r in results])
    where = max([7] + [len(r.where) for r in results])
    header = (
        f"{'student':<{width}}  {'score':>6} {'max':>5} {'time':>7} {'peak MB':>8}  {'status':<16} "
        f"{'ran on':<{where}}  notes"
    )
    lines = [header, "-" * (width + where + 72)]
    for r in results:
        parts = [f"{len(r.flags)} suspicious finding(s)"] if r.flags else []
        notes = "; ".join(parts + ([r.detail] if r.detail else []))
        lines.append(
            f"{r.student:<{width}}  {r.score:>6.1f} {r.max_score:>5.1f} {r.seconds:>6.1f}s "
            f"{r.peak_mb:>8.0f}  {r.status:<16} {r.where:<{where}}  {notes[:90]}"
        )
    return "\n".join(lines)


def details_text(results: list[Result]) -> str:
    out = []
    for r in results:
        if not (r.detail or r.flags or r.notes):
            continue
        out.append(f"{r.student} ({r.status}):")
        if r.detail:
            out.append(f"  {r.detail}")
        out += [f"  suspicious: {flag}" for flag in r.flags]
        out += [f"  note: {note}" for note in r.notes]
    return "\n".join(out)


def write_report(assignment: str, root: Path, results: list[Result], limits: Limits, sandbox: str = "") -> Path:
    """reports/<assignment>.json: the latest result of every student (a partial run updates its students)."""
    folder = root / "reports"
    folder.mkdir(exist_ok=True)
    path = folder / f"{assignment}.json"
    entries: dict[str, dict] = {}
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        entries = {r["student"]: r for r in json.loads(path.read_text())["results"]}
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    for r in results:
        entries[r.student] = {**r.to_dict(), "log": r.log[-1500:], "graded": stamp, "limits": asdict(limits)}
    data = {
        "assignment": assignment,
        "date": stamp,
        "sandbox": sandbox,
        "results": [entries[k] for k in sorted(entries)],
    }
    path.write_text(json.dumps(data, indent=1))
    return path
