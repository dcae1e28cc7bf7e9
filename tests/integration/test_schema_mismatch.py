"""Issue 22, finding 2, end to end: a real exporter refuses prediction batches published with another schema than the
reference profile's (two features swapped: the same width; one feature dropped: another width), counts them by
reason, logs one line, and reports the version as not judged (no health status), while a version published with the
right schema through the client is judged healthy."""
from __future__ import annotations

import numpy as np
import pytest
import redis

from drift_client import DriftClient, PublisherConfig, SamplePublisher, profile_from_training
from drift_client import redis_layout as layout
from drift_client.schema import FeatureSpec, ModelSchema
from scripts import servers
from tests.helpers import http, series, wait_for

pytestmark = pytest.mark.integration
SCHEMA = ModelSchema((FeatureSpec("income", "numeric", (0.0, 1e6)), FeatureSpec("age", "numeric", (0.0, 120.0)),
                      FeatureSpec("plan", "categorical", categories=("basic", "pro"))))
N = 600


def frame(n: int, seed: int):
    import pandas as pd
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"income": rng.lognormal(10, 0.5, n), "age": rng.normal(45, 12, n).clip(18, 90),
                         "plan": rng.choice(["basic", "pro"], n, p=[0.7, 0.3])})


def profile_json(version: str) -> str:
    train = frame(3000, 0)
    scores = np.random.default_rng(1).random(3000)
    return profile_from_training(train, scores, None, SCHEMA, model_name="churn", model_version=version).to_json()


def report(exporter, version: str) -> dict | None:
    status, body = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest?hours=1")
    assert status == 200, body
    return next((m for m in body["models"] if m["model_version"] == version), None)


def publish_with(url: str, version: str, schema: ModelSchema, rows: np.ndarray) -> None:
    """What a publisher with another schema (an older client, another build) writes: its own fingerprint."""
    publisher = SamplePublisher(PublisherConfig(url), layout.Keys("churn", version), profile_json(version),
                                schema_fingerprint=schema.fingerprint())
    scores = np.random.default_rng(2).random(len(rows)).astype(np.float32)
    for start in range(0, len(rows), 100):
        publisher.add_predictions([f"{version}-{i}" for i in range(start, start + 100)], rows[start:start + 100],
                                  scores[start:start + 100])
        publisher.flush()


def test_a_stream_published_with_another_schema_is_refused_and_not_judged(log_dir):
    with servers.start_redis(log_dir) as redis_srv, \
            servers.start_exporter(log_dir, redis_srv.extra["url"], env={"MONITORING_INTERVAL": "0.5"}) as exporter:
        url = redis_srv.extra["url"]
        good = DriftClient(url, "churn", "good", SCHEMA, profile_json("good")).start()
        current = frame(N, 5)
        good.log_predictions([f"g-{i}" for i in range(N)], current, np.random.default_rng(3).random(N))
        good.stop()

        swapped = ModelSchema((SCHEMA.features[1], SCHEMA.features[0], SCHEMA.features[2]))
        publish_with(url, "swapped", swapped, swapped.encode_frame(current))
        narrow = ModelSchema(SCHEMA.features[:2])
        publish_with(url, "narrow", narrow, narrow.encode_frame(current))

        judged = wait_for(lambda: (r := report(exporter, "good")) and r["predictions"] == N and r, timeout=30)
        assert judged["judged"] and judged["health_status"] == 0
        text = wait_for(lambda: (t := http("GET", f"{exporter.url}/metrics")[1]) and series(
            t, "ml_exporter_schema_mismatch_total", model_name="churn", model_version="narrow", reason="width") == 6 and series(
            t, "ml_exporter_schema_mismatch_total", model_name="churn", model_version="swapped", reason="fingerprint") == 6 and t,
            timeout=30)
        for version in ("swapped", "narrow"):
            snap = report(exporter, version)
            assert snap["predictions"] == 0 and not snap["judged"] and snap["not_judged_reason"] == "schema_mismatch"
            assert snap["health_status"] is None
            assert series(text, "ml_model_health_status", model_name="churn", model_version=version) is None
        assert series(text, "ml_model_health_status", model_name="churn", model_version="good") == 0.0
        assert series(text, "ml_exporter_schema_mismatch_total", model_name="churn", model_version="good", reason="fingerprint") == 0
        log = exporter.log_text()
        assert log.count("refused prediction batches of churn/swapped") == 1
        assert log.count("refused prediction batches of churn/narrow") == 1
        assert "Traceback" not in log
        redis.Redis.from_url(url).close()


