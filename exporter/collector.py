"""A prometheus_client custom collector: renders the latest snapshots at scrape time.

Only models and features present in the latest cycle are exported, so a model whose
samples left Redis leaves no stale series behind. Drift series are omitted for a window
with fewer than MIN_WINDOW_SAMPLES predictions (`ml_window_samples` says why).
"""
from __future__ import annotations

import math
from typing import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from contracts import metric_names as names
from exporter.monitor import Monitor

# The families each part of collect() fills, in the order they are exposed.
LIVE_WINDOW = (
    names.DRIFT_PSI,
    names.DRIFT_KS_STATISTIC,
    names.DRIFT_KS_PVALUE,
    names.DRIFT_DETECTED,
    names.DRIFT_TEST_STATISTIC,
    names.DRIFT_TEST_PVALUE,
    names.DRIFT_TEST_DETECTED,
    names.FEATURE_UNSEEN_RATIO,
    names.DRIFT_TEST_NEG_LOG10_PVALUE,
    names.FEATURE_MISSING_RATIO,
    names.FEATURE_OUT_OF_RANGE_RATIO,
    names.DATA_QUALITY_DETECTED,
    names.ATTRIBUTION_RATIO,
    names.FEATURE_MEAN,
    names.FEATURE_STDDEV,
    names.PREDICTION_PSI,
    names.PREDICTION_KS_STATISTIC,
    names.PREDICTION_KS_PVALUE,
    names.PREDICTION_DRIFT_DETECTED,
    names.MODEL_PERFORMANCE,
    names.MODEL_ESTIMATED_PERFORMANCE,
    names.MODEL_ESTIMATED_PERFORMANCE_INTERVAL,
    names.MODEL_ESTIMATION_GAP,
    names.MODEL_REFERENCE_PERFORMANCE,
    names.MODEL_REFERENCE_PERFORMANCE_LOWER_BOUND,
    names.PREDICTION_POSITIVE_RATIO,
    names.LABEL_POSITIVE_RATIO,
    names.WINDOW_SAMPLES,
    names.MODEL_HEALTH_STATUS,
    names.MODEL_INFO,
    names.PREDICTION_CLASS_RATIO,
)
SPANS = (names.SPAN_DRIFT_DETECTED, names.SPAN_DRIFT_SIGNIFICANT, names.SPAN_DRIFT_TEST_STATISTIC, names.SPAN_DRIFT_PSI,
         names.SPAN_PREDICTION_DRIFT_DETECTED, names.SPAN_SAMPLES)


def family(name: str) -> GaugeMetricFamily | CounterMetricFamily:
    """An empty family with the name, type, help, labels and unit the metric table (contracts/metric_names.py) gives."""
    s = names.spec(name)
    kind = CounterMetricFamily if s.type == names.COUNTER else GaugeMetricFamily
    return kind(s.family, s.help, labels=list(s.labels), unit=s.unit)


