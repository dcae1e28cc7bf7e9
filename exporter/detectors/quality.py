"""Data-quality checks of a feature against training: the share of missing values (NaN, infinities) and the share
outside the training range [min, max], each a one-sided binomial test of "more than in training" that needs both a
significant excess (Bonferroni over every check of the model) and an excess of at least `floor` (a share).

A new value from the training distribution falls outside the training range with probability 2/(m + 1) (m training
rows), which is the baseline when training itself had none outside; missing values are compared with training's own
share (at least 1/(m + 1)).

>>> import numpy as np
>>> from contracts.reference_profile import Bins
>>> from exporter.window import ColumnReference
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

from exporter.detectors.base import MIN_PVALUE
from exporter.window import ColumnCounts, ColumnReference

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


def excess(k: int, n: int, p0: float) -> tuple[float, float]:
    """(p, log p) of seeing k or more of n when each is expected with probability p0."""
    if n == 0 or k == 0:
        return 1.0, 0.0
    from scipy.stats import binom  # imported when first used: scipy.stats costs about 0.5 s to import (exporter.stats)
    log_p = float(binom.logsf(k - 1, n, p0))
    if not math.isfinite(log_p):  # far in the tail: the first term dominates, P(X >= k) ~ pmf(k) / (1 - r)
        r = (n - k) / (k + 1) * p0 / (1 - p0)
        log_p = float(binom.logpmf(k, n, p0)) - (math.log1p(-r) if r < 1 else 0.0)
    return max(float(binom.sf(k - 1, n, p0)), MIN_PVALUE), log_p


def _check(k: int, n: int, expected: float, baseline: float, level: float, floor: float, family: int) -> QualityCheck:
    if n == 0:
        return QualityCheck(math.nan, expected, math.nan, math.nan, False)
    p, log_p = excess(k, n, baseline)
    ratio = k / n
    return QualityCheck(ratio, expected, p, log_p, p < level / max(family, 1) and ratio - expected >= floor)


def missing(reference: ColumnReference, counts: ColumnCounts, level: float, floor: float, family: int) -> QualityCheck:
    baseline = max(reference.missing_share, 1 / (reference.rows + 1))
    return _check(counts.missing, counts.seen, reference.missing_share, baseline, level, floor, family)


def out_of_range(reference: ColumnReference, counts: ColumnCounts, level: float, floor: float, family: int) -> QualityCheck:
    if not (math.isfinite(reference.low) or math.isfinite(reference.high)):  # a profile without training ranges
        return QualityCheck(math.nan, 0.0, math.nan, math.nan, False)
    return _check(counts.below + counts.above, counts.n, 0.0, 2 / (reference.rows + 1), level, floor, family)
