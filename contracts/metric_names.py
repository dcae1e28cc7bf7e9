"""Every Prometheus metric of ours, defined once: name, type, help, labels and unit, in one table (`METRICS`).

The exporter's collectors, the service's and the retraining webhook's metrics build their families from it
(`spec(name)`); a test checks that every ml_* series the generated rules and dashboards query is in it; `python -m
mixin` writes docs/metrics.md from it. The module-level constants are the names, for code that only needs a name.
"""
from __future__ import annotations

from dataclasses import dataclass

MODEL_LABELS = ("model_name", "model_version")

GAUGE, COUNTER = "gauge", "counter"
# Which process exposes the metric on its /metrics (docs/metrics.md groups by it).
EXPORTER = "exporter"
SERVICE = "service"  # the BentoML service; the samples counters are drift_client's publisher hooks (Counters)
RETRAINING = "retraining webhook"


@dataclass(frozen=True)
class MetricSpec:
    name: str  # as defined in code; a counter's exposed series is `family` + "_total"
    type: str  # GAUGE | COUNTER
    help: str
    labels: tuple[str, ...]
    unit: str  # Prometheus base unit, the name's suffix ("seconds", "ratio"), or "" when the value has none
    exposed_by: str

    @property
    def family(self) -> str:
        """The name prometheus_client's families take (it appends `_total` to a counter's samples itself)."""
        return self.name.removesuffix("_total") if self.type == COUNTER else self.name

    @property
    def series(self) -> str:
        """The name PromQL queries."""
        return f"{self.family}_total" if self.type == COUNTER else self.name


METRICS: dict[str, MetricSpec] = {}


def _metric(name: str, type_: str, help_: str, labels: tuple[str, ...] = (), *, unit: str = "",
            by: str = EXPORTER, model: bool = True) -> str:
    """Register one metric and return its name. `model`: labelled by model_name and model_version first."""
    if name in METRICS:
        raise ValueError(f"metric {name} defined twice")
    if unit and not name.removesuffix("_total").endswith(f"_{unit}"):
        raise ValueError(f"{name}: a metric with unit {unit!r} must end with _{unit} (Prometheus naming)")
    if type_ not in (GAUGE, COUNTER):
        raise ValueError(f"{name}: unknown type {type_!r}")
    METRICS[name] = MetricSpec(name, type_, help_, (*(MODEL_LABELS if model else ()), *labels), unit, by)
    return name


def spec(name: str) -> MetricSpec:
    return METRICS[name]


# --- the exporter: the live window (exporter/collector.py) ---
DRIFT_PSI = _metric("ml_drift_psi", GAUGE, "PSI of the current window against the reference bins", ("feature",))
DRIFT_KS_STATISTIC = _metric("ml_drift_ks_statistic", GAUGE, "Two-sample KS statistic D against the reference sample",
                             ("feature",))
DRIFT_KS_PVALUE = _metric("ml_drift_ks_pvalue", GAUGE, "Two-sample KS p-value (uncorrected; the rule divides its level "
                          "by the number of features judged)", ("feature",))
DRIFT_DETECTED = _metric("ml_drift_detected", GAUGE, "1 if any of the feature's drift tests flags it", ("feature",))
DRIFT_TEST_STATISTIC = _metric("ml_drift_test_statistic", GAUGE, "Statistic of each drift test of the feature",
                               ("feature", "test"))
DRIFT_TEST_PVALUE = _metric("ml_drift_test_pvalue", GAUGE, "p-value of each drift test that has one (uncorrected)",
                            ("feature", "test"))
DRIFT_TEST_DETECTED = _metric("ml_drift_test_detected", GAUGE, "1 if this drift test flags the feature",
                              ("feature", "test"))
# -log10 p from logsf: finite where p underflows
DRIFT_TEST_NEG_LOG10_PVALUE = _metric("ml_drift_test_pvalue_neg_log10", GAUGE,
                                      "-log10 of the p-value of each drift test that has one", ("feature", "test"))
FEATURE_UNSEEN_RATIO = _metric("ml_feature_unseen_ratio", GAUGE,
                               "Share of a categorical feature's values never seen in training", ("feature",), unit="ratio")
