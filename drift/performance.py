"""Performance figures shared by training and the exporter (no scikit-learn at run time; tests check them against
sklearn.metrics): binary classification (threshold metrics, ROC AUC, average precision), regression (MAE, RMSE, R²)
and multiclass (accuracy, macro F1, log loss), and when a regression or multiclass figure counts as a drop
(drift_client.tasks).

>>> regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
{'mae': 0.6666666666666666, 'rmse': 1.1547005383792515, 'r2': -1.0}
"""
from __future__ import annotations

import math

import numpy as np

from contracts.policy import Policy
from drift_client.tasks import task_of

from drift_client.metrics import (  # noqa: F401  (re-exported: the performance figures' one home is the client)
    average_precision, average_precision_of_sorted, best_f1_threshold, classification_metrics, log_loss,
    log_loss_of_true_class, multiclass_metrics, regression_metrics, roc_auc, roc_auc_of_sorted)


def task_performance_dropped(task: str, current: dict[str, float], reference: dict[str, float], policy: Policy) -> list[str]:
    """The metrics of a regression or multiclass model that dropped beyond the policy's tolerance: an error metric
    (MAE, RMSE, log loss) more than `performance_error_rise` above its test-split figure (relative: errors are in
    the target's units), a score (R², accuracy, macro F1) more than `performance_drop` below it."""
    lower_is_better = task_of(task).lower_is_better
    dropped = []
    for metric, value in current.items():
        ref = reference.get(metric, math.nan)
        if math.isnan(value) or math.isnan(ref):
            continue
        if metric in lower_is_better:
            worse = value > ref * (1 + policy.performance_error_rise)
        else:
            worse = value < ref - policy.performance_drop
        if worse:
            dropped.append(metric)
    return dropped
