# Loss Lab: the verbs. `make help` lists them.
# Learners need one: `make lab` (installs the learner group of uv.lock, then opens JupyterLab). Developers and CI:
# `make test` (installs every group but torch, then runs every test); docs/contributing.md has the rest.

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
# `make lab LANG=ja` opens the Japanese edition (course/ja/) and sets LOSSLAB_LANG=ja for the server's kernels
# (docs/i18n.md). LANG is also the locale's variable: only the value `ja` picks Japanese, and the server then runs
# under C.UTF-8, since `ja` alone is no locale.
LAB_LANG  := $(if $(filter ja,$(LANG)),ja,)
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
# ... which is why the packages are compiled when they are installed (uv sync --compile-bytecode; uv does not by
# default): without a .pyc, every process that imports Keras compiles TensorFlow's 1,800 modules again, about
# 7 CPU-s more per kernel (keras + sklearn + matplotlib: 12 CPU-s against 5), and the suite starts hundreds.


.PHONY: help setup setup-learner sync binder uv install lab test test-bundles test-system test-fast test-backend test-backends torch gpu bench-gpu browser sandbox release site grade \
        feedback export \
        self-grade format lint bench lock clean clean-venv

help:  ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

# The environment comes from uv.lock (one universal lock: Linux x86_64 and aarch64, macOS arm64, Windows x86_64;
# Python 3.11 to 3.13), installed by uv, itself pinned and bootstrapped with pip into $(UV_HOME) (outside the
# environment's site-packages, which `uv sync` keeps exactly as locked). It is re-synced only when the lock or
# pyproject.toml change (a hash, not file times: a fresh checkout or a git worktree sharing this .venv does not
# reinstall) or when a verb needs a group the environment lacks: `make lab` needs the learner group only,
# `make setup` (and every verb that tests, grades or builds) all of them.
UV_VERSION := 0.13.9
UV_HOME   := $(VENV)/uv-bootstrap
UV        := $(CURDIR)/$(UV_HOME)/bin/uv
PIN_HASH  := $(shell cat uv.lock pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)
# uv never downloads a Python here: it uses the environment's own (made from $(PYTHON)).
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

setup:  ## create .venv and install the locked packages (every group but torch) and losslab (editable); a no-op when up to date
	@$(MAKE) --no-print-directory sync GROUPS=all

setup-learner:  ## the learner's set only (what make lab, Binder and the JupyterHub image install)
	@$(MAKE) --no-print-directory sync GROUPS="learner$(if $(filter jax,$(KERAS_BACKEND)), jax)"

# GROUPS: `all`, or dependency groups of pyproject.toml. The stamp holds the hash and the groups installed; a
# re-sync keeps the groups the environment already had (make lab never strips a developer's tools).
GROUPS ?= all
sync:
	@have="$$(cat $(STAMP) 2>/dev/null || true)"; \
	if [ -x $(BIN)/python ] && [ "$${have%% *}" = "$(PIN_HASH)" ]; then \
	  installed=" $${have#* } "; missing=""; \
	  for g in $(GROUPS); do case "$$installed" in *" all "*|*" $$g "*) ;; *) missing=1 ;; esac; done; \
	  [ -z "$$missing" ] && exit 0; \
	fi; \
	case "$$have" in *" "*) had="$${have#* }" ;; *) had="" ;; esac; \
	$(MAKE) --no-print-directory install GROUPS="$(GROUPS) $$had"

# uv, pinned, from the package registry with the environment's own pip (the one tool not in the lock).
uv:
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if (3, 11, 2) <= v[:3] < (3, 14) else \
	  "Loss Lab needs Python 3.11.2 to 3.13 (Keras 3.15 and TensorFlow 2.21 do); found " + sys.version.split()[0] + \
	  ". Install one (README: Prerequisites) or run: make PYTHON=/path/to/python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) && [ "$$($(UV) --version | cut -d' ' -f2)" = $(UV_VERSION) ] || \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-input --upgrade --target $(UV_HOME) \
	  uv==$(UV_VERSION) 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	@test -x $(UV) || { echo "set-up failed: could not install uv $(UV_VERSION) into $(UV_HOME) (see above)"; exit 1; }

install: uv
	@groups="$$(echo $(GROUPS) | tr ' ' '\n' | sort -u | tr '\n' ' ')"; \
	case " $$groups" in *" all "*) flags="--all-groups --no-group torch"; groups="all " ;; \
	  *) flags="--no-default-groups $$(for g in $$groups; do printf -- '--group %s ' $$g; done)" ;; esac; \
	echo "Installing the locked packages ($${groups% }) into $(VENV) with uv $(UV_VERSION)..."; \
	$(UV) sync --frozen --quiet --compile-bytecode $$flags && \
	$(BIN)/python -c 'import keras, nbgrader, ipywidgets, losslab' || \
	  { echo "set-up failed: a package did not install or import (see above)"; exit 1; }; \
	echo "$(PIN_HASH) $${groups% }" > $(STAMP)
	@echo "Environment ready: $(VENV)"

