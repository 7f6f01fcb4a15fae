# Loss Lab: the verbs. `make help` lists them.
# Learners need two: `make lab` (set up, then open JupyterLab) and `make test` (set up, then run every test).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV      ?= .venv
PYTHON    ?= $(shell command -v python3.11 || command -v python3)
BIN       := $(CURDIR)/$(VENV)/bin
STAMP     := $(VENV)/.losslab-installed
PORT      ?= 8888
IP        ?= 127.0.0.1
# `make lab OPEN=no` serves without opening a browser (headless machines, containers).
OPEN      ?= yes
# `make lab INSTRUCTOR=1` keeps nbgrader's instructor panels (formgrader, Create Assignment) and JupyterLab's news,
# which a learner's JupyterLab hides (jupyter/learner/, applied by ./start as on Binder).
INSTRUCTOR ?=
ASSIGNMENT ?=
# make grade: GRADE_JOBS (parallel workers, default: the number of cores), WALL (seconds per submission),
# MEMORY (MB for a submission's kernel), CELL_TIMEOUT (seconds per cell), DISK (MB a submission may write),
# OUTPUT (MB its cells may print), STUDENT (grade only these students), SANDBOX (auto: every kernel in bubblewrap
# when it works here; require: refuse to grade without it; off). Empty means the default, defined once in
# autograder/config.py (`python -m autograder.config --get wall_s`). make bench: SECTION=notebooks, doctor, lab
# or grading.
GRADE_JOBS ?=
WALL      ?=
MEMORY    ?=
CELL_TIMEOUT ?=
DISK      ?=
OUTPUT    ?=
STUDENT   ?=
SANDBOX   ?=
SECTION   ?=
# Parallel test workers; 2 suits the 2-core machines the budgets are set for.
JOBS      ?= 2
PYTEST_ARGS ?=

# nbgrader runs alembic as a subprocess: the environment's bin folder must come first on PATH.
export PATH := $(BIN):$(PATH)
# Each checkout (or git worktree) imports its own losslab, whichever checkout installed the editable copy.
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
# TensorFlow's C++ log lines and oneDNN banner would land on stderr, which nbgrader scores as a failure.
export TF_CPP_MIN_LOG_LEVEL ?= 3
export TF_ENABLE_ONEDNN_OPTS ?= 0
export KERAS_BACKEND ?= tensorflow
export PYTHONDONTWRITEBYTECODE := 1


.PHONY: help setup install lab test test-fast test-backend test-backends torch gpu bench-gpu browser sandbox release site grade \
        feedback export \
        self-grade format lint bench lock clean clean-venv

help:  ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

# The environment is rebuilt only when the pins change (a hash, not file times: a fresh checkout or a git
# worktree sharing this .venv does not reinstall).
PIN_HASH := $(shell cat environment.yml pyproject.toml losslab/pins.py 2>/dev/null | sha256sum | cut -c1-16)

setup:  ## create .venv and install the pinned packages and losslab (editable); a no-op when up to date
	@if [ -x $(BIN)/python ] && [ "$$(cat $(STAMP) 2>/dev/null)" = "$(PIN_HASH)" ]; then exit 0; fi; \
	$(MAKE) --no-print-directory install

install:
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else \
	  "Loss Lab needs Python >= 3.11 (Keras 3.15 does); found " + sys.version.split()[0] + \
	  ". Install python3.11 or run: make PYTHON=/path/to/python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PYTHON) losslab/pins.py environment.yml > $(VENV)/requirements.txt
	@echo "Installing $$(wc -l < $(VENV)/requirements.txt) pinned packages into $(VENV) (the first time takes a few minutes)..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-input -r $(VENV)/requirements.txt \
	  2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; exit 1; }
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . \
	  2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	@$(BIN)/python -c 'import keras, nbgrader, ipywidgets, losslab' || \
	  { echo "set-up failed: a package did not import (see above)"; exit 1; }
	@echo $(PIN_HASH) > $(STAMP)
	@echo "Environment ready: $(VENV)"

