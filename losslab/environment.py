"""The environment report and the device that trains.

``report()`` is shown in course/00_start_here.ipynb: a learner pastes it into a bug report. Chapters call
``training_device()`` next to their first training so the notebook says honestly where it ran.
Devices come from the active Keras backend's own runtime list, never from guesses.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import unicodedata
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from losslab.messages import N_, _


@dataclass(frozen=True)
class Device:
    """One device the backend runtime lists: kind is 'CPU' or 'GPU' (or another accelerator name)."""

    kind: str
    name: str


def backend() -> str:
    import keras

    return keras.backend.backend()


def devices() -> list[Device]:
    """The devices the active Keras backend's runtime sees, from its own device list."""
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        return [Device(d.device_type, d.name) for d in tf.config.list_physical_devices()]
    if name == "jax":
        import jax

        return [Device(d.platform.upper(), f"{d.device_kind} ({d})") for d in jax.devices()]
    if name == "torch":
        import torch

        found = [Device("CPU", "cpu")]
        if torch.cuda.is_available():
            found += [
                Device("GPU", f"cuda:{i} {torch.cuda.get_device_name(i)}") for i in range(torch.cuda.device_count())
            ]
        return found
    return [Device("CPU", _("{name} backend (device list not available)").format(name=name))]


def training_device() -> str:
    """One line saying where Keras trains: the first accelerator the runtime lists, else the CPU."""
    found = devices()
    accelerators = [d for d in found if d.kind not in {"CPU"}]
    if accelerators:
        return _("{kind} {name} ({backend} backend)").format(
            kind=accelerators[0].kind, name=accelerators[0].name, backend=backend()
        )
    return _("CPU: no GPU visible to the {backend} backend ({threads} CPU threads)").format(
        backend=backend(), threads=len(cpu_threads_available())
    )


def cpu_threads_available() -> list[int]:
    """The CPUs this process may run on (a container's or Binder's quota is smaller than the machine)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return list(range(os.cpu_count() or 1))


def _cgroup_memory_limit() -> int | None:
    """The container's memory limit in bytes (Binder kills a session above it), if one is set."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = Path(path).read_text().strip()
        except OSError:
            continue
        if raw.isdigit() and int(raw) < 1 << 60:
            return int(raw)
    if os.environ.get("MEM_LIMIT", "").isdigit():  # set by Binder / JupyterHub
        return int(os.environ["MEM_LIMIT"])
    return None


# Each dependency group of pyproject.toml, and one direct dependency that only it brings in: the report names the
# groups this environment holds without needing uv or the lock (a Binder or JupyterHub image has neither).
# tests/test_pins.py checks these against pyproject.toml.
GROUP_WITNESSES = {"learner": "keras", "jax": "jax", "torch": "torch", "instructor": "distributed", "dev": "pytest"}
# The learner's direct dependencies the report lists with their versions.
KEY_PACKAGES = ("keras", "tensorflow", "tensorflow-cpu", "jax", "torch", "jupyterlab", "nbgrader", "ipywidgets")


def installed_packages() -> dict[str, str]:
    """{distribution name: version} of what this interpreter can import from (every path on sys.path)."""
    from importlib import metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name:
            found.setdefault(name, dist.version)
    return found


def installed_groups(packages: dict[str, str] | None = None) -> list[str]:
    """The dependency groups (learner, jax, instructor, dev) whose own packages are installed here."""
    packages = installed_packages() if packages is None else packages
    return [group for group, witness in GROUP_WITNESSES.items() if witness in packages]


def _columns(text: str) -> int:
    """How many terminal columns `text` takes: a wide (Japanese) character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


@dataclass
class Report:
    """What a bug report needs; renders as an HTML table in a notebook and as plain text elsewhere. Each row's
    name is its key (``as_dict()``), marked with ``N_`` and shown in the learner's language."""

    rows: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, str]:
        return dict(self.rows)

    def __str__(self) -> str:
        names = [_(k) for k, _v in self.rows]
        width = max(map(_columns, names))
        return "\n".join(
            k + " " * (width - _columns(k)) + f"  {v}" for k, (_k, v) in zip(names, self.rows, strict=True)
        )

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(_(k))}</th><td style='text-align:left'>{escape(v)}</td></tr>"
            for k, v in self.rows
        )
        caption = escape(_("Loss Lab environment report"))
        return f"<table><caption>{caption}</caption>{body}</table>"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's protocol
        printer.text(str(self))


def report() -> Report:
    """Versions, backend, the devices the runtime sees, CPU threads and memory."""
    import keras
    import psutil

    import losslab

    gib = 1024**3
    memory = psutil.virtual_memory()
    limit = _cgroup_memory_limit()
    name = backend()
    try:
        backend_version = importlib.import_module(name).__version__
    except (ImportError, AttributeError):  # a report must not fail
        backend_version = _("unknown")
    rows = [
        ("losslab", losslab.__version__),
        ("Python", f"{platform.python_version()} ({sys.executable})"),
        (N_("platform"), platform.platform()),
        ("Keras", keras.__version__),
        (
            N_("backend"),
            _("{name} {version} (set KERAS_BACKEND before importing keras to change it)").format(
                name=name, version=backend_version
            ),
        ),
        (N_("devices"), "; ".join(f"{d.kind}: {d.name}" for d in devices())),
        (N_("trains on"), training_device()),
        (
            N_("CPU threads"),
            _("{usable} usable of {total} on the machine").format(
                usable=len(cpu_threads_available()), total=os.cpu_count()
            ),
        ),
        (
            N_("memory"),
            _("{total} GiB total, {available} GiB available").format(
                total=f"{memory.total / gib:.1f}", available=f"{memory.available / gib:.1f}"
            )
            + (_(", container limit {limit} GiB").format(limit=f"{limit / gib:.1f}") if limit else ""),
        ),
        (
            N_("this process"),
            _("{rss} GiB resident").format(rss=f"{psutil.Process().memory_info().rss / gib:.2f}"),
        ),
        (N_("installed"), _installed_row()),
    ]
    return Report(rows)


def _installed_row() -> str:
    packages = installed_packages()
    groups = installed_groups(packages)
    if groups == ["learner"]:
        label = _("the learner set (what Binder and make lab install)")
    elif groups:
        label = _("groups {groups}").format(groups=", ".join(groups))
    else:
        label = _("no Loss Lab set recognized")
    keys = ", ".join(f"{name} {packages[name]}" for name in KEY_PACKAGES if name in packages)
    return _("{label}: {n} packages; {keys}").format(label=label, n=len(packages), keys=keys)


if __name__ == "__main__":
    print(report())