def test_a_profile_built_for_another_version_is_judged_under_the_version_it_is_published_as(log_dir):
    """A publisher that bypasses the client's check (SamplePublisher, an older client) writes version 1's profile
    under version 2's keys: the exporter says so once and labels the figures with the stream's version, never as a
    second, conflicting series of version 1."""
    with servers.start_redis(log_dir) as redis_srv, \
            servers.start_exporter(log_dir, redis_srv.extra["url"], env={"MONITORING_INTERVAL": "0.5"}) as exporter:
        url = redis_srv.extra["url"]
        rows = SCHEMA.encode_frame(frame(N, 5))
        for version in ("1", "2"):
            publisher = SamplePublisher(PublisherConfig(url), layout.Keys("churn", version), profile_json("1"),
                                        schema_fingerprint=SCHEMA.fingerprint())
            scores = np.random.default_rng(int(version)).random(N).astype(np.float32)
            publisher.add_predictions([f"{version}-{i}" for i in range(N)], rows, scores)
            publisher.flush()
        status, body = wait_for(lambda: (r := http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest?hours=1"))
                                and len(r[1]["models"]) == 2 and r, timeout=30)
        assert sorted(m["model_version"] for m in body["models"]) == ["1", "2"]
        text = http("GET", f"{exporter.url}/metrics")[1]
        assert series(text, "ml_window_samples", model_name="churn", model_version="2", kind="predictions") == N
        assert text.count('ml_model_info{') == 2
        log = exporter.log_text()
        assert log.count("the reference profile of churn/2 was built for churn/1") == 1
        assert "Traceback" not in log


def test_a_version_fed_by_a_second_mismatched_publisher_is_not_judged_in_any_window(log_dir):
    """Two publishers on one version, one with another schema: neither the live window nor the judged spans
    (5 min, 1 h, 24 h over the minute profiles) may judge the right publisher's samples alone as the version."""
    with servers.start_redis(log_dir) as redis_srv, \
            servers.start_exporter(log_dir, redis_srv.extra["url"], env={"MONITORING_INTERVAL": "0.5"}) as exporter:
        url = redis_srv.extra["url"]
        for version in ("good", "mixed"):
            client = DriftClient(url, "churn", version, SCHEMA, profile_json(version)).start()
            current = frame(N, 5)
            client.log_predictions([f"{version}-{i}" for i in range(N)], current, np.random.default_rng(3).random(N))
            client.stop()
        swapped = ModelSchema((SCHEMA.features[1], SCHEMA.features[0], SCHEMA.features[2]))
        publish_with(url, "mixed", swapped, swapped.encode_frame(frame(200, 6)))

        text = wait_for(lambda: (t := http("GET", f"{exporter.url}/metrics")[1]) and series(
            t, "ml_drift_span_samples", model_name="churn", model_version="good", span="5m") == N and series(
            t, "ml_exporter_schema_mismatch_total", model_name="churn", model_version="mixed", reason="fingerprint") == 2 and t,
            timeout=30)
        assert series(text, "ml_drift_span_detected", model_name="churn", model_version="good", feature="income", span="5m") == 0
        assert not report(exporter, "mixed")["judged"]
        for span in ("5m", "1h", "24h"):
            assert series(text, "ml_drift_span_detected", model_name="churn", model_version="mixed", feature="income",
                          span=span) is None, span
