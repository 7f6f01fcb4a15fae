"""The records that cross between the grader's steps, each defined once and read by attribute.

========================  ==========================================  ===========================================
record                    written by                                  read by
========================  ==========================================  ===========================================
``RunReport``             the executor, one JSON line per notebook    the unit (autograder/unit.py), ``classify``
                          (``report.jsonl``, autograder/executor.py)  (autograder/checks.py)
``Finding``               the kernel guard (``guard.jsonl``) and the  the unit: a flag or a note of the student
                          executor (inside ``RunReport``)
``NbgraderRun``           the supervisor of ``nbgrader autograde``    the unit
                          (autograder/supervisor.py)
``Result``                the unit and the coordinator                the summary, the report, the gradebook merge
``Outcome``               the unit (locally or on a Dask worker)      the coordinator (coordinator.py)
========================  ==========================================  ===========================================

Each has one ``to_json`` and one ``from_json``; ``from_json`` checks every field's type, and a record that is
not JSON, is truncated, lacks a field or has one of the wrong type raises ``RecordError`` naming the student
whose grading wrote it, never a value silently dropped.
"""

from __future__ import annotations

import base64
import json
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar


class RecordError(ValueError):
    """A record that cannot be read; the message names the student and the record."""


def _convert(value: Any, hint: Any, where: str) -> Any:
    """`value` (decoded JSON) as the type `hint`, or a TypeError that says where."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in (o for o in options if o is not type(None)):
            try:
                return _convert(value, option, where)
            except TypeError as exc:
                errors.append(str(exc))
        raise TypeError(errors[0] if errors else f"{where}: unexpected {value!r}")
    if isinstance(hint, type) and issubclass(hint, Record):
        if not isinstance(value, dict):
            raise TypeError(f"{where}: expected an object, got {type(value).__name__}")
        return hint._from_dict(value, where)
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise TypeError(f"{where}: expected a list, got {type(value).__name__}")
        return [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is tuple:
        items = typing.get_args(hint)
        if not isinstance(value, list) or len(value) != len(items):
            raise TypeError(f"{where}: expected {len(items)} values")
        return tuple(_convert(v, t, where) for v, t in zip(value, items, strict=True))
    if origin is dict:
        _, item = typing.get_args(hint)
        if not isinstance(value, dict):
            raise TypeError(f"{where}: expected an object, got {type(value).__name__}")
        return {str(k): _convert(v, item, f"{where}.{k}") for k, v in value.items()}
    if hint is bytes:
        if not isinstance(value, str):
            raise TypeError(f"{where}: expected base64 text")
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError) as exc:
            raise TypeError(f"{where}: not base64 ({exc})") from exc
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{where}: expected a number, got {value!r}"[:200])
        return float(value)
    if hint is Any:
        return value
    if isinstance(hint, type) and not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise TypeError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}"[:200])
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Record:
    """A dataclass that travels as one line of JSON (bytes as base64); see the module docstring."""

    _hints: ClassVar[dict[str, Any]]

    def to_dict(self) -> dict:
        return _plain(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def _from_dict(cls, data: dict, where: str) -> Any:
        hints = cls.__dict__.get("_hints") or typing.get_type_hints(cls)
        cls._hints = hints
        names = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise TypeError(f"{where}: unknown field(s) {', '.join(unknown)}")
        values = {}
        for name, spec in names.items():
            if name not in data:
                if spec.default is MISSING and spec.default_factory is MISSING:
                    raise TypeError(f"{where}: missing {name}")
                continue
            values[name] = _convert(data[name], hints[name], f"{where}.{name}")
        return cls(**values)

    @classmethod
    def from_dict(cls, data: Any, student: str) -> Any:
        if not isinstance(data, dict):
            raise RecordError(f"{student}: a {cls.__name__} record is not an object: {str(data)[:120]!r}")
        try:
            return cls._from_dict(data, cls.__name__)
        except TypeError as exc:
            raise RecordError(f"{student}: a bad {cls.__name__} record ({exc})") from exc

    @classmethod
    def from_json(cls, text: str | bytes, student: str) -> Any:
        try:
            data = json.loads(text)
        except ValueError as exc:
            shown = text[:120] if isinstance(text, str) else text[:120].decode("utf-8", "replace")
            raise RecordError(
                f"{student}: a {cls.__name__} record is not JSON, or is truncated ({exc}): {shown!r}"
            ) from exc
        return cls.from_dict(data, student)

    @classmethod
    def read_lines(cls, path: Path, student: str) -> list:
        """Every record of a JSON-lines file (none when it does not exist); a bad line is a RecordError."""
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return [cls.from_json(line, student) for line in lines if line.strip()]


# ----------------------------------------------------------------------------------------------- the executor


@dataclass
class Event(Record):
    """Why the executor stopped or restarted a kernel (memory, timeout, died, unresponsive, output, disk,
    guard-timeout), and in which cell ("replay": while re-running the cells above)."""

    reason: str
    cell: str | None = None


@dataclass
class Finding(Record):
    """A flag (a trick against the tests) or a note, from the kernel guard or the executor."""

    kind: str
    msg: str


@dataclass
class CellError(Record):
    """A non-test cell that raised: its kind is setup, answer, uses-answer or added."""

    cell: str
    kind: str
    ename: str
    evalue: str


@dataclass
class RunReport(Record):
    """What the executor (autograder/executor.py) did with one notebook: one line of ``report.jsonl``."""

    notebook: str = ""
    stopped: str | None = None  # the reason grading stopped early (None: graded to the end)
    stopped_at: str | None = None
    events: list[Event] = field(default_factory=list)
    cell_timeouts: list[str] = field(default_factory=list)
    restarts: int = 0
    guard: str = "off"  # ok, unavailable or off
    findings: list[Finding] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    peak_mb: float = 0.0
    memory: str = "pss"  # how memory was measured: "cgroup" (the submission's own) or "pss" (summed over the tree)
    output_mb: float = 0.0
    seconds: float = 0.0
    sandbox: str = "off"


# ----------------------------------------------------------------------------------------------- the driver


@dataclass
class NbgraderRun(Record):
    """One supervised ``nbgrader autograde`` (autograder/supervisor.py): how it ended."""

    returncode: int | None = None
    killed: str = ""  # the supervisor's reason: timeout, memory or cancelled ("" when it ended by itself)
    peak_mb: float = 0.0
    log: str = ""
    ended: list[int] = field(default_factory=list)  # processes of the submission left after grading, ended


@dataclass
class Result(Record):
    """One student's grading, as the summary, the report and the coordinator see it."""

    student: str
    status: str = "ok"
    seconds: float = 0.0
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, tuple[float, float]] = field(default_factory=dict)
    log: str = ""
    detail: str = ""
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    peak_mb: float = 0.0
    where: str = "local"  # the Dask worker that graded it, or "local"
    feedback_error: str = ""  # why its feedback HTML was not written ("" when it was, or was not asked for)

    @property
    def suspicious(self) -> bool:
        return bool(self.flags)


@dataclass
class Outcome(Record):
    """What a unit returns: the Result, and what the coordinator must write (action: merge, zero or keep)."""

    result: Result
    action: str = "keep"  # merge: the grades in `gradebook`; zero: a zero for the student; keep: nothing
    gradebook: bytes = b""
    autograded: dict[str, bytes] = field(default_factory=dict)
    feedback: dict[str, bytes] = field(default_factory=dict)  # feedback/<student>/<assignment>/, by relative path
    feedback_error: str = ""  # why generate_feedback wrote nothing for a graded submission ("" when it did)
    where: str = "local"
