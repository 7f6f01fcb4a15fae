"""``make bench-gpu``: the course's heaviest trainings timed on the CPU and, when one is visible, on a GPU.

No notebook server is needed. Each device runs in its own subprocess: the GPU run sees what the machine offers;
when it found a GPU, a second run hides every GPU (``CUDA_VISIBLE_DEVICES=""``, and ``JAX_PLATFORMS=cpu`` for
JAX) to time the CPU.
Every workload is compiled by one warm-up epoch first, then timed over its real epochs. Works with any Keras
backend: ``KERAS_BACKEND=jax python -m tests.tools.gpu_bench``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

# Workloads taken from the chapters (docs/curriculum.md):
# name -> (hidden layers, activation, optimizer, lr, batch, epochs)
WORKLOADS: dict[str, tuple[tuple[int, ...], str, str, float, int, int]] = {
    "digits MLP 64-64, Adam, batch 32, 20 epochs (chapters 1-2)": ((64, 64), "relu", "adam", 1e-3, 32, 20),
    "digits MLP, SGD sweep of 6 learning rates, 20 epochs each (chapter 3)": ((64, 64), "relu", "sweep", 0, 32, 20),
    "digits MLP, batch 8, 20 epochs (chapter 4, batch size)": ((64, 64), "relu", "sgd", 0.05, 8, 20),
    "deep sigmoid net 10 x 64, 20 epochs (chapter 4, vanishing gradients)": (
        (64,) * 10,
        "sigmoid",
        "sgd",
        0.01,
        32,
        20,
    ),
    "wide MLP 1024-1024, Adam, batch 256, 20 epochs (where a GPU starts to pay)": (
        (1024, 1024),
        "relu",
        "adam",
        1e-3,
        256,
        20,
    ),
}
SWEEP = (1e-4, 1e-3, 1e-2, 0.1, 1.0, 3.0)


@dataclass
class Timing:
    workload: str
    seconds: float
    final_loss: float


def _train(hidden, activation, optimizer, lr, batch, epochs, split) -> float:
    import keras

    keras.utils.set_random_seed(0)
    layers = [keras.Input(shape=(split.n_features,))]
    layers += [keras.layers.Dense(units, activation=activation) for units in hidden]
    layers.append(keras.layers.Dense(split.n_classes))
    model = keras.Sequential(layers)
    opt = keras.optimizers.Adam(lr) if optimizer == "adam" else keras.optimizers.SGD(lr)
    model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    initial = model.get_weights()
    model.fit(split.x_train, split.y_train, epochs=1, batch_size=batch, verbose=0)  # warm-up: compile
    model.set_weights(initial)  # the timed run starts from the same weights (the optimizer keeps its step count)
    history = model.fit(split.x_train, split.y_train, epochs=epochs, batch_size=batch, verbose=0)
    return float(history.history["loss"][-1])


def child() -> None:
    """Run every workload on whatever devices this process sees; print one JSON object."""
    import losslab  # noqa: F401 - quiet TensorFlow logs before keras loads
    from losslab import data, environment

    split = data.digits()
    timings = []
    for name, (hidden, activation, optimizer, lr, batch, epochs) in WORKLOADS.items():
        started = time.perf_counter()
        if optimizer == "sweep":
            loss = min(_train(hidden, activation, "sgd", rate, batch, epochs, split) for rate in SWEEP)
        else:
            loss = _train(hidden, activation, optimizer, lr, batch, epochs, split)
        timings.append(Timing(name, time.perf_counter() - started, loss).__dict__)
    print(json.dumps({"device": environment.training_device(), "backend": environment.backend(), "timings": timings}))


def _run(hide_gpu: bool) -> dict:
    env = dict(os.environ)
    if hide_gpu:
        env.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    done = subprocess.run(
        [sys.executable, "-m", "tests.tools.gpu_bench", "--child"], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    print(
        f"Loss Lab GPU bench, {time.strftime('%Y-%m-%d %H:%M')}, KERAS_BACKEND="
        f"{os.environ.get('KERAS_BACKEND', 'tensorflow')}",
        flush=True,
    )
    default = _run(hide_gpu=False)
    has_gpu = not default["device"].startswith("CPU")
    cpu = _run(hide_gpu=True) if has_gpu else default
    print(f"CPU run: {cpu['device']}")
    print(f"GPU run: {default['device'] if has_gpu else 'no GPU visible to the backend: GPU column skipped'}")
    print(f"\n{'workload':<78}{'CPU s':>8}{'GPU s':>8}{'speed-up':>10}")
    for c, g in zip(cpu["timings"], default["timings"], strict=True):
        gpu_s = f"{g['seconds']:>8.1f}" if has_gpu else f"{'-':>8}"
        speed = f"{c['seconds'] / g['seconds']:>9.1f}x" if has_gpu else f"{'-':>10}"
        print(f"{c['workload']:<78}{c['seconds']:>8.1f}{gpu_s}{speed}")
    return 0


if __name__ == "__main__":
    if "--child" in sys.argv:
        child()
    else:
        raise SystemExit(main())
