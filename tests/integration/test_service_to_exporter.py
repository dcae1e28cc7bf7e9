"""Real service -> real Redis -> real exporter: covariate traffic over HTTP is flagged, performance equals sklearn."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from scripts import servers
from tests.conftest import http
from tests.integration.test_exporter import SHIFTED, fresh_report, report, wait_for
from transactions import FEATURE_NAMES, LABEL, generate

pytestmark = pytest.mark.integration
N = 1500


def test_covariate_traffic_through_the_service_is_flagged(log_dir):
    df = generate(N, seed=77, scenario="covariate")
    with servers.start_redis(log_dir) as redis_srv, \
            servers.start_service(log_dir, redis_srv.extra["url"], env={"SERVICE_ACCESS_LOG": "false"}) as svc, \
            servers.start_exporter(log_dir, redis_srv.extra["url"], env={"MONITORING_INTERVAL": "0.5"}) as exporter:
        _, info = http("GET", f"{svc.url}/api/v1/model")
        scores, labels = np.empty(N), df[LABEL].to_numpy()
        for start in range(0, N, 100):
            rows = df.iloc[start:start + 100]
            body = {"transactions": [{"transaction_id": f"e2e-{start + i}", "features": {f: float(r[f]) for f in FEATURE_NAMES}}
                                     for i, (_, r) in enumerate(rows.iterrows())]}
            status, answer = http("POST", f"{svc.url}/api/v1/predict_batch", body)
            assert status == 200, answer
            scores[start:start + 100] = [p["fraud_probability"] for p in answer["predictions"]]
        labelled = np.arange(N) % 4 != 0  # 3 labels in 4 arrive
        for i in np.flatnonzero(labelled):
            assert http("POST", f"{svc.url}/api/v1/feedback", {"transaction_id": f"e2e-{i}", "label": int(labels[i])})[0] == 200

        fresh_report(exporter, info["version"], N)
        result = wait_for(lambda: (r := report(exporter, info["version"])) and r["labels"] == labelled.sum() and r["performance"] and r)
        assert {f for f, v in result["features"].items() if v["drifted"]} == SHIFTED
        y, s = labels[labelled], scores[labelled]
        predicted = s >= info["threshold"]
        perf = result["performance"]
        assert perf["roc_auc"] == pytest.approx(sk.roc_auc_score(y, s), abs=1e-6)
        assert perf["f1"] == pytest.approx(sk.f1_score(y, predicted))
        assert perf["accuracy"] == pytest.approx(sk.accuracy_score(y, predicted))
        assert result["prediction_positive_ratio"] == pytest.approx(np.mean(scores >= info["threshold"]))