# Through ./start, as on Binder: Keras and TensorFlow defaults, quiz progress file, and thread limits that fit the
# CPUs this machine or container really grants (only here: the test suite sets its own).
lab: setup  ## open JupyterLab at course/00_start_here.ipynb (PORT=8888, OPEN=no for headless, INSTRUCTOR=1 for nbgrader's panels; KERAS_BACKEND=jax|torch)
	$(if $(filter torch,$(KERAS_BACKEND)),@$(MAKE) --no-print-directory torch)
	@mkdir -p $(VENV)/etc/jupyter && printf 'c = get_config()  # noqa: F821\n# Validate: the grader'"'"'s per-cell time limit (as postBuild sets on Binder)\nc.Execute.timeout = 120\n' \
	  > $(VENV)/etc/jupyter/nbgrader_config.py
	$(if $(filter torch,$(KERAS_BACKEND)),PYTHONPATH=$(CURDIR)/$(TORCH_SITE)$${PYTHONPATH:+:$$PYTHONPATH} )$(if $(filter 1 yes,$(INSTRUCTOR)),LOSSLAB_INSTRUCTOR=1 )./start $(BIN)/jupyter lab --ServerApp.ip=$(IP) --ServerApp.port=$(PORT) \
	  --ServerApp.open_browser=$(if $(filter yes,$(OPEN)),True,False) \
	  --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/course/00_start_here.ipynb \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

browser:  ## install Debian's chromium for the browser tests when missing (needs root and apt-get)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "note: /usr/bin/chromium is missing and cannot be installed here; browser tests will be skipped."; fi

sandbox:  ## install Debian's bubblewrap (the grading sandbox) when missing (needs root and apt-get)
	@if command -v bwrap >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's bubblewrap for the grading sandbox..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	else echo "note: bwrap is missing and cannot be installed here; make grade will grade without the sandbox" \
	  "(SANDBOX=require refuses), and the sandbox tests will be skipped."; fi

test: setup browser sandbox  ## set up, then run the whole test suite (units, notebooks, grading, browser)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup $(PYTEST_ARGS)

test-fast: setup  ## only the quick tests (no notebook execution, grading or browser)
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

# Other backends. TensorFlow is what `make test` runs; CI adds jax; torch comes from this machine's local wheel.
BACKEND   ?= jax
TORCH_SITE := $(VENV)/torch-site
TORCH_PINS := torch==2.13.0 filelock==4.2.11 sympy==1.14.0 mpmath==1.4.1 networkx==3.6.1 fsspec==2026.9.0

test-backend: setup  ## notebooks and grading round trips under BACKEND (jax or torch): make test-backend BACKEND=jax
	$(if $(filter torch,$(BACKEND)),@$(MAKE) --no-print-directory torch)
	KERAS_BACKEND=$(BACKEND) PYTHONPATH=$(CURDIR)$(if $(filter torch,$(BACKEND)),:$(CURDIR)/$(TORCH_SITE)) \
	  $(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -m slow tests/test_notebooks.py tests/test_grading.py $(PYTEST_ARGS)

test-backends:  ## the same for jax and for torch (TensorFlow is `make test`)
	$(MAKE) --no-print-directory test-backend BACKEND=jax
	$(MAKE) --no-print-directory test-backend BACKEND=torch

torch: setup  ## PyTorch 2.13.0 (CPU build) into .venv/torch-site, used only with KERAS_BACKEND=torch
	@test -d $(TORCH_SITE)/torch || { echo "Installing $(TORCH_PINS) into $(TORCH_SITE)..."; \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --target $(TORCH_SITE) $(TORCH_PINS) \
	  2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true; }
	@PYTHONPATH=$(CURDIR):$(CURDIR)/$(TORCH_SITE) $(BIN)/python -c 'import torch; print("torch", torch.__version__)'

# A GPU: the CUDA build of the chosen backend, at the version environment.yml pins (NVIDIA driver needed;
# the downloads are large). `make clean-venv` returns to the CPU-only set-up.
gpu: setup  ## CUDA build for BACKEND (jax or tensorflow) in .venv: make gpu BACKEND=jax, then make bench-gpu
	@case "$(BACKEND)" in \
	  jax) $(BIN)/python -m pip install --disable-pip-version-check \
	         "jax[cuda12]==$$($(BIN)/python -c 'import jax; print(jax.__version__)')" ;; \
	  tensorflow) v=$$($(BIN)/python -m pip show tensorflow-cpu | sed -n 's/^Version: //p'); \
	         $(BIN)/python -m pip uninstall -y -q tensorflow-cpu && \
	         $(BIN)/python -m pip install --disable-pip-version-check "tensorflow[and-cuda]==$$v" ;; \
	  *) echo "make gpu BACKEND=jax or BACKEND=tensorflow (torch: install its CUDA wheel into $(TORCH_SITE))"; exit 2 ;; \
	esac
	KERAS_BACKEND=$(BACKEND) $(BIN)/python -m losslab report