FEATURE_MISSING_RATIO = _metric("ml_feature_missing_ratio", GAUGE,
                                "Share of the feature's values in the window that were missing", ("feature",), unit="ratio")
FEATURE_OUT_OF_RANGE_RATIO = _metric("ml_feature_out_of_range_ratio", GAUGE,
                                     "Share of the feature's values outside the training range (side: below, above)",
                                     ("feature", "side"), unit="ratio")
DATA_QUALITY_DETECTED = _metric("ml_data_quality_detected", GAUGE,
                                "1 if the data-quality check (check: missing, out_of_range) flags the feature",
                                ("feature", "check"))
ATTRIBUTION_RATIO = _metric("ml_drift_attribution_ratio", GAUGE,
                            "Share of the drift impact (importance x PSI) owed to the feature", ("feature",), unit="ratio")
FEATURE_MEAN = _metric("ml_feature_mean", GAUGE, "Feature mean in the reference or the current window",
                       ("feature", "window"))
FEATURE_STDDEV = _metric("ml_feature_stddev", GAUGE, "Feature standard deviation in the reference or the current window",
                         ("feature", "window"))
PREDICTION_PSI = _metric("ml_drift_prediction_psi", GAUGE, "PSI of the score distribution (prediction drift)")
PREDICTION_KS_STATISTIC = _metric("ml_drift_prediction_ks_statistic", GAUGE, "KS statistic of the score distribution")
PREDICTION_KS_PVALUE = _metric("ml_drift_prediction_ks_pvalue", GAUGE, "KS p-value of the score distribution")
PREDICTION_DRIFT_DETECTED = _metric("ml_drift_prediction_detected", GAUGE,
                                    "1 if the drift rule (uncorrected: one test) flags the score distribution")
MODEL_PERFORMANCE = _metric("ml_model_performance", GAUGE, "Performance over the labelled predictions in the window",
                            ("metric",))
MODEL_ESTIMATED_PERFORMANCE = _metric("ml_model_estimated_performance", GAUGE,
                                      "Performance estimated from the window's calibrated scores without labels (CBPE)",
                                      ("metric",))
MODEL_ESTIMATED_PERFORMANCE_INTERVAL = _metric(
    "ml_model_estimated_performance_interval", GAUGE,
    "95% interval of the realized metric around the estimate: bound lower and upper from sampling alone (parametric "
    "bootstrap), total_lower and total_upper with the calibrator's own error added", ("metric", "bound"))
MODEL_ESTIMATION_GAP = _metric("ml_model_estimated_performance_gap", GAUGE,
                               "Realized minus estimated performance (labelled window)", ("metric",))
MODEL_REFERENCE_PERFORMANCE = _metric("ml_model_reference_performance", GAUGE, "Performance on the training test split",
                                      ("metric",))
MODEL_REFERENCE_PERFORMANCE_LOWER_BOUND = _metric(  # DeLong's variance for roc_auc
    "ml_model_reference_performance_lower_bound", GAUGE,
    "Lower end of the 95% confidence interval of the test-split performance", ("metric",))
PREDICTION_POSITIVE_RATIO = _metric("ml_prediction_positive_ratio", GAUGE,
                                    "Share of predictions at or above the decision threshold (binary models)", unit="ratio")
LABEL_POSITIVE_RATIO = _metric("ml_label_positive_ratio", GAUGE, "Share of positives among the labels received for the window (binary models)",
                               unit="ratio")
WINDOW_SAMPLES = _metric("ml_window_samples", GAUGE, "Samples in the current window", ("kind",))
MODEL_HEALTH_STATUS = _metric("ml_model_health_status", GAUGE, "0 healthy, 1 warning, 2 critical; absent while the version is not judged")
MODEL_INFO = _metric("ml_model_info", GAUGE, "Model metadata (task: binary, regression or multiclass); always 1",
                     ("trained_at", "task"))  # dashboards and rules pick their panels by `task` (drift_client/tasks.py)
PREDICTION_CLASS_RATIO = _metric("ml_prediction_class_ratio", GAUGE,
                                 "Share of the window's predictions per predicted class (multiclass models)", ("class",),
                                 unit="ratio")
EXPORTER_MALFORMED_ENTRIES = _metric("ml_exporter_malformed_entries_total", COUNTER,
                                     "Redis entries or rows skipped because they could not be decoded")
