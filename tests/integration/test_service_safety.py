"""Issue 14's findings against the real service: bounded bodies, known-route metrics, JSON only, strict numbers,
one log line per rejected request, exact accounting of dropped samples, Redis liveness within 5 s."""
from __future__ import annotations

import http.client as httpclient
import json
import os
import signal
import time
import uuid

import pytest
import redis

from bento_service.limits import MAX_BODY_BYTES
from scripts import servers
from tests.conftest import http
from tests.helpers import series
from tests.integration.test_service import GOOD, metric_value, model_keys, predict, read_predictions, rows, wait_for

pytestmark = pytest.mark.integration
POST_ROUTES = ["predict", "predict_batch", "explain", "feedback"]


def raw_post(service, path: str, body: bytes, headers: dict, chunked: bool = False) -> tuple[int, str, float]:
    """POST with full control of the headers (and optionally a chunked body); returns status, text, seconds."""
    conn = httpclient.HTTPConnection("127.0.0.1", service.port, timeout=30)
    start = time.monotonic()
    try:
        conn.putrequest("POST", path)
        framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(len(body))}
        for k, v in {**headers, **framing}.items():
            conn.putheader(k, v)
        conn.endheaders()
        step = 64 * 1024
        try:
            for i in range(0, len(body), step):
                part = body[i:i + step]
                conn.send(f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part)
            if chunked:
                conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the whole body was sent: that is the point
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace"), time.monotonic() - start
    finally:
        conn.close()


def big_batch(size: int) -> bytes:
    """A syntactically valid JSON body of about `size` bytes."""
    filler = "x" * 1000
    items = ",".join(json.dumps({"transaction_id": filler, "features": GOOD}) for _ in range(size // 1300 + 1))
    return f'{{"transactions": [{items}]}}'.encode()


# Finding 1: request body limit
def test_oversized_body_is_413_before_parsing(service):
    body = big_batch(8 * 1024 * 1024)
    status, text, seconds = raw_post(service, "/api/v1/predict_batch", body, {"Content-Type": "application/json"})
    assert status == 413, text
    assert str(MAX_BODY_BYTES) in text
    assert seconds < 2.0, seconds
    assert predict(service, "after-413", GOOD)[0] == 200


def test_oversized_chunked_body_is_413(service):
    body = big_batch(4 * 1024 * 1024)
    status, text, _ = raw_post(service, "/api/v1/predict_batch", body, {"Content-Type": "application/json"}, chunked=True)
    assert status == 413, text
    assert predict(service, "after-chunked-413", GOOD)[0] == 200


def test_a_full_batch_is_within_the_limit(service):
    txs = [{"transaction_id": "t" * 128, "features": {k: 1e5 if k == "amount" else v for k, v in GOOD.items()}}
           for _ in range(100)]
    body = json.dumps({"transactions": txs}, indent=4).encode()
    assert len(body) < MAX_BODY_BYTES
    status, text, _ = raw_post(service, "/api/v1/predict_batch", body, {"Content-Type": "application/json"})
    assert status == 200, text


# Finding 2: unknown paths must not create series
def test_unknown_paths_do_not_create_metric_series(service):
    scrapes = []
    for _ in range(2):
        tokens = [uuid.uuid4().hex for _ in range(200)]
        for token in tokens:
            assert http("GET", f"{service.url}/x{token}")[0] == 404
        _, text = http("GET", f"{service.url}/metrics")
        assert not any(token in text for token in tokens)
        scrapes.append(text)
    assert len(scrapes[1].splitlines()) == len(scrapes[0].splitlines())
    assert 'endpoint="unmatched"' in scrapes[1]
    assert 'endpoint="/api/v1/predict"' in scrapes[1]


# Finding 7: content types, the 400 body, the OpenAPI document, strict integers
@pytest.mark.parametrize("route", POST_ROUTES)
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=xyz", "text/plain",
                                          "application/x-www-form-urlencoded", ""])
