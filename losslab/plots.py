"""Figures the chapters share. Every figure gets a title, labeled axes and units.

``curves`` draws training histories (one line per run, validation dashed) on linear or log axes; chapters
add their own figure helpers here when two notebooks need the same picture.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from losslab.messages import _


def history_dict(history: Any) -> dict[str, list[float]]:
    """Accept a keras History, its ``.history`` dict, or any mapping of metric -> list of values."""
    data = getattr(history, "history", history)
    if not isinstance(data, Mapping):
        raise TypeError(
            _("expected a keras History or a dict of metric lists, got {type}").format(type=type(history).__name__)
        )
    return {k: [float(v) for v in vals] for k, vals in data.items()}


def curves(
    runs: Mapping[str, Any],
    metric: str = "loss",
    *,
    title: str,
    ylabel: str | None = None,
    log_y: bool = False,
    validation: bool = True,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Plot `metric` per epoch for several runs: ``curves({"adam": h1, "sgd": h2}, title="...")``.

    Validation curves (``val_<metric>``) are drawn dashed in the same color when present.
    """
    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 4))
    for index, (label, history) in enumerate(runs.items()):
        data = history_dict(history)
        if metric not in data:
            raise KeyError(
                _("run {label} has no {metric}; it has {known}").format(
                    label=repr(label), metric=repr(metric), known=sorted(data)
                )
            )
        color = f"C{index % 10}"
        epochs = np.arange(1, len(data[metric]) + 1)
        ax.plot(epochs, data[metric], color=color, label=_("{run} (train)").format(run=label) if validation else label)
        if validation and f"val_{metric}" in data:
            ax.plot(
                epochs, data[f"val_{metric}"], color=color, linestyle="--", label=_("{run} (val)").format(run=label)
            )
    ax.set_title(title)
    ax.set_xlabel(_("epoch"))
    ax.set_ylabel(ylabel or metric.replace("_", " "))
    if log_y:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return ax