EXPORTER_SCHEMA_MISMATCH = _metric("ml_exporter_schema_mismatch_total", COUNTER,
                                   "Prediction batches refused because their publisher's schema is not the reference "
                                   "profile's (reason: width, fingerprint); the version is not judged meanwhile",
                                   ("reason",))

# --- the exporter: several windows judged together (exporter.spans), label `span` ("5m", "1h", "24h": policy.spans).
# The series above without `span` are the live window's; `window` on ml_feature_mean/stddev keeps its meaning.
SPAN_DRIFT_DETECTED = _metric("ml_drift_span_detected", GAUGE, "1 if the drift rule flags the feature in this judged window",
                              ("feature", "span"))
SPAN_DRIFT_SIGNIFICANT = _metric("ml_drift_span_significant", GAUGE,
                                 "1 if a p-value test of the feature is significant in this window after the correction "
                                 "for features and windows, whatever the effect size", ("feature", "span"))
SPAN_DRIFT_TEST_STATISTIC = _metric("ml_drift_span_test_statistic", GAUGE,
                                    "Statistic of each drift test in this judged window (KS D on the coarse grid: at most "
                                    "1/512 under the exact D)", ("feature", "test", "span"))
SPAN_DRIFT_PSI = _metric("ml_drift_span_psi", GAUGE, "PSI of the feature in this judged window", ("feature", "span"))
SPAN_PREDICTION_DRIFT_DETECTED = _metric("ml_drift_span_prediction_detected", GAUGE,
                                         "1 if the score distribution drifted in this window", ("span",))
SPAN_SAMPLES = _metric("ml_drift_span_samples", GAUGE, "Predictions in this judged window", ("span",))

# --- the exporter's own health ---
EXPORTER_REDIS_UP = _metric("ml_exporter_redis_up", GAUGE, "1 if the last cycle reached Redis, else 0", model=False)
EXPORTER_CYCLE_DURATION = _metric("ml_exporter_cycle_duration_seconds", GAUGE,
                                  "Duration of the last refresh cycle in seconds", unit="seconds", model=False)
EXPORTER_LAST_SUCCESS = _metric("ml_exporter_last_success_timestamp_seconds", GAUGE,
                                "Unix time of the last successful refresh cycle", unit="seconds", model=False)

# --- the exporter replicas (exporter/leases.py): which replica judges which model version ---
EXPORTER_LEASE_OWNED = _metric("ml_exporter_lease_owned", GAUGE, "1 for each model version whose lease this replica "
                               "holds (it judges and exports it), 0 for the others it sees", ("replica",))
EXPORTER_LEASE_CHANGES = _metric("ml_exporter_lease_changes_total", COUNTER,
                                 "Leases this replica acquired, released (handed over) or lost", ("replica", "change"),
                                 model=False)
EXPORTER_REPLICAS = _metric("ml_exporter_replicas", GAUGE, "Live exporter replicas as this one last counted them",
                            ("replica",), model=False)

# --- the exporter: champion vs challenger (exporter/comparison_collector.py) ---
_PAIR = ("champion", "challenger", "mode")
COMPARISON_PERFORMANCE = _metric("ml_model_comparison_performance", GAUGE,
                                 "Each serving version's performance on the compared labelled traffic",
                                 ("role", "metric"))
COMPARISON_LABELLED = _metric("ml_model_comparison_labelled_samples", GAUGE,
                              "Labelled predictions each version is compared on", ("role",))
COMPARISON_DIFFERENCE = _metric("ml_model_comparison_difference", GAUGE, "Challenger minus champion",
                                ("model_name", *_PAIR, "metric"), model=False)
COMPARISON_DIFFERENCE_INTERVAL = _metric("ml_model_comparison_difference_interval", GAUGE,
                                         "Confidence interval (95%) of the ROC AUC difference (DeLong)",
                                         ("model_name", *_PAIR, "bound"), model=False)
COMPARISON_PVALUE = _metric("ml_model_comparison_pvalue", GAUGE, "DeLong's two-sided p-value of equal ROC AUC",
                            ("model_name", *_PAIR), model=False)
