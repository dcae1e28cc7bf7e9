"""Champion against challenger on labelled traffic: each version's ROC AUC and average precision, their difference,
and DeLong's test of the ROC AUC difference with its confidence interval. Pure: arrays in, figures out.

Two designs:

- **paired** (shadow mode): both versions scored the same transactions, so the two AUCs are correlated and
  DeLong's covariance of the paired AUCs is used (DeLong, DeLong & Clarke-Pearson 1988). It is computed in
  O(n log n) from mid-ranks (Sun & Xu 2014, "Fast implementation of DeLong's algorithm"), so a window of a million
  labelled predictions costs a few sorts, not the O(m n) pairwise comparisons of the textbook form.
- **unpaired** (A/B): each arm scored its own traffic, so the AUCs are independent and the variance of their
  difference is the sum of each arm's DeLong variance.

Why DeLong rather than a paired bootstrap: it is exact for the Mann-Whitney AUC's asymptotic variance, needs no
random draws (the same window always gives the same verdict), and costs one sort per version where a bootstrap
costs hundreds; tests/unit/test_comparison.py checks its standard error and p-value against an independent paired
bootstrap. Average precision has no comparable closed-form variance, so its difference is reported as a point
estimate only; the decision to promote rests on the ROC AUC test.

Ties get half credit, as in the Mann-Whitney statistic and sklearn's roc_auc_score.
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import Mapping

import numpy as np
from scipy import stats

from drift.estimation import average_precision


@dataclass(frozen=True)
class Comparison:
    """Challenger (`b`) against champion (`a`); `difference` = challenger minus champion."""

    paired: bool
    n_a: int  # labelled predictions of each version (equal when paired)
    n_b: int
    positives_a: int
    positives_b: int
    roc_auc_a: float
    roc_auc_b: float
    average_precision_a: float
    average_precision_b: float
    roc_auc_difference: float
    roc_auc_difference_stderr: float
    ci_lower: float  # confidence interval of roc_auc_difference at `level`
    ci_upper: float
    level: float
    z: float
    p_value: float  # two-sided, H0: equal ROC AUC
    average_precision_difference: float

    def to_dict(self) -> dict:
        return asdict(self)


def midranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of `x` with ties given the mean of the ranks they span (scipy's rankdata 'average')."""
    order = np.argsort(x, kind="stable")
    ordered = np.asarray(x)[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    group_rank = (starts + ends + 1) / 2.0  # mean of the 1-based ranks starts+1 .. ends
    ranks = np.empty(len(ordered), dtype=float)
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


def delong_components(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DeLong's structural components of k score vectors on the same labelled rows (Sun & Xu's mid-rank form).

    `scores` is (k, n). Returns (aucs (k,), v10 (k, m): one per positive, v01 (k, n_neg): one per negative), where
    v10[r, i] is the share of negatives that positive i outranks under version r (ties count half), v01[r, j] the
    share of positives that outrank negative j, and aucs the mean of either.
    """
    labels = np.asarray(labels).astype(bool)
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    m, n = int(labels.sum()), int((~labels).sum())
    positives, negatives = scores[:, labels], scores[:, ~labels]
    v10 = np.empty((len(scores), m))
    v01 = np.empty((len(scores), n))
    aucs = np.empty(len(scores))
    for r, row in enumerate(scores):
        combined = midranks(row)
        within_pos, within_neg = midranks(positives[r]), midranks(negatives[r])
        # a positive's rank among all, minus its rank among the positives = negatives below it (ties half)
        v10[r] = (combined[labels] - within_pos) / n
        v01[r] = 1.0 - (combined[~labels] - within_neg) / m
        aucs[r] = v10[r].mean()
    return aucs, v10, v01


def delong_covariance(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(aucs (k,), covariance of the AUC estimates (k, k)) for k score vectors on the same rows."""
    aucs, v10, v01 = delong_components(labels, scores)
    m, n = v10.shape[1], v01.shape[1]
    s10 = np.atleast_2d(np.cov(v10)) if m > 1 else np.zeros((len(aucs), len(aucs)))
    s01 = np.atleast_2d(np.cov(v01)) if n > 1 else np.zeros((len(aucs), len(aucs)))
    return aucs, s10 / m + s01 / n


def _counts(labels: np.ndarray) -> tuple[int, int]:
    labels = np.asarray(labels).astype(bool)
    return int(labels.sum()), int((~labels).sum())


def _undefined(labels: np.ndarray) -> bool:
    positives, negatives = _counts(labels)
    return positives == 0 or negatives == 0


def _test(difference: float, variance: float, level: float) -> tuple[float, float, float, float, float]:
    """(stderr, z, p, ci_lower, ci_upper) of a normal test of `difference` = 0."""
    if not math.isfinite(difference) or not math.isfinite(variance):
        return (math.nan,) * 5
    stderr = math.sqrt(max(variance, 0.0))
    if stderr == 0.0:
        # both versions rank every pair identically (or perfectly): no sampling variation to test against
        z = 0.0 if difference == 0 else math.copysign(math.inf, difference)
        return 0.0, z, 1.0 if difference == 0 else 0.0, difference, difference
    z = difference / stderr
    half = stats.norm.ppf(0.5 + level / 2) * stderr
    return stderr, z, float(2 * stats.norm.sf(abs(z))), difference - half, difference + half


def compare_paired(labels: np.ndarray, champion: np.ndarray, challenger: np.ndarray,
                   level: float = 0.95) -> Comparison:
    """Both versions' scores of the same labelled transactions (shadow mode); DeLong's paired test."""
    labels = np.asarray(labels).astype(bool)
    champion, challenger = np.asarray(champion, float), np.asarray(challenger, float)
    if not (len(labels) == len(champion) == len(challenger)):
        raise ValueError("labels and both versions' scores must have the same length")
    positives, _ = _counts(labels)
    if _undefined(labels):
        aucs, variance = np.array([math.nan, math.nan]), math.nan
    else:
        aucs, cov = delong_covariance(labels, np.vstack([champion, challenger]))
        variance = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    ap_a, ap_b = _average_precision(labels, champion), _average_precision(labels, challenger)
    difference = float(aucs[1] - aucs[0])
    stderr, z, p, lower, upper = _test(difference, variance, level)
    return Comparison(True, len(labels), len(labels), positives, positives, float(aucs[0]), float(aucs[1]),
                      ap_a, ap_b, difference, stderr, lower, upper, level, z, p, ap_b - ap_a)


def compare_unpaired(labels_a: np.ndarray, scores_a: np.ndarray, labels_b: np.ndarray, scores_b: np.ndarray,
                     level: float = 0.95) -> Comparison:
    """Each arm's own labelled traffic (A/B): independent AUCs, the variance of the difference is the sum."""
    auc_a, var_a = _single(labels_a, scores_a)
    auc_b, var_b = _single(labels_b, scores_b)
    difference = auc_b - auc_a
    stderr, z, p, lower, upper = _test(difference, var_a + var_b, level)
    ap_a, ap_b = _average_precision(labels_a, scores_a), _average_precision(labels_b, scores_b)
    return Comparison(False, len(labels_a), len(labels_b), _counts(labels_a)[0], _counts(labels_b)[0], auc_a, auc_b,
                      ap_a, ap_b, difference, stderr, lower, upper, level, z, p, ap_b - ap_a)


def roc_auc_interval(labels: np.ndarray, scores: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Two-sided `level` confidence interval of one ROC AUC (DeLong's variance, normal approximation), within [0, 1].

    >>> lower, upper = roc_auc_interval(np.array([0, 0, 1, 1, 0, 1]), np.array([.1, .4, .35, .8, .2, .9]))
    >>> round(lower, 3), round(upper, 3)  # AUC 8/9, DeLong variance 2 x (3/81)/3: 8/9 - 1.96 x 0.1571
    (0.581, 1.0)
    """
    auc, variance = _single(labels, scores)
    if math.isnan(auc):
        return math.nan, math.nan
    half = stats.norm.ppf(0.5 + level / 2) * math.sqrt(max(variance, 0.0))
    return float(max(auc - half, 0.0)), float(min(auc + half, 1.0))


def _single(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    labels = np.asarray(labels).astype(bool)
    if len(labels) != len(scores):
        raise ValueError("labels and scores must have the same length")
    if _undefined(labels):
        return math.nan, math.nan
    aucs, cov = delong_covariance(labels, np.asarray(scores, float)[None, :])
    return float(aucs[0]), float(cov[0, 0])


def _average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    return math.nan if _undefined(labels) else float(average_precision(labels, scores))


def paired_rows(ids_a: list[str], ids_b: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into a, into b) of the transaction ids both versions scored, each id once (its last occurrence)."""
    last_b = {tid: i for i, tid in enumerate(ids_b)}
    last_a = {tid: i for i, tid in enumerate(ids_a)}
    common = [(i, last_b[tid]) for tid, i in last_a.items() if tid in last_b]
    if not common:
        return np.array([], np.int64), np.array([], np.int64)
    a, b = zip(*common)
    return np.asarray(a, np.int64), np.asarray(b, np.int64)


@dataclass(frozen=True)
class PromotionRule:
    """When the challenger has beaten the champion: enough labelled traffic, and the whole interval of the
    ROC AUC difference above `min_improvement` (a one-sided test at (1 - level) / 2)."""

    min_labelled: int = 2000
    min_positives: int = 40
    min_improvement: float = 0.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "PromotionRule":
        """PROMOTION_MIN_LABELLED, PROMOTION_MIN_POSITIVES, PROMOTION_MIN_IMPROVEMENT override the defaults."""
        return cls(int(environ.get("PROMOTION_MIN_LABELLED", cls.min_labelled)),
                   int(environ.get("PROMOTION_MIN_POSITIVES", cls.min_positives)),
                   float(environ.get("PROMOTION_MIN_IMPROVEMENT", cls.min_improvement)))

    def challenger_wins(self, comparison: Comparison) -> bool:
        enough = (min(comparison.n_a, comparison.n_b) >= self.min_labelled
                  and min(comparison.positives_a, comparison.positives_b) >= self.min_positives)
        return bool(enough and math.isfinite(comparison.ci_lower) and comparison.ci_lower > self.min_improvement)
