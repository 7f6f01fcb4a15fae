"""losslab.progress: text progress on stdout outside a kernel, and the epoch callback."""

from __future__ import annotations

import keras
import numpy as np

from losslab import progress


def test_track_yields_everything_and_reports_on_stdout(capsys) -> None:
    assert list(progress.track([1, 2, 3], "sweep")) == [1, 2, 3]
    captured = capsys.readouterr()
    assert "sweep: 3/3 done" in captured.out and captured.err == ""


def test_epoch_progress_one_line_per_training(capsys) -> None:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((8, 2), np.float32)
    model.fit(x, np.zeros(8), epochs=3, verbose=0, callbacks=[progress.EpochProgress("tiny")])
    out = capsys.readouterr().out
    assert "tiny: 3/3 done" in out and "loss" in out and out.count("\n") == 1
