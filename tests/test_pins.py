"""uv.lock: it matches pyproject.toml, resolves on every supported platform and Python, holds hashes, and is what
the environment and Binder's environment.yml hold; the learner group holds only what a learner needs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest

from losslab import pins
from tests.support import REPO

LOCK = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rows() -> dict[str, list[tuple[str, str, str]]]:
    try:
        pins.uv()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    return {group: pins.export([group]) for group in ("all", "learner", "jax", "torch", "instructor", "dev")}


def test_lock_matches_the_direct_dependencies_of_pyproject() -> None:
    done = pins.uv_run("lock", "--check", "--offline", check=False)
    assert done.returncode == 0, f"uv.lock is stale against pyproject.toml: run `make lock`\n{done.stderr[-3000:]}"


def test_lock_check_fails_when_a_pin_changes(tmp_path: Path) -> None:
    """The check above can fail: a pyproject.toml whose direct dependency moved no longer matches the lock."""
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(REPO / name, tmp_path / name)
    text = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    assert '"keras==' in text
    (tmp_path / "pyproject.toml").write_text(text.replace('"keras==', '"keras>1,<=2,==', 1), encoding="utf-8")
    done = pins.uv_run("lock", "--check", "--offline", cwd=tmp_path, check=False)
    assert done.returncode != 0, done.stdout + done.stderr


def test_every_direct_dependency_is_pinned_exactly() -> None:
    for group, entries in PYPROJECT["dependency-groups"].items():
        for entry in entries:
            if isinstance(entry, dict):
                assert set(entry) == {"include-group"}, entry
                continue
            requirement = entry.split(";")[0].strip()
            assert "==" in requirement and not set("<>~!*") & set(requirement), (
                f"[dependency-groups] {group}: pin {requirement!r} exactly (name==version); the lock pins the rest"
            )


def test_lock_lists_a_hash_for_every_file() -> None:
    packages = [p for p in LOCK["package"] if "registry" in p.get("source", {})]
    assert len(packages) > 100
    for package in packages:
        files = [package["sdist"]] if "sdist" in package else []
        files += package.get("wheels", [])
        assert files, f"{package['name']}: no file in the lock"
        for file in files:
            assert file.get("hash", "").startswith("sha256:"), f"{package['name']}: {file.get('url')} has no hash"


def test_lock_covers_the_four_platforms_and_python_3_11_2_to_3_13() -> None:
    assert LOCK["requires-python"] == ">=3.11.2, <3.14"
    from packaging.markers import Marker

    environments = [Marker(m) for m in PYPROJECT["tool"]["uv"]["environments"]]
    assert PYPROJECT["tool"]["uv"]["required-environments"] == PYPROJECT["tool"]["uv"]["environments"]
    assert len(environments) == len(pins.PLATFORMS)
    for platform in pins.PLATFORMS:
        holds = [m for m in environments if m.evaluate(pins.marker_environment(platform, "3.11.2"))]
        assert len(holds) == 1, f"{platform}: {len(holds)} of [tool.uv] environments hold"


def test_environment_yml_is_generated_from_the_lock(rows) -> None:
    expected = pins.binder_environment(rows["learner"])
    assert (REPO / "environment.yml").read_text(encoding="utf-8") == expected, (
        "environment.yml differs from uv.lock's learner group: run `make binder` (never edit it by hand)"
    )
    text = expected
    assert "-r " not in text and "--requirement" not in text
    python, pinned = pins.read_environment(REPO / "environment.yml")
    assert python == "3.11"
    assert {"tensorflow-cpu", "keras", "jupyterlab", "nbgrader", "pip", "setuptools", "wheel"} <= set(pinned)


def _platforms_and_pythons():
    return [(p, v) for p in pins.PLATFORMS for v in ("3.11.2", "3.12", "3.13")]


# What a learner's notebooks never import: tests, lint, browser automation, the website, Dask, a second backend.
NOT_FOR_LEARNERS = {
    "jax", "jaxlib", "playwright", "pytest", "pytest-xdist", "pytest-timeout", "ruff", "sphinx", "myst-nb",
    "sphinx-book-theme", "dask", "distributed", "uv",
}  # fmt: skip


@pytest.mark.parametrize("platform, python", _platforms_and_pythons())
def test_learner_group_has_a_tensorflow_and_nothing_a_learner_never_imports(rows, platform, python) -> None:
    env = pins.marker_environment(platform, python)
    learner = pins.pins_for(rows["learner"], env)
    assert not NOT_FOR_LEARNERS & set(learner), f"the learner set holds {sorted(NOT_FOR_LEARNERS & set(learner))}"
    wheel = "tensorflow-cpu" if env["platform_machine"] in ("x86_64", "AMD64") else "tensorflow"
    assert wheel in learner and ({"tensorflow", "tensorflow-cpu"} - {wheel}).isdisjoint(learner), (
        f"{platform}: expected {wheel} alone"
    )
    for name in ("keras", "jupyterlab", "ipywidgets", "nbgrader", "matplotlib", "scikit-learn", "tensorboard"):
        assert name in learner, f"{platform} {python}: the learner set lacks {name}"
    everything = pins.pins_for(rows["all"], env)
    assert set(learner) < set(everything) and {"jax", "pytest", "playwright"} <= set(everything)


def _registry_reachable() -> str | None:
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=15).close()
    except OSError as exc:
        return f"the package registry cannot be reached ({exc})"
    return None


@pytest.fixture(scope="module")
def registry() -> None:
    problem = _registry_reachable()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{problem}: in CI the lock must be resolved for every platform")
        pytest.skip(f"{problem}: cannot resolve the lock for the other platforms here")


@pytest.mark.parametrize("platform, python", _platforms_and_pythons())
def test_lock_resolves_from_the_registry_with_wheels_only(rows, registry, tmp_path, platform, python) -> None:
    """uv resolves the locked pins (every group, torch too) for this platform and Python from the registry, wheels only
    (no build on a learner's machine), to the versions the lock gives that platform."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "".join(f"{n}=={v}{' ; ' + m if m else ''}\n" for n, v, m in rows["all"] + rows["torch"]), encoding="utf-8"
    )
    out = tmp_path / "resolved.txt"
    done = pins.uv_run(
        "pip", "compile", str(requirements), "--python-platform", platform, "--python-version", python,
        "--only-binary", ":all:", "--no-header", "--no-annotate", "--quiet", "-o", str(out),
        check=False, timeout=600, env={"MACOSX_DEPLOYMENT_TARGET": pins.MACOS_MINIMUM},
    )  # fmt: skip
    assert done.returncode == 0, f"{platform}, Python {python}: {done.stderr[-3000:]}"
    resolved = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split(";")[0].strip().split("==")
            resolved[pins.normalize(name)] = version
    assert resolved == pins.pins_for(rows["all"] + rows["torch"], pins.marker_environment(platform, python))


