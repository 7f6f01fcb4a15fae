"""Private copies of the grading checks (``fresh``) and of library modules (``load_private``), read from disk
and never left in ``sys.modules``, so that a notebook which replaced functions of the imported modules does not
change what the hidden tests run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from losslab.grading.integrity import integrity_problems

_HERE = Path(__file__).resolve().parent
# captured when this module loads (see losslab/grading/integrity.py)
_spec_from_file_location = importlib.util.spec_from_file_location
_module_from_spec = importlib.util.module_from_spec
# the package's own modules, not topics of checks
NOT_TOPICS = ("__init__", "integrity", "private")


def load_private(
    qualified_name: str,
    path: Path,
    *,
    visible_while_loading: bool = False,
    using: dict[str, ModuleType] | None = None,
) -> ModuleType:
    """A private copy of the module at ``path``, executed now and not left in ``sys.modules``.

    The one way the grading code loads a module by path: ``fresh`` loads the checks with it, and the checks
    load private copies of library modules (``loss_names.py``, ``losses.py``) with it.
    ``visible_while_loading`` registers the copy under ``qualified_name`` while it executes (dataclasses look
    their module up while a class is created); ``using`` maps module names to (private) modules that the
    copy's own imports get instead of ``sys.modules``' entries. Both are undone afterwards.
    """
    spec = _spec_from_file_location(qualified_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = _module_from_spec(spec)
    temporary = dict(using or {})
    if visible_while_loading:
        temporary[spec.name] = module
    saved = {name: sys.modules.get(name) for name in temporary}
    sys.modules.update(temporary)
    try:
        spec.loader.exec_module(module)
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return module


_load_private = load_private


def fresh(name: str = "core") -> ModuleType:
    """A private copy of ``losslab/grading/<name>.py`` (and of ``core``, which it imports), read from disk.

    The copy is not registered in ``sys.modules``: changes a notebook made to the imported modules do not
    reach it, and it does not replace them. Raises the copy's ``GradingError`` when the notebook replaced
    something the checks rely on (see ``integrity_problems``).
    """
    if type(name) is not str or not name.isidentifier():
        raise ValueError(f"not a module name: {name!r}")
    path = _HERE / f"{name}.py"
    if not path.exists():
        known = sorted(p.stem for p in _HERE.glob("*.py") if p.stem not in NOT_TOPICS)
        raise ImportError(f"no grading module {name!r}; available: {known}")
    keys = ("losslab.grading.core",)
    saved = {k: sys.modules.get(k) for k in keys}
    try:
        core = _load_private("losslab.grading.core", _HERE / "core.py")
        problems = integrity_problems()
        if problems:
            shown = ", ".join(problems[:6]) + (f" and {len(problems) - 6} more" if len(problems) > 6 else "")
            raise core.GradingError(
                f"the tests cannot run: this notebook replaced {shown}. Remove the code that does it, "
                "restart the kernel and run all cells again."
            )
        sys.modules["losslab.grading.core"] = core
        return core if name == "core" else _load_private(f"losslab.grading.{name}", path)
    finally:
        for key, module in saved.items():
            if module is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = module
