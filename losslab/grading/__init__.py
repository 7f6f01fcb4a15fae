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

The tamper resistance is in modules of its own: losslab/grading/integrity.py (what is genuine) and
losslab/grading/private.py (``fresh`` and ``load_private``); this package re-exports their three names, which
hidden tests and checks import from here.
"""

from __future__ import annotations

from losslab.grading.integrity import integrity_problems
from losslab.grading.private import fresh, load_private

__all__ = ["fresh", "integrity_problems", "load_private"]
