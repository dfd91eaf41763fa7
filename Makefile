# Every target prepares what it needs first: a fresh clone needs only Python 3.11 and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest -p no:cacheprovider
INSTALLED := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
# Where grades go: build/grades, or under MLCOURSE_BUILD_DIR when set (mlcourse.paths.BUILD_DIR reads it too).
GRADES := $(or $(MLCOURSE_BUILD_DIR),build)/grades
NBVAL := --nbval --nbval-current-env --nbval-cell-timeout=300 --nbval-sanitize-with tests/nbval_sanitize.cfg
PORT ?= 8000
# BACKEND runs d1's model on torch (Transformers on PyTorch) or jax (the Flax NNX port, notebook 09).
BACKEND ?= torch
# BATCHING: d1's batching policy for make serve, window (the drill's default), adaptive or none; the
# optional MAX_BATCH_SIZE, MAX_WAIT_MS, QUEUE_LIMIT and FAKE_COST (CALL_MS,PER_TEXT_MS) override its limits.
BATCHING ?= window
SERVE_KNOBS := --batching $(BATCHING) $(if $(MAX_BATCH_SIZE),--max-batch-size $(MAX_BATCH_SIZE)) \
  $(if $(MAX_WAIT_MS),--max-wait-ms $(MAX_WAIT_MS)) $(if $(QUEUE_LIMIT),--queue-limit $(QUEUE_LIMIT)) \
  $(if $(FAKE_COST),--fake-cost $(FAKE_COST))
# Jupyter refuses to run as root (containers, CI boxes) unless told it may.
LAB_AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# IMPL picks the code: drills (the learner's), solutions (the reference) or a folder laid out like drills/.
# Grading defaults to the learner's code; serving and benchmarks leave the choice to each command, whose
# default is the reference (the learner's code in their bundle).
GRADE_IMPL := $(or $(IMPL),drills)
# DRILLS and CHECKS narrow make grade and make grade-class: DRILLS=d2_jit_matmul,d5_backpressure picks drills,
# CHECKS="jit_compiled or answer" checks by name (pytest -k).
comma := ,
DRILL_DIRS := $(if $(DRILLS),$(addprefix drills/,$(subst $(comma), ,$(DRILLS))),drills)
CHECKS_K := $(if $(CHECKS),-k "$(CHECKS)")
RUN_IMPL := $(if $(IMPL),--impl $(IMPL))

.PHONY: help setup lab test lint serve serve-ray bench chaos grade grade-class release book notebooks lock clean

help:
	@echo "make lab          set up, then open JupyterLab on the course"
	@echo "make test         set up, then every check: tests, notebooks (nbval), drills vs solutions and starters"
	@echo "make lint         ruff (lint and format check, notebooks included) and mypy, as pyproject.toml configures them"
	@echo "make grade        grade one implementation: IMPL=drills (default), solutions or PATH (DRILLS=, CHECKS= narrow)"
	@echo "make grade-class  each learner in CLASS=DIR, sandboxed (JOBS=N at once; DRILLS, CHECKS): build/grades/class"
	@echo "make release      the learners' bundle in build/release (OUT=DIR): no solutions/, nothing in RELEASE_EXCLUDE"
	@echo "make book         the course as an offline website in build/book/ (open build/book/index.html); runs no notebook"
	@echo "make serve        the sentiment API (d1) on PORT=$(PORT), IMPL=solutions or drills (default: solutions where it exists), BACKEND=torch|jax"
	@echo "make serve-ray    the sentiment API (d1) on Ray Serve (local cluster, or RAY_ADDRESS's), PORT, IMPL, FAKE_COST as for serve"
	@echo "make bench        the benchmarks (d2 matmul, d4 port round trips, d1 load test, JAX vs PyTorch encoder), IMPL as for serve"
	@echo "make chaos        hostile input and worker kills (d1 and d4, IMPL as for serve): report in build/chaos/"
	@echo "make notebooks    re-execute every notebook in place (then commit the outputs)"
	@echo "make lock         regenerate the lock (requirements.txt) from requirements.in (then commit both)"

# The venv installs the lock, requirements.txt: every package pinned (make lock writes it from requirements.in).
$(INSTALLED): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed: make PYTHON=/path/to/python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-* && touch $@

# The lock: pip-compile resolves requirements.in (pip's resolver and config: the CPU torch wheel where pip finds
# one) and keeps the lock's pins that still fit; the first line records requirements.in's sha256, which
# tests/test_environment.py compares. A lock that would install CUDA (nvidia-*, triton) is refused.
LOCK_DRAFT := $(VENV)/requirements.lock-draft
LOCK_SOURCE_SHA256 = $(shell $(PY) -c 'import hashlib, pathlib; \
  print(hashlib.sha256(pathlib.Path("requirements.in").read_bytes()).hexdigest())')
