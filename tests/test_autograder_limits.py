"""The disk and output limits of a submission (autograder/executor.py, supervisor.py, sandbox.py): a submission
that writes gigabytes into its folder, one that writes one endless file, and one that prints hundreds of
megabytes are each stopped with their own status, keep the points of the tests that ran before, and their
classmate, graded in the same run, keeps full marks."""

from __future__ import annotations

from pathlib import Path

import nbformat
import psutil
import pytest

from autograder.config import Limits
from autograder.coordinator import grade
from autograder.supervisor import folder_mb
from tests.support import REPO, build_submission

PROBE = REPO / "tests" / "fixtures" / "adversarial" / "source" / "probe" / "probe_exercise.ipynb"
SOURCE = PROBE.parent.parent
LIMITS = Limits(wall_s=150, memory_mb=1500, cell_timeout_s=60, disk_mb=150, output_mb=20)

MANY_FILES = """
for i in range(40):  # 4 GB, 100 MB a file: each under the size of one file, all far over the folder's limit
    with open(f"part{i}.bin", "wb") as handle:
        for _ in range(10):
            handle.write(b"0" * 10_000_000)
answer = "b"
"""
ONE_FILE = """
with open("huge.bin", "wb") as handle:  # 5 GB in one file
    for _ in range(500):
        handle.write(b"0" * 10_000_000)
answer = "b"
"""
# Flushed as it goes, as a loop's output is: without the flush, ipykernel keeps the 300 MB in its buffer until its
# next send (every 0.2 s), so that on a loaded machine the kernel could reach the memory limit before a byte of it
# left, and this submission would be stopped as `memory` (a fair stop too, but not the limit this test is about).
LOUD = """
for _ in range(300):  # 300 MB of output
    print("x" * 1_000_000, flush=True)
answer = "b"
"""
CLASS = {"honest": {}, "many-files": {"diagnosis": MANY_FILES}, "one-file": {"diagnosis": ONE_FILE}}
CLASS["loud"] = {"diagnosis": LOUD}


@pytest.mark.slow
def test_disk_and_output_hogs_are_stopped_and_the_class_is_graded(tmp_path: Path) -> None:
    for name, replace in CLASS.items():
        folder = tmp_path / "submitted" / name / "probe"
        folder.mkdir(parents=True)
        nbformat.write(build_submission(PROBE, replace), str(folder / PROBE.name))
    run = grade("probe", root=tmp_path, jobs=2, limits=LIMITS, source=SOURCE, sandbox_mode="auto")
    results = {r.student: r for r in run}
    report = {n: (r.status, r.score, r.detail, r.notes[:2]) for n, r in results.items()}
    honest = results["honest"]
    assert (honest.status, honest.score, honest.max_score) == ("ok", 4.0, 4.0), report
    for name in ("many-files", "one-file"):
        r = results[name]
        assert r.status == "disk", report
        assert r.cells["test-mse"] == (1.0, 1.0) and r.score == 1.0, report  # the test before kept its point
        assert "disk limit" in r.detail, report
    loud = results["loud"]
    assert loud.status == "output" and loud.score == 1.0, report
    assert "output limit" in loud.detail, report
    # what came back is bounded: the autograded copies hold at most the limit, the notebook's output is cut
    for name in results:
        folder = tmp_path / "autograded" / name / "probe"
        assert folder_mb(folder) < LIMITS.disk_mb + 5, (name, folder_mb(folder))
    graded = nbformat.read(str(tmp_path / "autograded" / "loud" / "probe" / PROBE.name), as_version=4)
    printed = sum(len(o.get("text", "")) for c in graded.cells for o in c.get("outputs", []))
    assert printed < LIMITS.output_mb * 1e6
    assert not (tmp_path / ".work").exists()  # the staging folders, with the hogs' files, are gone
    for proc in psutil.process_iter():  # no kernel of the run is left
        try:
            assert str(tmp_path) not in proc.environ().get("LOSSLAB_GUARD_LOG", "")
        except psutil.Error:
            continue
