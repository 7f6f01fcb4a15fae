"""The environment report names the devices the backend's runtime really sees; the GPU bench runs anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import pytest

from losslab import environment
from tests.support import REPO
from tests.tools import gpu_bench


def test_report_lists_versions_backend_and_runtime_devices() -> None:
    report = environment.report()
    rows = report.as_dict()
    assert rows["Keras"] == keras.__version__
    assert rows["backend"].startswith(keras.backend.backend())
    runtime = environment.devices()
    assert runtime and all(d.name in rows["devices"] for d in runtime)
    assert "usable" in rows["CPU threads"] and "GiB" in rows["memory"]
    text, html = str(report), report._repr_html_()
    for key in rows:
        assert key in text and key in html


def test_devices_come_from_the_backend_runtime() -> None:
    names = [d.name for d in environment.devices()]
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        assert names == [d.name for d in tf.config.list_physical_devices()]
    elif keras.backend.backend() == "jax":
        import jax

        assert len(names) == len(jax.devices())


def test_training_device_prefers_a_gpu_when_the_runtime_lists_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "devices", lambda: [environment.Device("CPU", "cpu:0")])
    assert environment.training_device().startswith("CPU: no GPU visible")
    monkeypatch.setattr(
        environment,
        "devices",
        lambda: [environment.Device("CPU", "cpu:0"), environment.Device("GPU", "cuda:0 NVIDIA H100")],
    )
    assert environment.training_device().startswith("GPU cuda:0 NVIDIA H100")


def test_gpu_bench_child_times_a_workload_and_names_the_device(monkeypatch, capsys) -> None:
    monkeypatch.setattr(gpu_bench, "WORKLOADS", {"tiny": ((8,), "relu", "adam", 1e-2, 64, 1)})
    gpu_bench.child()
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["backend"] == keras.backend.backend()
    assert result["device"] == environment.training_device()
    (timing,) = result["timings"]
    assert timing["workload"] == "tiny" and timing["seconds"] > 0 and timing["final_loss"] < 3.0


@pytest.mark.parametrize(
    "backend, preset, expected",
    [
        ("torch", None, "1"),  # PyTorch's spinning OpenMP threads: one is faster for the course's models
        ("torch", "2", "2"),  # the learner's (or Binder's start script's) setting wins
        ("tensorflow", None, "unset"),  # TensorFlow and JAX keep their own thread pools
        ("jax", None, "unset"),
    ],
)
def test_import_losslab_sets_torch_threads(backend: str, preset: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "KERAS_BACKEND")}
    env["KERAS_BACKEND"] = backend
    if preset is not None:
        env["OMP_NUM_THREADS"] = preset
    code = "import os, losslab; print(os.environ.get('OMP_NUM_THREADS', 'unset'))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == expected
