# Every target that runs Python first builds .venv from pyproject.toml, so each works as the first
# command on a machine with only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
BACKENDS_READY := $(VENV)/.backends-ready
WORKERS ?= 0
# pytest-xdist: the tests run in this many processes; an idle one takes tests queued for another
# (worksteal), so that no long test file runs alone at the end. The 20 slowest tests are listed after a run.
TEST_PROCESSES ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_PROCESSES) --dist worksteal --durations=20
LOGDIR ?= logs
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: help install test test-all test-backends test-oldest-keras sweep experiments bench lint tensorboard docs docs-serve clean

help:
	@echo "make test           install into .venv and run the fast tests (TensorFlow backend; a few minutes)"
	@echo "make test-all       every test, with those that train models or start processes (what CI runs)"
	@echo "make test-backends  the library's tests again on the JAX and PyTorch backends"
	@echo "make test-oldest-keras  the library's fast tests on the oldest Keras it declares (PyTorch backend)"
	@echo "make sweep          run the default hyperparameter sweep suite into logs/"
	@echo "make experiments    reproduce the lesson's experiments -> logs/experiments.md, logs/experiments/"
	@echo "make tensorboard    serve logs/ (every sweep; SWEEP=NAME for one) on http://127.0.0.1:6006"
	@echo "make bench          benchmarks against the Keras built-ins -> bench/results.md"
	@echo "make lint           ruff check and format check"
	@echo "make docs           build the documentation site into site/ (warnings are errors)"
	@echo "make docs-serve     serve the site on http://127.0.0.1:8000 (rebuilds on change)"
	@echo "make clean          remove .venv, caches and logs/"

# Two distributions, both editable: the library with TensorFlow (the default backend here), and the
# sweep harness (sweeps/pyproject.toml: keras-tuner pinned, TensorBoard, scikit-learn, matplotlib, pandas).
# setuptools reports every editable install of this layout (an import hook maps the packages) with a
# warning, "Editable installation."; PYTHONWARNINGS silences that notice and nothing else.
$(READY): pyproject.toml sweeps/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e ".[tensorflow,test,lint]" -e ./sweeps
	@touch $@

$(BACKENDS_READY): $(READY)
	$(BIN)/python -m pip install --quiet "torch==2.13.0" "jax[cpu]"
	# torchvision (no deps: its CUDA extras are not needed) only for its reference focal loss source
	$(BIN)/python -m pip install --quiet --no-deps "torchvision==0.28.0"
	@touch $@

install: $(READY)

# The site (mkdocs.yml): mkdocs-material, mkdocstrings (the API reference from the docstrings), latex2mathml.
DOCS_READY := $(VENV)/.docs-ready
$(DOCS_READY): $(READY)
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e ".[docs]"
	@touch $@

# The tests marked `slow` train models or start processes; `make test` leaves them to `make test-all`.
test: $(READY)
	$(PYTEST) -m "not slow"

test-all: $(READY)
	$(PYTEST)

test-backends: $(BACKENDS_READY)
	KERAS_BACKEND=jax $(PYTEST)
	KERAS_BACKEND=torch $(PYTEST)

# The oldest Keras pyproject.toml allows (kerasloss/core/keras_private.py: TESTED), in a venv of its own that
# reuses .venv's packages (a .pth file) so only Keras is installed; PyTorch, because TensorFlow pins its Keras.
OLDEST_KERAS = $(shell sed -n 's/^dependencies = \["keras>=\([0-9.]*\)".*/\1/p' pyproject.toml)
OLDEST_VENV := .venv-oldest-keras
test-oldest-keras: $(BACKENDS_READY)
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(BIN)/python -c "import site; print(site.getsitepackages()[0])" > "$$($(OLDEST_VENV)/bin/python -c 'import site; print(site.getsitepackages()[0])')/zz_main_venv.pth"
	$(OLDEST_VENV)/bin/python -m pip install --quiet --no-deps "keras==$(OLDEST_KERAS)"
	KERAS_BACKEND=torch $(OLDEST_VENV)/bin/python -c "import keras; assert keras.__version__ == '$(OLDEST_KERAS)', keras.__file__"
	KERAS_BACKEND=torch $(OLDEST_VENV)/bin/python -m pytest -q -n $(TEST_PROCESSES) --dist worksteal -m "not slow" \
		tests/core tests/per_example tests/metric_learning tests/tools tests/test_battery.py tests/test_saved_models.py

sweep: $(READY)
	$(BIN)/python -m sweeps run $(SWEEPS) --workers $(WORKERS) --logdir $(LOGDIR)

experiments: $(READY)
	$(BIN)/python -m sweeps experiment $(EXPERIMENTS)

bench: $(BACKENDS_READY)
	$(BIN)/python -m pip install --quiet "pytorch-metric-learning>=2.5" "faiss-cpu>=1.8"
	$(BIN)/python -m bench

lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# NO_MKDOCS_2_WARNING: mkdocs-material prints a banner about its successor at every build
docs: $(DOCS_READY)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

docs-serve: $(DOCS_READY)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

# SWEEP=NAME: one sweep with an HParams config of its own (its searched hyperparameters shown first)
tensorboard: $(READY)
ifdef SWEEP
	$(BIN)/python -m sweeps board $(SWEEP) --logdir $(LOGDIR) --port 6006
else
	$(BIN)/tensorboard --logdir $(LOGDIR) --host 127.0.0.1 --port 6006
endif

clean:
	rm -rf $(VENV) $(OLDEST_VENV) .pytest_cache .ruff_cache build site kerasloss.egg-info sweeps/build sweeps/kerasloss_sweeps.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find logs -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
