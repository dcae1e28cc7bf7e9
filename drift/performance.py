"""Performance figures shared by training and the exporter (no scikit-learn at run time; tests check them against
sklearn.metrics): binary classification (threshold metrics, ROC AUC, average precision), regression (MAE, RMSE, R²)
and multiclass (accuracy, macro F1, log loss), and when a regression or multiclass figure counts as a drop
(contracts.tasks).

>>> regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))
{'mae': 0.6666666666666666, 'rmse': 1.1547005383792515, 'r2': -1.0}
"""
from __future__ import annotations

import math

import numpy as np

from contracts.policy import Policy
from contracts.tasks import task_of

from drift.estimation import average_precision, average_precision_of_sorted


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve via the Mann-Whitney U statistic (ties get half credit)."""
    order = np.argsort(scores, kind="stable")
    return roc_auc_of_sorted(np.asarray(labels)[order], np.asarray(scores)[order])


def roc_auc_of_sorted(labels: np.ndarray, scores: np.ndarray) -> float:
    """roc_auc for scores already in ascending order: one linear pass over groups of tied scores."""
    labels = np.asarray(labels).astype(bool)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    starts = np.flatnonzero(np.r_[True, np.diff(scores) != 0])
    pos = np.add.reduceat(labels.astype(np.int64), starts)
    neg = np.diff(np.r_[starts, len(labels)]) - pos
    negatives_below = np.cumsum(neg) - neg
    return float(np.sum(pos * (negatives_below + 0.5 * neg)) / (n_pos * n_neg))


def classification_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float, *,
                           sorted_by_score: bool = False) -> dict[str, float]:
    """accuracy, precision, recall, f1 at `threshold`, and roc_auc and average_precision of the scores."""
    labels = np.asarray(labels).astype(bool)
    predicted = np.asarray(scores) >= threshold
    tp = int(np.sum(predicted & labels))
    fp = int(np.sum(predicted & ~labels))
    fn = int(np.sum(~predicted & labels))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": float(np.mean(predicted == labels)) if len(labels) else float("nan"),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": roc_auc_of_sorted(labels, scores) if sorted_by_score else roc_auc(labels, scores),
        "average_precision": (average_precision_of_sorted(labels, scores) if sorted_by_score
                              else average_precision(labels, scores)),
    }


def best_f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The decision threshold that maximises F1 (chosen on validation data)."""
    candidates = np.unique(np.quantile(scores, np.linspace(0.5, 0.999, 200)))
    f1s = [classification_metrics(labels, scores, t)["f1"] for t in candidates]
    return float(candidates[int(np.argmax(f1s))])


def regression_metrics(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and R² (1 - SS_res / SS_tot; NaN when the labels are all equal, where R² is undefined: sklearn's
    `r2_score(force_finite=False)`)."""
    y = np.asarray(labels, float)
    error = np.asarray(predictions, float) - y
    if not len(y):
        return {"mae": math.nan, "rmse": math.nan, "r2": math.nan}
    total = float(np.sum((y - y.mean()) ** 2))
    residual = float(np.sum(error ** 2))
    return {"mae": float(np.mean(np.abs(error))), "rmse": math.sqrt(residual / len(y)),
            "r2": 1.0 - residual / total if total > 0 else math.nan}


def multiclass_metrics(labels: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray | None = None) -> dict[str, float]:
    """Accuracy, macro F1 (over the classes present in the labels or the predictions, as sklearn's `f1_score(average=
    "macro")`; a class never predicted has precision 0) and, given each row's class probabilities (n x classes),
    log loss (rows normalised to sum 1 and clipped at float64 eps, as sklearn's `log_loss`)."""
    y = np.asarray(labels).astype(np.int64)
    p = np.asarray(predicted).astype(np.int64)
    if not len(y):
        return {"accuracy": math.nan, "macro_f1": math.nan}
    classes = np.union1d(y, p)
    f1s = []
    for c in classes:
        tp = np.sum((p == c) & (y == c))
        predicted_c, actual_c = np.sum(p == c), np.sum(y == c)
        precision = tp / predicted_c if predicted_c else 0.0
        recall = tp / actual_c if actual_c else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    out = {"accuracy": float(np.mean(y == p)), "macro_f1": float(np.mean(f1s))}
    if probabilities is not None:
        out["log_loss"] = log_loss(y, probabilities)
    return out


def log_loss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean negative log probability of the true class."""
    probs = np.asarray(probabilities, float)
    probs = probs / probs.sum(axis=1, keepdims=True)
    return log_loss_of_true_class(probs[np.arange(len(probs)), np.asarray(labels, np.int64)])


def log_loss_of_true_class(true_class: np.ndarray) -> float:
    """Log loss from each row's probability of its true class (what the exporter keeps per labelled prediction)."""
    eps = np.finfo(float).eps
    return float(-np.mean(np.log(np.clip(np.asarray(true_class, float), eps, 1 - eps))))


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
