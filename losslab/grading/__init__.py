"""Helpers for the exercises' tests: compare by type and content, and load private copies of the checks.

Visible tests may call ``losslab.grading.core`` directly. Hidden tests start with::

    from losslab.grading import fresh
    checks = fresh("losses")      # a private copy of losslab/grading/losses.py, read from disk now

so that a submission which replaces functions in ``losslab.grading`` (or its submodules) in its own cells does
not change what the hidden tests run. Topic modules (``losses``, ``optimizers``, ...) hold the behaviour
checks of one chapter and import their comparison helpers from ``losslab.grading.core``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

_HERE = Path(__file__).resolve().parent


def _load_private(qualified_name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(qualified_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fresh(name: str = "core") -> ModuleType:
    """A private copy of ``losslab/grading/<name>.py`` (and of ``core``, which it imports), read from disk.

    The copy is not registered in ``sys.modules``: changes a notebook made to the imported modules do not
    reach it, and it does not replace them.
    """
    if not name.isidentifier():
        raise ValueError(f"not a module name: {name!r}")
    path = _HERE / f"{name}.py"
    if not path.exists():
        known = sorted(p.stem for p in _HERE.glob("*.py") if p.stem != "__init__")
        raise ImportError(f"no grading module {name!r}; available: {known}")
    keys = ("losslab.grading.core",)
    saved = {k: sys.modules.get(k) for k in keys}
    try:
        core = _load_private("losslab.grading.core", _HERE / "core.py")
        sys.modules["losslab.grading.core"] = core
        return core if name == "core" else _load_private(f"losslab.grading.{name}", path)
    finally:
        for key, module in saved.items():
            if module is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = module
