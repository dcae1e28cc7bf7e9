"""The generic model routes of the real service (`bentoml serve`, real Redis): GET /api/v1/models and
/api/v1/models/{model_name}/predict|predict_batch|explain|feedback for both served models, validation generated
from each model's schema, the guard's 413/415/400, bounded metric labels, each model's samples under its own keys."""
from __future__ import annotations

import json
import math
import subprocess
import uuid

import numpy as np
import pytest
import redis

import logins
from bento_service.limits import MAX_BODY_BYTES
from drift_client import redis_layout as layout
from logins.schema import SCHEMA as LOGIN_SCHEMA
from tests.helpers import http, series, wait_for
from tests.integration.test_service import GOOD, metric_value, read_predictions
from tests.integration.test_service_safety import raw_post

pytestmark = pytest.mark.integration
ACTIONS = ["predict", "predict_batch", "explain", "feedback"]


def login_rows(n: int, seed: int = 0, scenario: str = "baseline") -> list[dict]:
    """Logins as a client sends them: categoricals as strings, counts and flags as integers."""
    df = logins.generate(n, seed=seed, scenario=scenario)
    out = []
    for i in range(n):
        row = {}
        for f in LOGIN_SCHEMA.features:
            v = df[f.name].iloc[i]
            row[f.name] = str(v) if f.is_categorical else int(v) if f.kind in ("discrete", "binary") else float(v)
        out.append(row)
    return out


LOGIN = login_rows(1, seed=3)[0]


def call(service, model: str, action: str, body) -> tuple[int, dict]:
    return http("POST", f"{service.url}/api/v1/models/{model}/{action}", body)


def test_models_lists_both_models_with_their_schemas(service):
    status, body = http("GET", f"{service.url}/api/v1/models")
    assert status == 200, body
    models = {m["name"]: m for m in body["models"]}
    assert set(models) == {"fraud_detector", "login_risk"}
    _, fraud_info = http("GET", f"{service.url}/api/v1/model")
    assert models["fraud_detector"]["version"] == fraud_info["version"]
    assert models["fraud_detector"]["threshold"] == fraud_info["threshold"]
    login = models["login_risk"]
    assert {"name", "version", "trained_at", "metrics", "threshold", "features"} <= set(login)
    assert login["metrics"]["roc_auc"] > 0.75
    features = {f["name"]: f for f in login["features"]}
    assert list(features) == list(logins.FEATURE_NAMES)
    assert features["country"] == {"name": "country", "kind": "categorical", "categories": list(LOGIN_SCHEMA["country"].categories)}
    assert features["failed_attempts_24h"] == {"name": "failed_attempts_24h", "kind": "discrete", "range": [0, 50]}
    assert features["ip_risk_score"]["kind"] == "numeric" and features["ip_risk_score"]["range"] == [0, 1]


def test_login_predict_batch_explain_feedback(service):
    status, one = call(service, "login_risk", "predict", {"transaction_id": "l-1", "features": LOGIN})
    assert status == 200, one
    _, models = http("GET", f"{service.url}/api/v1/models")
    login = next(m for m in models["models"] if m["name"] == "login_risk")
    assert set(one) == {"transaction_id", "score", "is_positive", "model_version"}
    assert one["model_version"] == login["version"] and 0 <= one["score"] <= 1
    assert one["is_positive"] == (one["score"] >= login["threshold"])

    items = [{"transaction_id": f"lb-{i}", "features": f} for i, f in enumerate(login_rows(15, seed=4))]
    status, batch = call(service, "login_risk", "predict_batch", {"transactions": items})
    assert status == 200, batch
    singles = [call(service, "login_risk", "predict", t)[1]["score"] for t in items]
    assert [p["score"] for p in batch["predictions"]] == pytest.approx(singles, abs=1e-7)

    for i, features in enumerate(login_rows(5, seed=5)):
        status, ex = call(service, "login_risk", "explain", {"transaction_id": f"lx-{i}", "features": features})
        assert status == 200, ex
        assert list(ex["contributions"]) == list(logins.FEATURE_NAMES)
        p = ex["score"]
        assert ex["base_value"] + sum(ex["contributions"].values()) == pytest.approx(math.log(p / (1 - p)), abs=1e-3)

    status, receipt = call(service, "login_risk", "feedback", {"transaction_id": "l-1", "label": 1})
    assert status == 200 and receipt == {"transaction_id": "l-1", "label": 1, "accepted": True,
                                         "model_version": login["version"], "model_versions": [login["version"]]}


