"""environment.yml (Binder's environment) and what `make setup` installs must agree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from losslab import pins
from tests.support import REPO

ENV = REPO / "environment.yml"


def test_environment_yml_pins_python_and_every_package() -> None:
    python, pinned = pins.read_environment(ENV)
    major, minor = (int(x) for x in python.split(".")[:2])
    assert (major, minor) >= (3, 11), "Keras 3.15 needs Python >= 3.11; Binder defaults to 3.10 without a pin"
    for name in ("tensorflow-cpu", "keras", "jupyterlab", "ipywidgets", "nbgrader", "matplotlib", "scikit-learn"):
        assert name in pinned, f"environment.yml does not pin {name}"
    text = ENV.read_text()
    assert "-r " not in text and "--requirement" not in text, "no -r lines: Binder installs the pins as listed"


def test_environment_yml_matches_the_installed_packages() -> None:
    python, pinned = pins.read_environment(ENV)
    assert f"{sys.version_info.major}.{sys.version_info.minor}" == python, \
        f"the virtual environment runs Python {sys.version.split()[0]}, environment.yml pins {python}"
    installed = pins.installed()
    ignorable = {"pip", "setuptools", "wheel", "losslab", "torch"}  # torch: only `make test-backends` adds it
    wrong = {n: (v, installed.get(n)) for n, v in pinned.items() if installed.get(n) != v}
    extra = {n: v for n, v in installed.items() if n not in pinned and n not in ignorable}
    assert not wrong, f"pinned vs installed differ (run `make setup`, or `make lock` after an upgrade): {wrong}"
    assert not extra, f"installed but not pinned in environment.yml (add them, or `make clean-venv`): {extra}"


@pytest.mark.parametrize("bad, message", [
    ("  - pip:\n      - -r requirements.txt\n", "not an exact pin"),
    ("  - pip:\n      - keras>=3\n", "not an exact pin"),
])
def test_pins_reject_what_binder_cannot_use(tmp_path: Path, bad: str, message: str) -> None:
    path = tmp_path / "environment.yml"
    path.write_text("dependencies:\n  - python=3.11\n" + bad)
    with pytest.raises(ValueError, match=message):
        pins.read_environment(path)


def test_pins_require_python(tmp_path: Path) -> None:
    path = tmp_path / "environment.yml"
    path.write_text("dependencies:\n  - pip:\n      - keras==3.15.1\n")
    with pytest.raises(ValueError, match="python"):
        pins.read_environment(path)