def _installed() -> dict[str, str]:
    """What the environment's site-packages hold (not what is on sys.path: setuptools, once imported, puts its
    vendored packages there)."""
    import sysconfig

    found = {}
    for dist in metadata.distributions(
        path=sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    ):
        found[pins.normalize(dist.metadata["Name"])] = dist.version
    return found


def test_the_environment_holds_exactly_the_lock() -> None:
    stamp = Path(sys.prefix) / ".losslab-installed"
    if not stamp.exists():
        pytest.skip(f"{sys.prefix} was not made by `make setup`")
    groups = stamp.read_text().split()[1:]
    expected = pins.pins_for(pins.export(groups))
    installed = _installed()
    installed.pop("losslab", None)
    wrong = {n: (v, installed.get(n)) for n, v in expected.items() if installed.get(n) != v}
    extra = sorted(set(installed) - set(expected))
    assert not wrong, f"locked vs installed differ (run `make setup`): {wrong}"
    assert not extra, f"installed but not in the lock's {groups} (run `make setup`): {extra}"


def test_make_setup_installs_from_the_lock_with_the_pinned_uv() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "$(UV) sync --frozen" in makefile, "make setup installs uv.lock as it stands (never re-resolves)"
    version = PYPROJECT["tool"]["uv"]["required-version"].removeprefix("==")
    assert f"UV_VERSION := {version}\n" in makefile, "the Makefile's uv and pyproject's required-version differ"
    done = subprocess.run([pins.uv(), "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.split()[1] == version


def test_the_environment_report_recognizes_each_group_by_a_package_only_it_brings(rows) -> None:
    from losslab.environment import GROUP_WITNESSES

    env = pins.marker_environment("x86_64-manylinux_2_28", "3.11.9")
    learner = pins.pins_for(rows["learner"], env)
    assert set(GROUP_WITNESSES) == set(PYPROJECT["dependency-groups"])
    for group, witness in GROUP_WITNESSES.items():
        assert witness in pins.pins_for(rows[group], env), f"{witness} is not in the {group} group"
        assert group == "learner" or witness not in learner, f"{witness} is in the learner set: it cannot mark {group}"
