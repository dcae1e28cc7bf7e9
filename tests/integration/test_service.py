"""The real `bentoml serve` with a real redis-server: round-trips, samples in Redis, bad input, Redis outages."""
from __future__ import annotations

import math
import re
import subprocess
import time

import numpy as np
import pytest
import redis

from drift_client import redis_layout as layout
from drift_client.reference_profile import ReferenceProfile
from scripts import servers
from tests.helpers import http, series, wait_for
from transactions import FEATURE_NAMES, generate

pytestmark = pytest.mark.integration


def rows(n: int, seed: int = 0) -> list[dict]:
    df = generate(n, seed=seed)
    return [{name: float(df[name].iloc[i]) for name in FEATURE_NAMES} for i in range(n)]


def predict(service, tid: str, features: dict) -> tuple[int, dict]:
    return http("POST", f"{service.url}/api/v1/predict", {"transaction_id": tid, "features": features})


def model_keys(service) -> layout.Keys:
    _, info = http("GET", f"{service.url}/api/v1/model")
    return layout.Keys(info["name"], info["version"])


def read_predictions(client: redis.Redis, keys: layout.Keys) -> layout.PredictionBatch:
    batches = [layout.decode_predictions(fields) for _, fields in client.xrange(keys.predictions)]
    if not batches:  # nothing flushed yet
        return layout.PredictionBatch([], np.zeros(0), np.zeros((0, len(FEATURE_NAMES)), np.float32), np.zeros(0, np.float32))
    return layout.PredictionBatch(
        ids=[i for b in batches for i in b.ids], times=np.concatenate([b.times for b in batches]),
        features=np.concatenate([b.features for b in batches]), scores=np.concatenate([b.scores for b in batches]),
    )


def metric_value(service, outcome: str, model: str = "fraud_detector") -> float:
    """ml_monitoring_samples_total of one served model (each model version has its own series)."""
    _, text = http("GET", f"{service.url}/metrics")
    value = series(text, "ml_monitoring_samples_total", model_name=model, outcome=outcome)
    return value if value is not None else 0.0




def test_model_info_reports_test_metrics(service):
    status, info = http("GET", f"{service.url}/api/v1/model")
    assert status == 200
    assert info["name"] == "fraud_detector" and info["features"] == list(FEATURE_NAMES)
    assert set(info["metrics"]) == {"accuracy", "precision", "recall", "f1", "roc_auc", "average_precision"}
    assert info["metrics"]["roc_auc"] >= 0.92
    calibration = info["calibration"]  # measured on the test split at training time
    for scores in ("raw", "isotonic"):
        assert 0 < calibration[scores]["brier"] < 0.05 and 0 <= calibration[scores]["ece"] < 0.05
        curve = calibration[scores]
        assert len(curve["mean_predicted"]) == len(curve["observed_rate"]) == len(curve["count"]) == 10
    assert calibration["estimator_uses"] in ("identity", "isotonic")
    assert http("GET", f"{service.url}/health")[0] == 200
    assert http("GET", f"{service.url}/readyz")[0] == 200


def test_predict_round_trip(service):
    status, body = predict(service, "rt-1", rows(1)[0])
    assert status == 200, body
    assert body["transaction_id"] == "rt-1"
    assert 0 <= body["fraud_probability"] <= 1
    assert isinstance(body["is_fraud"], bool)
    assert body["model_version"] == model_keys(service).model_version


def test_batch_equals_single_predictions(service):
    txs = [{"transaction_id": f"b-{i}", "features": f} for i, f in enumerate(rows(20, seed=3))]
    status, body = http("POST", f"{service.url}/api/v1/predict_batch", {"transactions": txs})
    assert status == 200, body
    singles = [predict(service, t["transaction_id"], t["features"])[1]["fraud_probability"] for t in txs]
    assert [p["fraud_probability"] for p in body["predictions"]] == pytest.approx(singles, abs=1e-7)
    assert [p["transaction_id"] for p in body["predictions"]] == [t["transaction_id"] for t in txs]


