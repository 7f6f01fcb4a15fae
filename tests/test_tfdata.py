"""losslab/tfdata.py: with LOSSLAB_TFDATA_AUTOTUNE=0 (the grader's kernels), every dataset iterated after
``import losslab`` runs without tf.data's autotuning, Keras' fit included, with the same elements; a dataset that
sets autotuning itself keeps it; without the variable nothing changes. Each case runs in a fresh interpreter, as a
kernel starts: the patch is made when TensorFlow loads, after losslab."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support import REPO

# Reports what the datasets a script iterates run with: the autotune option of every dataset an iterator is made
# of (Keras' fit included), and the elements of a small pipeline that asks for AUTOTUNE.
SCRIPT = r"""
import json, sys
import losslab
from losslab import after_import, tfdata
waiting = after_import.waiting(tfdata.TRIGGER)
loaded_early = "tensorflow" in sys.modules
import numpy as np
import tensorflow as tf
from tensorflow.python.data.ops import iterator_ops

made = []
original = iterator_ops.OwnedIterator.__init__
def record(self, dataset=None, *args, **kwargs):
    if dataset is not None:  # not an iterator rebuilt from another's components (in a traced function)
        made.append(dataset.options().autotune.enabled)
    return original(self, dataset, *args, **kwargs)
iterator_ops.OwnedIterator.__init__ = record

pipeline = tf.data.Dataset.range(6).map(lambda x: x * 3, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
elements = [int(x) for x in pipeline]
own = tf.data.Options()
own.autotune.enabled = True
for _ in pipeline.with_options(own):
    pass
before_fit = len(made)

import keras
keras.utils.set_random_seed(0)
x = np.random.RandomState(0).normal(size=(40, 3)).astype("float32")
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(x, x[:, :1], epochs=3, batch_size=8, verbose=0)
print(json.dumps({"waiting": waiting, "loaded early": loaded_early, "elements": elements,
                  "plain": made[0], "own": made[1], "fit": made[before_fit:]}))
"""


def _run(value: str | None) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "PYTHONPATH": str(REPO)}
    env.pop("LOSSLAB_TFDATA_AUTOTUNE", None)
    if value is not None:
        env["LOSSLAB_TFDATA_AUTOTUNE"] = value
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_graders_kernels_iterate_without_autotuning() -> None:
    seen = _run("0")
    assert seen["waiting"] and not seen["loaded early"], seen  # import losslab did not import TensorFlow
    assert seen["elements"] == [0, 3, 6, 9, 12, 15], seen
    assert seen["plain"] is False, seen
    assert seen["own"] is True, seen  # a dataset's own setting wins
    assert len(seen["fit"]) >= 1 and all(option is False for option in seen["fit"]), seen  # Keras' fit, every epoch


@pytest.mark.parametrize("value", [None, "1", ""])
def test_anywhere_else_tensorflow_keeps_its_defaults(value: str | None) -> None:
    seen = _run(value)
    assert not seen["waiting"] and seen["elements"] == [0, 3, 6, 9, 12, 15], seen
    assert seen["plain"] is None and seen["own"] is True, seen
    assert len(seen["fit"]) >= 1 and all(option is None for option in seen["fit"]), seen
