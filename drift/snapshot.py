"""One model's figures for the current window: what the collector exposes and the report returns."""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from drift_client.reference_profile import SCORE
from contracts.policy import Policy
from drift_client.tasks import BINARY, MULTICLASS, REGRESSION, task_of
from drift.detectors import FeatureVerdict, ModelDetectors, TestResult, health_status, performance_dropped
from drift.stats import attribution, mean_std
from drift.counts import ColumnCounts, ColumnReference
from drift.window import Window
from drift.performance import (classification_metrics, log_loss_of_true_class, multiclass_metrics, regression_metrics,
                               task_performance_dropped)


@dataclass
class TestFigures:
    """One drift test's figures for one feature."""

    statistic: float
    pvalue: float
    effect: float
    drifted: bool
    neg_log10_pvalue: float = math.nan  # finite where the p-value underflows


@dataclass
class FeatureDrift:
    psi: float
    ks_statistic: float  # nan where KS is not one of the feature's tests
    ks_pvalue: float
    drifted: bool
    attribution: float
    reference_mean: float
    reference_std: float
    current_mean: float
    current_std: float
    kind: str = "numeric"
    tests: dict[str, TestFigures] = field(default_factory=dict)
    unseen_ratio: float = math.nan  # categorical: share of the window's values never seen in training
    missing_ratio: float = math.nan  # share of the window's values that were missing (NaN or infinite)
    below_range_ratio: float = math.nan  # share of the present values under the training minimum ...
    above_range_ratio: float = math.nan  # ... and over the training maximum
    quality: dict[str, bool] = field(default_factory=dict)  # check (missing, out_of_range) -> flagged
    significant: bool = False  # a p-value test is significant after correction, whatever the effect's size


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
    reference_performance_lower_bound: dict[str, float] = field(default_factory=dict)
    estimated_performance: dict[str, float] = field(default_factory=dict)  # no labels needed
    estimated_performance_interval: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> lower/upper
    estimated_performance_gap: dict[str, float] = field(default_factory=dict)  # realized - estimated
    prediction_positive_ratio: float = math.nan
    label_positive_ratio: float = math.nan
    # None while the window is not judged (too few predictions, none at all, or a publisher's schema refused):
    # never 0 (healthy) for a version nobody judged; `not_judged_reason` says why (docs/design.md, "Not judged")
    health_status: int | None = None
    judged: bool = False
    not_judged_reason: str = ""
    refused_batches: dict[str, int] = field(default_factory=dict)  # reason -> prediction batches refused (schema)
    skipped_rows: int = 0
    malformed_entries: int = 0
    task: str = BINARY  # drift_client.tasks: which of the figures above exist
    prediction_class_ratio: dict[str, float] = field(default_factory=dict)  # multiclass: share predicted per class

    def as_dict(self) -> dict:
        return _json_safe(asdict(self))


def compute(window: Window, policy: Policy, now: float | None = None, malformed_entries: int = 0,
            detectors: ModelDetectors | None = None, refused: str = "") -> ModelSnapshot:
    """Every figure of one window (drift figures only when it holds at least min_window_samples predictions).

    `window` is any `drift.window.Window`: the exporter's live window, merged minute profiles, or an offline `Tally`.
    `refused`: why the stream's batches were refused within the window ("schema_mismatch"), if they were: the
    version is then not judged, whatever the rest of its window holds.
    """
    profile = window.profile
    labels, scores = window.labelled()
    snap = ModelSnapshot(
        model_name=profile.model_name, model_version=profile.model_version, trained_at=profile.trained_at,
        computed_at=now or time.time(), window_hours=window.window_seconds / 3600,
        predictions=window.predictions, labels=len(labels), enough_samples=window.predictions >= policy.min_window_samples,
        reference_performance=dict(profile.metrics),
        reference_performance_lower_bound={m: profile.metric_lower_bound(m) for m in profile.metrics},
        skipped_rows=window.skipped_rows, malformed_entries=malformed_entries, task=profile.task,
    )
    task = task_of(profile.task)
    scored = SCORE in window.columns  # an offline report of input data alone has no score column
    if task.positive_ratio and window.predictions:
        snap.prediction_positive_ratio = window.predicted_positive / window.predictions
    if task.positive_ratio and len(labels):
        snap.label_positive_ratio = float(labels.mean())
    snap.performance = realized_performance(profile.task, labels, scores, profile.threshold, policy,
                                            _true_class(window, len(labels)))
    if scored and profile.task == MULTICLASS and window.predictions:
        snap.prediction_class_ratio = class_ratio(profile.classes, *window.column(SCORE))
    if refused:
        snap.not_judged_reason = refused
        return snap
    if not snap.enough_samples:
        snap.not_judged_reason = "too_few_samples"
        return snap
    snap.judged = True
    if scored and task.estimates:
        _add_estimate(snap, window)

    detectors = detectors or ModelDetectors(profile.model_name, profile.model_schema, policy)
    verdicts = detectors.judge({f: window.column(f) for f in profile.features})
    flags = {f: v.drifted for f, v in verdicts.items()}
    shares = attribution({f: v.psi for f, v in verdicts.items()}, profile.importance, flags)
    for name, verdict in verdicts.items():
        reference, counts = window.column(name)
        snap.features[name] = feature_drift(verdict, reference, counts, profile.means[name], profile.stds[name], shares[name])
    score_drifted = False
    if scored:
        score = detectors.judge_score(*window.column(SCORE))
        score_drifted = score.drifted
        test = "chi2" if profile.task == MULTICLASS else "ks"  # predicted classes are counts, predictions values
        snap.prediction_drift = {"psi": score.psi, f"{test}_statistic": score.results[test].statistic,
                                 f"{test}_pvalue": score.results[test].pvalue, "drifted": score.drifted}
    degraded = bool(snap.performance) and (
        performance_dropped(snap.performance, snap.reference_performance_lower_bound, policy) if profile.task == BINARY
        else bool(task_performance_dropped(profile.task, snap.performance, snap.reference_performance, policy)))
    counted_psi = {f: v.psi for f, v in verdicts.items() if v.psi_counts}  # PSI alone on a small window is noise
    snap.health_status = health_status(counted_psi, flags, score_drifted, degraded, policy,
                                       {f: v.quality_flagged for f, v in verdicts.items()},
                                       {f: v.all_missing for f, v in verdicts.items()})
    return snap