def test_explain_contributions_add_up_to_the_margin(service):
    for i, features in enumerate(rows(10, seed=4)):
        status, body = http("POST", f"{service.url}/api/v1/explain", {"transaction_id": f"x-{i}", "features": features})
        assert status == 200, body
        assert list(body["contributions"]) == list(FEATURE_NAMES)
        p = body["fraud_probability"]
        margin = body["base_value"] + sum(body["contributions"].values())
        assert margin == pytest.approx(math.log(p / (1 - p)), abs=1e-3)


def test_samples_labels_and_reference_are_readable_in_redis(service, redis_server):
    client = redis.Redis.from_url(redis_server.extra["url"])
    keys = model_keys(service)
    sent = rows(30, seed=5)
    scores = {}
    for i, features in enumerate(sent):
        scores[f"s-{i}"] = predict(service, f"s-{i}", features)[1]["fraud_probability"]
    assert http("POST", f"{service.url}/api/v1/feedback", {"transaction_id": "s-0", "label": 1})[0] == 200

    wait_for(lambda: set(scores) <= set(read_predictions(client, keys).ids))
    stored = read_predictions(client, keys)
    index = {tid: i for i, tid in enumerate(stored.ids)}
    for i, features in enumerate(sent):
        row = stored.features[index[f"s-{i}"]]
        np.testing.assert_allclose(row, np.array([features[n] for n in FEATURE_NAMES], dtype=np.float32))
        assert stored.scores[index[f"s-{i}"]] == pytest.approx(scores[f"s-{i}"], abs=1e-6)
    assert abs(stored.times[index["s-0"]] - time.time()) < 60

    labels = wait_for(lambda: [layout.decode_labels(f) for _, f in client.xrange(keys.labels)])
    assert ("s-0", 1) in {(tid, int(lbl)) for b in labels for tid, lbl in zip(b.ids, b.labels)}

    assert client.sismember(layout.models_key(), keys.member)
    profile = ReferenceProfile.from_json(client.get(keys.reference))
    assert (profile.model_name, profile.model_version) == (keys.model_name, keys.model_version)
    assert set(profile.bins) == {*FEATURE_NAMES, "score"}
    assert len(profile.sample["amount"]) == profile.bins["amount"].count > 30_000  # the whole training column (KS reference)
    assert sum(profile.importance.values()) == pytest.approx(1.0)
    assert client.ttl(keys.reference) > 0


GOOD = rows(1, seed=9)[0]


def with_feature(name, value):
    return {"transaction_id": "bad-1", "features": {**GOOD, name: value}}


def without_feature(name):
    return {"transaction_id": "bad-1", "features": {k: v for k, v in GOOD.items() if k != name}}


