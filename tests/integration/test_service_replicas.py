"""Two `bentoml serve` replicas on one Redis share "which versions scored this transaction id"
(bento_service.scored_by_store): predictions answered by replica A with a challenger in shadow, labels posted to
replica B after the challenger stopped serving reach the challenger's stream all the same; an id nobody scored goes
to the versions serving now; with Redis down both replicas keep answering and B's labels fall back, counted."""
from __future__ import annotations

import pytest
import redis

from drift_client import redis_layout as layout
from scripts import servers
from tests.helpers import http, series, store_with_challenger, stream_ids, wait_for
from transactions import FEATURE_NAMES, generate

pytestmark = pytest.mark.integration
MODEL = "fraud_detector"
TOKEN = "test-token-0123456789"
ROWS = generate(100, seed=12)


def features(i: int) -> dict:
    return {f: float(ROWS.iloc[i % len(ROWS)][f]) for f in FEATURE_NAMES}


def mode_of(svc) -> str:
    return http("GET", f"{svc.url}/api/v1/models/{MODEL}/versions")[1]["mode"]


def put(svc, body) -> int:
    return http("PUT", f"{svc.url}/api/v1/models/{MODEL}/versions", body, headers={"Authorization": f"Bearer {TOKEN}"})[0]


def labelled(client, version: str) -> set[str]:
    return set(stream_ids(client, layout.Keys(MODEL, version).labels, layout.decode_labels))


def routes(svc, source: str) -> float:
    return series(http("GET", f"{svc.url}/metrics")[1], "ml_monitoring_label_routes_total", model_name=MODEL,
                  source=source) or 0.0


def test_labels_posted_to_one_replica_reach_the_challenger_that_scored_on_another(log_dir, tmp_path_factory):
    home = tmp_path_factory.mktemp("replicas-home")
    champion, challenger = store_with_challenger(home)
    token_file = servers.write_private(home / "secrets" / "versions_api_token", TOKEN + "\n")
    env = {"BENTOML_HOME": str(home), "MODEL_TAG": f"{MODEL}:{champion}", "VERSIONS_API_TOKEN_FILE": str(token_file),
           "SERVICE_ACCESS_LOG": "false"}
    redis_srv = servers.start_redis(log_dir)
    url = redis_srv.extra["url"]
    replicas = []
    try:
        for name in ("a", "b"):  # one BENTOML_HOME (the store), each its own Prometheus multiprocess directory
            metrics_dir = tmp_path_factory.mktemp(f"prometheus-{name}")
            replicas.append(servers.start_service(log_dir, url, env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}))
        a, b = replicas
        client = redis.Redis.from_url(url)
        assert put(a, {"challenger": challenger, "mode": "shadow", "ab_share": 0.0}) == 200
        wait_for(lambda: mode_of(b) == "shadow", timeout=10)

        ids = [f"rep-{i}" for i in range(40)]
        for i, tid in enumerate(ids):
            status, body = http("POST", f"{a.url}/api/v1/predict", {"transaction_id": tid, "features": features(i)})
            assert status == 200 and body["model_version"] == champion
        wait_for(lambda: all(set(client.hkeys(layout.scored_by_key(MODEL, tid))) == {champion.encode(), challenger.encode()}
                             for tid in ids), timeout=10)

        assert put(a, {"mode": "off"}) == 200  # the challenger no longer serves when the labels arrive
        probes = iter(range(10**6))

        def b_serves_the_champion_alone() -> bool:  # B's plan, not only the document (its poller may lag under load)
            probe = {"transaction_id": f"probe-{next(probes)}", "label": 0}
            status, receipt = http("POST", f"{b.url}/api/v1/feedback", probe)
            return status == 200 and receipt["model_versions"] == [champion]

        wait_for(b_serves_the_champion_alone, timeout=10)
        for tid in ids:
            status, receipt = http("POST", f"{b.url}/api/v1/feedback", {"transaction_id": tid, "label": 1})
            assert status == 200 and set(receipt["model_versions"]) == {champion, challenger}, receipt
        status, receipt = http("POST", f"{b.url}/api/v1/feedback", {"transaction_id": "never-scored", "label": 0})
        assert status == 200 and receipt["model_versions"] == [champion]
        wait_for(lambda: set(ids) <= labelled(client, challenger) and set(ids) <= labelled(client, champion), timeout=10)
        assert "never-scored" not in labelled(client, challenger)
        assert routes(b, "shared") == len(ids) and routes(b, "current") >= 2  # the probes and never-scored

        redis_srv.kill()  # Redis down: serving goes on; B's labels go to the versions serving now, counted
        status, body = http("POST", f"{a.url}/api/v1/predict", {"transaction_id": "down-1", "features": features(1)})
        assert status == 200
        status, receipt = http("POST", f"{b.url}/api/v1/feedback", {"transaction_id": "down-1", "label": 0})
        assert status == 200 and receipt["model_versions"] == [champion]
        assert routes(b, "redis_failed") >= 1
    finally:
        for server in replicas:
            server.stop()
        redis_srv.stop()
