"""The exporter's champion/challenger comparison with a real redis-server and exporter: shadow (paired) and A/B
(unpaired) figures equal the comparison computed here from what was published; the series pass promtool."""
from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest
import redis
from sklearn.metrics import roc_auc_score

from contracts import model_versions as versions
from drift_client import redis_layout as layout
from drift.comparison import compare_paired, compare_unpaired
from scripts import servers
from tests.helpers import http, series, wait_for

pytestmark = pytest.mark.integration
MODEL = "cmp_model"


@pytest.fixture(scope="module")
def setup(log_dir, redis_server):
    client = redis.Redis.from_url(redis_server.extra["url"])
    env = {"MONITORING_INTERVAL": "0.5", "PROMOTION_MIN_LABELLED": "500", "PROMOTION_MIN_POSITIVES": "20"}
    with servers.start_exporter(log_dir, redis_server.extra["url"], env=env) as exporter:
        yield client, exporter
    for key in client.scan_iter(f"{layout.DEFAULT_PREFIX}:{MODEL}:*"):
        client.delete(key)


def publish(client, version: str, ids: list[str], scores: np.ndarray, labels: np.ndarray | None) -> None:
    keys = layout.Keys(MODEL, version)
    n = len(ids)
    now = time.time()
    client.xadd(keys.predictions, layout.encode_predictions(layout.PredictionBatch(
        ids, np.full(n, now), np.zeros((n, 2), np.float32), np.asarray(scores, np.float32))))
    if labels is not None:
        client.xadd(keys.labels, layout.encode_labels(layout.LabelBatch(ids, np.full(n, now), labels.astype(np.uint8))))


def simulate(n: int, seed: int):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(np.uint8)
    noise = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=n)
    champion = 1 / (1 + np.exp(-(noise[:, 0] + 1.0 * y)))
    challenger = 1 / (1 + np.exp(-(noise[:, 1] + 1.8 * y)))
    return y, champion.astype(np.float32), challenger.astype(np.float32)


def comparison_of(exporter) -> dict | None:
    models = http("GET", f"{exporter.url}/api/v1/monitoring/comparison")[1]["models"]
    return next((m for m in models if m["model_name"] == MODEL), None)


def test_shadow_comparison_is_paired_on_the_common_transactions(setup):
    client, exporter = setup
    y, a, b = simulate(3000, 1)
    ids = [f"s{i}" for i in range(3000)]
    publish(client, "v1", ids, a, y)
    publish(client, "v2", ids[:2500], b[:2500], y[:2500])  # the challenger missed 500 (started later)
    versions.save(client, MODEL, versions.VersionsState("v1", "v2", "shadow", 0.0, ("v1", "v2")))
    expected = compare_paired(y[:2500], a[:2500], b[:2500])
    got = wait_for(lambda: (c := comparison_of(exporter)) and c["mode"] == "shadow" and c["n_a"] == 2500 and c)
    assert got["paired"] and got["roc_auc_a"] == pytest.approx(roc_auc_score(y[:2500], a[:2500]), abs=1e-6)
    assert got["roc_auc_difference"] == pytest.approx(expected.roc_auc_difference, abs=1e-6)
    assert got["ci_lower"] == pytest.approx(expected.ci_lower, abs=1e-6)
    assert got["p_value"] == pytest.approx(expected.p_value, rel=1e-3, abs=1e-12)
    assert got["challenger_wins"] is True
    metrics = http("GET", f"{exporter.url}/metrics")[1]
    pair = {"model_name": MODEL, "champion": "v1", "challenger": "v2", "mode": "shadow"}
    assert series(metrics, "ml_model_comparison_difference", **pair, metric="roc_auc") == pytest.approx(expected.roc_auc_difference, abs=1e-6)
    assert series(metrics, "ml_model_comparison_challenger_wins", **pair) == 1.0
    assert series(metrics, "ml_model_version_role", model_name=MODEL, model_version="v2", role="challenger") == 1.0
    assert series(metrics, "ml_model_comparison_labelled_samples", model_name=MODEL, model_version="v1", role="champion") == 2500
    check = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_ab_comparison_is_unpaired_on_each_arms_traffic(setup):
    client, exporter = setup
    y, a, b = simulate(4000, 2)
    arm_b = np.array([versions.answers_challenger(f"ab{i}", 0.3) for i in range(4000)])
    ids = np.array([f"ab{i}" for i in range(4000)])
    publish(client, "v3", list(ids[~arm_b]), a[~arm_b], y[~arm_b])
    publish(client, "v4", list(ids[arm_b]), b[arm_b], y[arm_b])
    versions.save(client, MODEL, versions.VersionsState("v3", "v4", "ab", 0.3, ("v1", "v2", "v3", "v4")))
    expected = compare_unpaired(y[~arm_b], a[~arm_b], y[arm_b], b[arm_b])
    got = wait_for(lambda: (c := comparison_of(exporter)) and c["mode"] == "ab" and c)
    assert not got["paired"] and (got["n_a"], got["n_b"]) == (int((~arm_b).sum()), int(arm_b.sum()))
    assert got["roc_auc_difference_stderr"] == pytest.approx(expected.roc_auc_difference_stderr, rel=1e-6)
    metrics = http("GET", f"{exporter.url}/metrics")[1]
    assert series(metrics, "ml_model_ab_share", model_name=MODEL) == 0.3


def test_no_challenger_no_comparison(setup):
    client, exporter = setup
    versions.save(client, MODEL, versions.VersionsState("v1", None, "off", 0.0, ("v1", "v2")))
    assert wait_for(lambda: comparison_of(exporter) is None)
    metrics = http("GET", f"{exporter.url}/metrics")[1]
    assert series(metrics, "ml_model_version_role", model_name=MODEL, model_version="v1", role="champion") == 1.0
    assert series(metrics, "ml_model_comparison_difference", model_name=MODEL) is None
