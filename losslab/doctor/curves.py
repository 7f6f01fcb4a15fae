"""The curve rules: one place for what "stuck at chance", "rising" and "diverging" mean, read by the doctor's
``curves`` and ``history`` checks and by ``TrainingMonitor``. Pure NumPy, no Keras.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# A loss within 5 % of the chance loss (ln K, or the entropy of the label prior) is "at chance". (The doctor
# used 3 % and the monitor 5 %; a model collapsed by too large a rate sits 3-5 % above ln 10 on the digits.)
CHANCE_TOLERANCE = 0.05
# The range test calls a short training poor when it ends within 5 % of the best input-free guess.
NO_PROGRESS_TOLERANCE = 0.05
# A training loss counts as rising when it climbs 20 % (and 0.05) above its lowest point...
RISE_FACTOR, RISE_MARGIN = 1.2, 0.05
# ... or, epoch by epoch, when it rose `patience` epochs in a row and ends 5 % above where the rise began.
RISE_IN_A_ROW_FACTOR = 1.05


def near_chance(value: float, chance: float, tolerance: float | None = None) -> bool:
    """Whether a loss is within ``tolerance`` (relative; default ``CHANCE_TOLERANCE``) of the chance loss."""
    tolerance = CHANCE_TOLERANCE if tolerance is None else tolerance
    return abs(value - chance) < tolerance * max(chance, 1e-6)


def stuck_at_chance(recent: Sequence[float], chance: float) -> bool:
    """Every recent loss (the last chunk means, or the last epochs) sits at the chance loss."""
    return len(recent) > 0 and all(near_chance(float(v), chance) for v in recent)


def rose_from_lowest(means: Sequence[float]) -> bool:
    """A smoothed curve (chunk means) that ends well above its lowest point."""
    means = np.asarray(means, dtype=np.float64)
    end, low = float(means[-1]), float(means.min())
    return len(means) >= 4 and end > RISE_FACTOR * low and end > low + RISE_MARGIN


def rose_in_a_row(losses: Sequence[float], patience: int) -> bool:
    """Epoch losses that rose ``patience`` times in a row, ending 5 % above where the rise began."""
    if len(losses) <= patience:
        return False
    window = list(losses[-patience - 1 :])
    rising = all(b > a for a, b in zip(window[:-1], window[1:], strict=True))
    return window[-1] > RISE_IN_A_ROW_FACTOR * window[0] and rising


def val_diverged(val: Sequence[float], train_fell: bool) -> bool:
    """A validation curve (several points) that fell to a best value, then rose clearly, while training fell."""
    v = np.asarray(val, dtype=np.float64)
    if len(v) < 4 or not train_fell:
        return False
    best = int(np.nanargmin(v))
    tail = v[-3:]
    return bool(
        np.all(np.isfinite(tail))
        and np.all(tail > 1.1 * v[best])
        and v[-1] > 1.2 * v[best]
        and v[-1] - v[best] > 0.05
        and best < len(v) - 3
    )


def val_rising_epochs(val: Sequence[float], patience: int, train_fell: bool) -> bool:
    """Validation losses that rose ``patience`` epochs in a row to 10 % above their best, while training fell."""
    if len(val) <= patience or not train_fell:
        return False
    window = list(val[-patience - 1 :])
    return val[-1] > 1.1 * min(val) and all(b > a for a, b in zip(window[:-1], window[1:], strict=True))


def smooth_start(losses: Sequence[float], frac: float = 0.1) -> float:
    """The mean of the first ``frac`` of a curve (NaN if that part is not finite)."""
    arr = np.asarray(losses, dtype=np.float64)
    if arr.size == 0 or not np.all(np.isfinite(arr[: max(1, int(len(arr) * frac))])):
        return float("nan")
    return float(arr[: max(1, int(len(arr) * frac))].mean())


def smooth_end(losses: Sequence[float], frac: float = 0.2) -> float:
    """The mean of the last ``frac`` of a curve (NaN if any of the curve is not finite)."""
    arr = np.asarray(losses, dtype=np.float64)
    if arr.size == 0:
        return float("nan")
    if not np.all(np.isfinite(arr)):
        return float("nan")
    k = max(1, int(len(arr) * frac))
    return float(arr[-k:].mean())
