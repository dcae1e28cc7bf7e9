# One entry point per job. `make install` is idempotent; `make test` is what CI runs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# @grafana/schema and tsc for the dashboards' type-check (grafana/typecheck.py), npm ci'd when the lock file changes
SCHEMA_STAMP := .cache/grafana-schema/node_modules/.lock-sha256
export BENTOML_DO_NOT_TRACK := True
export PYTHONPATH := $(CURDIR)

# the code the native stack's memory is compared with (bench/stack_memory.py): main before issue 24
STACK_MEMORY_BASELINE ?= 8f283c6

.PHONY: install train model test test-unit check-config bench up down alerts walkthrough serve exporter load clean retrain promote rollback versions

install: $(STAMP) $(SCHEMA_STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

$(SCHEMA_STAMP): grafana/npm/package.json grafana/npm/package-lock.json | $(STAMP)
	@if command -v npm >/dev/null && command -v node >/dev/null; then $(PY) -m grafana.typecheck --install && touch $@; \
	else echo "node/npm not found: the dashboards' type-check will be skipped (apt-get install nodejs npm)"; fi

train: install  ## train every registered model (fraud_detector, login_risk) and save each with its reference profile to the BentoML store
	$(PY) -m bento_service.train

model: install  ## train only the models missing from the store
	@$(PY) -m bento_service.train --if-missing

check-config:  ## promtool / amtool checks of the monitoring configuration
	promtool check config --syntax-only prometheus/prometheus.yml
	promtool check rules prometheus/rules/*.yml
	promtool test rules prometheus/tests/*.yml
	amtool check-config alertmanager/alertmanager.yml

test-unit: install
	$(PY) -m pytest tests/unit -q

# test files run in parallel processes (pytest-xdist), each file's tests in one process (module-scoped servers are
# shared within a file): the suite mostly waits on servers and the e2e alert paths, so 3 processes pay on 2 cores.
# --no-loadscope-reorder keeps pytest's order (tests/e2e first): the longest files start first instead of last
TEST_WORKERS ?= 3

test: install model check-config  ## everything CI runs; it must leave every tracked file as it found it
	@mkdir -p .run && git status --porcelain > .run/status-before-test 2>/dev/null || true
	$(PY) -m pytest tests -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
	@git status --porcelain 2>/dev/null | diff -u .run/status-before-test - || { echo "make test changed the files above"; exit 1; }

bench: install model  ## write BENCHMARKS.md
	$(PY) -m bench.serving
	$(PY) -m bench.exporter
	$(PY) -m bench.detection
	$(PY) -m bench.detection_cases
	$(PY) -m bench.multiwindow
	$(PY) -m bench.loadgen
	$(PY) -m bench.estimation
	$(PY) -m bench.offline_report
	$(PY) -m bench.real_data_splits
	$(PY) -m bench.retrain_data_mix
	$(PY) -m bench.offline_dask  # generates 10 M rows into .cache/offline-dask once
	$(PY) -m bench.redis_durability
	$(PY) -m bench.redis_cluster_failover
	$(PY) -m bench.stack_memory --baseline $(STACK_MEMORY_BASELINE)
	$(PY) -m scripts.report_screenshot
	RECORD_BENCHMARKS=1 $(PY) -m pytest tests/e2e -q  # the alert path's stage times and picture
	$(PY) -m bench.walkthrough

walkthrough: install model  ## time a fresh `make up` until every README walkthrough page shows the drift; screenshots to docs/
	$(PY) -m bench.walkthrough

up: install model  ## the whole stack natively, with traffic and the spec's drift demo
	$(PY) -m scripts.stack up

down:
	$(PY) -m scripts.stack down

alerts:  ## the active alerts at the running stack's Alertmanager, printed by amtool (AMTOOL_ARGS="-o extended")
	@$(PY) -m scripts.stack alerts $(AMTOOL_ARGS)

serve: install model
	$(VENV)/bin/bentoml serve --host $${SERVICE_HOST:-127.0.0.1} --port $$($(PY) -m contracts.ports service)

exporter: install
	$(PY) -m exporter

load: install
	$(VENV)/bin/locust -f loadgen/locustfile.py

# the retraining commands reach make up's Redis through its generated password file unless told otherwise
REDIS_AUTH := REDIS_PASSWORD_FILE=$${REDIS_PASSWORD_FILE:-$(wildcard .run/secrets/redis_password)}

retrain:  ## a new version of MODEL from recent labelled traffic in Redis, registered as the challenger in shadow
	$(REDIS_AUTH) $(PY) -m retrain train --model $${MODEL:-fraud_detector} $${RETRAIN_ARGS:-}

versions:  ## the versions document of MODEL (default fraud_detector) and the live champion/challenger comparison
	$(REDIS_AUTH) $(PY) -m retrain status --model $${MODEL:-fraud_detector}

promote:  ## the challenger of MODEL becomes the champion (IF_WINS=1: only if it beats the champion now)
	$(REDIS_AUTH) $(PY) -m retrain promote --model $${MODEL:-fraud_detector} $${IF_WINS:+--if-wins}

rollback:  ## back to the champion before the last promotion
	$(REDIS_AUTH) $(PY) -m retrain rollback --model $${MODEL:-fraud_detector}

clean:
	rm -rf .run .pytest_cache
