"""A user's own drift test, added exactly as docs/custom-drift-tests.md shows, is used by the real exporter without any change to
its code: it appears in /metrics and in the JSON report."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import redis

from scripts import servers
from tests.helpers import Publisher, http, series, wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PAGE = "docs/custom-drift-tests.md"


def doc_block(page: str, language: str, first_line: str) -> str:
    """The code block of a docs page that starts with `first_line`, exactly as a reader copies it."""
    blocks = re.findall(rf"```{language}\n(.*?)```", (ROOT / page).read_text(), re.S)
    return next(b for b in blocks if b.startswith(first_line))


def test_a_drift_test_added_as_the_docs_show_reaches_metrics_and_the_report(log_dir, tmp_path):
    (tmp_path / "my_drift_tests.py").write_text(doc_block(PAGE, "python", "# my_drift_tests.py"))
    (tmp_path / "monitoring.yml").write_text(doc_block(PAGE, "yaml", "# monitoring.yml"))
    with servers.start_redis(log_dir) as redis_srv:
        client = redis.Redis.from_url(redis_srv.extra["url"])
        publisher = Publisher(client, "custom")
        publisher.send(3000, seed=7, scenario="covariate")
        env = {"MONITORING_INTERVAL": "0.5", "MONITORING_CONFIG": str(tmp_path / "monitoring.yml"),
               "PYTHONPATH": f"{ROOT}:{tmp_path}"}
        with servers.start_exporter(log_dir, redis_srv.extra["url"], env=env) as exporter:
            labels = {"model_version": "custom", "feature": "amount", "test": "mean_shift"}
            text = wait_for(lambda: (t := http("GET", f"{exporter.url}/metrics")[1]) and series(t, "ml_drift_test_statistic", **labels) and t)
            shift = series(text, "ml_drift_test_statistic", **labels)
            assert shift == pytest.approx(0.3 * 0.7, rel=0.35)  # +30% of a mean that is ~0.7 reference stds
            assert series(text, "ml_drift_test_detected", **labels) == 1.0
            assert series(text, "ml_drift_test_statistic", model_version="custom", feature="hour_of_day", test="mean_shift") is None
            _, report = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest?hours=1")
            amount = next(m for m in report["models"] if m["model_version"] == "custom")["features"]["amount"]
            assert amount["tests"]["mean_shift"]["statistic"] == pytest.approx(shift) and amount["tests"]["mean_shift"]["drifted"]
