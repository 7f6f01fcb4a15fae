"""Test-suite set-up: quiz progress and nbgrader work stay in temporary folders, never the user's home."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_progress(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Kernels started by the tests inherit this: quizzes save their progress in a throwaway file.
    os.environ["LOSSLAB_PROGRESS"] = str(tmp_path_factory.mktemp("progress") / "progress.json")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make `--dist loadgroup` (the Makefile's) keep each xdist_group on one worker, in collection order.

    pytest-xdist 3.8 marks a grouped test by appending "@<group>" to ``item._nodeid``, which pytest 9.2 no
    longer reads (a node's id lives in ``item._id``), so groups were silently spread over workers. Until xdist
    adapts, this does the same through pytest's own node id. The browser suite relies on it: its tests share
    one JupyterLab server and one notebook tab, in order.
    """
    if not getattr(config.option, "loadgroup", False):
        return
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