def test_only_json_is_accepted(service, route, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    status, text, _ = raw_post(service, f"/api/v1/{route}", b"{}", headers)
    assert status == 415, (status, text)
    assert "application/json" in text


def test_json_with_a_charset_is_accepted(service):
    body = json.dumps({"transaction_id": "cs-1", "features": GOOD}).encode()
    status, text, _ = raw_post(service, "/api/v1/predict", body, {"Content-Type": "application/json; charset=utf-8"})
    assert status == 200, text


def test_400_detail_is_a_string_as_documented(service):
    status, body = http("POST", f"{service.url}/api/v1/feedback", {"transaction_id": "t", "label": "x"})
    assert status == 400
    assert isinstance(body["error"], str) and isinstance(body["detail"], str) and "label" in body["detail"]
    _, doc = http("GET", f"{service.url}/docs.json")
    assert doc["components"]["schemas"]["InvalidArgument"]["properties"]["detail"]["type"] == "string"


def test_openapi_documents_required_bodies_and_the_rejections(service):
    _, doc = http("GET", f"{service.url}/docs.json")
    for route in POST_ROUTES:
        post = doc["paths"][f"/api/v1/{route}"]["post"]
        assert post["requestBody"]["required"] is True
        assert {"400", "413", "415"} <= set(post["responses"])
    features = doc["components"]["schemas"]["Features"]["properties"]
    assert features["is_online"]["type"] == "integer" and features["is_online"]["maximum"] == 1
    assert features["hour_of_day"]["type"] == "integer"
    assert all(p["maximum"] < 1e7 for p in features.values())


@pytest.mark.parametrize("name,value", [("hour_of_day", 3.5), ("txn_count_1h", 0.37), ("day_of_week", 2.000001),
                                        ("account_age_days", 10.5), ("is_online", 0.5), ("txn_count_24h", "3")])
def test_integer_features_must_be_integers(service, name, value):
    status, body = predict(service, "int-1", {**GOOD, name: value})
    assert status == 400, body
    assert name in body["detail"]


def test_integral_numbers_are_accepted_for_integer_features(service):
    assert predict(service, "int-ok", {**GOOD, "hour_of_day": 3.0, "txn_count_1h": 2})[0] == 200


# Finding 6: finite documented ranges; /explain never 500
@pytest.mark.parametrize("route", ["predict", "explain"])
@pytest.mark.parametrize("value", [1e30, 3.5e39, 1e7])
def test_extreme_amounts_are_rejected(service, route, value):
    status, body = http("POST", f"{service.url}/api/v1/{route}", {"transaction_id": "big", "features": {**GOOD, "amount": value}})
    assert status == 400, body
    assert "amount" in body["detail"]


def test_explain_answers_at_every_range_limit(service):
    _, doc = http("GET", f"{service.url}/docs.json")
    features = doc["components"]["schemas"]["Features"]["properties"]
    for limit in ("minimum", "maximum"):
        extreme = {name: spec[limit] for name, spec in features.items()}
        status, body = http("POST", f"{service.url}/api/v1/explain", {"transaction_id": f"lim-{limit}", "features": extreme})
        assert status == 200, (limit, body)


# Finding 8: one short log line per rejected request, no traceback, no payload
def test_a_rejected_request_is_one_log_line_without_the_payload(service):
    marker = f"secretvalue{uuid.uuid4().hex[:8]}"
    before = service.log_text()
    status, _ = http("POST", f"{service.url}/api/v1/predict", {"transaction_id": marker, "features": {**GOOD, "amount": -1}})
    assert status == 400
    status, _ = http("POST", f"{service.url}/api/v1/feedback", {"transaction_id": "t", "label": marker})
    assert status == 400
    time.sleep(0.5)
    new = service.log_text()[len(before):]
    assert "Traceback" not in new and "[ERROR]" not in new, new
    assert marker not in new, new
    rejected = [line for line in new.splitlines() if "rejected" in line]
    assert len(rejected) == 2 and all("WARNING" in line or "INFO" in line for line in rejected), new
    assert all(len(line) < 400 for line in rejected), rejected


# Finding 9: exact accounting across a Redis freeze; redis_up within 5 s on an idle service
def redis_up_value(service) -> float | None:
    _, text = http("GET", f"{service.url}/metrics")
    return series(text, "ml_monitoring_redis_up", model_name="fraud_detector")


def test_redis_up_drops_within_5s_on_an_idle_service(log_dir):
    with servers.start_redis(log_dir) as redis_srv, servers.start_service(log_dir, redis_srv.extra["url"]) as svc:
        wait_for(lambda: redis_up_value(svc) == 1.0, timeout=10)
        time.sleep(1.0)
        redis_srv.kill()
        start = time.monotonic()
        wait_for(lambda: redis_up_value(svc) == 0.0, timeout=10, interval=0.1)
        assert time.monotonic() - start < 5.0


def test_a_redis_freeze_is_counted_exactly(log_dir):
    """SIGSTOP Redis mid-traffic, resume it: every sample is counted once, as published or dropped, and Redis
    holds exactly the published ones (a batch in flight at the freeze is not counted dropped and then written)."""
    with servers.start_redis(log_dir) as redis_srv, servers.start_service(log_dir, redis_srv.extra["url"]) as svc:
        keys = model_keys(svc)
        client = redis.Redis.from_url(redis_srv.extra["url"])
        sent = 0
        for rounds in range(3):
            for i, f in enumerate(rows(40, seed=20 + rounds)):
                assert predict(svc, f"pre-{rounds}-{i}", f)[0] == 200
                sent += 1
            os.kill(redis_srv.proc.pid, signal.SIGSTOP)
            try:
                for i, f in enumerate(rows(60, seed=30 + rounds)):
                    assert predict(svc, f"frozen-{rounds}-{i}", f)[0] == 200
                    sent += 1
                    time.sleep(0.01)
                time.sleep(1.5)
            finally:
                os.kill(redis_srv.proc.pid, signal.SIGCONT)
            wait_for(lambda: redis_up_value(svc) == 1.0, timeout=10)
        wait_for(lambda: metric_value(svc, "published") + metric_value(svc, "dropped") == sent, timeout=15)
        time.sleep(1.0)
        stored = read_predictions(client, keys).ids
        assert len(stored) == len(set(stored))
        assert metric_value(svc, "published") == len(stored)
        assert metric_value(svc, "published") + metric_value(svc, "dropped") == sent
        assert metric_value(svc, "dropped") > 0
