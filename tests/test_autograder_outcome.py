"""The summary of a grading run (autograder/outcome.py)."""

from __future__ import annotations

from autograder.outcome import summary_table
from autograder.records import Result


def test_summary_table_lists_every_column() -> None:
    results = [
        Result("alice", "ok", 12.3, 5.0, 5.0, peak_mb=812.0),
        Result("bob", "timeout", 40.0, 1.0, 5.0, detail="the submission reached its time limit", flags=["x"]),
    ]
    table = summary_table(results)
    header, _, alice, bob = table.splitlines()
    for column in ("student", "score", "max", "time", "peak MB", "status"):
        assert column in header
    assert alice.split()[:5] == ["alice", "5.0", "5.0", "12.3s", "812"]
    assert "timeout" in bob and "1 suspicious finding(s)" in bob and "time limit" in bob
