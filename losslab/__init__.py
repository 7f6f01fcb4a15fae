"""Loss Lab's helper library. Every notebook starts with ``import losslab``, before ``import keras``.

Importing it only sets quiet defaults for TensorFlow's C++ logging, and PyTorch's CPU threads on the torch
backend (both read them when they load, so this must happen first), and, in an IPython kernel whose language is
not English, lets a failing visible test of an exercise show its message translated (``losslab.asserts``) and
what its graded cells print in that language (``losslab.prints``), and, in any process in that language, lets
figures draw Japanese glyphs (``losslab.fonts``, once matplotlib loads), and in the grader's kernels turns
tf.data's autotuning off (``losslab.tfdata``, once TensorFlow loads); nothing heavy is imported. The
submodules load on first use:

- ``losslab.environment``: the environment report and the device that trains (00_start_here, every chapter)
- ``losslab.quiz``: widget quizzes with instant feedback and saved progress (every tutorial)
- ``losslab.data``: the course's datasets, split and scaled the same way everywhere
- ``losslab.plots``: training curves and other figures with titles, labels and units
- ``losslab.progress``: progress bars for long work (sweeps, many trainings)
- ``losslab.grading``: comparison helpers for the exercises' tests
- ``losslab.notebooks``: notebook hygiene and building (make format, the release, the tests)
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
import warnings
from types import ModuleType

__version__ = "0.1.0"

# Read by TensorFlow when it loads: without them every kernel prints C++ log lines and a oneDNN banner to
# stderr, and nbgrader scores any stderr in a test cell as a failure. A value already set wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

# PyTorch runs its CPU kernels on OpenMP threads that spin while they wait. The course's models are so small that
# one thread is faster (chapter 2's five digits trainings: 3.8 to 4.3 s each, against 5.5 s with two threads on 2
# cores), and two kernels sharing the cores, two threads each, ran 10 times slower (52 s each). PyTorch reads
# this when it loads. A value already set wins; `start` (make lab, Binder) sets the same default on torch.
if os.environ.get("KERAS_BACKEND") == "torch":
    os.environ.setdefault("OMP_NUM_THREADS", "1")


if "IPython" in sys.modules:  # maybe a kernel (losslab never imports IPython itself): losslab/asserts.py, prints.py
    from losslab import asserts as _asserts
    from losslab import prints as _prints

    _asserts.install()
    _prints.install()

# In a language other than English, Japanese glyphs in figures: IPAexGothic as matplotlib's fallback font,
# registered when matplotlib loads (losslab/fonts.py).
from losslab import fonts as _fonts
from losslab import tfdata as _tfdata

_fonts.install()

# In the grader's kernels (LOSSLAB_TFDATA_AUTOTUNE=0), tf.data's autotuning off once TensorFlow loads: it made
# trainings wait at every epoch's end when the cores are shared (losslab/tfdata.py).
_tfdata.install()


def shown(key: str) -> str:
    """`key`, a text the library or a prediction compares (a region of ``lr.regions`` such as "too low", a label
    kind such as "one-hot", a dataset's name, a check of ``TrainingMonitor``, a prediction's option), as the
    learner's language shows it: its translation in the library's catalog, else `key` itself (in English, always).
    Print or draw ``losslab.shown(key)``; keep comparing `key`."""
    from losslab.messages import _ as translate  # the library's own gettext (a variable: no message to extract)

    return translate(key)


def __getattr__(name: str) -> ModuleType:
    """``losslab.quiz`` and friends import on first use, so ``import losslab`` stays instant."""
    if not name.startswith("_") and importlib.util.find_spec(f"losslab.{name}") is not None:
        return importlib.import_module(f"losslab.{name}")
    raise AttributeError(f"module 'losslab' has no attribute {name!r}")


def quiet() -> None:
    """Keep library chatter off stderr: Python warnings print on stdout, library loggers show only errors.

    Exercise notebooks call this in their first cell. nbgrader gives zero points to a test cell that writes
    anything to stderr, so a harmless Keras or JAX warning raised while a test runs would otherwise cost a
    correct answer its points. The warnings stay visible, as ordinary output. It also lets a lettered answer
    typed in full width or in Japanese quotes (``"ｂ"``, ``"「b」"``) count as the letter (losslab/answers.py).
    """
    from losslab import answers

    answers.install()

    def _show(message, category, filename, lineno, file=None, line=None):
        sys.stdout.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = _show
    for name in ("tensorflow", "absl", "jax", "jax._src.xla_bridge", "h5py", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)
    root = logging.getLogger()
    if not any(getattr(h, "_losslab", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler._losslab = True  # type: ignore[attr-defined]
        handler.setLevel(logging.WARNING)
        root.addHandler(handler)
