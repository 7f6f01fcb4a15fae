"""Helpers for the exercises' tests: compare by type and content, and load private copies of the checks.

Visible tests may call ``losslab.grading.core`` directly. Hidden tests start with::

    from losslab.grading import fresh
    checks = fresh("losses")      # a private copy of losslab/grading/losses.py, read from disk now

so that a submission which replaces functions in ``losslab.grading`` (or its submodules) in its own cells does
not change what the hidden tests run. Topic modules (``losses``, ``optimizers``, ...) hold the behaviour
checks of one chapter and import their comparison helpers from ``losslab.grading.core``.

Before it loads anything, ``fresh`` checks that what the checks rely on is genuine: the built-in functions
and types, ``math``, NumPy's functions and ``losslab.data``. A notebook that replaced one of them
(``np.allclose = lambda *a, **k: True``, a fake ``sys.modules["numpy"]``, ...) gets a ``GradingError`` naming
what it replaced, so its hidden tests fail instead of being fooled. When grading, autograder/kernel_guard.py
also puts the originals back before every test cell and reports the attempt (autograder/POLICY.md).
"""

from __future__ import annotations

import builtins
import importlib.util
import os
import sys
import sysconfig
import types
from pathlib import Path
from types import ModuleType

_HERE = Path(__file__).resolve().parent
_DATA_FILE = os.path.realpath(_HERE.parent / "data.py")
# The interpreter's own functions, held here when this module loads, so that the integrity check does not
# call a replaced built-in to decide whether built-ins were replaced.
_type, _str, _callable, _getattr = type, str, callable, getattr
_vars, _isinstance, _list = vars, isinstance, list
_realpath, _isabs = os.path.realpath, os.path.isabs
_spec_from_file_location = importlib.util.spec_from_file_location
_module_from_spec = importlib.util.module_from_spec

# Built-ins a check may call: each must still be the interpreter's own.
_BUILTIN_FUNCTIONS = (
    "abs",
    "all",
    "any",
    "callable",
    "getattr",
    "hasattr",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "max",
    "min",
    "next",
    "print",
    "repr",
    "round",
    "sorted",
    "sum",
    "__import__",
    "__build_class__",
)
_BUILTIN_TYPES = (
    "bool",
    "dict",
    "enumerate",
    "float",
    "frozenset",
    "int",
    "list",
    "map",
    "object",
    "range",
    "set",
    "str",
    "tuple",
    "type",
    "zip",
    "BaseException",
    "Exception",
    "AssertionError",
    "TypeError",
    "ValueError",
)
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: set on classes written in Python, never on the interpreter's own


def _library_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(_HERE.parent)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(path)
    return tuple(sorted({os.path.realpath(r) + os.sep for r in roots}))


_LIBRARY_ROOTS = _library_roots()
_library_files: dict[str, bool] = {}


def _is_library_file(filename: str) -> bool:
    """True for code installed with Python or a package (or losslab itself); False for notebook code."""
    if filename.startswith("<frozen "):
        return True
    if filename.startswith("<"):
        return False
    known = _library_files.get(filename)
    if known is None:
        known = _library_files[filename] = (
            (_realpath(filename) + os.sep).startswith(_LIBRARY_ROOTS) if _isabs(filename) else False
        )
    return known


def _module_of(obj: object) -> str:
    module = _getattr(obj, "__module__", None)
    return module if _type(module) is _str else ""


def _genuine_class(cls: type) -> bool:
    module = _module_of(cls)
    if not module or module == "__main__":
        return False
    if module == "builtins":
        return not cls.__flags__ & _HEAPTYPE
    # the module may not be loaded yet (numpy.rec): then its package stands for it
    owner = sys.modules.get(module) or sys.modules.get(module.split(".")[0])
    filename = _getattr(owner, "__file__", None)
    return _type(filename) is _str and _is_library_file(filename)


def _genuine_numpy_callable(obj: object) -> bool:
    kind = _type(obj)
    if kind is types.FunctionType:
        return _is_library_file(obj.__code__.co_filename)  # type: ignore[attr-defined]
    if kind is types.BuiltinFunctionType:
        owner = obj.__self__  # type: ignore[attr-defined]
        if owner is None or _type(owner) is ModuleType:
            return _module_of(obj).startswith("numpy")
        return _module_of(_type(owner)).startswith("numpy")  # a bound method, e.g. numpy.random.seed
    kind_module = _module_of(kind)
    if kind.__name__ == "_ArrayFunctionDispatcher" and kind_module.startswith("numpy"):
        return _genuine_numpy_callable(_getattr(obj, "_implementation", None))
    if kind.__name__ == "ufunc" and kind_module.startswith("numpy"):
        return _module_of(obj) == "numpy"
    if kind.__name__ == "cython_function_or_method" and kind_module.startswith("_cython_"):
        return _module_of(obj).startswith("numpy")
    if _isinstance(obj, type):
        return _genuine_class(obj)
    return _genuine_class(kind)


def integrity_problems() -> list[str]:
    """What a notebook replaced among the things the checks rely on (empty when everything is genuine)."""
    try:
        return _integrity_problems()
    except Exception as exc:  # noqa: BLE001 - a check that cannot even look is itself a finding
        return [f"something the checks rely on ({_type(exc).__name__}: {exc})"]


def _integrity_problems() -> list[str]:
    problems: list[str] = []
    found = problems.append
    namespace = builtins.__dict__
    for name in _BUILTIN_FUNCTIONS:
        obj = namespace.get(name)
        if not (_type(obj) is types.BuiltinFunctionType and obj.__self__ is builtins and obj.__name__ == name):
            found(f"the built-in {name}()")
    for name in _BUILTIN_TYPES:
        obj = namespace.get(name)
        if not (_type(obj) is type and not obj.__flags__ & _HEAPTYPE and obj.__name__ == name):
            found(f"the built-in type {name}")
    if problems:  # the standard library itself relies on these: looking further would not be reliable
        return problems
    math = sys.modules.get("math")
    if _type(math) is not ModuleType or _getattr(math, "__name__", None) != "math":
        found("the math module")
    else:
        for name, obj in _list(_vars(math).items()):
            genuine = (
                _type(obj) is types.BuiltinFunctionType
                and _getattr(getattr(obj, "__self__", None), "__name__", None) == "math"
            )
            if not name.startswith("_") and _callable(obj) and not genuine:
                found(f"math.{name}")
    for module_name in ("numpy", "numpy.linalg", "numpy.testing", "numpy.random"):
        module = sys.modules.get(module_name)
        if module is None:
            continue
        filename = _getattr(module, "__file__", None)
        if _type(module) is not ModuleType or _type(filename) is not _str or not _is_library_file(filename):
            found(f"the module {module_name}")
            continue
        for name, obj in _list(_vars(module).items()):
            if not name.startswith("_") and _callable(obj) and not _genuine_numpy_callable(obj):
                found(f"{module_name}.{name}")
    data = sys.modules.get("losslab.data")
    if data is not None:
        filename = _getattr(data, "__file__", None)
        if _type(data) is not ModuleType or _type(filename) is not _str or _realpath(filename) != _DATA_FILE:
            found("the module losslab.data")
        else:
            for name, obj in _list(_vars(data).items()):
                if (
                    not name.startswith("_")
                    and _type(obj) is types.FunctionType
                    and not _is_library_file(obj.__code__.co_filename)
                ):
                    found(f"losslab.data.{name}")
    return problems


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
        known = sorted(p.stem for p in _HERE.glob("*.py") if p.stem != "__init__")
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