# Through ./start, as on Binder: Keras and TensorFlow defaults, quiz progress file, and thread limits that fit the
# CPUs this machine or container really grants (only here: the test suite sets its own).
lab: setup-learner  ## open JupyterLab at course/00_start_here.ipynb (PORT=8888, OPEN=no for headless, INSTRUCTOR=1 for nbgrader's panels; KERAS_BACKEND=jax|torch; LANG=ja for the Japanese edition)
	$(if $(filter torch,$(KERAS_BACKEND)),@$(MAKE) --no-print-directory torch)
	@mkdir -p $(VENV)/etc/jupyter && $(BIN)/python -m autograder.config --validate-config > $(VENV)/etc/jupyter/nbgrader_config.py
	$(if $(filter torch,$(KERAS_BACKEND)),PYTHONPATH=$(CURDIR)/$(TORCH_SITE)$${PYTHONPATH:+:$$PYTHONPATH} )$(if $(filter 1 yes,$(INSTRUCTOR)),LOSSLAB_INSTRUCTOR=1 )$(if $(LAB_LANG),LOSSLAB_LANG=ja LANG=C.UTF-8 )./start $(BIN)/jupyter lab --ServerApp.ip=$(IP) --ServerApp.port=$(PORT) \
	  --ServerApp.open_browser=$(if $(filter yes,$(OPEN)),True,False) \
	  --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/course/$(if $(LAB_LANG),ja/)00_start_here.ipynb \
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

