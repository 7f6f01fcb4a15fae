"""Progress shown on long work: a bar over a loop of trainings, and a one-line Keras callback.

In a notebook with widgets they are ipywidgets; elsewhere (nbconvert, a terminal, the grader) one plain line
on stdout, never stderr. Used by the chapters' sweeps (learning rates, optimizers, clinic cases).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

import keras

from losslab.messages import _

T = TypeVar("T")


def _widgets_available() -> bool:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        return shell is not None and getattr(shell, "kernel", None) is not None
    except ImportError:
        return False


class Bar:
    """A progress bar: ``bar = Bar(10, "sweep"); bar.update(note="lr=0.1"); bar.close()``."""

    def __init__(self, total: int, description: str = "") -> None:
        self.total, self.done, self.description = max(int(total), 1), 0, description
        self.started = time.perf_counter()
        self._widget = None
        if _widgets_available():
            import ipywidgets as w
            from IPython.display import display

            self._bar = w.IntProgress(
                value=0, min=0, max=self.total, description=description[:20], layout=w.Layout(width="320px")
            )
            self._label = w.Label("")
            self._widget = w.HBox([self._bar, self._label])
            display(self._widget)

    def _text(self, note: str) -> str:
        elapsed = time.perf_counter() - self.started
        done = _("{done}/{total} done, {seconds} s").format(done=self.done, total=self.total, seconds=f"{elapsed:.0f}")
        return done + (f" - {note}" if note else "")

    def update(self, n: int = 1, note: str = "") -> None:
        self.done = min(self.done + n, self.total)
        if self._widget is not None:
            self._bar.value, self._label.value = self.done, self._text(note)
        else:
            sys.stdout.write(f"\r{self.description}: {self._text(note)}")
            sys.stdout.flush()

    def close(self, note: str | None = None) -> None:
        note = _("finished") if note is None else note
        if self._widget is not None:
            self._bar.bar_style = "success"
            self._label.value = self._text(note)
        else:
            sys.stdout.write(f"\r{self.description}: {self._text(note)}\n")


def track(items: Iterable[T], description: str = "", total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar: ``for lr in track(rates, "learning rates"): ...``."""
    items = list(items) if total is None else items
    bar = Bar(total if total is not None else len(items), description)  # type: ignore[arg-type]
    for item in items:
        yield item
        bar.update(note=str(item)[:40])
    bar.close()


class EpochProgress(keras.callbacks.Callback):
    """A quiet stand-in for ``verbose=1``: one line per training, rewritten each epoch, on stdout."""

    def __init__(self, label: str = "training") -> None:
        super().__init__()
        self.label = label

    def on_train_begin(self, logs=None) -> None:
        self._epochs = self.params.get("epochs", 0)
        self._bar = Bar(self._epochs, self.label)

    def on_epoch_end(self, epoch, logs=None) -> None:
        logs = logs or {}
        note = ", ".join(f"{k} {v:.4g}" for k, v in logs.items() if k in {"loss", "val_loss", "val_accuracy"})
        self._bar.update(note=note)

    def on_train_end(self, logs=None) -> None:
        self._bar.close()
