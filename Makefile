# Two commands on a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run run-multi test venv engines migrate reset-data bench

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@echo "installing Python packages into $(VENV) (once)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# Kafka's jars (Maven) and the FerretDB store program (Go) into var/engines/, once; skipped for an
# engine that KAFKA_BROKERS / MONGO_URL point elsewhere.
engines: venv
	$(PY) -m ecom_project.engines.build

migrate: venv
	$(PY) manage.py migrate --noinput -v 0

# The all-in-one pipeline on the local engines (data kept in .data/ across runs).
run: engines migrate
	exec $(PY) manage.py runpipeline

# Web and each consumer as separate processes on the same local engines (docs/scaling.md).
run-multi: engines migrate
	exec $(PY) manage.py runmulti

# Start over: delete the local engines' data (orders, stock, topics, offsets, dead letters).
reset-data: venv
	$(PY) manage.py reset_data

# Raw broker vs pipeline figures on this machine; writes docs/benchmarks.md (BENCH_ARGS e.g. --soak 600).
bench: engines migrate
	$(PY) manage.py bench $(BENCH_ARGS)

# pytest exits 5 when it collects no test: that fails here as any other non-zero exit.
test: engines
	$(PY) -m pytest $(PYTEST_ARGS)
