"""losslab/after_import.py: a callback right after a module's import, without importing it; at once when the module
is loaded; a failing callback loses the setting, not the import."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from losslab import after_import


@pytest.fixture
def module_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh module on sys.path whose body records that it ran (``RAN = True``)."""
    name = f"losslab_probe_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text("RAN = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    after_import.cancel(name)
    sys.modules.pop(name, None)


def test_the_callback_waits_for_the_import_then_sees_the_module_run(module_name: str) -> None:
    seen = []
    assert after_import.when_imported(module_name, lambda module: seen.append(module.RAN)) is True
    assert module_name not in sys.modules and seen == [] and after_import.waiting(module_name)
    module = __import__(module_name)
    assert seen == [True]  # after the module's body, once
    assert not after_import.waiting(module_name)
    assert type(module.__loader__).__name__ == "SourceFileLoader"  # the module keeps its own loader
    __import__(module_name)
    assert seen == [True]


def test_a_loaded_module_gets_the_callback_at_once(module_name: str) -> None:
    __import__(module_name)
    assert after_import.when_imported(module_name, lambda module: ("done", module.RAN)) == ("done", True)
    assert not after_import.waiting(module_name)


def test_one_callback_waits_per_module_and_can_be_cancelled(module_name: str) -> None:
    calls = []
    after_import.when_imported(module_name, lambda module: calls.append("first"))
    after_import.when_imported(module_name, lambda module: calls.append("second"))
    assert sum(getattr(f, "name", None) == module_name for f in sys.meta_path) == 1
    after_import.cancel(module_name)
    assert not after_import.waiting(module_name)
    __import__(module_name)
    assert calls == []


def test_a_failing_callback_leaves_the_import_working(module_name: str) -> None:
    def fail(module: object) -> None:
        raise RuntimeError("the setting cannot apply")

    after_import.when_imported(module_name, fail)
    assert __import__(module_name).RAN is True
