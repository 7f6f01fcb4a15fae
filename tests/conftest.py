"""Test-suite set-up: quiz progress and nbgrader work stay in temporary folders, never the user's home."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_progress(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Kernels started by the tests inherit this: quizzes save their progress in a throwaway file.
    os.environ["LOSSLAB_PROGRESS"] = str(tmp_path_factory.mktemp("progress") / "progress.json")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


class EnvironmentLeak(UserWarning):
    """A test left os.environ changed; the change was undone after it."""


# Variables that libraries set when they are first imported, once per process: the test that happens to import them
# first "changes" the environment, and undoing it would undo the library's own setting.
SET_ON_IMPORT = frozenset(
    {
        "KMP_DUPLICATE_LIB_OK",  # scikit-learn, threadpoolctl (setdefault)
        "KMP_INIT_AT_FORK",  # scikit-learn, joblib (setdefault)
        "TF_FORCE_GPU_ALLOW_GROWTH",  # keras/src/backend/config.py, on the TensorFlow backend
        "TPU_SKIP_MDS_QUERY",  # jax/_src/cloud_tpu_init.py
        "PYTEST_CURRENT_TEST",  # pytest's own, set for each phase of a test
    }
)


@pytest.fixture(autouse=True)
def _environment_kept() -> Iterator[None]:
    """Undo what a test left changed in os.environ, and warn (EnvironmentLeak) with the variables' names.

    Every later test on the same xdist worker, and every process it starts, would inherit the change: a leak then
    breaks tests far from its cause, and only in runs whose order puts them on one worker (a grading kernel's
    tf.data setting once reached the font test through nbgrader_config.py, in CI only). Use pytest's
    ``monkeypatch.setenv``/``delenv``, or pass ``env=`` to the subprocess, instead."""
    before = dict(os.environ)
    yield
    names = before.keys() | os.environ.keys()
    changed = sorted(k for k in names if before.get(k) != os.environ.get(k) and k not in SET_ON_IMPORT)
    for name in changed:
        if name in before:
            os.environ[name] = before[name]
        else:
            del os.environ[name]
    if changed:
        warnings.warn(
            EnvironmentLeak(f"the test left os.environ changed ({', '.join(changed)}), undone: use monkeypatch"),
            stacklevel=1,
        )


def _mark_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make `--dist loadgroup` (the Makefile's) keep each xdist_group on one worker, in collection order.

    pytest-xdist 3.8 marks a grouped test by appending "@<group>" to ``item._nodeid``, which pytest 9.2 no
    longer reads (a node's id lives in ``item._id``), so groups were silently spread over workers. Until xdist
    adapts, this does the same through pytest's own node id. The browser suite relies on it: its tests share
    one JupyterLab server and one notebook tab, in order.
    """
    for item in items:
        names = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        suffix = "@" + "_".join(names)
        if not names or item.nodeid.endswith(suffix):
            continue
        try:
            from _pytest.nodes import coerce_node_id

            item._id = coerce_node_id(item.nodeid + suffix)
        except ImportError:  # an older pytest, where xdist's own suffix already works
            item._nodeid = item.nodeid + suffix


# ------------------------------------------------------------------------------------------- scheduling
# `make test` runs on 2 workers. xdist hands out the tests in collection order, so a long test collected late (chapter
# 4's round trip is the last of tests/test_grading.py) starts when the rest are nearly done and one worker waits for
# it. The longest tests go first instead (longest processing time first); each worker's queue then ends with short
# tests, which balance the two. The figures are one fresh-clone run's (`--durations`, on 2 loaded cores): a wrong
# figure costs only time, never a result. A test not listed keeps its place, after the listed ones.
EXPECTED_SECONDS = {  # round trips: make test's roles (solution and blank); make test-bundles' are about 3 times longer
    "tests/test_grading.py::test_round_trip[04_debugging]": 250,
    "tests/test_autograder.py::test_adversarial_class_in_one_run": 200,
    "tests/test_grading.py::test_round_trip[02_optimizers]": 130,
    "tests/test_grading.py::test_round_trip[01_losses]": 70,
    "tests/test_grading.py::test_round_trip[00_warmup]": 70,
    "tests/test_grading.py::test_round_trip[03_learning_rates]": 60,
}
GROUP_SECONDS = {"browser": 250, "sandbox": 110, "site": 65}


def _scope(item: pytest.Item) -> str:
    """The unit xdist's loadgroup hands to one worker: the group after '@', or the test itself."""
    nodeid = item.nodeid
    return nodeid.split("@")[-1] if nodeid.rfind("@") > nodeid.rfind("]") else nodeid


def _expected_seconds(scope: str, items: list[pytest.Item]) -> float:
    if scope in GROUP_SECONDS:
        return GROUP_SECONDS[scope]
    return sum(EXPECTED_SECONDS.get(item.nodeid, 0) for item in items)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest scopes first under `--dist loadgroup`; each group's tests stay together and in order."""
    if not getattr(config.option, "loadgroup", False):
        return
    _mark_groups(config, items)
    scopes: dict[str, list[pytest.Item]] = {}
    for item in items:
        scopes.setdefault(_scope(item), []).append(item)
    ordered = sorted(scopes.items(), key=lambda kv: -_expected_seconds(*kv))  # stable: ties keep their order
    items[:] = [item for _, scope_items in ordered for item in scope_items]


def pytest_configure(config: pytest.Config) -> None:
    # xdist would sort the scopes by their number of tests (groups first); the order above is by expected time.
    if config.getoption("dist", None) == "loadgroup" and hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


# A timeline of the run, for balancing it: LOSSLAB_TIMELINE=path appends "worker start end outcome nodeid" per test.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    path = os.environ.get("LOSSLAB_TIMELINE")
    start = time.time()
    yield
    if path:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{worker}\t{start:.1f}\t{time.time():.1f}\t{item.nodeid}\n")
