"""The real exporter (`python -m exporter`) against a real redis-server holding samples in the service's format."""
from __future__ import annotations

import json
import re
import subprocess
import time

import numpy as np
import pytest
import redis
from sklearn import metrics as sk

from drift_client import redis_layout as layout
from scripts import servers
from tests.helpers import Publisher, http, series, wait_for
from drift_client.reference_profile import ReferenceProfile
from transactions import FEATURE_NAMES
from drift import estimation as est

pytestmark = pytest.mark.integration
FAST = {"MONITORING_INTERVAL": "0.5", "DRIFT_WINDOW_HOURS": "1"}
SHIFTED = {"amount", "distance_from_home_km"}




def report(exporter, version: str) -> dict | None:
    status, body = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest?hours=1")
    assert status == 200, body
    return next((m for m in body["models"] if m["model_version"] == version), None)


def fresh_report(exporter, version: str, predictions: int) -> dict:
    return wait_for(lambda: (r := report(exporter, version)) and r["predictions"] == predictions and r)


def scrape(exporter) -> str:
    status, text = http("GET", f"{exporter.url}/metrics")
    assert status == 200
    return text




@pytest.fixture(scope="module")
def stack(log_dir):
    with servers.start_redis(log_dir) as redis_srv:
        client = redis.Redis.from_url(redis_srv.extra["url"])
        sent = {
            "covariate": Publisher(client, "covariate").send(5000, seed=1, scenario="covariate", label_rate=0.8),
            "stationary": Publisher(client, "stationary").send(5000, seed=2, label_rate=0.8),
            "seed": Publisher(client, "seed").send(5000, seed=3, scenario="spec_drift"),
            "tiny": Publisher(client, "tiny").send(50, seed=4),
            "legacy": _legacy(Publisher(client, "legacy")).send(3000, seed=8),
        }
        with servers.start_exporter(log_dir, redis_srv.extra["url"], env=FAST) as exporter:
            yield exporter, client, redis_srv, sent


def _legacy(pub: Publisher) -> Publisher:
    """A reference profile as published before performance estimation existed (no score bins, no calibrator)."""
    data = json.loads(pub.profile.to_json())
    del data["score_edges"], data["calibrator"]
    pub.client.set(pub.keys.reference, json.dumps(data))
    return pub


def test_covariate_drift_flags_amount_and_distance_only(stack):
    exporter, *_ = stack
    r = fresh_report(exporter, "covariate", 5000)
    flagged = {f for f, v in r["features"].items() if v["drifted"]}
    assert flagged == SHIFTED
    for f in set(FEATURE_NAMES) - SHIFTED:
        assert r["features"][f]["psi"] < 0.1, f
    assert r["health_status"] >= 1
    assert sum(v["attribution"] for v in r["features"].values()) == pytest.approx(1.0)
    assert r["features"]["amount"]["current_mean"] == pytest.approx(1.3 * r["features"]["amount"]["reference_mean"], rel=0.08)


def test_spec_drift_is_caught(stack):
    exporter, *_ = stack
    r = fresh_report(exporter, "seed", 5000)
    assert SHIFTED <= {f for f, v in r["features"].items() if v["drifted"]}


def test_stationary_traffic_flags_nothing(stack):
    exporter, *_ = stack
    r = fresh_report(exporter, "stationary", 5000)
    assert not any(v["drifted"] for v in r["features"].values())
    assert not r["prediction_drift"]["drifted"]
    assert r["health_status"] == 0
    assert all(v["attribution"] == 0 for v in r["features"].values())


def test_performance_equals_sklearn_on_the_same_labelled_window(stack):
    exporter, _, _, sent = stack
    r = fresh_report(exporter, "stationary", 5000)
    s = sent["stationary"]
    y, score = s["labels"][s["labelled"]], s["scores"][s["labelled"]]
    pred = score >= r_threshold(stack)
    assert r["labels"] == int(s["labelled"].sum())
    perf = r["performance"]
    assert perf["accuracy"] == pytest.approx(sk.accuracy_score(y, pred))
    assert perf["precision"] == pytest.approx(sk.precision_score(y, pred, zero_division=0))
    assert perf["recall"] == pytest.approx(sk.recall_score(y, pred))
    assert perf["f1"] == pytest.approx(sk.f1_score(y, pred))
    assert perf["roc_auc"] == pytest.approx(sk.roc_auc_score(y, score))
    assert perf["average_precision"] == pytest.approx(sk.average_precision_score(y, score))
    assert r["label_positive_ratio"] == pytest.approx(y.mean())
    assert r["prediction_positive_ratio"] == pytest.approx(np.mean(s["scores"] >= r_threshold(stack)))


