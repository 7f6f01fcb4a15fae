"""The facts checks leave for later checks: typed fields, not a dictionary of free strings.

A check declares the fields it fills in ``provides`` (see ``registry.check``); a test checks every declared
name is a field here. No Keras.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np


@dataclass
class Probe:
    """The short training at the learner's learning rate: per-step losses, (step, validation loss) pairs."""

    losses: list[float]
    val: list[tuple[int, float]]
    steps: int


@dataclass
class Facts:
    """What the checks measured that other checks read (None: not measured in this examination)."""

    input_rms_max: float | None = None  # input_scale -> initial_loss
    initial_loss: float | None = None  # initial_loss -> lr_sweep
    grad_global_p90: float | None = None  # gradient_norms: 90th percentile of the total gradient norm
    grad_relative: float | None = None  # gradient_norms -> curve rules: largest |gradient| / |weights|
    kernels_before: dict[str, np.ndarray] | None = None  # curves (the probe) -> update_ratio
    kernels_after: dict[str, np.ndarray] | None = None  # after the probe's first step
    probe: Probe | None = None  # curves -> lr_sweep, determinism
    probe_outputs: np.ndarray | None = None  # curves -> label_quality: outputs on the sample after the probe
    probe_val_outputs: np.ndarray | None = None  # ... and on the first 1024 validation rows
    curves_end: float | None = None  # curves -> label_quality: the probe's smoothed final loss
    repeat: list[float] | None = None  # zeroed_inputs -> determinism: the probe's first steps again
    seconds: dict[str, float] = field(default_factory=dict)  # each check's run time


FACT_NAMES = frozenset(f.name for f in fields(Facts))
