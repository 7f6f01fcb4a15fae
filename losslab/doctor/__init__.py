"""The training doctor: checks that find why a loss won't go down, and a callback that watches a training.

``examine(model, x, y, validation_data=...)`` runs the checks of docs/curriculum.md (chapter 4, the checks
a training doctor can run automatically) on any compiled single-input, single-output Keras model and its data,
and returns a ``Report``: one ``Finding`` per check with its severity (ok, info, warning, problem), the
evidence it measured and the fix. In a notebook the report shows as a table; elsewhere as text.
``report.causes()`` lists the causes it names, from the fixed vocabulary ``CAUSES`` that the clinic
(``losslab.clinic``) plants.

The doctor trains, but never the learner's model for good: every variable of the model (weights, BatchNorm
statistics, dropout seeds) and of its optimizer is copied before and written back after, so the model leaves
the examination exactly as it came. Short trainings reuse the model's own compiled train step (the learner's
next ``fit`` reuses it too). Gradients come from the active backend (TensorFlow's GradientTape, ``jax.grad``,
or torch's autograd), because Keras 3 has no backend-neutral gradient function.

``TrainingMonitor`` is a Keras callback that watches a real training (NaN, loss stuck at ln K, training loss
rising, validation loss diverging), prints why on stdout and keeps its findings; it can also log gradient
norms and the learning rate into the History (and so into TensorBoard, which does not log gradients itself).

The package: ``registry`` (the ``@check`` decorator, the derived run order), ``checks/`` (one module per family),
``context`` (the patient), ``facts`` (what checks leave for each other), ``curves`` (the curve rules, shared with
the monitor), ``causes`` and ``report`` (no Keras), ``diagnosis`` (blaming the likeliest cause), ``backend``
(gradients, snapshots, short trainings), ``monitor`` and ``tensorboard``. docs/contributing.md's "Adding a doctor check"
shows a new check: one decorated function and one test.

Used by solutions/04_debugging (the clinic and the exercise), tests/test_doctor*.py and ``make bench``
(tests/tools/bench.py).
"""

from __future__ import annotations

from losslab.backend import gradients
from losslab.doctor.causes import CAUSES
from losslab.doctor.context import Context
from losslab.doctor.examine import examine, treat
from losslab.doctor.model import LossInfo, loss_info
from losslab.doctor.monitor import TrainingMonitor
from losslab.doctor.registry import REGISTRY, CheckId, Kind, check
from losslab.doctor.report import SEVERITIES, Finding, Report
from losslab.doctor.tensorboard import read_tensorboard, tensorboard_available
from losslab.doctor.treat import Treatment

# The built-in checks, in registration order (``examine(only=..., skip=...)`` takes these names).
CHECKS: tuple[str, ...] = tuple(REGISTRY)

__all__ = [
    "CAUSES",
    "CHECKS",
    "SEVERITIES",
    "CheckId",
    "Context",
    "Finding",
    "Kind",
    "LossInfo",
    "Report",
    "TrainingMonitor",
    "Treatment",
    "check",
    "examine",
    "gradients",
    "loss_info",
    "read_tensorboard",
    "tensorboard_available",
    "treat",
]
