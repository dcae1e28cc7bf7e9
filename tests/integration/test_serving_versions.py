"""Champion and challenger served at once by the real BentoML service, following the versions document in a real
redis-server: the versions API (token, fields named, change visible within a second), shadow (only the champion
answers, both versions publish), A/B (sticky by transaction id, each arm publishes its own), labels reaching every
version that scored the transaction, a service restart, and Redis down (serving goes on)."""
from __future__ import annotations

import time

import pytest
import redis

from contracts import model_versions
from drift_client import redis_layout as layout
from contracts.model_versions import answers_challenger
from scripts import servers
from tests.helpers import http, store_with_challenger, stream_ids, wait_for
from transactions import FEATURE_NAMES, generate

pytestmark = pytest.mark.integration
MODEL = "fraud_detector"
TOKEN = "test-token-0123456789"
ROUTE = f"/api/v1/models/{MODEL}/versions"


@pytest.fixture(scope="module")
def setup(log_dir, tmp_path_factory):
    home = tmp_path_factory.mktemp("versions-home")
    champion, challenger = store_with_challenger(home)
    token_file = servers.write_private(home / "secrets" / "versions_api_token", TOKEN + "\n")
    env = {"BENTOML_HOME": str(home), "MODEL_TAG": f"{MODEL}:{champion}", "VERSIONS_API_TOKEN_FILE": str(token_file),
           "SERVICE_ACCESS_LOG": "false"}
    with servers.start_redis(log_dir) as redis_srv:
        yield {"redis": redis_srv, "env": env, "champion": champion, "challenger": challenger, "log_dir": log_dir,
               "client": redis.Redis.from_url(redis_srv.extra["url"])}


@pytest.fixture(scope="module")
def svc(setup):
    with servers.start_service(setup["log_dir"], setup["redis"].extra["url"], env=setup["env"]) as server:
        setup["service"] = server
        yield server


