# Two commands on a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run run-multi test venv migrate check bench

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

migrate: venv
	$(PY) manage.py migrate --noinput -v 0

run: migrate
	exec $(PY) manage.py runpipeline

# Web and each consumer as separate processes (docs/scaling.md); needs MONGO_URL=mongodb://...
run-multi: migrate
	exec $(PY) manage.py runmulti

# Raw broker vs pipeline figures on this machine; writes docs/benchmarks.md (BENCH_ARGS e.g. --soak 600).
bench: migrate
	$(PY) manage.py bench $(BENCH_ARGS)

# pytest exits 5 when it collects no test: that fails here as any other non-zero exit.
test: venv
	$(PY) -m pytest $(PYTEST_ARGS)
