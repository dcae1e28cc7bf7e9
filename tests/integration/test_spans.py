"""Several judged windows from per-minute profiles, against a real redis-server and a real exporter, then the same
against a 3-node Redis Cluster on loopback: samples published as the service does (drift_client.redis_layout), minute
profiles written with the retention's TTL, span series on /metrics, reports from profiles for any period within the
retention, and a restarted exporter that continues from its cursor without counting anything twice."""
from __future__ import annotations

import time

import pytest

from drift_client import redis_layout as layout
from drift_client.redis_client import connect
from scripts import servers
from tests.helpers import Publisher, http, series, wait_for

ENV = {"MONITORING_INTERVAL": "0.5", "DRIFT_WINDOW_HOURS": "1"}


def scrape(exporter) -> str:
    return http("GET", f"{exporter.url}/metrics")[1]


def span_samples(exporter, version: str, span: str) -> float | None:
    return series(scrape(exporter), "ml_drift_span_samples", model_version=version, span=span)


def report(exporter, query: str) -> tuple[int, dict]:
    return http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest?{query}")


def check_spans_and_reports(exporter, client) -> Publisher:
    stationary, drifted = Publisher(client, "stationary"), Publisher(client, "drifted")
    stationary.send(3000, seed=1)
    drifted.send(3000, seed=2, scenario="spec_drift")
    for version in ("stationary", "drifted"):
        for span in ("5m", "1h", "24h"):
            wait_for(lambda: span_samples(exporter, version, span) == 3000, timeout=30)
    text = scrape(exporter)
    assert series(text, "ml_drift_span_detected", model_version="drifted", feature="amount", span="5m") == 1
    assert series(text, "ml_drift_span_significant", model_version="drifted", feature="amount", span="24h") == 1
    assert series(text, "ml_drift_span_detected", model_version="stationary", feature="amount", span="5m") == 0
    keys = layout.Keys("fraud_detector", "drifted")
    minutes = list(client.scan_iter(match=keys.profile(0).replace(":0", ":*"), target_nodes="all")
                   if hasattr(client, "get_nodes") else client.scan_iter(match=keys.profile(0).replace(":0", ":*")))
    assert minutes and all(0 < client.ttl(k) <= 7 * 24 * 3600 + 120 for k in minutes)

    # its speed is bench/multiwindow.py's (the 168 h report); a test only checks what it answers
    status, body = report(exporter, "hours=168")
    assert status == 200
    by_version = {m["model_version"]: m for m in body["models"]}
    assert by_version["drifted"]["predictions"] == 3000 and by_version["drifted"]["features"]["amount"]["drifted"]
    now = time.time()
    status, body = report(exporter, f"start={now - 3600:.0f}&end={now + 60:.0f}")
    assert status == 200 and {m["predictions"] for m in body["models"]} == {3000}
    status, body = report(exporter, f"start={now - 86400:.0f}&end={now - 86400 + 3600:.0f}")  # yesterday: nothing then
    assert status == 200 and {m["predictions"] for m in body["models"]} == {0}
    assert report(exporter, "hours=169")[1]["field"] == "hours"
    for bad, field in (("start=yesterday", "start"), (f"start={now - 200 * 3600:.0f}", "start"),
                       (f"start={now - 60:.0f}&end={now - 120:.0f}", "end")):
        status, body = report(exporter, bad)
        assert status == 400 and body["field"] == field, (bad, body)
    return drifted


def check_restart(drifted: Publisher, log_dir, redis_url: str) -> None:
    """Samples published while no exporter runs; the next one continues from the cursor, cold-starting from profiles."""
    drifted.send(1000, seed=3, scenario="spec_drift")
    with servers.start_exporter(log_dir, redis_url, env=ENV) as second:
        wait_for(lambda: span_samples(second, "drifted", "24h") == 4000, timeout=30)
        time.sleep(1.5)  # a few more refreshes count nothing twice
        assert span_samples(second, "drifted", "24h") == 4000


def test_spans_and_reports_on_one_redis(redis_server, log_dir):
    client = connect(redis_server.extra["url"])
    with servers.start_exporter(log_dir, redis_server.extra["url"], env=ENV) as exporter:
        drifted = check_spans_and_reports(exporter, client)
    check_restart(drifted, log_dir, redis_server.extra["url"])


@pytest.fixture(scope="module")
def redis_cluster(log_dir):
    nodes = servers.start_redis_cluster(log_dir, 3)
    try:
        yield nodes[0].extra["url"]
    finally:
        for node in nodes:
            node.stop()


def test_spans_and_reports_on_a_three_node_redis_cluster(redis_cluster, log_dir):
    client = connect(redis_cluster)
    assert len(client.get_primaries()) == 3
    with servers.start_exporter(log_dir, redis_cluster, env=ENV) as exporter:
        drifted = check_spans_and_reports(exporter, client)
    check_restart(drifted, log_dir, redis_cluster)
    slots = {client.keyslot(layout.Keys("fraud_detector", v).predictions) for v in ("stationary", "drifted")}
    assert len(slots) == 2


def test_the_service_publishes_to_a_redis_cluster_and_the_exporter_judges_it(redis_cluster, log_dir):
    """The real service's publishing client (its idempotency token in the model version's slot) and the real
    exporter, both on the 3-node cluster, as with a single Redis."""
    from transactions import FEATURE_NAMES, generate

    rows = generate(300, seed=21)[list(FEATURE_NAMES)].to_dict("records")
    features = [{k: (int(v) if k in INTEGRAL else float(v)) for k, v in r.items()} for r in rows]
    with servers.start_service(log_dir, redis_cluster) as service, \
            servers.start_exporter(log_dir, redis_cluster, env={**ENV, "MIN_WINDOW_SAMPLES": "100"}) as exporter:
        for start in range(0, 300, 100):
            batch = [{"transaction_id": f"c{i}", "features": features[i]} for i in range(start, start + 100)]
            status, body = http("POST", f"{service.url}/api/v1/predict_batch", {"transactions": batch})
            assert status == 200, body

        def judged() -> dict | None:
            models = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest?hours=1")[1]["models"]
            fraud = [m for m in models if m["model_name"] == "fraud_detector" and m["predictions"] == 300]
            return fraud[0] if fraud else None

        report = wait_for(judged, timeout=60)
        assert report["features"] and report["malformed_entries"] == 0
        _, metrics = http("GET", f"{service.url}/metrics")
        assert series(metrics, "ml_monitoring_samples_total", outcome="published", model_name="fraud_detector") == 300


INTEGRAL = {"hour_of_day", "day_of_week", "txn_count_1h", "txn_count_24h", "account_age_days", "is_online", "used_chip"}
