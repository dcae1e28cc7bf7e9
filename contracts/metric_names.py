"""Prometheus metric names and labels, defined once: the service and the exporter import them; a test checks that every
ml_* series the generated rules and dashboards query is one of them (docs/design.md, "Metrics")."""

MODEL_LABELS = ("model_name", "model_version")

DRIFT_PSI = "ml_drift_psi"
DRIFT_KS_STATISTIC = "ml_drift_ks_statistic"
DRIFT_KS_PVALUE = "ml_drift_ks_pvalue"
DRIFT_DETECTED = "ml_drift_detected"
DRIFT_TEST_STATISTIC = "ml_drift_test_statistic"  # every drift test of a feature, label `test`
DRIFT_TEST_PVALUE = "ml_drift_test_pvalue"
DRIFT_TEST_DETECTED = "ml_drift_test_detected"
DRIFT_TEST_NEG_LOG10_PVALUE = "ml_drift_test_pvalue_neg_log10"  # -log10 p from logsf: finite where p underflows
FEATURE_UNSEEN_RATIO = "ml_feature_unseen_ratio"  # categorical features: share of values never seen in training
FEATURE_MISSING_RATIO = "ml_feature_missing_ratio"  # share of a feature's values that were missing
FEATURE_OUT_OF_RANGE_RATIO = "ml_feature_out_of_range_ratio"  # share outside the training range, label `side`
DATA_QUALITY_DETECTED = "ml_data_quality_detected"  # 1 when a check (label `check`: missing, out_of_range) flags
PREDICTION_PSI = "ml_drift_prediction_psi"
PREDICTION_KS_STATISTIC = "ml_drift_prediction_ks_statistic"
PREDICTION_KS_PVALUE = "ml_drift_prediction_ks_pvalue"
PREDICTION_DRIFT_DETECTED = "ml_drift_prediction_detected"
# Several windows judged together (exporter.spans), label `span` ("5m", "1h", "24h": policy.spans). The series above
# without `span` are the live window's (window_hours, raw samples, labels); `window` on ml_feature_mean/stddev keeps
# its meaning ("reference" | "current").
SPAN_DRIFT_DETECTED = "ml_drift_span_detected"  # 1 if the drift rule flags the feature in that window
SPAN_DRIFT_SIGNIFICANT = "ml_drift_span_significant"  # 1 if a p-value test is significant there, effect aside
SPAN_DRIFT_TEST_STATISTIC = "ml_drift_span_test_statistic"  # label `test`
SPAN_DRIFT_PSI = "ml_drift_span_psi"
SPAN_PREDICTION_DRIFT_DETECTED = "ml_drift_span_prediction_detected"
SPAN_SAMPLES = "ml_drift_span_samples"  # predictions in that window
FEATURE_MEAN = "ml_feature_mean"
FEATURE_STDDEV = "ml_feature_stddev"
ATTRIBUTION_RATIO = "ml_drift_attribution_ratio"
MODEL_PERFORMANCE = "ml_model_performance"
MODEL_REFERENCE_PERFORMANCE = "ml_model_reference_performance"
MODEL_REFERENCE_PERFORMANCE_LOWER_BOUND = "ml_model_reference_performance_lower_bound"  # 95%, DeLong for roc_auc
MODEL_ESTIMATED_PERFORMANCE = "ml_model_estimated_performance"  # CBPE from the window's scores, no labels
MODEL_ESTIMATED_PERFORMANCE_INTERVAL = "ml_model_estimated_performance_interval"  # bound="lower"|"upper"
MODEL_ESTIMATION_GAP = "ml_model_estimated_performance_gap"  # realized - estimated
PREDICTION_POSITIVE_RATIO = "ml_prediction_positive_ratio"
LABEL_POSITIVE_RATIO = "ml_label_positive_ratio"
WINDOW_SAMPLES = "ml_window_samples"
MODEL_HEALTH_STATUS = "ml_model_health_status"
MODEL_INFO = "ml_model_info"
EXPORTER_REDIS_UP = "ml_exporter_redis_up"
EXPORTER_CYCLE_DURATION = "ml_exporter_cycle_duration_seconds"
EXPORTER_LAST_SUCCESS = "ml_exporter_last_success_timestamp_seconds"
EXPORTER_MALFORMED_ENTRIES = "ml_exporter_malformed_entries_total"
# Exporter replicas (exporter.leases): 1 for each version this replica judges, 0 for each it sees judged elsewhere
# or by nobody; labels model_name, model_version, replica
EXPORTER_LEASE_OWNED = "ml_exporter_lease_owned"
EXPORTER_LEASE_CHANGES = "ml_exporter_lease_changes_total"  # {replica, change="acquired"|"released"|"lost"}
EXPORTER_REPLICAS = "ml_exporter_replicas"  # live replicas this one counts (its fair share's divisor)

SERVICE_SAMPLES = "ml_monitoring_samples"  # prometheus_client appends _total: ml_monitoring_samples_total{outcome}
SERVICE_REDIS_UP = "ml_monitoring_redis_up"
# Shadow mode: the challenger's scoring off the request path, label `outcome` (scored | dropped | failed); dropped
# when its bounded queue is full (the answer never waits for it).
SERVICE_SHADOW_PREDICTIONS = "ml_monitoring_shadow_predictions"  # _total
# 1 while the service reads the versions document from Redis; 0: it serves the last champion it knew.
SERVICE_VERSIONS_DOCUMENT_UP = "ml_monitoring_versions_document_up"
# Service replicas share "which versions scored this id" in Redis (bento_service.scored_by_store): where each label's
# versions came from, label `source` (local | shared | current | redis_failed), and the writes of that memory,
# label `outcome` (written | dropped)
SERVICE_LABEL_ROUTES = "ml_monitoring_label_routes"  # _total
SERVICE_SCORED_BY_WRITES = "ml_monitoring_scored_by_writes"  # _total, ids

PERFORMANCE_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "average_precision")
ESTIMATED_METRICS = ("roc_auc", "average_precision", "precision", "recall", "f1")
HEALTHY, WARNING, CRITICAL = 0, 1, 2

# The retraining loop (scripts/retrain_webhook.py)
RETRAIN_TRIGGERS = "ml_retraining_triggers"  # _total{model_name, decision="start"|"cooldown"|"running"}
RETRAIN_RUNS = "ml_retraining_runs"  # _total{model_name, outcome="succeeded"|"not_enough_data"|"locked"|"failed"}
RETRAIN_IN_PROGRESS = "ml_retraining_in_progress"
RETRAIN_LAST_DURATION = "ml_retraining_last_duration_seconds"

# Champion vs challenger (exporter/version_comparison.py); labels model_name, champion, challenger, mode
COMPARISON_PERFORMANCE = "ml_model_comparison_performance"  # {model_name, model_version, role, metric}
COMPARISON_LABELLED = "ml_model_comparison_labelled_samples"  # {model_name, model_version, role}
COMPARISON_DIFFERENCE = "ml_model_comparison_difference"  # challenger - champion, {metric}
COMPARISON_DIFFERENCE_INTERVAL = "ml_model_comparison_difference_interval"  # ROC AUC difference, {bound}
COMPARISON_PVALUE = "ml_model_comparison_pvalue"  # DeLong, two-sided
COMPARISON_CHALLENGER_WINS = "ml_model_comparison_challenger_wins"  # 1 when the promotion rule holds
MODEL_VERSION_ROLE = "ml_model_version_role"  # 1 per serving version {model_name, model_version, role, mode}
MODEL_AB_SHARE = "ml_model_ab_share"  # {model_name}: the challenger's configured share in ab mode