def test_the_fraud_model_answers_the_same_on_both_routes(service):
    _, old = http("POST", f"{service.url}/api/v1/predict", {"transaction_id": "g-1", "features": GOOD})
    status, new = call(service, "fraud_detector", "predict", {"transaction_id": "g-1", "features": GOOD})
    assert status == 200, new
    assert new["score"] == pytest.approx(old["fraud_probability"], abs=1e-7)
    assert new["is_positive"] == old["is_fraud"] and new["model_version"] == old["model_version"]


def test_an_unseen_category_is_accepted(service):
    status, body = call(service, "login_risk", "predict", {"transaction_id": "u-1", "features": {**LOGIN, "country": "VN"}})
    assert status == 200, body
    status, body = call(service, "login_risk", "predict", {"transaction_id": "u-2", "features": {**LOGIN, "device_type": "smart-fridge"}})
    assert status == 200, body


def with_login(name, value):
    return {"transaction_id": "bad", "features": {**LOGIN, name: value}}


BAD_LOGINS = {
    "fractional count": ("predict", with_login("failed_attempts_24h", 2.5), "failed_attempts_24h"),
    "count as string": ("predict", with_login("failed_attempts_24h", "2"), "failed_attempts_24h"),
    "hour out of range": ("predict", with_login("hour_of_day", 24), "hour_of_day"),
    "flag as bool": ("predict", with_login("new_device", True), "new_device"),
    "flag not binary": ("predict", with_login("new_device", 2), "new_device"),
    "number as string": ("predict", with_login("ip_risk_score", "0.3"), "ip_risk_score"),
    "number out of range": ("predict", with_login("ip_risk_score", 1.5), "ip_risk_score"),
    "infinite": ("predict", with_login("session_length_s", 1e400), "session_length_s"),
    "category not a string": ("predict", with_login("country", 7), "country"),
    "empty category": ("predict", with_login("device_type", ""), "device_type"),
    "overlong category": ("predict", with_login("country", "x" * 129), "country"),
    "missing feature": ("predict", {"transaction_id": "bad", "features": {k: v for k, v in LOGIN.items() if k != "country"}}, "country"),
    "unknown feature": ("predict", with_login("favourite_colour", "red"), "favourite_colour"),
    "fraud feature": ("predict", with_login("amount", 10.0), "amount"),
    "oversized batch": ("predict_batch", {"transactions": [{"transaction_id": f"o{i}", "features": LOGIN} for i in range(101)]}, "transactions"),
    "bad row in batch": ("predict_batch", {"transactions": [{"transaction_id": "ok", "features": LOGIN}, with_login("hour_of_day", -1)]}, "hour_of_day"),
    "explain bad feature": ("explain", with_login("login_channel", None), "login_channel"),
    "label not 0/1": ("feedback", {"transaction_id": "t", "label": 2}, "label"),
    "feedback without id": ("feedback", {"label": 1}, "transaction_id"),
}


@pytest.mark.parametrize("case", list(BAD_LOGINS))
def test_bad_login_input_is_a_400_naming_the_field(service, case):
    action, body, field = BAD_LOGINS[case]
    status, answer = call(service, "login_risk", action, body)
    assert status == 400, (status, answer)
    assert isinstance(answer["detail"], str) and field in answer["detail"], answer