def test_estimated_performance_without_labels_is_the_estimators_on_the_window(stack):
    exporter, client, _, sent = stack
    r = fresh_report(exporter, "seed", 5000)  # no labels at all
    assert r["labels"] == 0 and r["performance"] == {}
    profile = ReferenceProfile.from_json(client.get(layout.Keys("fraud_detector", "seed").reference))
    offline = est.estimate_from_scores(sent["seed"]["scores"], est.Calibrator.from_dict(profile.calibrator),
                                       np.asarray(profile.score_edges), profile.threshold)
    assert set(r["estimated_performance"]) == set(est.METRICS)
    for metric, value in r["estimated_performance"].items():
        assert value == pytest.approx(offline.metrics[metric], rel=1e-6), metric
        bounds = r["estimated_performance_interval"][metric]
        assert bounds["lower"] == pytest.approx(offline.lower[metric], rel=1e-6) and bounds["lower"] <= value <= bounds["upper"]
        assert bounds["total_lower"] == pytest.approx(offline.total_lower[metric], rel=1e-6)
        assert bounds["total_lower"] <= bounds["lower"] and bounds["upper"] <= bounds["total_upper"]
    assert r["estimated_performance_gap"] == {}  # nothing to compare with before labels arrive
    text = scrape(exporter)
    assert series(text, "ml_model_estimated_performance", model_version="seed", metric="roc_auc") == pytest.approx(
        r["estimated_performance"]["roc_auc"])
    assert series(text, "ml_model_estimated_performance_interval", model_version="seed", metric="roc_auc", bound="upper") \
        == pytest.approx(r["estimated_performance_interval"]["roc_auc"]["upper"])
    assert series(text, "ml_model_estimated_performance_interval", model_version="seed", metric="roc_auc",
                  bound="total_upper") == pytest.approx(r["estimated_performance_interval"]["roc_auc"]["total_upper"])
    assert series(text, "ml_model_estimated_performance_gap", model_version="seed") is None


def test_estimation_gap_once_labels_arrive_and_old_profiles_still_estimate(stack):
    exporter, *_ = stack
    r = fresh_report(exporter, "stationary", 5000)
    for metric, gap in r["estimated_performance_gap"].items():
        assert gap == pytest.approx(r["performance"][metric] - r["estimated_performance"][metric]), metric
    assert set(r["estimated_performance_gap"]) == set(est.METRICS)
    assert series(scrape(exporter), "ml_model_estimated_performance_gap", model_version="stationary", metric="roc_auc") \
        == pytest.approx(r["estimated_performance_gap"]["roc_auc"])
    legacy = fresh_report(exporter, "legacy", 3000)  # raw scores as probabilities, bins from the reference sample
    assert 0.8 < legacy["estimated_performance"]["roc_auc"] < 1.0


def r_threshold(stack) -> float:
    _, client, _, _ = stack
    from drift_client.reference_profile import ReferenceProfile
    return ReferenceProfile.from_json(client.get(layout.Keys("fraud_detector", "stationary").reference)).threshold


def test_small_window_says_so_instead_of_noisy_figures(stack):
    exporter, *_ = stack
    r = fresh_report(exporter, "tiny", 50)
    assert r["enough_samples"] is False and r["features"] == {}
    text = scrape(exporter)
    assert series(text, "ml_window_samples", model_version="tiny", kind="predictions") == 50
    assert series(text, "ml_drift_psi", model_version="tiny") is None


