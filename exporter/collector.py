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

MODEL = ["model_name", "model_version"]


def _gauge(name: str, doc: str, labels: list[str] | None = None, unit: str = "") -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=[*MODEL, *(labels or [])], unit=unit)


class DriftCollector(Collector):
    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterable:
        if hasattr(self.monitor, "exported"):  # one ownership for the whole scrape (exporter replicas)
            owned, snapshots, span_view = self.monitor.exported()
        else:
            owned, snapshots, span_view = None, self.monitor.snapshots, getattr(self.monitor, "span_snapshots", {})
        snaps = list(snapshots.values())
        fam = {
            "psi": _gauge(names.DRIFT_PSI, "PSI of the current window against the reference bins", ["feature"]),
            "ks_d": _gauge(names.DRIFT_KS_STATISTIC, "Two-sample KS statistic D against the reference sample", ["feature"]),
            "ks_p": _gauge(names.DRIFT_KS_PVALUE, "Two-sample KS p-value (uncorrected; the rule divides its level by the number of features judged)", ["feature"]),
            "detected": _gauge(names.DRIFT_DETECTED, "1 if any of the feature's drift tests flags it", ["feature"]),
            "test_stat": _gauge(names.DRIFT_TEST_STATISTIC, "Statistic of each drift test of the feature", ["feature", "test"]),
            "test_p": _gauge(names.DRIFT_TEST_PVALUE, "p-value of each drift test that has one (uncorrected)", ["feature", "test"]),
            "test_detected": _gauge(names.DRIFT_TEST_DETECTED, "1 if this drift test flags the feature", ["feature", "test"]),
            "unseen": _gauge(names.FEATURE_UNSEEN_RATIO, "Share of a categorical feature's values never seen in training", ["feature"]),
            "test_logp": _gauge(names.DRIFT_TEST_NEG_LOG10_PVALUE, "-log10 of the p-value of each drift test that has one", ["feature", "test"]),
            "missing": _gauge(names.FEATURE_MISSING_RATIO, "Share of the feature's values in the window that were missing", ["feature"]),
            "out_of_range": _gauge(names.FEATURE_OUT_OF_RANGE_RATIO, "Share of the feature's values outside the training range", ["feature", "side"]),
            "quality": _gauge(names.DATA_QUALITY_DETECTED, "1 if the data-quality check flags the feature", ["feature", "check"]),
            "attr": _gauge(names.ATTRIBUTION_RATIO, "Share of the drift impact (importance x PSI) owed to the feature", ["feature"]),
            "mean": _gauge(names.FEATURE_MEAN, "Feature mean in the reference or the current window", ["feature", "window"]),
            "std": _gauge(names.FEATURE_STDDEV, "Feature standard deviation in the reference or the current window", ["feature", "window"]),
            "pred_psi": _gauge(names.PREDICTION_PSI, "PSI of the score distribution (prediction drift)"),
            "pred_d": _gauge(names.PREDICTION_KS_STATISTIC, "KS statistic of the score distribution"),
            "pred_p": _gauge(names.PREDICTION_KS_PVALUE, "KS p-value of the score distribution"),
            "pred_detected": _gauge(names.PREDICTION_DRIFT_DETECTED, "1 if the drift rule (uncorrected: one test) flags the score distribution"),
            "perf": _gauge(names.MODEL_PERFORMANCE, "Performance over the labelled predictions in the window", ["metric"]),
            "est_perf": _gauge(names.MODEL_ESTIMATED_PERFORMANCE,
                               "Performance estimated from the window's calibrated scores without labels (CBPE)", ["metric"]),
            "est_bound": _gauge(names.MODEL_ESTIMATED_PERFORMANCE_INTERVAL,
                                "95% sampling interval of the realized metric around the estimate (parametric bootstrap)",
                                ["metric", "bound"]),
            "est_gap": _gauge(names.MODEL_ESTIMATION_GAP, "Realized minus estimated performance (labelled window)", ["metric"]),
            "ref_perf": _gauge(names.MODEL_REFERENCE_PERFORMANCE, "Performance on the training test split", ["metric"]),
            "ref_perf_lower": _gauge(names.MODEL_REFERENCE_PERFORMANCE_LOWER_BOUND,
                                     "Lower end of the 95% confidence interval of the test-split performance", ["metric"]),
            "pred_pos": _gauge(names.PREDICTION_POSITIVE_RATIO, "Share of predictions at or above the decision threshold"),
            "label_pos": _gauge(names.LABEL_POSITIVE_RATIO, "Share of fraud among the labels received for the window"),
            "samples": _gauge(names.WINDOW_SAMPLES, "Samples in the current window", ["kind"]),
            "health": _gauge(names.MODEL_HEALTH_STATUS, "0 healthy, 1 warning, 2 critical"),
            "info": _gauge(names.MODEL_INFO, "Model metadata; always 1", ["trained_at"]),
        }
        malformed = CounterMetricFamily(names.EXPORTER_MALFORMED_ENTRIES.removesuffix("_total"),
                                        "Redis entries or rows skipped because they could not be decoded", labels=MODEL)
        for s in snaps:
            model = [s.model_name, s.model_version]
            fam["samples"].add_metric([*model, "predictions"], s.predictions)
            fam["samples"].add_metric([*model, "labels"], s.labels)
            fam["health"].add_metric(model, s.health_status)
            fam["info"].add_metric([*model, s.trained_at], 1)
            malformed.add_metric(model, s.malformed_entries + s.skipped_rows)
            for metric, value in s.reference_performance.items():
                fam["ref_perf"].add_metric([*model, metric], value)
            for metric, value in s.reference_performance_lower_bound.items():
                fam["ref_perf_lower"].add_metric([*model, metric], value)
            for metric, value in s.performance.items():
                fam["perf"].add_metric([*model, metric], value)
            for metric, value in s.estimated_performance.items():
                fam["est_perf"].add_metric([*model, metric], value)
                for bound, limit in s.estimated_performance_interval[metric].items():
                    fam["est_bound"].add_metric([*model, metric, bound], limit)
            for metric, value in s.estimated_performance_gap.items():
                fam["est_gap"].add_metric([*model, metric], value)
            if s.predictions:
                fam["pred_pos"].add_metric(model, s.prediction_positive_ratio)
            if s.labels:
                fam["label_pos"].add_metric(model, s.label_positive_ratio)
            for feature, f in s.features.items():
                labels = [*model, feature]
                fam["psi"].add_metric(labels, f.psi)
                if not math.isnan(f.ks_statistic):
                    fam["ks_d"].add_metric(labels, f.ks_statistic)
                    fam["ks_p"].add_metric(labels, f.ks_pvalue)
                for test, figures in f.tests.items():
                    fam["test_stat"].add_metric([*labels, test], figures.statistic)
                    if not math.isnan(figures.pvalue):
                        fam["test_p"].add_metric([*labels, test], figures.pvalue)
                        fam["test_logp"].add_metric([*labels, test], figures.neg_log10_pvalue)
                    fam["test_detected"].add_metric([*labels, test], 1.0 if figures.drifted else 0.0)
                if not math.isnan(f.unseen_ratio):
                    fam["unseen"].add_metric(labels, f.unseen_ratio)
                if not math.isnan(f.missing_ratio):
                    fam["missing"].add_metric(labels, f.missing_ratio)
                for side, ratio in (("below", f.below_range_ratio), ("above", f.above_range_ratio)):
                    if not math.isnan(ratio):
                        fam["out_of_range"].add_metric([*labels, side], ratio)
                for check, flagged in f.quality.items():
                    fam["quality"].add_metric([*labels, check], 1.0 if flagged else 0.0)
                fam["detected"].add_metric(labels, 1.0 if f.drifted else 0.0)
                fam["attr"].add_metric(labels, f.attribution)
                fam["mean"].add_metric([*labels, "reference"], f.reference_mean)
                fam["mean"].add_metric([*labels, "current"], f.current_mean)
                fam["std"].add_metric([*labels, "reference"], f.reference_std)
                fam["std"].add_metric([*labels, "current"], f.current_std)
            if s.prediction_drift:
                fam["pred_psi"].add_metric(model, s.prediction_drift["psi"])
                fam["pred_d"].add_metric(model, s.prediction_drift["ks_statistic"])
                fam["pred_p"].add_metric(model, s.prediction_drift["ks_pvalue"])
                fam["pred_detected"].add_metric(model, 1.0 if s.prediction_drift["drifted"] else 0.0)
        yield from fam.values()
        yield from self._spans(span_view)
        yield malformed
        yield from self._own_health()
        yield from self._leases(owned)

    def _spans(self, span_view: dict) -> Iterable:
        """The judged windows' figures, label `span` (exporter.spans)."""
        span = ["span"]
        fam = {
            "detected": _gauge(names.SPAN_DRIFT_DETECTED, "1 if the drift rule flags the feature in this judged window",
                               ["feature", *span]),
            "significant": _gauge(names.SPAN_DRIFT_SIGNIFICANT, "1 if a p-value test of the feature is significant in this "
                                  "window after the correction for features and windows, whatever the effect size",
                                  ["feature", *span]),
            "stat": _gauge(names.SPAN_DRIFT_TEST_STATISTIC, "Statistic of each drift test in this judged window "
                           "(KS D on the coarse grid: at most 1/512 under the exact D)", ["feature", "test", *span]),
            "psi": _gauge(names.SPAN_DRIFT_PSI, "PSI of the feature in this judged window", ["feature", *span]),
            "pred": _gauge(names.SPAN_PREDICTION_DRIFT_DETECTED, "1 if the score distribution drifted in this window", span),
            "samples": _gauge(names.SPAN_SAMPLES, "Predictions in this judged window", span),
        }
        for spans in list(span_view.values()):
            for name, s in spans.items():
                model = [s.model_name, s.model_version]
                fam["samples"].add_metric([*model, name], s.predictions)
                if s.prediction_drift:
                    fam["pred"].add_metric([*model, name], 1.0 if s.prediction_drift["drifted"] else 0.0)
                for feature, f in s.features.items():
                    fam["detected"].add_metric([*model, feature, name], 1.0 if f.drifted else 0.0)
                    fam["significant"].add_metric([*model, feature, name], 1.0 if f.significant else 0.0)
                    fam["psi"].add_metric([*model, feature, name], f.psi)
                    for test, figures in f.tests.items():
                        fam["stat"].add_metric([*model, feature, test, name], figures.statistic)
        yield from fam.values()

    def _own_health(self) -> Iterable:
        m = self.monitor
        up = GaugeMetricFamily(names.EXPORTER_REDIS_UP, "1 if the last cycle reached Redis, else 0")
        up.add_metric([], 1.0 if m.redis_up else 0.0)
        duration = GaugeMetricFamily(names.EXPORTER_CYCLE_DURATION, "Duration of the last refresh cycle in seconds")
        duration.add_metric([], m.last_cycle_seconds)
        last = GaugeMetricFamily(names.EXPORTER_LAST_SUCCESS, "Unix time of the last successful refresh cycle")
        last.add_metric([], m.last_success)
        yield from (up, duration, last)

    def _leases(self, owned: set[str] | None) -> Iterable:
        """Which versions this replica judges (exporter.leases): 1 owned, 0 seen but judged elsewhere or by nobody."""
        leases = getattr(self.monitor, "leases", None)
        if leases is None or owned is None:
            return
        owned_family = GaugeMetricFamily(names.EXPORTER_LEASE_OWNED, "1 for each model version whose lease this "
                                         "replica holds (it judges and exports it), 0 for the others it sees",
                                         labels=[*MODEL, "replica"])
        for member in sorted(set(self.monitor.members) | owned):
            name, _, version = member.partition("/")
            owned_family.add_metric([name, version, leases.replica], 1.0 if member in owned else 0.0)
        changes = CounterMetricFamily(names.EXPORTER_LEASE_CHANGES.removesuffix("_total"),
                                      "Leases this replica acquired, released (handed over) or lost", labels=["replica", "change"])
        for change, count in leases.changes.items():
            changes.add_metric([leases.replica, change], count)
        replicas = GaugeMetricFamily(names.EXPORTER_REPLICAS, "Live exporter replicas as this one last counted them",
                                     labels=["replica"])
        replicas.add_metric([leases.replica], getattr(self.monitor, "replicas", 1))
        yield from (owned_family, changes, replicas)
