"""Data-quality checks of a feature against training: the share of missing values (NaN, infinities) and the share
outside the training range [min, max], each a one-sided exact test of "more than in training" that needs both a
significant excess (the quality checks' share of the family-wise level, Bonferroni over every check of the model)
and an excess of at least `floor` (a share).

Both tests are exact and account for training being a sample too (a binomial test against a share estimated from
training is not: against 2/(m + 1), stationary windows of 360,000 rows judged by a 35,000-row training range had
p < 1e-4 in 10% of draws and p < 1e-12 in 2.5%, only the floor kept them quiet; the beta-binomial, never in 400):
- out of range: of n new values from the training distribution, the number outside the range of m training values
  is beta-binomial(n, 2, m - 1) (the mass outside the range is Beta(2, m - 1) for continuous data; ties at the
  extremes only make fewer values fall outside, so the test stays valid);
- missing: Fisher's exact test, one-sided, of the window's missing count against training's (the hypergeometric tail).

>>> import numpy as np
>>> from drift_client.reference_profile import Bins
>>> from drift.counts import ColumnReference
>>> reference = ColumnReference(Bins([0.5], [0.5, 0.5], 10_000), [0.0, 1.0], training_range=(0.0, 1.0))
>>> check = out_of_range(reference, reference.counts(np.array([0.0, 1.0] * 450 + [-1.0] * 100)), level=0.01, floor=0.01, family=1)
>>> round(check.ratio, 3), check.flagged
(0.1, True)
>>> missing(reference, reference.counts(np.array([0.0] * 995 + [np.nan] * 5)), level=0.01, floor=0.01, family=1).flagged
False
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drift.detectors.base import MIN_PVALUE
from drift.counts import ColumnCounts, ColumnReference

CHECKS = ("missing", "out_of_range")


@dataclass(frozen=True)
class QualityCheck:
    ratio: float  # share of the window's values
    reference_ratio: float  # what training leads one to expect
    pvalue: float
    log_pvalue: float
    flagged: bool

    @property
    def neg_log10_pvalue(self) -> float:
        return -self.log_pvalue / math.log(10) if not math.isnan(self.log_pvalue) else math.nan


def outside_tail(k: int, n: int, m: int) -> tuple[float, float]:
    """(p, log p) of k or more of n new values falling outside the range of m training values (beta-binomial)."""
    if n == 0 or k == 0:
        return 1.0, 0.0
    from scipy.stats import betabinom  # imported when first used: scipy.stats costs about 0.5 s to import (drift.stats)
    tail = betabinom(n, 2, max(m - 1, 1))
    with np.errstate(divide="ignore", invalid="ignore"):  # logsf is -inf or nan far in the tail: _finite handles it
        return _finite(float(tail.sf(k - 1)), float(tail.logsf(k - 1)), float(tail.logpmf(k)))


def missing_tail(k: int, n: int, k0: int, m: int) -> tuple[float, float]:
    """(p, log p) of Fisher's exact test, one-sided (greater): k of n missing in the window, k0 of m in training."""
    if n == 0 or k == 0:
        return 1.0, 0.0
    from scipy.stats import hypergeom  # imported when first used (drift.stats)
    tail = hypergeom(m + n, k0 + k, n)  # the window's n draws from all m + n values, k0 + k of them missing
    with np.errstate(divide="ignore", invalid="ignore"):
        return _finite(float(tail.sf(k - 1)), float(tail.logsf(k - 1)), float(tail.logpmf(k)))


def _finite(p: float, log_p: float, log_first_term: float) -> tuple[float, float]:
    """The p-value floored at MIN_PVALUE and its log; far in the tail, where logsf gives -inf or nan, the first term
    of the tail (a lower bound of the log p, within a few units in the tails met here) stands for it."""
    if not math.isfinite(log_p):
        log_p = log_first_term
    return max(p, MIN_PVALUE), min(log_p, 0.0)


def _check(k: int, n: int, expected: float, tail: tuple[float, float], level: float, floor: float,
           family: float) -> QualityCheck:
    if n == 0:
        return QualityCheck(math.nan, expected, math.nan, math.nan, False)
    p, log_p = tail
    ratio = k / n
    return QualityCheck(ratio, expected, p, log_p, p < level / max(family, 1) and ratio - expected >= floor)


def missing(reference: ColumnReference, counts: ColumnCounts, level: float, floor: float, family: float) -> QualityCheck:
    """`family`: the divisor of `level` (the number of checks over their share of the family-wise level)."""
    m = reference.rows
    tail = missing_tail(counts.missing, counts.seen, round(reference.missing_share * m), m)
    return _check(counts.missing, counts.seen, reference.missing_share, tail, level, floor, family)


def out_of_range(reference: ColumnReference, counts: ColumnCounts, level: float, floor: float, family: float) -> QualityCheck:
    if not (math.isfinite(reference.low) or math.isfinite(reference.high)):  # a profile without training ranges
        return QualityCheck(math.nan, 0.0, math.nan, math.nan, False)
    k = counts.below + counts.above
    return _check(k, counts.n, 0.0, outside_tail(k, counts.n, reference.rows), level, floor, family)
