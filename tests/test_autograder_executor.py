"""The executor (autograder/executor.py): the output limit and the reasons a kernel stopped, without a kernel; the
kernels' environment, with one."""

from __future__ import annotations

import os
from pathlib import Path

from nbformat.v4 import new_code_cell, new_notebook

from autograder.executor import GuardedExecute, _size
from autograder.supervisor import Watchdog


class _Recorder(Watchdog):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.tripped: list[str] = []

    def trip(self, reason: str) -> None:
        self.tripped.append(reason)


def _executor(**traits: object) -> GuardedExecute:
    executor = GuardedExecute(**traits)
    executor.output_bytes = 0
    executor.watchdog = _Recorder()
    return executor


def _stream(text: str) -> dict:
    return {
        "msg_type": "stream",
        "header": {"msg_type": "stream"},
        "parent_header": {"msg_id": "m"},
        "content": {"name": "stdout", "text": text},
    }


def test_output_past_the_limit_stops_the_kernel_and_is_not_kept() -> None:
    executor = _executor(output_limit_mb=0.001)  # 1000 bytes
    cell = new_code_cell("print('x' * 5000)")
    assert executor.process_message(_stream("x" * 5000), cell, 0) is None
    assert executor.watchdog.tripped == ["output"] and cell.outputs == []
    assert executor.process_message(_stream("y"), cell, 0) is None  # nothing more is kept
    assert executor.output_bytes >= 5000


def test_message_sizes_count_text_and_data() -> None:
    assert _size({"data": {"text/plain": "abc", "image/png": "x" * 100}, "metadata": {}}) == 103
    assert _size(["ab", "cd"]) == 4


def test_a_kernel_killed_by_its_file_size_limit_is_reported_as_disk(tmp_path: Path) -> None:
    """SIGXFSZ kills the kernel before the watchdog looks: the folder's size names the reason."""
    (tmp_path / "huge.bin").write_bytes(b"0" * 2_000_000)
    executor = _executor(disk_limit_mb=1.0)
    executor.watchdog = Watchdog(folder=str(tmp_path), disk_limit_mb=1.0)
    executor.sandbox_spec, executor._oom_seen = None, 0
    assert executor._death() == "disk"
    (tmp_path / "huge.bin").unlink()
    assert executor._death() == "died"


def test_kernels_get_the_grading_environment_and_the_process_keeps_its_own(tmp_path: Path) -> None:
    """nbgrader_config.py gives kernel_env to the kernels, not to os.environ: the process that loads it may be the
    instructor's Jupyter server, whose own kernels keep the learner's defaults."""
    name, home = "LOSSLAB_TEST_KERNEL_ENV", os.environ["HOME"]
    assert name not in os.environ
    cell = new_code_cell(f"import os; print(os.environ.get({name!r}), os.environ.get('HOME') == {home!r})")
    nb = new_notebook(cells=[cell], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    # a default: where the process's environment sets a variable (HOME here), the process's value wins
    executor = GuardedExecute(kernel_env={name: "0", "HOME": "/nonexistent"}, guard=False, timeout=60)
    executor.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert [o.get("text") for o in cell.outputs] == ["0 True\n"], cell.outputs
    assert name not in os.environ