lock: $(INSTALLED)
	cp requirements.txt $(LOCK_DRAFT)
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --no-config --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links --output-file $(LOCK_DRAFT) requirements.in
	@! grep -E '^(nvidia-|triton==)' $(LOCK_DRAFT) || { echo "refused: that lock installs CUDA;" \
	  "give pip the CPU torch wheel (PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu make lock)"; exit 1; }
	{ echo "# Generated from requirements.in (sha256 $(LOCK_SOURCE_SHA256)): edit that file, then run make lock."; \
	  cat $(LOCK_DRAFT); } > requirements.txt && rm $(LOCK_DRAFT)

# What every target needs built; each is remade only when its sources are newer (the sentiment build also
# checks its own fingerprint of code, data and config, and returns at once when the model is current).
SENTIMENT_STAMP := data/models/sentiment-minilm/build_stamp.json
PENGUIN_MODEL := data/models/penguins-logreg.json
PROTOS := mlcourse/pipeline/generated/course_predictor_pb2.py
setup: $(SENTIMENT_STAMP) $(PENGUIN_MODEL) $(PROTOS)

$(SENTIMENT_STAMP): $(INSTALLED) $(wildcard mlcourse/sentiment/*.py)
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.sentiment.build
	touch $@

$(PENGUIN_MODEL): $(INSTALLED) mlcourse/port/penguin_model.py data/penguins.csv
	$(PY) -m mlcourse.port.penguin_model

$(PROTOS): $(INSTALLED) mlcourse/pipeline/course_predictor.proto mlcourse/pipeline/protos.py
	$(PY) -m mlcourse.pipeline.protos

# JupyterLab's defaults for this course (no news pop-up, no update check), kept in config/jupyterlab/.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_OVERRIDES): config/jupyterlab/overrides.json $(INSTALLED)
	install -D -m 644 $< $@

lab: setup $(LAB_OVERRIDES)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks $(LAB_AS_ROOT)

test: export HF_HUB_OFFLINE := 1
test: setup
	@if [ -d solutions ]; then echo "== lint, format and types (make lint)"; $(MAKE) --no-print-directory lint; fi
	@$(PY) -m mlcourse.grading bracket --grades $(GRADES) --test-paths "$(or $(TEST_PATHS),tests notebooks)" \
	  --drill-paths "$(or $(DRILL_PATHS),drills)" --suite-args="$(NBVAL)"

# Lint, format and types: silent when clean but for mypy's one line; each finding on a line; all three always run.
# mypy's paths are those that exist: the learners' bundle has no solutions/.
MYPY_PATHS := $(wildcard mlcourse solutions drills tests conftest.py)
lint: $(INSTALLED)
	@status=0; \
	$(VENV)/bin/ruff check --quiet --output-format concise . || status=1; \
	$(VENV)/bin/ruff format --check --quiet --output-format concise . || status=1; \
	$(VENV)/bin/mypy $(MYPY_PATHS) || status=1; \
	exit $$status

grade: export HF_HUB_OFFLINE := 1
grade: setup
	$(PYTEST) $(DRILL_DIRS) --impl $(GRADE_IMPL) --grades $(GRADES)/$(notdir $(abspath $(GRADE_IMPL))).json \
	  --tb=short $(CHECKS_K)

grade-class: export HF_HUB_OFFLINE := 1
grade-class: setup
	@test -n "$(CLASS)" || { echo "usage: make grade-class CLASS=folder-with-one-subfolder-per-learner"; exit 2; }
	$(PY) -m mlcourse.grading class $(CLASS) $(if $(JOBS),-j $(JOBS)) $(if $(DRILLS),--drills $(DRILLS)) \
	  $(CHECKS_K) $(GRADE_CLASS_ARGS)

release: $(INSTALLED)
	$(PY) -m mlcourse.grading release $(or $(OUT),build/release)
	$(PY) -m mlcourse.book --root $(or $(OUT),build/release) $(or $(OUT),build/release)/build/book
	@echo "learners get $(or $(OUT),build/release): make lab and make test work there; solutions/ and what RELEASE_EXCLUDE lists stay here"

book: $(INSTALLED)
	$(PY) -m mlcourse.book

serve: setup
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.api.serve $(RUN_IMPL) --port $(PORT) --backend $(BACKEND) $(SERVE_KNOBS)

serve-ray: setup
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.distributed.serve $(RUN_IMPL) --port $(PORT) $(if $(FAKE_COST),--fake-cost $(FAKE_COST)) $(if $(MAX_REPLICAS),--max-replicas $(MAX_REPLICAS))

bench: setup
	$(PY) -m mlcourse.matmul.report $(RUN_IMPL)
	$(PY) -m mlcourse.port.bench $(RUN_IMPL)
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.loadtest $(RUN_IMPL) --rate 100 --duration 20
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.loadtest.efficiency $(RUN_IMPL) --profile
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.encoder bench $(RUN_IMPL) --rate 100 --duration 20

chaos: setup
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.chaos $(RUN_IMPL)

notebooks: export HF_HUB_OFFLINE := 1
notebooks: setup
	for notebook in notebooks/*.ipynb; do \
	  $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 "$$notebook" || exit 1; \
	done

clean:
	rm -rf build .pytest_cache
