"""schemathesis (`--checks all`, a bounded number of examples per operation, fixed seed) against the real service's
OpenAPI document (/docs.json) and the real exporter's (/openapi.json), with a model's window in Redis so that the
exporter's reports are non-empty: no failure of any check."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts import servers
from tests.helpers import http, wait_for
from transactions import FEATURE_NAMES, generate

pytestmark = pytest.mark.integration
ST = str(Path(sys.executable).parent / "st")
EXAMPLES = 60  # per operation and phase: about 1,500 requests to the service, 300 to the exporter
SEED = 14
TOKEN = "schemathesis-token"  # the versions API's PUT (schemathesis also checks that it is refused without)


@pytest.fixture(scope="module")
def running(log_dir):
    with servers.start_redis(log_dir) as redis_srv, \
            servers.start_service(log_dir, redis_srv.extra["url"], env={"SERVICE_ACCESS_LOG": "false",
                                                                        "VERSIONS_API_TOKEN": TOKEN}) as svc, \
            servers.start_exporter(log_dir, redis_srv.extra["url"], env={"MONITORING_INTERVAL": "1"}) as exporter:
        df = generate(300, seed=3)
        for start in range(0, 300, 100):
            body = {"transactions": [{"transaction_id": f"st-{start + i}", "features": {f: float(r[f]) for f in FEATURE_NAMES}}
                                     for i, (_, r) in enumerate(df.iloc[start:start + 100].iterrows())]}
            assert http("POST", f"{svc.url}/api/v1/predict_batch", body)[0] == 200
        wait_for(lambda: (r := http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest")[1]) and r["models"]
                 and r["models"][0]["predictions"] == 300, timeout=60)
        yield svc, exporter


def schemathesis(location: str, cwd: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [ST, "run", location, "--checks", "all", "--max-examples", str(EXAMPLES), "--seed", str(SEED),
            "--workers", "1", "--generation-database", "none", "--request-timeout", "10", "--no-color", *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=cwd)


def test_the_service_passes_every_schemathesis_check(running, tmp_path):
    svc, _ = running
    done = schemathesis(f"{svc.url}/docs.json", tmp_path, "--header", f"Authorization: Bearer {TOKEN}")
    assert done.returncode == 0 and "No issues found" in done.stdout, done.stdout[-6000:] + done.stderr[-2000:]
    assert "12 selected / 12 total" in done.stdout, "the four POST routes, the probes and each model's versions GET and PUT were all tested"


def test_the_exporter_has_an_openapi_document_and_passes_every_schemathesis_check(running, tmp_path):
    _, exporter = running
    status, doc = http("GET", f"{exporter.url}/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.") and "/api/v1/monitoring/drift/latest" in doc["paths"]
    done = schemathesis(f"{exporter.url}/openapi.json", tmp_path)
    assert done.returncode == 0 and "No issues found" in done.stdout, done.stdout[-6000:] + done.stderr[-2000:]
    assert "4 selected / 4 total" in done.stdout, "report, comparison, health and metrics (loaded from its URL, the document leaves itself out)"