def put(svc, body, token: str | None = TOKEN, model: str = MODEL, raw: bytes | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return http("PUT", f"{svc.url}/api/v1/models/{model}/versions", body, raw=raw, headers=headers)


ROWS = generate(400, seed=11)


def features(i: int) -> dict:
    return {f: float(ROWS.iloc[i % len(ROWS)][f]) for f in FEATURE_NAMES}


def predict(svc, tid: str, i: int = 0) -> dict:
    status, body = http("POST", f"{svc.url}/api/v1/predict", {"transaction_id": tid, "features": features(i)})
    assert status == 200, body
    return body


def predict_batch(svc, ids: list[str], generic: bool = False) -> list[dict]:
    path = f"/api/v1/models/{MODEL}/predict_batch" if generic else "/api/v1/predict_batch"
    status, body = http("POST", f"{svc.url}{path}",
                        {"transactions": [{"transaction_id": t, "features": features(i)} for i, t in enumerate(ids)]})
    assert status == 200, body
    return body["predictions"]


def published(client, version: str, kind: str = "predictions") -> set[str]:
    keys = layout.Keys(MODEL, version)
    if kind == "predictions":
        return set(stream_ids(client, keys.predictions, layout.decode_predictions))
    return set(stream_ids(client, keys.labels, layout.decode_labels))


def test_get_without_a_document_answers_what_serves(setup, svc):
    status, body = http("GET", f"{svc.url}{ROUTE}")
    assert status == 200, body
    assert body["champion"] == setup["champion"] and body["challenger"] is None
    assert body["mode"] == "off" and body["ab_share"] == 0.0
    assert {setup["champion"], setup["challenger"]} <= set(body["available"])
    assert predict(svc, "first")["model_version"] == setup["champion"]


def test_put_without_or_with_a_wrong_token_is_401(setup, svc):
    change = {"challenger": setup["challenger"], "mode": "shadow"}
    for token in (None, "wrong", TOKEN + "x", ""):
        status, body = put(svc, change, token)
        assert status == 401 and body["field"] == "authorization" and "Bearer" in body["error"], (token, body)
    status, body = http("PUT", f"{svc.url}{ROUTE}", change, headers={"Authorization": f"Basic {TOKEN}"})
    assert status == 401
    assert setup["client"].get(model_versions.versions_key(MODEL)) is None, "nothing was written"


@pytest.mark.parametrize("change, field", [
    ({"champion": "nosuchversion"}, "champion"),
    ({"challenger": "nosuchversion", "mode": "shadow"}, "challenger"),
    ({"ab_share": 1.5}, "ab_share"),
    ({"ab_share": -0.1}, "ab_share"),
    ({"ab_share": "0.5"}, "ab_share"),
    ({"ab_share": True}, "ab_share"),
    ({"mode": "x"}, "mode"),
    ({"mode": "shadow"}, "mode"),  # no challenger yet: 409
    ({"revision": 3}, "revision"),
    ([1, 2], "body"),
])
def test_bad_values_are_4xx_naming_the_field(svc, change, field):
    status, body = put(svc, change)
    expected = 409 if change == {"mode": "shadow"} else 400  # each value fits, together they do not
    assert status == expected and body["field"] == field and field in body["detail"], body


def test_the_versions_routes_are_in_the_openapi_document(setup, svc):
    doc = http("GET", f"{svc.url}/docs.json")[1]
    route = doc["paths"][ROUTE]
    assert set(route) == {"get", "put"} and route["put"]["security"] == [{"versionsToken": []}]
    body = route["put"]["requestBody"]["content"]["application/json"]["schema"]
    loadable = set(body["properties"]["champion"]["enum"])  # the store may hold more versions than these two
    assert {setup["champion"], setup["challenger"]} <= loadable <= set(http("GET", f"{svc.url}{ROUTE}")[1]["available"])
    assert "nosuchversion" not in loadable
    assert body["properties"]["ab_share"]["maximum"] == 1 and body["additionalProperties"] is False
    assert "/api/v1/models/login_risk/versions" in doc["paths"]


def test_bad_bodies_and_unknown_model(svc):
    assert put(svc, None, raw=b"{not json")[1]["field"] == "body"
    status, body = put(svc, {"mode": "off"}, model="nosuchmodel")
    assert status == 404 and body["field"] == "model_name"
    assert http("GET", f"{svc.url}/api/v1/models/nosuchmodel/versions")[0] == 404
    status, _ = http("PUT", f"{svc.url}{ROUTE}", raw=b"x" * 10_000, headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 413
    deep = b"[" * 1500 + b"]" * 1500  # under the size limit, deeper than the parser recurses
    assert put(svc, None, raw=deep)[0] == 400


def test_a_change_is_answered_within_a_second(setup, svc):
    status, body = put(svc, {"challenger": setup["challenger"], "mode": "ab", "ab_share": 1.0})
    assert status == 200 and body == {"champion": setup["champion"], "challenger": setup["challenger"], "mode": "ab",
                                      "ab_share": 1.0, "available": body["available"]}, body
    changed = time.monotonic()
    wait_for(lambda: predict(svc, f"switch-{time.monotonic()}")["model_version"] == setup["challenger"], timeout=1.0, interval=0.05)
    assert time.monotonic() - changed < 1.0
    # a change written straight into Redis (e.g. by `python -m retrain promote`) is followed by polling
    client = setup["client"]
    model_versions.update(client, MODEL, lambda s: s.apply({"mode": "off"}))
    changed = time.monotonic()
    wait_for(lambda: predict(svc, f"poll-{time.monotonic()}")["model_version"] == setup["champion"], timeout=1.0, interval=0.05)
    assert time.monotonic() - changed < 1.0
    assert http("GET", f"{svc.url}{ROUTE}")[1]["mode"] == "off"


def test_shadow_only_the_champion_answers_and_both_versions_publish(setup, svc):
    client, champion, challenger = setup["client"], setup["champion"], setup["challenger"]
    assert put(svc, {"challenger": challenger, "mode": "shadow", "ab_share": 0.0})[0] == 200
    ids = [f"shadow-{i}" for i in range(200)]
    answers = predict_batch(svc, ids[:100]) + predict_batch(svc, ids[100:], generic=True)
    assert {a["model_version"] for a in answers} == {champion}
    wait_for(lambda: set(ids) <= published(client, champion) and set(ids) <= published(client, challenger), timeout=10)
    # the challenger is another model: its published scores differ from the answers
    batches = [layout.decode_predictions(f) for _, f in client.xrange(layout.Keys(MODEL, challenger).predictions)]
    challenger_scores = {tid: float(s) for b in batches for tid, s in zip(b.ids, b.scores)}
    differing = sum(abs(challenger_scores[a["transaction_id"]] - a.get("fraud_probability", a.get("score"))) > 1e-6
                    for a in answers)
    assert differing > 100, differing
    # each label reaches both versions
    for tid in ids[:20]:
        status, receipt = http("POST", f"{svc.url}/api/v1/feedback", {"transaction_id": tid, "label": 1})
        assert status == 200 and set(receipt["model_versions"]) == {champion, challenger}, receipt
    status, receipt = http("POST", f"{svc.url}/api/v1/models/{MODEL}/feedback", {"transaction_id": ids[150], "label": 0})
    assert status == 200 and set(receipt["model_versions"]) == {champion, challenger}
    wanted = {*ids[:20], ids[150]}
    wait_for(lambda: wanted <= published(client, champion, "labels") and wanted <= published(client, challenger, "labels"),
             timeout=10)
    metrics = http("GET", f"{svc.url}/metrics")[1]
    assert f'ml_monitoring_shadow_predictions_total{{model_name="{MODEL}",model_version="{challenger}",outcome="scored"}}' in metrics


def test_ab_sticky_by_transaction_id_each_arm_publishes_its_own(setup, svc):
    client, champion, challenger = setup["client"], setup["champion"], setup["challenger"]
    assert put(svc, {"challenger": challenger, "mode": "ab", "ab_share": 0.3})[0] == 200
    ids = [f"ab-{i}" for i in range(300)]
    first = {a["transaction_id"]: a["model_version"] for a in predict_batch(svc, ids[:100]) + predict_batch(svc, ids[100:200])
             + predict_batch(svc, ids[200:], generic=True)}
    again = {tid: predict(svc, tid, i)["model_version"] for i, tid in enumerate(ids[:60])}
    assert all(again[t] == first[t] for t in again), "the same transaction is answered by the same version"
    expected = {t: challenger if answers_challenger(t, 0.3) else champion for t in ids}
    assert first == expected
    share = sum(v == challenger for v in first.values()) / len(ids)
    assert 0.2 < share < 0.4, share
    by_challenger = {t for t, v in first.items() if v == challenger}
    wait_for(lambda: by_challenger <= published(client, challenger) and set(ids) - by_challenger <= published(client, champion),
             timeout=10)
    assert not (by_challenger & published(client, champion)), "the champion did not score the challenger's arm"
    assert not ((set(ids) - by_challenger) & published(client, challenger))
    # a label goes to the version that scored its transaction
    tid_c, tid_p = sorted(by_challenger)[0], sorted(set(ids) - by_challenger)[0]
    assert http("POST", f"{svc.url}/api/v1/feedback", {"transaction_id": tid_c, "label": 1})[1]["model_versions"] == [challenger]
    assert http("POST", f"{svc.url}/api/v1/feedback", {"transaction_id": tid_p, "label": 0})[1]["model_versions"] == [champion]
    wait_for(lambda: tid_c in published(client, challenger, "labels") and tid_p in published(client, champion, "labels"))
    status, explained = http("POST", f"{svc.url}/api/v1/explain", {"transaction_id": tid_c, "features": features(0)})
    assert status == 200 and explained["model_version"] == challenger


def test_other_models_keep_their_own_versions(setup, svc):
    status, body = http("GET", f"{svc.url}/api/v1/models/login_risk/versions")
    assert status == 200 and body["challenger"] is None and body["mode"] == "off"


def test_the_versions_survive_a_service_restart(setup, svc):
    svc.stop()
    with servers.start_service(setup["log_dir"], setup["redis"].extra["url"], port=svc.port, env=setup["env"]) as again:
        assert http("GET", f"{again.url}{ROUTE}")[1]["mode"] == "ab"
        tid = next(f"restart-{i}" for i in range(1000) if answers_challenger(f"restart-{i}", 0.3))
        assert predict(again, tid)["model_version"] == setup["challenger"], "the first request already follows Redis"
        # Redis down: the last known versions keep serving; changes are refused (503), never a 500
        setup["redis"].stop()
        for i in range(20):
            t = f"down-{i}"
            assert predict(again, t)["model_version"] == (setup["challenger"] if answers_challenger(t, 0.3) else setup["champion"])
        status, body = http("GET", f"{again.url}{ROUTE}")
        assert status == 200 and body["mode"] == "ab"
        status, body = put(again, {"mode": "off"})
        assert status == 503 and "nothing was changed" in body["error"]
        wait_for(lambda: "ml_monitoring_versions_document_up 0.0" in http("GET", f"{again.url}/metrics")[1], timeout=5)
        # Redis back, empty (no persistence in tests): the document is missing, the last known versions still serve,
        # and a PUT writes a new document from them
        with servers.restart_redis(setup["redis"]):
            wait_for(lambda: "ml_monitoring_versions_document_up 1.0" in http("GET", f"{again.url}/metrics")[1], timeout=10)
            assert predict(again, tid)["model_version"] == setup["challenger"]
            status, body = put(again, {"ab_share": 0.0})
            assert status == 200 and body["mode"] == "ab" and body["challenger"] == setup["challenger"], body
            assert predict(again, tid)["model_version"] == setup["champion"]
            assert model_versions.load(setup["client"], MODEL).ab_share == 0.0
