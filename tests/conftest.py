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
