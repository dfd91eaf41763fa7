# Every target prepares what it needs first: a fresh clone needs only Python 3.11 and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest -p no:cacheprovider
INSTALLED := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
GRADES := build/grades
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
# Grading defaults to the learner's code; serving and benchmarks to the reference (the learner's code in their bundle).
GRADE_IMPL := $(or $(IMPL),drills)
RUN_IMPL := $(or $(IMPL),$(if $(wildcard solutions),solutions,drills))

.PHONY: help setup lab test serve serve-ray bench chaos grade grade-class release notebooks clean

help:
	@echo "make lab          set up, then open JupyterLab on the course"
	@echo "make test         set up, then every check: tests, notebooks (nbval), drills vs solutions and starters"
	@echo "make grade        grade one implementation: IMPL=drills (default), solutions or PATH"
	@echo "make grade-class  grade every learner folder in CLASS=DIR (JOBS=N at once), sandboxed; build/grades/class/"
	@echo "make release      the learners' bundle in build/release (OUT=DIR): no solutions/, nothing in RELEASE_EXCLUDE"
	@echo "make serve        the sentiment API (d1) on PORT=$(PORT), IMPL=solutions (default) or drills, BACKEND=torch|jax"
	@echo "make serve-ray    the sentiment API (d1) on Ray Serve (local cluster, or RAY_ADDRESS's), PORT, IMPL, FAKE_COST as for serve"
	@echo "make bench        the benchmarks (d2 matmul, d4 port round trips, d1 load test, JAX vs PyTorch encoder), IMPL as for serve"
	@echo "make chaos        hostile input and worker kills (d1 and d4, IMPL as for serve): report in build/chaos/"
	@echo "make notebooks    re-execute every notebook in place (then commit the outputs)"

$(INSTALLED): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed: make PYTHON=/path/to/python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-* && touch $@

setup: $(INSTALLED)
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.sentiment.build
	$(PY) -m mlcourse.port.penguin_model
	$(PY) -m mlcourse.pipeline.protos

# JupyterLab's defaults for this course (no news pop-up, no update check), kept in config/jupyterlab/.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_OVERRIDES): config/jupyterlab/overrides.json $(INSTALLED)
	install -D -m 644 $< $@

lab: setup $(LAB_OVERRIDES)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks $(LAB_AS_ROOT)

test: export HF_HUB_OFFLINE := 1
test: setup
	@mkdir -p $(GRADES)
	@if [ ! -d solutions ]; then \
	  echo "== tests and notebooks"; $(PYTEST) $(or $(TEST_PATHS),tests notebooks) $(NBVAL) || exit 1; \
	  echo "== your drills (details: make grade)"; \
	  $(PYTEST) $(or $(DRILL_PATHS),drills) --impl drills --grades $(GRADES)/drills.json -q --tb=no --no-header; \
	  echo "bracketing proof skipped: it needs the instructor's repository (with solutions/)"; exit 0; \
	fi; \
	rm -rf build/pristine && mkdir -p build/pristine/drills; \
	if git rev-parse --verify -q HEAD >/dev/null 2>&1; then \
	  git archive HEAD drills | tar -x -C build/pristine; \
	  echo "== the untouched starters of commit $$(git rev-parse --short HEAD) (build/pristine/drills)"; \
	else echo "== not a git checkout: the starters' proof runs on a copy of drills/ as it is (solved drills fail it)"; fi; \
	for d in drills/d*_*/; do [ -e "build/pristine/$$d" ] || cp -r "$$d" build/pristine/drills/; done; \
	echo "   every pointed check must fail on them (log: $(GRADES)/starters.log)"; \
	$(PYTEST) $(or $(DRILL_PATHS),drills) --impl build/pristine/drills --grades $(GRADES)/starters.json \
	  -q --tb=line --no-header > $(GRADES)/starters.log 2>&1; \
	echo "== tests, notebooks and the reference solutions"; \
	$(PYTEST) $(or $(TEST_PATHS),tests notebooks) $(or $(DRILL_PATHS),drills) $(NBVAL) --impl solutions \
	  --grades $(GRADES)/solutions.json --durations=30 || exit 1; \
	$(PY) -m mlcourse.grading verify $(GRADES)/solutions.json $(GRADES)/starters.json

grade: export HF_HUB_OFFLINE := 1
grade: setup
	$(PYTEST) drills --impl $(GRADE_IMPL) --grades $(GRADES)/$(notdir $(abspath $(GRADE_IMPL))).json --tb=short

grade-class: export HF_HUB_OFFLINE := 1
grade-class: setup
	@test -n "$(CLASS)" || { echo "usage: make grade-class CLASS=folder-with-one-subfolder-per-learner"; exit 2; }
	$(PY) -m mlcourse.grading class $(CLASS) $(if $(JOBS),-j $(JOBS)) $(GRADE_CLASS_ARGS)

release: $(INSTALLED)
	$(PY) -m mlcourse.grading release $(or $(OUT),build/release)
	@echo "learners get $(or $(OUT),build/release): make lab and make test work there; solutions/ and what RELEASE_EXCLUDE lists stay here"

serve: setup
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.api.serve --impl $(RUN_IMPL) --port $(PORT) --backend $(BACKEND) $(SERVE_KNOBS)

serve-ray: setup
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.distributed.serve --impl $(RUN_IMPL) --port $(PORT) $(if $(FAKE_COST),--fake-cost $(FAKE_COST)) $(if $(MAX_REPLICAS),--max-replicas $(MAX_REPLICAS))

bench: setup
	$(PY) -m mlcourse.matmul.report --impl $(RUN_IMPL)
	$(PY) -m mlcourse.port.bench --impl $(RUN_IMPL)
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.loadtest --impl $(RUN_IMPL) --rate 100 --duration 20
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.loadtest.efficiency --impl $(RUN_IMPL) --profile
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.encoder bench --impl $(RUN_IMPL) --rate 100 --duration 20

chaos: setup
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.chaos --impl $(RUN_IMPL)

notebooks: export HF_HUB_OFFLINE := 1
notebooks: setup
	for notebook in notebooks/*.ipynb; do \
	  $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 "$$notebook" || exit 1; \
	done

clean:
	rm -rf build .pytest_cache
