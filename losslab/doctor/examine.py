"""``examine``: run the registered checks on a model and its data, in the order their declarations give.

Each check runs guarded: an error inside it becomes a finding instead of ending the examination. An error
raised by Keras (or the backend) means the model cannot train on these data as they are: the finding quotes
it. Any other error is a bug in the check itself: the finding says so and where, so nobody hunts for an
"error above" that was never shown.
"""

from __future__ import annotations

import time
import traceback
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from losslab.doctor import checks  # noqa: F401 - registers the built-in checks
from losslab.doctor.backend import Snapshot, Trainer
from losslab.doctor.context import Context, as_array
from losslab.doctor.diagnosis import resolve
from losslab.doctor.model import loss_info
from losslab.doctor.patient import Patient
from losslab.doctor.registry import REGISTRY, TRAINING, Kind, closure, run_order
from losslab.doctor.report import Report
from losslab.doctor.treat import Treatment
from losslab.doctor.treat import run as run_treatment
from losslab.messages import _

# Where an error must come from to be Keras refusing the model or data, not a bug of a check.
_FRAMEWORKS = ("keras", "tensorflow", "jax", "jaxlib", "torch", "optree")
_DOCTOR = Path(__file__).resolve().parent


def examine(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    validation_data: tuple | None = None,
    validation_split: float | None = None,
    batch_size: int | None = 32,
    epochs: int | None = None,
    class_weight: dict | None = None,
    shuffle: bool = True,
    history: Any = None,
    build: Callable[[], keras.Model] | None = None,
    quick: bool = True,
    seed: int = 0,
    only: Iterable[str] | None = None,
    skip: Iterable[str] = (),
) -> Report:
    """Run the doctor's checks on a compiled model and its training data; return a ``Report``.

    Pass what you pass to ``fit`` (validation_data or validation_split, batch_size, epochs, class_weight,
    shuffle), and optionally a ``history`` to read its curves and a ``build`` function (no arguments,
    returns a fresh compiled model) to check that experiments are reproducible. ``quick=True`` keeps it to a
    few seconds for small models; ``quick=False`` trains longer probes. ``only`` runs just the named checks
    (and what they need), ``skip`` leaves checks out; the names are in ``CHECKS`` (and any check registered
    with ``@check``).
    The model (weights, BatchNorm statistics, optimizer state) is restored exactly before returning.
    """
    started = time.perf_counter()
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", False):
        raise ValueError(_("examine needs a compiled model: call model.compile(optimizer=..., loss=...) first"))
    x, y = as_array(x, "x"), as_array(y, "y")
    if len(x) != len(y):
        raise ValueError(_("x has {x} rows but y has {y}").format(x=len(x), y=len(y)))
    x_val = y_val = all_labels = None
    if validation_data is not None:
        x_val, y_val = as_array(validation_data[0], "x_val"), as_array(validation_data[1], "y_val")
    elif validation_split:
        cut = int(len(x) * (1 - validation_split))
        all_labels = y  # sortedness is a property of the whole array
        x, x_val, y, y_val = x[:cut], x[cut:], y[:cut], y[cut:]
    x = x.astype(np.float32) if x.dtype.kind in "fiub" else x
    if x_val is not None and x_val.dtype.kind in "fiub":
        x_val = x_val.astype(np.float32)
    unknown = (set(only or ()) | set(skip)) - set(REGISTRY)
    if unknown:
        raise ValueError(
            _("unknown check(s) {unknown}; the checks are {known}").format(
                unknown=sorted(unknown), known=list(REGISTRY)
            )
        )
    ctx = Context(
        model=model,
        x=x,
        y=y,
        x_val=x_val,
        y_val=y_val,
        batch_size=int(batch_size or 32),
        epochs=epochs,
        validation_split=validation_split,
        class_weight=class_weight,
        shuffle=shuffle,
        history=history,
        build=build,
        quick=quick,
        seed=seed,
        loss=loss_info(model.loss),
        all_labels=all_labels,
    )
    wanted = (set(only) if only is not None else set(REGISTRY)) - set(skip)
    rng = np.random.default_rng(seed)
    ctx.sample = np.sort(rng.choice(len(ctx.x), size=min(len(ctx.x), 1024), replace=False))

    with warnings.catch_warnings():  # the report says what Keras would warn about, with evidence
        warnings.simplefilter("ignore")
        run_checks(ctx, wanted)
    patient = Patient.of(
        model, x, y, x_val, y_val, epochs=epochs, batch_size=batch_size, class_weight=class_weight, shuffle=shuffle
    )
    report = Report(ctx.findings, time.perf_counter() - started, patient=patient)
    report.treater = lambda **options: run_treatment(report, examine, **options)
    return report


