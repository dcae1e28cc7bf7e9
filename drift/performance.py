"""Binary-classification quality figures shared by training and the exporter (no scikit-learn at run time)."""
from __future__ import annotations

import numpy as np

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