class DriftCollector(Collector):
    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterable:
        if hasattr(self.monitor, "exported"):  # one ownership for the whole scrape (exporter replicas)
            owned, snapshots, span_view = self.monitor.exported()
        else:
            owned, snapshots, span_view = None, self.monitor.snapshots, getattr(self.monitor, "span_snapshots", {})
        snaps = list(snapshots.values())
        fam = {name: family(name) for name in LIVE_WINDOW}
        malformed = family(names.EXPORTER_MALFORMED_ENTRIES)
        refused = family(names.EXPORTER_SCHEMA_MISMATCH)
        for s in snaps:
            model = [s.model_name, s.model_version]
            fam[names.WINDOW_SAMPLES].add_metric([*model, "predictions"], s.predictions)
            fam[names.WINDOW_SAMPLES].add_metric([*model, "labels"], s.labels)
            if s.health_status is not None:  # absent while not judged: never healthy by default (DriftNotJudged says why)
                fam[names.MODEL_HEALTH_STATUS].add_metric(model, s.health_status)
            for reason in ("width", "fingerprint"):
                refused.add_metric([*model, reason], s.refused_batches.get(reason, 0))
            fam[names.MODEL_INFO].add_metric([*model, s.trained_at, s.task], 1)
            for cls, share in s.prediction_class_ratio.items():
                if not math.isnan(share):
                    fam[names.PREDICTION_CLASS_RATIO].add_metric([*model, cls], share)
            malformed.add_metric(model, s.malformed_entries + s.skipped_rows)
            for metric, value in s.reference_performance.items():
                fam[names.MODEL_REFERENCE_PERFORMANCE].add_metric([*model, metric], value)
            for metric, value in s.reference_performance_lower_bound.items():
                fam[names.MODEL_REFERENCE_PERFORMANCE_LOWER_BOUND].add_metric([*model, metric], value)
            for metric, value in s.performance.items():
                fam[names.MODEL_PERFORMANCE].add_metric([*model, metric], value)
            for metric, value in s.estimated_performance.items():
                fam[names.MODEL_ESTIMATED_PERFORMANCE].add_metric([*model, metric], value)
                for bound, limit in s.estimated_performance_interval[metric].items():
                    fam[names.MODEL_ESTIMATED_PERFORMANCE_INTERVAL].add_metric([*model, metric, bound], limit)
            for metric, value in s.estimated_performance_gap.items():
                fam[names.MODEL_ESTIMATION_GAP].add_metric([*model, metric], value)
            if not math.isnan(s.prediction_positive_ratio):  # binary models only (drift_client.tasks)
                fam[names.PREDICTION_POSITIVE_RATIO].add_metric(model, s.prediction_positive_ratio)
            if not math.isnan(s.label_positive_ratio):
                fam[names.LABEL_POSITIVE_RATIO].add_metric(model, s.label_positive_ratio)
            for feature, f in s.features.items():
                labels = [*model, feature]
                fam[names.DRIFT_PSI].add_metric(labels, f.psi)
                if not math.isnan(f.ks_statistic):
                    fam[names.DRIFT_KS_STATISTIC].add_metric(labels, f.ks_statistic)
                    fam[names.DRIFT_KS_PVALUE].add_metric(labels, f.ks_pvalue)
                for test, figures in f.tests.items():
                    fam[names.DRIFT_TEST_STATISTIC].add_metric([*labels, test], figures.statistic)
                    if not math.isnan(figures.pvalue):
                        fam[names.DRIFT_TEST_PVALUE].add_metric([*labels, test], figures.pvalue)
                        fam[names.DRIFT_TEST_NEG_LOG10_PVALUE].add_metric([*labels, test], figures.neg_log10_pvalue)
                    fam[names.DRIFT_TEST_DETECTED].add_metric([*labels, test], 1.0 if figures.drifted else 0.0)
                if not math.isnan(f.unseen_ratio):
                    fam[names.FEATURE_UNSEEN_RATIO].add_metric(labels, f.unseen_ratio)
                if not math.isnan(f.missing_ratio):
                    fam[names.FEATURE_MISSING_RATIO].add_metric(labels, f.missing_ratio)
                for side, ratio in (("below", f.below_range_ratio), ("above", f.above_range_ratio)):
                    if not math.isnan(ratio):
                        fam[names.FEATURE_OUT_OF_RANGE_RATIO].add_metric([*labels, side], ratio)
                for check, flagged in f.quality.items():
                    fam[names.DATA_QUALITY_DETECTED].add_metric([*labels, check], 1.0 if flagged else 0.0)
                fam[names.DRIFT_DETECTED].add_metric(labels, 1.0 if f.drifted else 0.0)
                fam[names.ATTRIBUTION_RATIO].add_metric(labels, f.attribution)
                if f.kind != "categorical":  # no mean of category codes (docs/design.md, "Metrics")
                    fam[names.FEATURE_MEAN].add_metric([*labels, "reference"], f.reference_mean)
                    fam[names.FEATURE_MEAN].add_metric([*labels, "current"], f.current_mean)
                    fam[names.FEATURE_STDDEV].add_metric([*labels, "reference"], f.reference_std)
                    fam[names.FEATURE_STDDEV].add_metric([*labels, "current"], f.current_std)
            if s.prediction_drift:
                fam[names.PREDICTION_PSI].add_metric(model, s.prediction_drift["psi"])
                if "ks_statistic" in s.prediction_drift:  # a multiclass model's classes are judged by chi-square
                    fam[names.PREDICTION_KS_STATISTIC].add_metric(model, s.prediction_drift["ks_statistic"])
                    fam[names.PREDICTION_KS_PVALUE].add_metric(model, s.prediction_drift["ks_pvalue"])
                fam[names.PREDICTION_DRIFT_DETECTED].add_metric(model, 1.0 if s.prediction_drift["drifted"] else 0.0)
        yield from fam.values()
        yield from self._spans(span_view)
        yield malformed
        yield refused
        yield from self._own_health()
        yield from self._leases(owned)

    def _spans(self, span_view: dict) -> Iterable:
        """The judged windows' figures, label `span` (exporter.spans)."""
        fam = {name: family(name) for name in SPANS}
        for spans in list(span_view.values()):
            for name, s in spans.items():
                model = [s.model_name, s.model_version]
                fam[names.SPAN_SAMPLES].add_metric([*model, name], s.predictions)
                if s.prediction_drift:
                    drifted = 1.0 if s.prediction_drift["drifted"] else 0.0
                    fam[names.SPAN_PREDICTION_DRIFT_DETECTED].add_metric([*model, name], drifted)
                for feature, f in s.features.items():
                    fam[names.SPAN_DRIFT_DETECTED].add_metric([*model, feature, name], 1.0 if f.drifted else 0.0)
                    fam[names.SPAN_DRIFT_SIGNIFICANT].add_metric([*model, feature, name], 1.0 if f.significant else 0.0)
                    fam[names.SPAN_DRIFT_PSI].add_metric([*model, feature, name], f.psi)
                    for test, figures in f.tests.items():
                        fam[names.SPAN_DRIFT_TEST_STATISTIC].add_metric([*model, feature, test, name], figures.statistic)
        yield from fam.values()

    def _own_health(self) -> Iterable:
        m = self.monitor
        up = family(names.EXPORTER_REDIS_UP)
        up.add_metric([], 1.0 if m.redis_up else 0.0)
        duration = family(names.EXPORTER_CYCLE_DURATION)
        duration.add_metric([], m.last_cycle_seconds)
        last = family(names.EXPORTER_LAST_SUCCESS)
        last.add_metric([], m.last_success)
        yield from (up, duration, last)

    def _leases(self, owned: set[str] | None) -> Iterable:
        """Which versions this replica judges (exporter.leases): 1 owned, 0 seen but judged elsewhere or by nobody."""
        owned_family, changes, replicas = (family(n) for n in (names.EXPORTER_LEASE_OWNED, names.EXPORTER_LEASE_CHANGES,
                                                                names.EXPORTER_REPLICAS))
        leases = getattr(self.monitor, "leases", None)
        if leases is not None and owned is not None:
            for member in sorted(set(self.monitor.members) | owned):
                name, _, version = member.partition("/")
                owned_family.add_metric([name, version, leases.replica], 1.0 if member in owned else 0.0)
            for change, count in leases.changes.items():
                changes.add_metric([leases.replica, change], count)
            replicas.add_metric([leases.replica], getattr(self.monitor, "replicas", 1))
        yield from (owned_family, changes, replicas)
