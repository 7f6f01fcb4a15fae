"""Run a function right after a module is imported, without importing it: ``when_imported(name, callback)``.

Some of losslab's settings belong to a heavy library that a kernel may never load (matplotlib's fonts,
losslab/fonts.py; TensorFlow's tf.data, losslab/tfdata.py). ``import losslab`` must stay instant, so it does
not import them: when the module is already loaded the callback runs at once; otherwise a finder placed first
in ``sys.meta_path`` waits for that module's import, lets the module's own loader run it, calls the callback
with the module, and removes itself. A callback that fails leaves the module as it was: the setting is lost,
the import is not.
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Callable
from types import ModuleType

Callback = Callable[[ModuleType], object]


class _Loader:  # not importlib.abc's classes: importing importlib.abc costs 13 ms
    """The module's own loader, then the callback."""

    def __init__(self, loader: object, callback: Callback) -> None:
        self.loader, self.callback = loader, callback

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self.loader  # the module keeps its own loader (source lines, reloads)
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        try:
            self.callback(module)
        except Exception:  # the setting is lost; the library still loads
            pass


class _Waiting:
    """Calls `callback` once `name` has been imported; used once, then removed."""

    def __init__(self, name: str, callback: Callback) -> None:
        self.name, self.callback = name, callback

    def find_spec(self, fullname: str, path: object, target: ModuleType | None = None):
        if fullname != self.name:
            return None
        cancel(self.name)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _Loader(spec.loader, self.callback)
        return spec


def waiting(name: str) -> bool:
    """Whether a callback still waits for the import of `name`."""
    return any(isinstance(finder, _Waiting) and finder.name == name for finder in sys.meta_path)


def cancel(name: str) -> None:
    """Forget the callback that waits for `name`, if any."""
    sys.meta_path[:] = [f for f in sys.meta_path if not (isinstance(f, _Waiting) and f.name == name)]


def when_imported(name: str, callback: Callback) -> object:
    """`callback(module)` now if the module `name` is loaded (its result), else right after its import (one
    waiting callback per module; True)."""
    if name in sys.modules:
        return callback(sys.modules[name])
    if not waiting(name):
        sys.meta_path.insert(0, _Waiting(name, callback))
    return True
