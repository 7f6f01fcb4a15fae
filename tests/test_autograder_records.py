"""The records between the grader's steps (autograder/records.py): one round trip each, and a bad record is an
error that names the student."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.records import (
    CellError,
    Event,
    Finding,
    NbgraderRun,
    Outcome,
    RecordError,
    Result,
    RunReport,
)

SAMPLES = [
    RunReport(
        notebook="probe_exercise",
        stopped="memory",
        stopped_at="answer-2",
        events=[Event("memory", "answer-2"), Event("died", "replay")],
        cell_timeouts=["test-a"],
        restarts=1,
        guard="ok",
        findings=[Finding("flag", "replaced math.isclose")],
        errors=[CellError("setup", "setup", "ImportError", "no module named x")],
        peak_mb=812.5,
        memory="cgroup",
        output_mb=0.25,
        seconds=12.0,
        sandbox="on",
    ),
    NbgraderRun(returncode=0, killed="", peak_mb=90.0, log="[AutogradeApp] done\n", ended=[41, 42]),
    Result("ann", "timeout", 3.5, 1.0, 4.0, {"test-a": (1.0, 1.0)}, "log", "detail", ["flag"], ["note"], 10.0),
    Outcome(
        Result("bob", cells={"t": (0.0, 2.0)}),
        action="merge",
        gradebook=b"SQLite format 3\x00\xff",
        autograded={"probe_exercise.ipynb": b"{}", "data/x.bin": bytes(range(256))},
        feedback={"probe_exercise.html": b"<p>1 / 4</p>"},
        where="tcp://127.0.0.1:4000",
    ),
]


@pytest.mark.parametrize("record", SAMPLES, ids=lambda r: type(r).__name__)
def test_every_record_comes_back_as_it_went(record: object) -> None:
    text = record.to_json()
    assert "\n" not in text  # one line of a JSON-lines file
    back = type(record).from_json(text, "ann")
    assert back == record and type(back) is type(record)


@pytest.mark.parametrize("record", SAMPLES, ids=lambda r: type(r).__name__)
def test_a_truncated_or_garbage_record_names_the_student(record: object) -> None:
    text = record.to_json()
    for bad in (text[: len(text) // 2], "garbage", "", "[1, 2]", "null"):
        with pytest.raises(RecordError, match=r"^carol: .*" + type(record).__name__):
            type(record).from_json(bad, "carol")


def test_a_field_of_the_wrong_type_or_unknown_is_refused() -> None:
    good = json.loads(SAMPLES[0].to_json())
    for change in (
        {"events": "memory"},
        {"events": [{"reason": 3}]},
        {"peak_mb": "812"},
        {"restarts": True},
        {"errors": [{"cell": "x"}]},
        {"surprise": 1},
    ):
        with pytest.raises(RecordError, match="^dan: a bad RunReport record"):
            RunReport.from_json(json.dumps({**good, **change}), "dan")
    with pytest.raises(RecordError, match="gradebook: not base64"):
        Outcome.from_json(json.dumps({"result": {"student": "e"}, "gradebook": "***"}), "e")
    with pytest.raises(RecordError, match="missing student"):
        Result.from_json("{}", "f")


def test_a_report_file_is_read_line_by_line_and_a_bad_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "report.jsonl"
    assert RunReport.read_lines(path, "gus") == []
    path.write_text(SAMPLES[0].to_json() + "\n\n" + RunReport(notebook="b").to_json() + "\n")
    assert [r.notebook for r in RunReport.read_lines(path, "gus")] == ["probe_exercise", "b"]
    path.write_text(SAMPLES[0].to_json() + "\n" + RunReport(notebook="b").to_json()[:30] + "\n")  # cut short
    with pytest.raises(RecordError, match="^gus: a RunReport record is not JSON, or is truncated"):
        RunReport.read_lines(path, "gus")


def test_records_are_read_by_attribute() -> None:
    run = RunReport.from_json(SAMPLES[0].to_json(), "ann")
    assert run.events[0].reason == "memory" and run.errors[0].ename == "ImportError"
    assert Outcome.from_json(SAMPLES[3].to_json(), "bob").result.cells["t"] == (0.0, 2.0)