@pytest.mark.parametrize("action", ACTIONS)
def test_an_unknown_model_is_a_404_naming_it(service, action):
    status, answer = call(service, "no_such_model", action, {"transaction_id": "t", "features": LOGIN, "label": 1})
    assert status == 404, answer
    assert "no_such_model" in answer["detail"] and "login_risk" in answer["detail"]


@pytest.mark.parametrize("action", ACTIONS)
def test_the_guard_covers_the_model_routes(service, action):
    status, text, _ = raw_post(service, f"/api/v1/models/login_risk/{action}", b"{}", {"Content-Type": "text/plain"})
    assert status == 415, text
    body = b'{"transactions": [' + b",".join([json.dumps({"transaction_id": "x" * 100, "features": LOGIN}).encode()] * 1200) + b"]}"
    assert len(body) > MAX_BODY_BYTES
    status, text, seconds = raw_post(service, f"/api/v1/models/login_risk/{action}", body, {"Content-Type": "application/json"})
    assert status == 413, text
    assert seconds < 2.0
    status, text, _ = raw_post(service, f"/api/v1/models/login_risk/{action}", b"{not json", {"Content-Type": "application/json"})
    assert status == 400 and "detail" in json.loads(text)


def test_model_routes_are_labelled_by_template_and_random_names_add_no_series(service):
    assert call(service, "login_risk", "predict", {"transaction_id": "m-1", "features": LOGIN})[0] == 200
    _, before = http("GET", f"{service.url}/metrics")
    names = [uuid.uuid4().hex for _ in range(100)]
    for name in names:
        assert call(service, name, "predict", {"transaction_id": "t", "features": LOGIN})[0] == 404
        assert http("POST", f"{service.url}/api/v1/models/{name}/x/predict", {})[0] == 404
    _, after = http("GET", f"{service.url}/metrics")
    assert not any(name in after for name in names)
    assert 'endpoint="/api/v1/models/{model_name}/predict"' in after
    assert len(after.splitlines()) - len(before.splitlines()) <= 40  # the 404 series of one template, not 200 paths
    check = subprocess.run(["promtool", "check", "metrics"], input=after, capture_output=True, text=True)
    assert check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(), check.stdout + check.stderr


def test_each_model_publishes_under_its_own_keys(service, redis_server):
    client = redis.Redis.from_url(redis_server.extra["url"])
    _, models = http("GET", f"{service.url}/api/v1/models")
    versions = {m["name"]: m["version"] for m in models["models"]}
    keys = layout.Keys("login_risk", versions["login_risk"])
    sent = login_rows(20, seed=6, scenario="unseen_country")
    sent[0]["country"] = "VN"
    scores = {}
    for i, features in enumerate(sent):
        scores[f"k-{i}"] = call(service, "login_risk", "predict", {"transaction_id": f"k-{i}", "features": features})[1]["score"]
    wait_for(lambda: set(scores) <= set(read_predictions(client, keys).ids))
    stored = read_predictions(client, keys)
    assert stored.features.shape[1] == LOGIN_SCHEMA.width
    index = {tid: i for i, tid in enumerate(stored.ids)}
    np.testing.assert_array_equal(stored.features[[index[f"k-{i}"] for i in range(20)]], LOGIN_SCHEMA.encode_rows(sent))
    assert stored.features[index["k-0"], 0] == LOGIN_SCHEMA["country"].unseen_code
    assert [stored.scores[index[k]] for k in scores] == pytest.approx(list(scores.values()), abs=1e-6)
    assert client.sismember(layout.models_key(), keys.member)
    assert client.exists(keys.reference)
    fraud_ids = set(read_predictions(client, layout.Keys("fraud_detector", versions["fraud_detector"])).ids)
    assert not fraud_ids & set(scores)
    wait_for(lambda: metric_value(service, "published", model="login_risk") >= 20)