BAD_INPUTS = {
    "missing feature": ("predict", without_feature("merchant_risk_score"), "merchant_risk_score"),
    "unknown feature": ("predict", with_feature("favourite_colour", 1.0), "favourite_colour"),
    "null feature": ("predict", with_feature("amount", None), "amount"),
    "string feature": ("predict", with_feature("amount", "12.5"), "amount"),
    "bool feature": ("predict", with_feature("is_online", True), "is_online"),
    "negative amount": ("predict", with_feature("amount", -5), "amount"),
    "hour out of range": ("predict", with_feature("hour_of_day", 24), "hour_of_day"),
    "risk above 1": ("predict", with_feature("merchant_risk_score", 1.5), "merchant_risk_score"),
    "flag not binary": ("predict", with_feature("used_chip", 0.5), "used_chip"),
    "infinite": ("predict", with_feature("distance_from_home_km", 1e400), "distance_from_home_km"),
    "missing id": ("predict", {"features": GOOD}, "transaction_id"),
    "empty id": ("predict", {"transaction_id": "", "features": GOOD}, "transaction_id"),
    "id with newline": ("predict", {"transaction_id": "a\nb", "features": GOOD}, "transaction_id"),
    "features not an object": ("predict", {"transaction_id": "x", "features": [1, 2]}, "features"),
    "oversized batch": ("predict_batch", {"transactions": [{"transaction_id": f"o{i}", "features": GOOD} for i in range(101)]}, "transactions"),
    "empty batch": ("predict_batch", {"transactions": []}, "transactions"),
    "bad row in batch": ("predict_batch", {"transactions": [{"transaction_id": "ok", "features": GOOD}, with_feature("amount", -1)]}, "amount"),
    "explain bad feature": ("explain", with_feature("day_of_week", 7), "day_of_week"),
    "label not 0/1": ("feedback", {"transaction_id": "t", "label": 2}, "label"),
    "label as string": ("feedback", {"transaction_id": "t", "label": "1"}, "label"),
    "feedback without id": ("feedback", {"label": 1}, "transaction_id"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_a_4xx_naming_the_field(service, case):
    endpoint, body, field = BAD_INPUTS[case]
    status, answer = http("POST", f"{service.url}/api/v1/{endpoint}", body)
    assert 400 <= status < 500, (status, answer)
    assert field in str(answer), answer


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b'{"transaction_id": "t", "features": {"amount": NaN}}'])
def test_malformed_json_is_a_4xx(service, raw):
    status, answer = http("POST", f"{service.url}/api/v1/predict", raw=raw)
    assert 400 <= status < 500, (status, answer)
    assert "error" in answer


def test_redis_outage_degrades_monitoring_not_serving(log_dir):
    """Kill Redis mid-traffic: predictions stay 200, drops are counted; restart it: publishing resumes."""
    redis_srv = servers.start_redis(log_dir)
    port = redis_srv.port
    svc = servers.start_service(log_dir, redis_srv.extra["url"])
    try:
        keys = model_keys(svc)
        for i, f in enumerate(rows(20, seed=11)):
            assert predict(svc, f"before-{i}", f)[0] == 200
        wait_for(lambda: metric_value(svc, "published") >= 20)

        redis_srv.kill()
        statuses = [predict(svc, f"during-{i}", f)[0] for i, f in enumerate(rows(50, seed=12))]
        assert statuses == [200] * 50
        wait_for(lambda: metric_value(svc, "dropped") >= 50)
        _, text = http("GET", f"{svc.url}/metrics")
        assert re.search(r"ml_monitoring_redis_up\{[^}]*\} 0", text)

        redis_srv = servers.start_redis(log_dir, port=port)
        client = redis.Redis.from_url(redis_srv.extra["url"])

        def resumed() -> bool:
            predict(svc, f"after-{time.monotonic_ns()}", GOOD)
            return client.exists(keys.predictions) and client.exists(keys.reference)

        wait_for(resumed, timeout=60, interval=0.5)
        assert any(i.startswith("after-") for i in read_predictions(client, keys).ids)
    finally:
        svc.stop()
        redis_srv.stop()


def test_counters_add_up_across_workers(log_dir):
    with servers.start_redis(log_dir) as redis_srv, servers.start_service(
        log_dir, redis_srv.extra["url"], env={"SERVICE_WORKERS": "2"}
    ) as svc:
        for i, f in enumerate(rows(100, seed=13)):
            assert predict(svc, f"w-{i}", f)[0] == 200
        wait_for(lambda: metric_value(svc, "published") == 100)
        client = redis.Redis.from_url(redis_srv.extra["url"])
        assert len(read_predictions(client, model_keys(svc)).ids) == 100


def test_service_metrics_pass_promtool(service):
    assert predict(service, "promtool-1", rows(1)[0])[0] == 200
    _, text = http("GET", f"{service.url}/metrics")
    assert "ml_monitoring_samples_total{" in text and "bentoml_service_request_duration_seconds_bucket{" in text
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(), check.stdout + check.stderr
