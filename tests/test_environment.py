"""Binder's environment.yml, postBuild and start; make lab; a learner's JupyterLab configuration.

uv.lock, and environment.yml generated from it, are checked in tests/test_pins.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from losslab import pins
from tests.support import REPO

ENV = REPO / "environment.yml"


def test_the_installed_packages_are_compiled_to_bytecode() -> None:
    """`make setup` installs with `uv sync --compile-bytecode`: the Makefile sets PYTHONDONTWRITEBYTECODE, so a
    package without its .pyc would be compiled again by every process that imports it (TensorFlow's 1,800
    modules: about 7 CPU-s per kernel)."""
    import importlib.util

    import keras
    import nbformat
    import sklearn

    for module in (keras, nbformat, sklearn):
        cached = Path(importlib.util.cache_from_source(module.__file__))
        assert cached.exists(), (
            f"{module.__name__} has no bytecode ({cached}): this environment was installed without "
            "--compile-bytecode; rebuild it with `make clean-venv setup`"
        )


def test_environment_yml_pins_python_and_every_package() -> None:
    python, pinned = pins.read_environment(ENV)
    major, minor = (int(x) for x in python.split(".")[:2])
    assert (major, minor) >= (3, 11), "Keras 3.15 needs Python >= 3.11; Binder defaults to 3.10 without a pin"
    for name in ("tensorflow-cpu", "keras", "jupyterlab", "ipywidgets", "nbgrader", "matplotlib", "scikit-learn"):
        assert name in pinned, f"environment.yml does not pin {name}"
    text = ENV.read_text()
    assert "-r " not in text and "--requirement" not in text, "no -r lines: Binder installs the pins as listed"


@pytest.mark.parametrize(
    "bad, message",
    [
        ("  - pip:\n      - -r requirements.txt\n", "not an exact pin"),
        ("  - pip:\n      - keras>=3\n", "not an exact pin"),
    ],
)
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


# ------------------------------------------------------------------------------------------ Binder
# repo2docker builds the course from environment.yml, then runs postBuild once; every session goes through
# `start`. Conda is not available here, so these tests read the files instead of building the image.

MAKEFILE = REPO / "Makefile"
POSTBUILD = REPO / "postBuild"
START = REPO / "start"
START_NOTEBOOK = "course/00_start_here.ipynb"


def _environment_yaml() -> dict:
    import yaml

    data = yaml.safe_load(ENV.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("dependencies"), list), "no dependencies listed"
    return data


def test_environment_yml_is_valid_yaml_that_conda_can_read() -> None:
    data = _environment_yaml()
    assert data.get("channels") == ["conda-forge"], "one channel, conda-forge: mixing channels breaks solves"
    conda = [d for d in data["dependencies"] if isinstance(d, str)]
    pip_sections = [d["pip"] for d in data["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1 and pip_sections[0], "exactly one non-empty pip: section"
    assert "pip" in conda, "list pip itself among the conda packages, before the pip: section"
    for spec in conda:
        if spec == "pip":
            continue  # the installer of the pip section
        assert re.fullmatch(r"[A-Za-z0-9._-]+=+[0-9][A-Za-z0-9.*_+-]*", spec), (
            f"conda package {spec!r} is not pinned (write name=version)"
        )


def test_environment_yml_pins_agree_with_what_make_setup_installs() -> None:
    """The pip section as YAML reads it and as pins.py reads it are one list."""
    data = _environment_yaml()
    (yaml_pins,) = [d["pip"] for d in data["dependencies"] if isinstance(d, dict) and "pip" in d]
    for spec in yaml_pins:
        assert isinstance(spec, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[^\s=<>~!]+", spec), (
            f"{spec!r} is not name==version"
        )
    from_yaml = {pins.normalize(s.split("==")[0]): s.split("==")[1] for s in yaml_pins}
    assert len(from_yaml) == len(yaml_pins), "a package is pinned twice"
    python, parsed = pins.read_environment(ENV)
    assert parsed == from_yaml
    (yaml_python,) = [d for d in data["dependencies"] if isinstance(d, str) and re.match(r"python\b(?!-)", d)]
    assert yaml_python.split("=")[-1] == python

    assert "losslab" not in from_yaml, "losslab itself is installed from the checkout (--no-deps), not pinned"


def test_nothing_overrides_environment_yml_for_repo2docker() -> None:
    # A Dockerfile, or a binder/ folder, makes repo2docker ignore every file at the root.
    for name in ("Dockerfile", "binder", ".binder", "requirements.txt", "runtime.txt", "Pipfile", "setup.py"):
        assert not (REPO / name).exists(), f"{name} at the repository root would change what Binder builds"


@pytest.mark.parametrize("script", [POSTBUILD, START], ids=lambda p: p.name)
def test_binder_scripts_are_executable_bash(script: Path) -> None:
    assert script.exists(), f"{script.name} is missing at the repository root"
    assert os.access(script, os.X_OK), f"{script.name} is not executable (chmod +x, and commit the mode)"
    tracked = subprocess.run(["git", "ls-files", "-s", script.name], cwd=REPO, capture_output=True, text=True)
    if tracked.returncode == 0 and tracked.stdout:
        assert tracked.stdout.startswith("100755"), f"{script.name} is committed without its executable bit"
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/bash\n"), f"{script.name}: start with #!/bin/bash"
    assert "set -euo pipefail" in text, f"{script.name}: stop at the first failing command"
    check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert check.returncode == 0, f"{script.name} is not valid bash: {check.stderr}"


def _postbuild_commands() -> list[list[str]]:
    import shlex

    lines = [line.split("#", 1)[0].strip() for line in POSTBUILD.read_text(encoding="utf-8").splitlines()]
    return [shlex.split(line) for line in lines if line.startswith(("jupyter ", "python "))]


def test_postbuild_installs_losslab_from_the_checkout_without_dependencies() -> None:
    installs = [c for c in _postbuild_commands() if c[:4] == ["python", "-m", "pip", "install"]]
    assert len(installs) == 1, "one pip install: losslab itself"
    assert "--no-deps" in installs[0], "every dependency is pinned by environment.yml: install with --no-deps"
    assert installs[0][-1] == "." and (REPO / "pyproject.toml").exists()


def test_postbuild_extensions_exist_and_give_learners_validate_not_the_formgrader() -> None:
    import importlib.util

    from jupyter_core.paths import jupyter_path

    server: dict[str, str] = {}
    lab: dict[str, str] = {}
    locked: set[str] = set()
    for command in _postbuild_commands():
        if command[:3] == ["jupyter", "server", "extension"] and command[3] in ("enable", "disable"):
            server[command[-1]] = command[3]
        elif command[:2] == ["jupyter", "labextension"] and command[2] in ("enable", "disable"):
            lab[command[-1]] = command[2]
        elif command[:3] == ["jupyter", "labextension", "lock"]:
            locked.add(command[-1])
    for module in server:
        assert importlib.util.find_spec(module) is not None, (
            f"postBuild names a server extension {module} that is not installed"
        )
    roots = [Path(p) for p in jupyter_path("labextensions")]
    for name in {*lab, *locked}:
        package, _, plugin = name.partition(":")
        folders = [root / package for root in roots if (root / package / "package.json").exists()]
        assert folders, f"postBuild names the lab extension {package}, which is not installed"
        if plugin:
            bundles = " ".join(p.read_text(errors="replace") for p in (folders[0] / "static").glob("*.js"))
            assert f'"{name}"' in bundles, f"{package} has no plugin {name}"
    assert server.get("nbgrader.server_extensions.validate_assignment") == "enable"
    assert lab.get("@jupyter/nbgrader:validate-assignment") == "enable"
    assert lab.get("@jupyter-widgets/jupyterlab-manager") == "enable"
    # What a learner does not see is switched off by `start` at every session (jupyter/learner/), the one
    # mechanism `make lab` shares; postBuild switching things off in the image would hide them from instructors.
    assert not {name for name, verb in {**server, **lab}.items() if verb == "disable"} and not locked, (
        "postBuild should leave hiding the instructor's tools to start (jupyter/learner/)"
    )
    for command in _postbuild_commands():
        if command[0] == "jupyter" and {"enable", "disable", "lock"} & set(command):
            assert "--sys-prefix" in command or "--level=sys_prefix" in command, (
                f"{' '.join(command)}: configure the image's environment, not one user's home"
            )


def test_postbuild_gives_validate_the_graders_cell_time_limit() -> None:
    from tests.tools.labserver import grader_cell_timeout

    limit = grader_cell_timeout()
    assert limit and limit > 30, "autograder/nbgrader_config.py should raise c.Execute.timeout above 30 s"
    text = POSTBUILD.read_text(encoding="utf-8")
    assert re.search(r'"\$prefix/etc/jupyter/nbgrader_config.py"', text), "write it where Validate looks"
    command = "python -m autograder.config --validate-config"
    assert command in text, "Validate on Binder and the grader: one cell time limit, written from autograder.config"
    written = subprocess.run(
        [sys.executable, *command.split()[1:]], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert f"c.Execute.timeout = {limit}\n" in written.stdout


def _start(env: dict[str, str], *command: str, timeout: float = 30) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": env.pop("HOME", "/tmp/losslab-home")}
    return subprocess.run([str(START), *command], env={**base, **env}, capture_output=True, text=True, timeout=timeout)


def _start_env(**env: str) -> dict[str, str]:
    done = _start(dict(env), "env")
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def test_start_sets_the_course_defaults_and_runs_the_command(tmp_path: Path) -> None:
    env = _start_env(HOME=str(tmp_path))
    assert env["KERAS_BACKEND"] == "tensorflow"
    assert (env["TF_CPP_MIN_LOG_LEVEL"], env["TF_ENABLE_ONEDNN_OPTS"]) == ("3", "0")
    assert env["LOSSLAB_PROGRESS"] == f"{tmp_path}/.losslab/progress.json"
    threads = int(env["LOSSLAB_THREADS"])
    assert 1 <= threads <= len(os.sched_getaffinity(0))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        assert env[name] == str(threads), name
    assert 1 <= int(env["TF_NUM_INTEROP_THREADS"]) <= min(threads, 2)
    # the command's arguments and exit status pass through unchanged (exec "$@")
    done = _start({}, "bash", "-c", 'echo "$1|$2"; exit 7', "_", "a b", "c")
    assert (done.returncode, done.stdout) == (7, "a b|c\n")


@pytest.mark.parametrize("cpu_limit, expected", [("1", 1), ("1.0", 1), ("0.5", 1), ("1.5", 2), ("2", 2)])
def test_start_fits_threads_to_binders_cpu_limit(cpu_limit: str, expected: int) -> None:
    env = _start_env(CPU_LIMIT=cpu_limit)
    threads = min(expected, len(os.sched_getaffinity(0)))
    assert int(env["OMP_NUM_THREADS"]) == threads
    assert int(env["TF_NUM_INTRAOP_THREADS"]) == threads
    assert int(env["TF_NUM_INTEROP_THREADS"]) <= threads


def test_start_gives_torch_one_openmp_thread() -> None:
    """The same default as `import losslab` (tests/test_devices.py): start runs before it and would otherwise
    give PyTorch a spinning thread per CPU."""
    env = _start_env(KERAS_BACKEND="torch")
    assert env["OMP_NUM_THREADS"] == "1"
    assert env["TF_NUM_INTRAOP_THREADS"] == env["LOSSLAB_THREADS"]
    assert _start_env(KERAS_BACKEND="torch", OMP_NUM_THREADS="2")["OMP_NUM_THREADS"] == "2"


def test_start_keeps_what_the_user_set() -> None:
    env = _start_env(
        KERAS_BACKEND="jax",
        OMP_NUM_THREADS="3",
        LOSSLAB_PROGRESS="/tmp/p.json",
        LOSSLAB_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="1",
    )
    assert (env["KERAS_BACKEND"], env["OMP_NUM_THREADS"]) == ("jax", "3")
    assert env["LOSSLAB_PROGRESS"] == "/tmp/p.json"
    assert (env["TF_NUM_INTRAOP_THREADS"], env["TF_CPP_MIN_LOG_LEVEL"]) == ("1", "1")


def _make_lab_dry_run(**env: str) -> str:
    full = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | env
    done = subprocess.run(
        ["make", "-n", "lab", "OPEN=no"], cwd=REPO, capture_output=True, text=True, timeout=60, env=full
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_lab_goes_through_start() -> None:
    out = _make_lab_dry_run()
    assert re.search(r"^\./start \S*jupyter lab ", out, re.M), out
    assert f"--LabApp.default_url=/lab/tree/{START_NOTEBOOK}" in out
    assert "torch" not in out


def test_make_lab_on_torch_installs_and_finds_torch() -> None:
    """torch lives in .venv/torch-site (make torch), outside the venv: the server and its kernels need it on
    PYTHONPATH, or `KERAS_BACKEND=torch make lab` opens notebooks that fail on `import keras`."""
    out = _make_lab_dry_run(KERAS_BACKEND="torch")
    assert "import torch" in out, "make lab should run `make torch` first on the torch backend"
    assert re.search(r"^PYTHONPATH=\S*/\.venv/torch-site\S* \./start \S*jupyter lab ", out, re.M), out


def test_readme_binder_badge_opens_the_start_notebook() -> None:
    from urllib.parse import parse_qs, urlsplit

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    badges = re.findall(r"\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\(([^)\s]+)\)", readme)
    assert len(badges) == 1, "one Binder badge in the README"
    url = urlsplit(badges[0])
    assert (url.scheme, url.netloc) == ("https", "mybinder.org")
    assert re.fullmatch(r"/v2/gh/[\w.-]+/[\w.-]+/[\w./-]+", url.path), url.path
    assert parse_qs(url.query) == {"urlpath": [f"lab/tree/{START_NOTEBOOK}"]}
    assert (REPO / START_NOTEBOOK).exists()


# ------------------------------------------------------------------------------------------ a learner's JupyterLab

LEARNER = REPO / "jupyter" / "learner"
# What a learner must not see: JupyterLab's news and update pop-up, and nbgrader's instructor panels (with the
# exchange-based lists and the menu that only holds them). Validate stays.
HIDDEN_PLUGINS = {
    "@jupyterlab/apputils-extension:announcements",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:menu",
}
HIDDEN_SERVER_EXTENSIONS = {
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
}


def test_learner_config_names_plugins_that_exist_and_keeps_validate() -> None:
    from jupyter_core.paths import jupyter_path

    page = json.loads((LEARNER / "labconfig" / "page_config.json").read_text(encoding="utf-8"))
    server = json.loads((LEARNER / "jupyter_server_config.json").read_text(encoding="utf-8"))
    disabled = {k for k, v in page["disabledExtensions"].items() if v}
    assert disabled == HIDDEN_PLUGINS and {k for k, v in page["lockedExtensions"].items() if v} == disabled, (
        "disable and lock exactly the learner's hidden plugins (locked: the UI cannot switch them back on)"
    )
    extensions = server["ServerApp"]["jpserver_extensions"]
    assert {k for k, v in extensions.items() if v is False} == HIDDEN_SERVER_EXTENSIONS
    assert extensions.get("nbgrader.server_extensions.validate_assignment") is not False
    bundles = ""
    for root in map(Path, jupyter_path("labextensions")):
        bundles += " ".join(p.read_text(errors="replace") for p in root.glob("@jupyter/nbgrader/static/*.js"))
    for root in map(Path, jupyter_path("lab")):
        bundles += " ".join(p.read_text(errors="replace") for p in root.glob("static/*.js"))
    for plugin in HIDDEN_PLUGINS:
        assert f'"{plugin}"' in bundles, f"no plugin {plugin} in the installed JupyterLab: the name is stale"


def _effective_jupyter(env: dict[str, str]) -> tuple[set[str], set[str]]:
    """The lab plugins disabled and the nbgrader server extensions enabled, for a server started under start."""
    code = (
        "import json\n"
        "from jupyterlab_server.config import get_static_page_config\n"
        "from jupyter_server.serverapp import ServerApp\n"
        "page = get_static_page_config(level='all')\n"
        "app = ServerApp()\n"
        "app.initialize(argv=['--ServerApp.port=0', '--ServerApp.open_browser=False', '--allow-root'])\n"
        "print(json.dumps([sorted(k for k, v in page.get('disabledExtensions', {}).items() if v),\n"
        "                  sorted(k for k, v in app.jpserver_extensions.items() if v and 'nbgrader' in k)]))\n"
    )
    done = _start(dict(env), sys.executable, "-c", code, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    disabled, enabled = json.loads(done.stdout.strip().splitlines()[-1])
    return set(disabled), set(enabled)


def test_a_learners_jupyterlab_has_no_news_pop_up_and_no_instructor_panels(tmp_path: Path) -> None:
    disabled, enabled = _effective_jupyter({"HOME": str(tmp_path)})
    assert HIDDEN_PLUGINS <= disabled, f"a learner would see: {HIDDEN_PLUGINS - disabled}"
    assert not HIDDEN_SERVER_EXTENSIONS & enabled, f"a learner's server runs: {HIDDEN_SERVER_EXTENSIONS & enabled}"
    assert "nbgrader.server_extensions.validate_assignment" in enabled, "Validate needs its server extension"
    assert "@jupyter/nbgrader:validate-assignment" not in disabled


def test_an_instructor_keeps_the_nbgrader_panels(tmp_path: Path) -> None:
    disabled, enabled = _effective_jupyter({"HOME": str(tmp_path), "LOSSLAB_INSTRUCTOR": "1"})
    assert not (HIDDEN_PLUGINS - {"@jupyterlab/apputils-extension:announcements"}) & disabled
    assert "nbgrader.server_extensions.formgrader" in enabled


def test_start_puts_the_learner_config_first_unless_instructor() -> None:
    env = _start_env(JUPYTER_CONFIG_PATH="/elsewhere")
    assert env["JUPYTER_CONFIG_PATH"] == f"{LEARNER}:/elsewhere"
    assert _start_env()["JUPYTER_CONFIG_PATH"] == str(LEARNER)
    assert "JUPYTER_CONFIG_PATH" not in _start_env(LOSSLAB_INSTRUCTOR="1")


def test_make_lab_instructor_switch() -> None:
    assert "LOSSLAB_INSTRUCTOR" not in _make_lab_dry_run()
    assert re.search(r"^LOSSLAB_INSTRUCTOR=1 \./start \S*jupyter lab ", _make_lab_dry_run(INSTRUCTOR="1"), re.M)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make lab INSTRUCTOR=1" in readme, "document the instructor's switch where learners read about make lab"


def test_start_picks_jax_where_tensorflow_is_not_installed(tmp_path: Path) -> None:
    """A platform without a TensorFlow wheel: start's default backend is JAX when JAX is there."""
    bin_dir, packages = tmp_path / "bin", tmp_path / "packages"
    bin_dir.mkdir()
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    (bin_dir / "python3").symlink_to(base)  # the interpreter without the environment's packages
    check = subprocess.run([str(bin_dir / "python3"), "-c", "import tensorflow"], capture_output=True)
    if check.returncode == 0:
        pytest.skip(f"{base} has TensorFlow installed")
    path = f"{bin_dir}:{os.environ['PATH']}"
    assert _start_env(PATH=path, PYTHONPATH=str(packages))["KERAS_BACKEND"] == "tensorflow", "no JAX either"
    (packages / "jax").mkdir(parents=True)
    (packages / "jax" / "__init__.py").write_text("")
    assert _start_env(PATH=path, PYTHONPATH=str(packages))["KERAS_BACKEND"] == "jax"
    assert _start_env(PATH=path, PYTHONPATH=str(packages), KERAS_BACKEND="torch")["KERAS_BACKEND"] == "torch"
    assert _start_env()["KERAS_BACKEND"] == "tensorflow", "where TensorFlow is installed it stays the default"
