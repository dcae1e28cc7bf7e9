"""Both models served by one real `bentoml serve` and monitored by one real exporter through one real Redis:
the login model's categorical drift (10% of logins from a country never seen in training) is flagged while the
fraud model stays healthy; a batch whose width does not match its schema is refused and counted, and its version
is no longer judged while it is in the window."""
from __future__ import annotations

import time

import numpy as np
import pytest
import redis

from drift_client import redis_layout as layout
from scripts import servers
from tests.helpers import http, same_figures, series, wait_for
from tests.integration.test_exporter import report
from tests.integration.test_models_api import login_rows
from tests.integration.test_service import rows as fraud_rows

pytestmark = pytest.mark.integration
N = 2000


def send(service, path: str, items: list[dict], prefix: str) -> None:
    for start in range(0, len(items), 100):
        body = {"transactions": [{"transaction_id": f"{prefix}-{start + i}", "features": f}
                                 for i, f in enumerate(items[start:start + 100])]}
        status, answer = http("POST", f"{service.url}{path}", body)
        assert status == 200, answer


def test_both_models_monitored_at_once(log_dir):
    with servers.start_redis(log_dir) as redis_srv, \
            servers.start_service(log_dir, redis_srv.extra["url"], env={"SERVICE_ACCESS_LOG": "false"}) as svc, \
            servers.start_exporter(log_dir, redis_srv.extra["url"], env={"MONITORING_INTERVAL": "0.5"}) as exporter:
        _, catalogue = http("GET", f"{svc.url}/api/v1/models")
        version = {m["name"]: m["version"] for m in catalogue["models"]}
        send(svc, "/api/v1/predict_batch", fraud_rows(N, seed=101), "fraud")
        logins = login_rows(N, seed=102, scenario="unseen_country")
        send(svc, "/api/v1/models/login_risk/predict_batch", logins, "login")

        fraud = wait_for(lambda: (r := report(exporter, version["fraud_detector"])) and r["predictions"] == N and r, timeout=60)
        login = wait_for(lambda: (r := report(exporter, version["login_risk"])) and r["predictions"] == N and r, timeout=60)

        unseen_share = np.mean([r["country"] == "VN" for r in logins])
        assert {f for f, v in login["features"].items() if v["drifted"]} == {"country"}
        country = login["features"]["country"]
        assert country["kind"] == "categorical" and country["unseen_ratio"] == pytest.approx(unseen_share, abs=1e-9)
        assert 0.08 < unseen_share < 0.12
        assert login["health_status"] >= 1
        assert not any(v["drifted"] for v in fraud["features"].values())
        assert not fraud["prediction_drift"]["drifted"] and fraud["health_status"] == 0

        text = http("GET", f"{exporter.url}/metrics")[1]
        login_labels = {"model_name": "login_risk", "model_version": version["login_risk"]}
        assert series(text, "ml_feature_unseen_ratio", **login_labels, feature="country") == pytest.approx(unseen_share)
        assert series(text, "ml_drift_detected", **login_labels, feature="country") == 1.0
        assert series(text, "ml_drift_test_detected", **login_labels, feature="country", test="chi2") == 1.0
        assert series(text, "ml_model_health_status", model_name="fraud_detector") == 0.0
        assert series(text, "ml_exporter_malformed_entries_total", **login_labels) == 0.0

        # A batch of fraud-width rows (12) in the login model's stream (8 features): refused as a schema mismatch,
        # counted by reason, and the login version is not judged while it is in the window (issue 22); the fraud
        # model is unaffected.
        client = redis.Redis.from_url(redis_srv.extra["url"])
        keys = layout.Keys("login_risk", version["login_risk"])
        wrong = layout.PredictionBatch([f"w-{i}" for i in range(10)], np.full(10, time.time()),
                                       np.ones((10, 12), np.float32), np.full(10, 0.5, np.float32))
        client.xadd(keys.predictions, layout.encode_predictions(wrong))
        wait_for(lambda: series(http("GET", f"{exporter.url}/metrics")[1], "ml_exporter_schema_mismatch_total",
                                **login_labels, reason="width") == 1.0, timeout=30)
        after_login = wait_for(lambda: (r := report(exporter, version["login_risk"])) and not r["judged"] and r, timeout=30)
        assert after_login["not_judged_reason"] == "schema_mismatch" and after_login["health_status"] is None
        assert after_login["predictions"] == N
        assert same_figures(report(exporter, version["fraud_detector"]), fraud)
        text = http("GET", f"{exporter.url}/metrics")[1]
        assert series(text, "ml_model_health_status", **login_labels) is None
        assert series(text, "ml_exporter_malformed_entries_total", **login_labels) == 0.0
        assert series(text, "ml_exporter_malformed_entries_total", model_name="fraud_detector") == 0.0
        assert "Traceback" not in exporter.log_text()