COMPARISON_CHALLENGER_WINS = _metric("ml_model_comparison_challenger_wins", GAUGE,
                                     "1 when the challenger beats the champion by the promotion rule",
                                     ("model_name", *_PAIR), model=False)
MODEL_VERSION_ROLE = _metric("ml_model_version_role", GAUGE, "1 for each version that serves, by role", ("role", "mode"))
MODEL_AB_SHARE = _metric("ml_model_ab_share", GAUGE, "The challenger's share of answered traffic in ab mode (else 0)",
                         ("model_name",), model=False)

# --- the service (bento_service/metrics.py), next to BentoML's own request metrics ---
# drift_client's publisher counts every sample once as published or dropped; the service points its hooks here.
SERVICE_SAMPLES = _metric("ml_monitoring_samples", COUNTER,
                          "Monitoring samples (predictions and labels) sent to Redis or dropped", ("outcome",), by=SERVICE)
SERVICE_INVALID_SAMPLES = _metric("ml_monitoring_invalid_samples", COUNTER,
                                  "Problems the monitoring client found in rows, by reason (missing_key, wrong_type, "
                                  "unknown_category, ...; drift_client/validation.py)", ("reason",), by=SERVICE)
SERVICE_REDIS_UP = _metric("ml_monitoring_redis_up", GAUGE, "1 if the last contact with Redis (a publish, or a PING each "
                           "second when idle) succeeded, else 0", by=SERVICE)
# Shadow mode: the challenger's scoring off the request path; dropped when its bounded queue is full.
SERVICE_SHADOW_PREDICTIONS = _metric("ml_monitoring_shadow_predictions", COUNTER,
                                     "Predictions of the challenger in shadow mode, off the request path: scored, dropped "
                                     "(queue full) or failed", ("outcome",), by=SERVICE)
# 0: the service serves the last champion it knew.
SERVICE_VERSIONS_DOCUMENT_UP = _metric("ml_monitoring_versions_document_up", GAUGE,
                                       "1 if the last read of the versions documents in Redis succeeded, else 0 (the last "
                                       "known versions serve)", by=SERVICE, model=False)
# Service replicas share "which versions scored this id" in Redis (bento_service/scored_by_store.py).
SERVICE_LABEL_ROUTES = _metric("ml_monitoring_label_routes", COUNTER,
                               "Labels by where the versions they went to came from: local (this worker scored the id), "
                               "shared (another worker or replica, from Redis), current (nobody remembered it), "
                               "redis_failed (Redis unreachable): the last two go to the versions serving now",
                               ("model_name", "source"), by=SERVICE, model=False)
SERVICE_SCORED_BY_WRITES = _metric("ml_monitoring_scored_by_writes", COUNTER,
                                   "Transaction ids whose scoring versions were written to Redis for the other "
                                   "replicas, or dropped", ("model_name", "outcome"), by=SERVICE, model=False)

# --- the retraining loop (scripts/retrain_webhook.py) ---
RETRAIN_TRIGGERS = _metric("ml_retraining_triggers", COUNTER,
                           "Retraining requests from alerts, by decision (start, cooldown, running)",
                           ("model_name", "decision"), by=RETRAINING, model=False)
RETRAIN_RUNS = _metric("ml_retraining_runs", COUNTER,
                       "Retraining jobs finished, by outcome (succeeded, not_enough_data, locked, failed)",
                       ("model_name", "outcome"), by=RETRAINING, model=False)
RETRAIN_IN_PROGRESS = _metric("ml_retraining_in_progress", GAUGE, "1 while a retraining job of the model runs",
                              ("model_name",), by=RETRAINING, model=False)
RETRAIN_LAST_DURATION = _metric("ml_retraining_last_duration_seconds", GAUGE,
                                "Wall time of the model's last retraining job", ("model_name",), unit="seconds",
                                by=RETRAINING, model=False)

ESTIMATED_METRICS = ("roc_auc", "average_precision", "precision", "recall", "f1")
# the `metric` label of ml_model_performance and ml_model_reference_performance by task (drift_client/tasks.py)
from drift_client.tasks import MULTICLASS_METRICS, PERFORMANCE_METRICS, REGRESSION_METRICS  # noqa: E402
HEALTHY, WARNING, CRITICAL = 0, 1, 2