test: setup browser sandbox hub-install  ## set up, then run the test suite (units, notebooks, grading, browser), within 20 minutes on 2 cores
	LOSSLAB_BUNDLES=0 LOSSLAB_EDITION=en $(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -m "not system" $(PYTEST_ARGS)

# make test grades each assignment's solution (full marks) and blank edition (zero); this grades its wrong-answer
# bundles (each must lose the points it names, and nothing else) through the same pipeline. CI runs both.
test-bundles: setup sandbox  ## grade every assignment's wrong-answer bundles on TensorFlow (CI runs it after make test)
	LOSSLAB_BUNDLES=only $(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -m slow tests/test_grading.py -k round_trip $(PYTEST_ARGS)

test-system: setup browser sandbox hub-install  ## the whole-system tests (a class on JupyterHub, the Dask recipe, a 2 GB session, held-out treatments): CI runs them after make test
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -m system $(PYTEST_ARGS)

test-fast: setup  ## only the quick tests (no notebook execution, grading or browser)
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

# Other backends. TensorFlow is what `make test` runs; CI adds jax; torch is uv.lock's torch group (make torch).
BACKEND   ?= jax
TORCH_SITE := $(VENV)/torch-site
TORCH_VERSION := $(shell sed -n 's/^torch = \["torch==\([^"]*\)"\]/\1/p' pyproject.toml)

test-backend: setup  ## notebooks and grading round trips under BACKEND (jax or torch): make test-backend BACKEND=jax (BUNDLES=0: solution and blank only; EDITION=ja: the Japanese edition's notebooks instead of the English)
	$(if $(filter torch,$(BACKEND)),@$(MAKE) --no-print-directory torch)
	$(if $(BUNDLES),LOSSLAB_BUNDLES=$(BUNDLES) )LOSSLAB_EDITION=$(or $(EDITION),en) KERAS_BACKEND=$(BACKEND) PYTHONPATH=$(CURDIR)$(if $(filter torch,$(BACKEND)),:$(CURDIR)/$(TORCH_SITE)) \
	  $(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -m slow tests/test_notebooks.py tests/test_grading.py $(PYTEST_ARGS)

test-backends:  ## the same for jax and for torch (TensorFlow is `make test`)
	$(MAKE) --no-print-directory test-backend BACKEND=jax
	$(MAKE) --no-print-directory test-backend BACKEND=torch

# From the package registry alone, with every dependency the lock resolved and its hashes. On Linux the registry's
# PyTorch is its CUDA build: it brings NVIDIA's libraries (several GB) and trains on the CPU when no GPU is there.
torch: setup-learner  ## PyTorch (uv.lock's torch group) into .venv/torch-site, used only with KERAS_BACKEND=torch
	@test -d $(TORCH_SITE)/torch-$(TORCH_VERSION).dist-info || { \
	  echo "Installing PyTorch $(TORCH_VERSION) and its dependencies (uv.lock's torch group) into $(TORCH_SITE)..."; \
	  rm -rf $(TORCH_SITE) && \
	  $(UV) export --frozen --quiet --no-default-groups --group torch --no-emit-project -o $(VENV)/torch-requirements.txt && \
	  $(UV) pip install --quiet --compile-bytecode --python $(BIN)/python --target $(TORCH_SITE) --require-hashes --no-deps \
	    -r $(VENV)/torch-requirements.txt; }
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

release: setup  ## regenerate course/ and the Japanese edition course/ja/ from solutions/ and i18n/ (nbgrader generate_assignment); fails naming every missing translation
	$(BIN)/python -m autograder.release $(if $(FORCE),--force)

site: setup  ## the course as a static website in _site/ (executes the tutorials, English and Japanese, the test suite has not run)
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

export: setup  ## write autograder/grades.csv (nbgrader's CSV) and autograder/gradebook-lms.csv (Canvas-style: a row per roster student, points after late penalties)
	cd autograder && $(BIN)/nbgrader export --to grades.csv
	cd autograder && $(BIN)/nbgrader export --exporter=autograder.lms_export.LmsGradebookExport --to gradebook-lms.csv

self-grade: setup  ## grade your own notebooks in course/ with the real hidden tests (ASSIGNMENT= optional)
	$(BIN)/python -m losslab self-grade $(ASSIGNMENT)

format: setup  ## strip outputs and execution counts from every notebook, normalise metadata
	$(BIN)/python -m losslab.notebooks format solutions course tests

lint: setup  ## ruff check and ruff format --check over the whole tree (configuration in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup  ## time every notebook (peak memory too), the doctor, JupyterLab's memory, grading (SECTION=notebooks|doctor|lab|grading)
	$(BIN)/python -m tests.tools.bench $(SECTION)

lock: uv  ## after editing pyproject.toml's pins: re-resolve uv.lock (every platform), then environment.yml
	$(UV) lock
	$(MAKE) --no-print-directory binder

binder: setup-learner  ## rewrite environment.yml (Binder's) from uv.lock: the learner group, Linux x86_64, Python 3.11
	$(BIN)/python losslab/pins.py binder > environment.yml.tmp && mv environment.yml.tmp environment.yml

clean:  ## remove graded work, caches and test artefacts (keeps .venv and the gradebook)
	rm -rf autograder/release autograder/autograded autograder/feedback autograder/.work autograder/reports \
	  tests/artifacts bench .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} + -o -name .ipynb_checkpoints -prune -exec rm -rf {} +

clean-venv:  ## remove .venv (the next make rebuilds it)
	rm -rf $(VENV)

# A class on JupyterHub (docs/classroom.md). JupyterHub comes with the lock's instructor group (HUB_SITE may point to
# a --target folder holding another copy); configurable-http-proxy from npm into HUB_NODE (project-local, git-ignored).
# make hub: as root, system users from ROSTER and INSTRUCTOR_USER, the hub on 127.0.0.1 until Ctrl-C, then
# everything removed (users, HUB_ROOT, processes); `make hub-stop` removes a class left behind. AUTH=shared logs
# everyone in with one printed password instead of their system password (PAM). make classroom: the whole
# release-to-feedback cycle on a fresh hub, headless (LATE_POLICY=none|zero|percent:N, default the course's).
HUB_SITE  ?= $(CURDIR)/.hubsite
HUB_NODE  ?= $(CURDIR)/.hubnode
HUB_ROOT  ?= /srv/losslab-hub
ROSTER    ?= hub/roster.example.csv
INSTRUCTOR_USER ?= instructor
AUTH      ?= pam
LATE_POLICY ?=
CHP_VERSION := 5.3.0
HUB_ENV   := HUB_SITE=$(HUB_SITE) HUB_NODE=$(HUB_NODE)

.PHONY: hub-install hub hub-stop classroom

hub-install: setup  ## configurable-http-proxy from npm into HUB_NODE (JupyterHub itself is in the lock's instructor group)
	@$(BIN)/python -c 'import jupyterhub' 2>/dev/null || test -d $(HUB_SITE)/jupyterhub || { \
	  echo "JupyterHub is not in $(VENV): it comes with the lock's instructor group (make setup installs it)"; exit 2; }
	@test -x $(HUB_NODE)/node_modules/.bin/configurable-http-proxy || { \
	  command -v npm >/dev/null || { echo "make hub needs Node.js >= 20 and npm (Debian: apt-get install nodejs npm)"; exit 2; }; \
	  echo "Installing configurable-http-proxy $(CHP_VERSION) into $(HUB_NODE)..."; \
	  npm install --silent --no-audit --no-fund --prefix $(HUB_NODE) configurable-http-proxy@$(CHP_VERSION); }

hub: hub-install sandbox  ## JupyterHub for a class on this machine, as root (ROSTER=, INSTRUCTOR_USER=, HUB_ROOT=, AUTH=pam|shared); Ctrl-C stops it and removes its users
	$(HUB_ENV) $(BIN)/python -m hub.site up --foreground --root $(HUB_ROOT) --roster $(ROSTER) \
	  --instructor $(INSTRUCTOR_USER) --auth $(AUTH)

hub-stop:  ## stop a class `make hub` left behind and remove its users and HUB_ROOT
	$(HUB_ENV) $(BIN)/python -m hub.site down --root $(HUB_ROOT)

classroom: hub-install sandbox  ## the whole class cycle on a fresh hub, headless, with a table per student (as root; LATE_POLICY=)
	$(HUB_ENV) $(BIN)/python -m hub.classroom $(if $(LATE_POLICY),--policy $(LATE_POLICY))
