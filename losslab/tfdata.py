"""tf.data's autotuning off, where several kernels share the cores: ``LOSSLAB_TFDATA_AUTOTUNE=0``.

On the TensorFlow backend, Keras feeds ``fit`` through a tf.data pipeline and makes a new iterator of it every
epoch. tf.data's autotuning runs a thread per iterator that wakes on a timer (20 ms, then 40 ms, ...); when the
cores are busy, the training's main thread waits for it at each epoch's end. With the process held to one core,
a training of the warm-up's size (iris, 60 epochs of 10 batches) took 4.2 s, half of it idle, and 1.9 s without
autotuning; two such trainings at once on 2 cores each took 1.5 times as long as one alone, and 1.05 times
without (docs/contributing.md, "the grader's speed-up"). The course's datasets are arrays in memory, for which
there is nothing to tune: the elements, their order and every result stay the same.

The grader sets the variable for its kernels (autograder/config.py: ``GradingConfig.kernel_env``). When it is
"0", ``import losslab`` arranges, without importing TensorFlow, that every dataset iterated afterwards runs with
``tf.data.Options().autotune.enabled = False``, unless its own options set autotuning already. Any other value,
or none, changes nothing: a learner's own JupyterLab keeps TensorFlow's defaults.
"""

from __future__ import annotations

import os
from types import ModuleType

from losslab import after_import

ENV = "LOSSLAB_TFDATA_AUTOTUNE"
TRIGGER = "tensorflow.python.data.ops.dataset_ops"  # defines tf.data.Dataset (DatasetV2) and its __iter__


def without_autotune(dataset):
    """`dataset`, with autotuning off unless its options set it (True or False) already."""
    import tensorflow as tf

    if dataset.options().autotune.enabled is not None:
        return dataset
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def patch(dataset_ops: ModuleType) -> bool:
    """Make ``iter(dataset)`` iterate `without_autotune(dataset)`; whether it was done (once)."""
    cls = dataset_ops.DatasetV2
    original = cls.__iter__
    if getattr(original, "losslab_without_autotune", False):
        return True

    def __iter__(self):
        return original(without_autotune(self))

    __iter__.losslab_without_autotune = True
    __iter__.__doc__ = original.__doc__
    cls.__iter__ = __iter__
    return True


def install() -> bool:
    """With ``LOSSLAB_TFDATA_AUTOTUNE=0``, patch now (TensorFlow loaded) or when tf.data loads; whether anything
    was done."""
    if os.environ.get(ENV, "").strip() != "0":
        return False
    return bool(after_import.when_imported(TRIGGER, patch))
