"""Whether what the grading checks rely on is genuine: the built-in functions and types, ``math``, NumPy's
functions and ``losslab.data`` (``integrity_problems``).

The interpreter's own functions it needs are captured when this module loads, so that a notebook which later
replaces a built-in cannot make the check call the replacement to decide whether built-ins were replaced.
``losslab.grading.fresh`` (losslab/grading/private.py) runs it before it loads the checks; autograder's kernel
guard puts the originals back before every test cell.
"""

from __future__ import annotations

import builtins
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
    except Exception as exc:  # a check that cannot even look is itself a finding
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