bench-gpu: setup  ## the heaviest trainings on CPU and on the GPU (when one is visible), no notebook server
	$(BIN)/python -m tests.tools.gpu_bench

release: setup  ## regenerate course/ from solutions/ (nbgrader generate_assignment)
	$(BIN)/python -m autograder.release $(if $(FORCE),--force)

site: setup  ## the course as a static website in _site/ (executes the tutorials the test suite has not run)
	$(BIN)/python -m website.build

grade: setup  ## autograde autograder/submitted/*/$(ASSIGNMENT) in parallel, each kernel sandboxed (SANDBOX=auto|require|off), on a Dask cluster with DASK=tcp://host:8786, then feedback HTML and grades CSV
	@test -n "$(ASSIGNMENT)" || { echo "usage: make grade ASSIGNMENT=01_losses  (one of: $$(ls solutions | grep -E '^[0-9]{2}_' | grep -v ipynb | tr '\n' ' '))"; exit 2; }
	$(BIN)/python -m autograder.grade $(ASSIGNMENT) $(if $(GRADE_JOBS),--jobs $(GRADE_JOBS)) \
	  $(if $(WALL),--wall $(WALL)) $(if $(MEMORY),--memory $(MEMORY)) $(if $(CELL_TIMEOUT),--cell-timeout $(CELL_TIMEOUT)) \
	  $(if $(DISK),--disk $(DISK)) $(if $(OUTPUT),--output $(OUTPUT)) \
	  $(foreach s,$(STUDENT),--student $(s)) $(if $(SANDBOX),--sandbox $(SANDBOX)) $(if $(DASK),--dask $(DASK))

feedback: setup  ## (re)write feedback HTML for ASSIGNMENT
	@test -n "$(ASSIGNMENT)" || { echo "usage: make feedback ASSIGNMENT=01_losses"; exit 2; }
	$(BIN)/python -m autograder.grade $(ASSIGNMENT) --feedback-only

export: setup  ## write autograder/grades.csv from the gradebook
	cd autograder && $(BIN)/nbgrader export --to grades.csv

self-grade: setup  ## grade your own notebooks in course/ with the real hidden tests (ASSIGNMENT= optional)
	$(BIN)/python -m losslab self-grade $(ASSIGNMENT)

format: setup  ## strip outputs and execution counts from every notebook, normalise metadata
	$(BIN)/python -m losslab.notebooks format solutions course tests

lint: setup  ## ruff check and ruff format --check over the whole tree (configuration in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup  ## time every notebook (peak memory too), the doctor, JupyterLab's memory, grading (SECTION=notebooks|doctor|lab|grading)
	$(BIN)/python -m tests.tools.bench $(SECTION)

lock: setup  ## rewrite environment.yml's pins from what .venv holds now
	$(BIN)/python losslab/pins.py lock environment.yml

clean:  ## remove graded work, caches and test artefacts (keeps .venv and the gradebook)
	rm -rf autograder/release autograder/autograded autograder/feedback autograder/.work autograder/reports \
	  tests/artifacts bench .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} + -o -name .ipynb_checkpoints -prune -exec rm -rf {} +

clean-venv:  ## remove .venv (the next make rebuilds it)
	rm -rf $(VENV)
