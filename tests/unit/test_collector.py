"""The snapshot of a pure window and the collector that renders it, each with its own registry (no server)."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from prometheus_client import CollectorRegistry
from sklearn.metrics import roc_auc_score

from contracts import metric_names as names
from contracts.metric_names import CRITICAL, HEALTHY
from contracts.policy import Policy
from exporter.collector import DriftCollector
from exporter.config import Config
from drift.snapshot import compute
from drift.live_window import LiveWindow
from tests.helpers import label_batch, prediction_batch, tiny_profile

PROFILE = tiny_profile(("x", "y"))
PROFILE.metrics["roc_auc"] = 0.83  # what labels drawn as Bernoulli(score) give
POLICY = Policy(min_labelled_samples=100, min_labelled_positives=5)


def filled_window(n: int, x_shift: float = 0.0, label_auc_flip: bool = False, seed: int = 0) -> LiveWindow:
    """A window of n predictions whose labels follow the score (or its opposite, for a model gone bad)."""
    rng = np.random.default_rng(seed)
    w = LiveWindow(PROFILE, 3600, 60)
    x = np.column_stack([rng.normal(x_shift, 1, n), rng.normal(0, 1, n)])
    scores = rng.uniform(size=n)
    ids = [f"t{i}" for i in range(n)]
    w.add_predictions([(prediction_batch(ids, x, scores), 1.0)])
    labels = (rng.uniform(size=n) < (1 - scores if label_auc_flip else scores)).astype(int)
    w.add_labels([(label_batch(ids, labels.tolist()), 2.0)])
    return w


class FakeMonitor:
    """What the collector reads from the monitor: its snapshots and its own health."""

    def __init__(self, snapshots: dict) -> None:
        self.snapshots, self.redis_up, self.last_cycle_seconds, self.last_success = snapshots, True, 0.01, 1234.0
        self.lock = threading.Lock()


def registry_of(*windows: LiveWindow) -> CollectorRegistry:
    registry = CollectorRegistry()
    snaps = {f"m/{i}": compute(w, POLICY, now=10.0) for i, w in enumerate(windows)}
    for i, snap in enumerate(snaps.values()):
        snap.model_version = str(i)
    registry.register(DriftCollector(FakeMonitor(snaps)))
    return registry


def test_a_small_window_reports_its_size_and_no_drift_series():
    registry = registry_of(filled_window(POLICY.min_window_samples - 1))
    model = {"model_name": "m", "model_version": "0"}
    assert registry.get_sample_value(names.WINDOW_SAMPLES, {**model, "kind": "predictions"}) == POLICY.min_window_samples - 1
    assert registry.get_sample_value(names.DRIFT_PSI, {**model, "feature": "x"}) is None
    assert registry.get_sample_value(names.MODEL_HEALTH_STATUS, model) == HEALTHY


def test_drift_series_follow_the_snapshot_and_only_the_shifted_feature_is_flagged():
    w = filled_window(5000, x_shift=0.5)
    snap = compute(w, POLICY, now=10.0)
    registry = registry_of(w)
    model = {"model_name": "m", "model_version": "0"}
    for feature in ("x", "y"):
        labels = {**model, "feature": feature}
        assert registry.get_sample_value(names.DRIFT_PSI, labels) == snap.features[feature].psi
        assert registry.get_sample_value(names.DRIFT_KS_STATISTIC, labels) == snap.features[feature].ks_statistic
        assert registry.get_sample_value(names.FEATURE_MEAN, {**labels, "window": "current"}) == pytest.approx(
            0.5 if feature == "x" else 0.0, abs=0.05)
    assert registry.get_sample_value(names.DRIFT_DETECTED, {**model, "feature": "x"}) == 1
    assert registry.get_sample_value(names.DRIFT_DETECTED, {**model, "feature": "y"}) == 0
    assert registry.get_sample_value(names.ATTRIBUTION_RATIO, {**model, "feature": "x"}) == 1.0
    assert registry.get_sample_value(names.EXPORTER_REDIS_UP, {}) == 1


def test_performance_equals_sklearn_and_a_model_gone_bad_is_critical():
    good, bad = filled_window(3000, seed=1), filled_window(3000, label_auc_flip=True, seed=2)
    registry = registry_of(good, bad)
    labels, scores = good.labelled()
    auc = registry.get_sample_value(names.MODEL_PERFORMANCE, {"model_name": "m", "model_version": "0", "metric": "roc_auc"})
    assert auc == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert registry.get_sample_value(names.MODEL_HEALTH_STATUS, {"model_name": "m", "model_version": "0"}) == HEALTHY
    assert registry.get_sample_value(names.MODEL_HEALTH_STATUS, {"model_name": "m", "model_version": "1"}) == CRITICAL


def test_the_exporter_reads_its_policy_from_the_environment():
    assert Config.from_env({"MIN_WINDOW_SAMPLES": "5", "EXPORTER_PORT": "9999"}).policy.min_window_samples == 5
