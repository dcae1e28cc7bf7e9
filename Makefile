# One entry point per job. `make install` is idempotent; `make test` is what CI runs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export BENTOML_DO_NOT_TRACK := True
export PYTHONPATH := $(CURDIR)

.PHONY: install train model test test-unit check-config bench up down alerts walkthrough serve exporter load clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

train: install  ## train the fraud model and save it with its reference profile to the BentoML store
	$(PY) -m bento_service.train

model: install  ## train only if no model is in the store yet
	@$(PY) -m bento_service.train --if-missing

check-config:  ## promtool / amtool checks of the monitoring configuration
	promtool check config --syntax-only prometheus/prometheus.yml
	promtool check rules prometheus/rules/*.yml
	promtool test rules prometheus/tests/*.yml
	amtool check-config alertmanager/alertmanager.yml

test-unit: install
	$(PY) -m pytest tests/unit -q

test: install model check-config  ## everything CI runs
	$(PY) -m pytest tests -q

bench: install model  ## write BENCHMARKS.md
	$(PY) -m bench.serving
	$(PY) -m bench.exporter
	$(PY) -m bench.detection
	$(PY) -m bench.loadgen
	$(PY) -m bench.walkthrough

walkthrough: install model  ## time a fresh `make up` until every README walkthrough page shows the drift; screenshots to docs/
	$(PY) -m bench.walkthrough

up: install model  ## the whole stack natively, with traffic and the seed's drift demo
	$(PY) -m scripts.stack up

down:
	$(PY) -m scripts.stack down

alerts:  ## the active alerts at the running stack's Alertmanager, printed by amtool (AMTOOL_ARGS="-o extended")
	@$(PY) -m scripts.stack alerts $(AMTOOL_ARGS)

serve: install model
	$(VENV)/bin/bentoml serve --port $${SERVICE_PORT:-8000}

exporter: install
	$(PY) -m exporter

load: install
	$(VENV)/bin/locust -f loadgen/locustfile.py

clean:
	rm -rf .run .pytest_cache