def _true_class(window, n: int) -> np.ndarray | None:
    """The window's true-class probabilities of its labelled predictions (multiclass), when every one has one."""
    read = getattr(window, "labelled_true_class_probabilities", None)  # a Tally or stored minutes have none
    values = read() if read else None
    return values if values is not None and len(values) == n and n and np.isfinite(values).all() else None


def realized_performance(task: str, labels: np.ndarray, scores: np.ndarray, threshold: float,
                         policy: Policy, true_class: np.ndarray | None = None) -> dict[str, float]:
    """The task's performance over the labelled predictions (labels and scores in ascending score order), once there
    are min_labelled_samples of them (and min_labelled_positives for a binary model). A multiclass model's log loss
    needs the probability it gave each true class (`true_class`): with a prediction logged as a bare class, none."""
    if len(labels) < policy.min_labelled_samples:
        return {}
    if task == REGRESSION:
        return regression_metrics(labels, scores)
    if task == MULTICLASS:
        found = multiclass_metrics(labels, scores)
        if true_class is not None:
            found["log_loss"] = log_loss_of_true_class(true_class)
        return found
    if labels.sum() < policy.min_labelled_positives:
        return {}
    return classification_metrics(labels, scores, threshold, sorted_by_score=True)


def class_ratio(classes: list[str], reference: ColumnReference, counts: ColumnCounts) -> dict[str, float]:
    """Share of the window's predictions per class (the score column's per-class bins; unseen indices last)."""
    return {name: float(c / counts.n) if counts.n else math.nan
            for name, c in zip(reference.spec.labels(), counts.bins)}


def feature_drift(verdict: FeatureVerdict, reference: ColumnReference, counts: ColumnCounts, reference_mean: float,
                  reference_std: float, attribution_share: float) -> FeatureDrift:
    mean, std = mean_std(counts.total, counts.total_sq, counts.n)
    ks = verdict.results.get("ks", TestResult(math.nan))
    tests = {name: TestFigures(r.statistic, r.pvalue, r.effect, name in verdict.flagged_by, r.neg_log10_pvalue)
             for name, r in verdict.results.items()}
    unseen = float(counts.bins[-1] / counts.n) if reference.spec.is_categorical and counts.n else math.nan
    quality = {check: c.flagged for check, c in verdict.quality.items()}
    quality["missing"] = quality.get("missing", False) or verdict.all_missing
    below = counts.below / counts.n if counts.n else math.nan
    above = counts.above / counts.n if counts.n else math.nan
    if reference.spec.is_categorical:
        # a category's code is a name, not a quantity: no mean or spread of codes, and a code past the training
        # categories is an unseen value (unseen_ratio), not "out of range" (docs/design.md, "Categorical features")
        reference_mean = reference_std = mean = std = below = above = math.nan
    return FeatureDrift(verdict.psi, ks.statistic, ks.pvalue, verdict.drifted, attribution_share, reference_mean,
                        reference_std, mean, std, reference.spec.kind, tests, unseen,
                        counts.missing / counts.seen if counts.seen else math.nan, below, above,
                        quality, bool(verdict.significant_by))


def _add_estimate(snap: ModelSnapshot, window: Window) -> None:
    """Estimated performance of the window's predictions and, where labels give the realized figure, the gap."""
    found = window.score_counts.estimate()
    for metric, value in found.metrics.items():
        if math.isfinite(value):
            snap.estimated_performance[metric] = value
            snap.estimated_performance_interval[metric] = {
                "lower": found.lower[metric], "upper": found.upper[metric],  # sampling only: what the alert reads
                "total_lower": found.total_lower[metric], "total_upper": found.total_upper[metric]}  # and the calibrator's error
            if metric in snap.performance and math.isfinite(snap.performance[metric]):
                snap.estimated_performance_gap[metric] = snap.performance[metric] - value


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
