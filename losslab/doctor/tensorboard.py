"""Reading what ``keras.callbacks.TensorBoard`` wrote, without a TensorBoard server."""

from __future__ import annotations


def tensorboard_available() -> bool:
    """Whether keras.callbacks.TensorBoard can write (it needs TensorFlow and the tensorboard package)."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("tensorflow", "tensorboard"))


def read_tensorboard(logdir: str) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """The scalars the TensorBoard callback wrote under `logdir`: {run: {tag: [(step, value), ...]}}.

    Reads the event files with TensorFlow's record reader (the TensorBoard callback needs TensorFlow
    installed anyway); no TensorBoard server is started.
    """
    from pathlib import Path

    import tensorflow as tf

    out: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for path in sorted(Path(logdir).rglob("events.out.tfevents.*")):
        run = str(path.parent.relative_to(logdir))
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.HasField("tensor"):
                    array = tf.make_ndarray(value.tensor)
                    if array.dtype.kind not in "fiub" or array.size != 1:
                        continue  # not a scalar: the model's config as text, a histogram, an image
                    number = float(array.reshape(-1)[0])
                elif value.HasField("simple_value"):
                    number = float(value.simple_value)
                else:
                    continue
                out.setdefault(run, {}).setdefault(value.tag, []).append((int(event.step), number))
    return out