def test_metrics_follow_the_contract_and_promtool(stack):
    exporter, *_ = stack
    fresh_report(exporter, "covariate", 5000)
    text = scrape(exporter)
    assert series(text, "ml_drift_detected", model_version="covariate", feature="amount") == 1
    assert series(text, "ml_drift_detected", model_version="stationary", feature="amount") == 0
    for name in ("ml_drift_psi", "ml_drift_ks_statistic", "ml_drift_ks_pvalue", "ml_drift_attribution_ratio"):
        assert series(text, name, model_version="covariate", feature="amount") is not None, name
    # a binary feature is judged by PSI and chi-square (KS p-values are not valid with ties): no KS series for it
    assert series(text, "ml_drift_ks_statistic", model_version="covariate", feature="used_chip") is None
    for test in ("psi", "chi2"):
        assert series(text, "ml_drift_test_statistic", model_version="covariate", feature="used_chip", test=test) is not None
    assert series(text, "ml_drift_test_pvalue", model_version="covariate", feature="used_chip", test="chi2") is not None
    assert series(text, "ml_feature_mean", model_version="covariate", feature="amount", window="reference") is not None
    assert series(text, "ml_feature_stddev", model_version="covariate", feature="amount", window="current") is not None
    assert series(text, "ml_model_performance", model_version="covariate", metric="roc_auc") is not None
    assert series(text, "ml_drift_prediction_psi", model_version="covariate") is not None
    assert series(text, "ml_model_info", model_version="covariate") == 1
    assert series(text, "ml_model_health_status", model_version="covariate") >= 1
    assert re.search(r"^ml_exporter_redis_up 1", text, re.M)
    assert re.search(r"^ml_exporter_cycle_duration_seconds ", text, re.M)
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("hours", ["abc", "-1", "0", "nan", "10000", ""])
def test_bad_hours_is_a_400_naming_hours(stack, hours):
    exporter, *_ = stack
    status, body = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest?hours={hours}")
    assert status == 400 and "hours" in body["error"]


def test_report_for_another_window_reads_redis(stack):
    exporter, *_ = stack
    status, body = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest?hours=0.5")
    assert status == 200
    assert {m["model_version"] for m in body["models"]} >= {"covariate", "stationary"}
    assert http("GET", f"{exporter.url}/nope")[0] == 404


def test_malformed_entry_is_skipped_and_counted(stack):
    exporter, client, *_ = stack
    keys = layout.Keys("fraud_detector", "stationary")
    client.xadd(keys.predictions, {"n": "3", "ids": "a\nb\nc", "features": b"garbage"})
    wait_for(lambda: (series(scrape(exporter), "ml_exporter_malformed_entries_total", model_version="stationary") or 0) >= 1)
    assert report(exporter, "stationary")["predictions"] == 5000


def test_stale_models_leave_no_series(stack):
    exporter, client, *_ = stack
    Publisher(client, "retired").send(300, seed=9)
    wait_for(lambda: series(scrape(exporter), "ml_drift_psi", model_version="retired") is not None)
    client.srem(layout.models_key(), "fraud_detector/retired")
    wait_for(lambda: "retired" not in scrape(exporter))


def test_redis_outage_and_restart(log_dir):
    """Redis down: redis_up 0, no crash; back: recovers. Exporter restart: same figures from Redis."""
    redis_srv = servers.start_redis(log_dir)
    port, url = redis_srv.port, redis_srv.extra["url"]
    Publisher(redis.Redis.from_url(url), "restart").send(3000, seed=5, scenario="covariate")
    exporter = servers.start_exporter(log_dir, url, env=FAST)
    try:
        before = fresh_report(exporter, "restart", 3000)
        exporter.stop()
        exporter = servers.start_exporter(log_dir, url, env=FAST)
        after = fresh_report(exporter, "restart", 3000)
        for f in FEATURE_NAMES:
            assert after["features"][f]["psi"] == pytest.approx(before["features"][f]["psi"])

        redis_srv.kill()
        wait_for(lambda: re.search(r"^ml_exporter_redis_up 0", scrape(exporter), re.M))
        assert exporter.proc.poll() is None
        assert http("GET", f"{exporter.url}/health")[0] == 503

        redis_srv = servers.start_redis(log_dir, port=port)
        Publisher(redis.Redis.from_url(url), "restart").send(1000, seed=6)
        wait_for(lambda: re.search(r"^ml_exporter_redis_up 1", scrape(exporter), re.M))
        assert http("GET", f"{exporter.url}/health")[0] == 200
    finally:
        exporter.stop()
        redis_srv.stop()
