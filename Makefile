# Every target prepares what it needs first: a fresh clone needs only Python 3.11 and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest -p no:cacheprovider
INSTALLED := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
GRADES := build/grades
NBVAL := --nbval --nbval-current-env --nbval-cell-timeout=300 --nbval-sanitize-with notebooks/nbval_sanitize.cfg
PORT ?= 8000
# Jupyter refuses to run as root (containers, CI boxes) unless told it may.
LAB_AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
# IMPL picks the code: drills (the learner's), solutions (the reference) or a folder laid out like drills/.
# Grading defaults to the learner's code; serving and benchmarks to the reference.
GRADE_IMPL := $(or $(IMPL),drills)
RUN_IMPL := $(or $(IMPL),solutions)

.PHONY: help setup lab test serve bench grade grade-class notebooks clean

help:
	@echo "make lab          set up, then open JupyterLab on the course"
	@echo "make test         set up, then every check: tests, notebooks (nbval), drills vs solutions and starters"
	@echo "make grade        grade one implementation: IMPL=drills (default), solutions or PATH"
	@echo "make grade-class  grade every learner folder in CLASS=DIR, write build/grades/class/class.csv"
	@echo "make serve        the sentiment API (d1) on PORT=$(PORT), IMPL=solutions (default) or drills"
	@echo "make bench        the benchmarks (d2 matmul, d4 port round trips, d1 load test), IMPL as for serve"
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

lab: setup
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks $(LAB_AS_ROOT)

test: export HF_HUB_OFFLINE := 1
test: setup
	@mkdir -p $(GRADES)
	@echo "== the untouched starters: every pointed check must fail (log: $(GRADES)/starters.log)"
	-@$(PYTEST) drills --impl drills --grades $(GRADES)/starters.json -q --tb=line --no-header > $(GRADES)/starters.log 2>&1
	@echo "== tests, notebooks and the reference solutions"
	$(PYTEST) tests notebooks drills $(NBVAL) --impl solutions --grades $(GRADES)/solutions.json
	$(PY) -m mlcourse.grading verify $(GRADES)/solutions.json $(GRADES)/starters.json

grade: export HF_HUB_OFFLINE := 1
grade: setup
	$(PYTEST) drills --impl $(GRADE_IMPL) --grades $(GRADES)/$(notdir $(abspath $(GRADE_IMPL))).json --tb=short

grade-class: export HF_HUB_OFFLINE := 1
grade-class: setup
	@test -n "$(CLASS)" || { echo "usage: make grade-class CLASS=folder-with-one-subfolder-per-learner"; exit 2; }
	$(PY) -m mlcourse.grading class $(CLASS)

serve: setup
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.api.serve --impl $(RUN_IMPL) --port $(PORT)

bench: setup
	$(PY) -m mlcourse.matmul.report --impl $(RUN_IMPL)
	$(PY) -m mlcourse.port.bench --impl $(RUN_IMPL)
	HF_HUB_OFFLINE=1 $(PY) -m mlcourse.loadtest --impl $(RUN_IMPL) --rate 100 --duration 20

notebooks: export HF_HUB_OFFLINE := 1
notebooks: setup
	for notebook in notebooks/*.ipynb; do \
	  $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 "$$notebook" || exit 1; \
	done

clean:
	rm -rf build .pytest_cache