def treat(
    model: keras.Model | None = None,
    x: Any = None,
    y: Any = None,
    *,
    report: Report | None = None,
    causes: list[str] | None = None,
    max_tries: int = 3,
    seed: int = 0,
    **fit: Any,
) -> Treatment:
    """Examine (unless ``report`` is given), then try each named cause's prescription on a copy of the model
    and data, retrained for the same budget as an untreated copy (losslab/doctor/treat.py says how verdicts are
    reached). ``fit``: what you pass to ``fit`` (validation_data or validation_split, batch_size, epochs,
    class_weight, shuffle). ``causes``: treat these instead of the report's. ``max_tries``: at most this many
    retrainings besides the untreated one. The learner's model is never trained or changed."""
    if report is None:
        if model is None:
            raise ValueError(_("treat needs a model and its data (or report=doctor.examine(...))"))
        report = examine(model, x, y, **fit)
    return run_treatment(report, examine, causes=causes, max_tries=max_tries, seed=seed)


def run_checks(ctx: Context, wanted: set[str]) -> None:
    """Run ``wanted``, what they need and the static checks, in the derived order; keep the wanted findings.

    Measured checks are skipped when Keras cannot train the model at all (``ctx.fatal``), and so is a check
    whose needed check failed. The model and its optimizer are restored after every measured check.
    """
    order = run_order(closure(wanted))
    ctx.snapshot = Snapshot(ctx.model)
    failed: set[str] = set()
    try:
        ctx.pred0 = ctx.predict(ctx.x[ctx.sample])
        ctx.snapshot.restore()
        ctx.trainer = Trainer(ctx, ctx.snapshot)
        for name in order:
            spec = REGISTRY[name]
            if spec.kind is Kind.MEASURED and ctx.fatal:
                _skipped_training(ctx)
                continue
            if failed & set(spec.needs):
                failed.add(name)
                continue
            if not guard(ctx, name, spec.fn):
                failed.add(name)
            if spec.kind is Kind.MEASURED:
                ctx.snapshot.restore()
        if ctx.fatal:
            _skipped_training(ctx)
        resolve(ctx)
        ctx.findings[:] = [f for f in ctx.findings if f.check in wanted or f.check == TRAINING]
    finally:
        ctx.snapshot.restore()


def _skipped_training(ctx: Context) -> None:
    if not any(f.check == TRAINING for f in ctx.findings):
        ctx.add(
            "info",
            _("training checks skipped: Keras cannot train with these labels ({reason})").format(reason=ctx.fatal),
            check=TRAINING,
        )


def _raised_by_framework(exc: BaseException) -> bool:
    """Whether the innermost frames outside the doctor belong to Keras or a backend (not to NumPy or Python
    called from a check's own code)."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        path = Path(frame.filename).resolve()
        if _DOCTOR in path.parents:
            return False  # the error happened in the doctor's own code (or in what it called directly)
        if any(part in _FRAMEWORKS for part in path.parts):
            return True
    return False


def guard(ctx: Context, name: str, fn: Callable[[Context], Any]) -> bool:
    """Run one check as ``ctx.current``; an error becomes a finding (see the module's docstring).
    Returns whether the check ran to its end."""
    started = time.perf_counter()
    ctx.current = name
    try:
        fn(ctx)
        return True
    except Exception as exc:  # the report says what went wrong
        message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        if _raised_by_framework(exc):
            fix = _(
                "Keras cannot train this model on these data as they are: the error quoted here names what "
                "it refused (often the labels' shape or dtype against the loss and the output layer)"
            )
        else:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            fix = _(
                "this is a bug in the doctor's check '{name}' (raised at {file} line {line}), not a finding about "
                "your model: the other checks ran; please report it"
            ).format(name=name, file=Path(where.filename).name, line=where.lineno)
        ctx.add(
            "problem",
            _("the check could not run: {error}: {message}").format(error=type(exc).__name__, message=message),
            fix,
        )
        return False
    finally:
        ctx.facts.seconds[name] = time.perf_counter() - started
        ctx.current = ""
