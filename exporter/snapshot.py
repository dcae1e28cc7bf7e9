"""One model's figures for the current window: what the collector exposes and the report returns."""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from contracts.reference_profile import SCORE
from exporter import rules
from exporter.config import Config
from exporter.stats import attribution, psi
from exporter.windows import ModelWindow
from transactions.quality import classification_metrics


@dataclass
class FeatureDrift:
    psi: float
    ks_statistic: float
    ks_pvalue: float
    drifted: bool
    attribution: float
    reference_mean: float
    reference_std: float
    current_mean: float
    current_std: float


@dataclass
class ModelSnapshot:
    model_name: str
    model_version: str
    trained_at: str
    computed_at: float
    window_hours: float
    predictions: int
    labels: int
    enough_samples: bool
    features: dict[str, FeatureDrift] = field(default_factory=dict)
    prediction_drift: dict[str, float | bool] = field(default_factory=dict)
    performance: dict[str, float] = field(default_factory=dict)
    reference_performance: dict[str, float] = field(default_factory=dict)
    prediction_positive_ratio: float = math.nan
    label_positive_ratio: float = math.nan
    health_status: int = 0
    skipped_rows: int = 0
    malformed_entries: int = 0

    def as_dict(self) -> dict:
        return _json_safe(asdict(self))


def compute(window: ModelWindow, config: Config, now: float | None = None) -> ModelSnapshot:
    """Every figure of DESIGN.md for one window (drift figures only when it holds enough samples)."""
    profile, state = window.profile, window.state
    labels, scores = window.labelled()
    snap = ModelSnapshot(
        model_name=profile.model_name, model_version=profile.model_version, trained_at=profile.trained_at,
        computed_at=now or time.time(), window_hours=window.window_seconds / 3600,
        predictions=state.predictions, labels=len(labels), enough_samples=state.predictions >= config.min_window_samples,
        reference_performance=dict(profile.metrics), skipped_rows=state.skipped_rows, malformed_entries=window.malformed,
    )
    if state.predictions:
        snap.prediction_positive_ratio = state.predicted_positive / state.predictions
    if len(labels):
        snap.label_positive_ratio = float(labels.mean())
    if len(labels) >= config.min_labelled_samples and labels.sum() >= config.min_labelled_positives:
        snap.performance = classification_metrics(labels, scores, profile.threshold, sorted_by_score=True)
    if not snap.enough_samples:
        return snap

    tests = {}
    for name, counter, counts in zip(window.columns, window.counters, state.columns):
        d, p = counter.ks.test(counts.slots)
        tests[name] = (psi(counter.proportions, counts.bins), d, p, counts)
    flags = {f: rules.drifted(*tests[f][:3], config) for f in profile.features}
    shares = attribution({f: tests[f][0] for f in profile.features}, profile.importance, flags)
    means, stds = window.moments()
    for i, f in enumerate(profile.features):
        value, d, p, counts = tests[f]
        mean, std = float(means[i]), float(stds[i])
        snap.features[f] = FeatureDrift(value, d, p, flags[f], shares[f], profile.means[f], profile.stds[f], mean, std)
    score_psi, score_d, score_p, _ = tests[SCORE]
    score_drifted = rules.drifted(score_psi, score_d, score_p, config, tests=1)
    snap.prediction_drift = {"psi": score_psi, "ks_statistic": score_d, "ks_pvalue": score_p, "drifted": score_drifted}
    degraded = bool(snap.performance) and rules.performance_dropped(snap.performance, profile.metrics, config)
    snap.health_status = rules.health_status({f: t[0] for f, t in tests.items() if f != SCORE}, flags, score_drifted, degraded, config)
    return snap


def _json_safe(value):
    """NaN and infinities become null (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return _json_safe(value.item())
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value
