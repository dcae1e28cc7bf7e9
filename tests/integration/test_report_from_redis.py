"""`drift-monitor report --from-redis` while the real exporter runs on a real redis-server: the report's figures
are the exporter's for the same window (features, tests, prediction drift, performance, estimates, health)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from scripts import servers
from tests.helpers import Publisher, http, same_figures, wait_for

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).parent / "drift-monitor")


@pytest.fixture(scope="module")
def stack(log_dir):
    with servers.start_redis(log_dir) as redis_srv:
        client = redis.Redis.from_url(redis_srv.extra["url"])
        Publisher(client, "drifted").send(4000, seed=11, scenario="spec_drift", label_rate=0.9)
        Publisher(client, "steady").send(3000, seed=12, label_rate=0.5)
        with servers.start_exporter(log_dir, redis_srv.extra["url"], env={"MONITORING_INTERVAL": "0.5"}) as exporter:
            yield exporter, redis_srv.extra["url"]


def exporter_figures(exporter, version: str, predictions: int) -> dict:
    def ready():
        status, body = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest")
        found = [m for m in body.get("models", []) if m["model_version"] == version] if status == 200 else []
        return found and found[0]["predictions"] == predictions and found[0]
    return wait_for(ready, timeout=60)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "report", "--from-redis", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("version, predictions, status", [("drifted", 4000, 1), ("steady", 3000, 0)])
def test_report_figures_equal_the_exporters(stack, tmp_path, version, predictions, status):
    exporter, url = stack
    expected = exporter_figures(exporter, version, predictions)
    done = cli("--model", "fraud_detector", "--version", version, "--hours", "1", "--redis-url", url,
               "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"))
    assert done.returncode == status, done.stderr
    got = json.loads((tmp_path / "r.json").read_text())
    assert got["predictions"] == predictions and got["labels"] == expected["labels"] > 0
    assert same_figures(got, expected)
    assert got["performance"] and got["features"]["amount"]["tests"]["ks"] == expected["features"]["amount"]["tests"]["ks"]
    if status:
        assert {"amount", "distance_from_home_km"} <= set(got["drifted_features"])
    assert "fraud_detector" in (tmp_path / "r.html").read_text()


def test_a_window_in_the_past_and_an_unknown_version(stack):
    _, url = stack
    now = time.time()
    done = cli("--model", "fraud_detector", "--version", "steady", "--start", str(now - 3600), "--end", str(now - 1800),
               "--redis-url", url)
    assert done.returncode == 2 and "0 usable rows" in done.stderr  # everything was published just now
    done = cli("--model", "fraud_detector", "--hours", "1", "--redis-url", url)
    assert done.returncode == 2 and "several versions publish (drifted, steady)" in done.stderr
    done = cli("--model", "fraud_detector", "--version", "v9", "--hours", "1", "--redis-url", url)
    assert done.returncode == 2 and "no reference profile for fraud_detector/v9" in done.stderr
