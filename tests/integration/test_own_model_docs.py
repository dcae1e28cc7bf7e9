"""docs/own-model.md's Flask example, run exactly as written (a real Flask server, real redis-server, real exporter):
its predictions and labels land in Redis in the sample format, and the exporter reads and judges them."""
from __future__ import annotations

import os

import numpy as np
import pytest
import redis

from drift_client import redis_layout as layout
from drift_client.reference_profile import ReferenceProfile
from logins.schema import SCHEMA
from scripts import servers
from tests.helpers import http, series, wait_for
from tests.integration.test_custom_drift_test import ROOT, doc_block
from tests.integration.test_exporter import report
from tests.integration.test_models_api import login_rows
from tests.integration.test_service import read_predictions

pytestmark = pytest.mark.integration
N = 400


def test_the_documented_flask_app_is_monitored(log_dir, tmp_path):
    (tmp_path / "app.py").write_text(doc_block("docs/own-model.md", "python", "# app.py"))
    with servers.start_redis(log_dir) as redis_srv:
        port = servers.free_port()
        env = {**os.environ, "REDIS_URL": redis_srv.extra["url"], "PYTHONPATH": f"{ROOT}:{tmp_path}"}
        proc, log = servers._spawn(f"flask-{port}", [servers.PYTHON, "-m", "flask", "--app", "app", "run", "--host",
                                                     "127.0.0.1", "--port", str(port)], log_dir, env, cwd=tmp_path)
        app = servers.Server("flask", port, proc, log)
        try:
            servers.wait_port(port, timeout=120, proc=proc)
            sent = login_rows(N, seed=55, scenario="unseen_country")
            scores = {}
            for i, features in enumerate(sent):
                status, body = http("POST", f"{app.url}/predict", {"id": f"d-{i}", "features": features})
                assert status == 200, body
                scores[f"d-{i}"] = body["score"]
            for i in range(0, N, 2):
                assert http("POST", f"{app.url}/feedback", {"id": f"d-{i}", "label": i % 4 == 0})[0] == 200

            client = redis.Redis.from_url(redis_srv.extra["url"])
            keys = layout.Keys("logins_demo", "1")
            wait_for(lambda: len(read_predictions(client, keys).ids) == N)
            stored = read_predictions(client, keys)
            index = {tid: i for i, tid in enumerate(stored.ids)}
            order = [index[f"d-{i}"] for i in range(N)]
            np.testing.assert_array_equal(stored.features[order], SCHEMA.encode_rows(sent))
            assert stored.scores[order] == pytest.approx([scores[f"d-{i}"] for i in range(N)], abs=1e-6)
            profile = ReferenceProfile.from_json(client.get(keys.reference))
            assert profile.model_schema == SCHEMA and client.sismember(layout.models_key(), keys.member)
            labels = wait_for(lambda: sum(len(layout.decode_labels(f)) for _, f in client.xrange(keys.labels)) == N // 2)
            assert labels

            with servers.start_exporter(log_dir, redis_srv.extra["url"], env={"MONITORING_INTERVAL": "0.5"}) as exporter:
                r = wait_for(lambda: (r := report(exporter, "1")) and r["predictions"] == N and r["labels"] == N // 2 and r, timeout=30)
                assert r["model_name"] == "logins_demo"
                assert r["features"]["country"]["drifted"]
                assert r["features"]["country"]["unseen_ratio"] == pytest.approx(np.mean([s["country"] == "VN" for s in sent]))
                text = http("GET", f"{exporter.url}/metrics")[1]
                assert series(text, "ml_window_samples", model_name="logins_demo", kind="predictions") == N
        finally:
            app.stop()
