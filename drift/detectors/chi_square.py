"""Chi-square test of homogeneity between the reference's and the window's bin counts (a 2 x k table, as
`scipy.stats.chi2_contingency(correction=False)`), which accounts for the reference's own sampling error and lets
a bin empty in training (an unseen category) count. The sparsest bins are pooled into one until every expected count
is at least 10. Valid on discrete data with ties, unlike KS. The effect compared with the floor is the share of the
distribution that moved (total variation distance, half the L1 distance between the shares): scale-free, in
percentage points.

>>> import numpy as np
>>> from drift_client.reference_profile import Bins
>>> from drift.counts import ColumnReference
>>> reference = ColumnReference(Bins([0.5], [0.6, 0.4], 1000), sample=[0.0, 1.0])
>>> result = ChiSquare(level=0.05, floor=0.05).compute(reference, reference.counts(np.array([0.0] * 500 + [1.0] * 500)))
>>> round(result.effect, 3), result.pvalue < 1e-3
(0.1, True)
"""
from __future__ import annotations

import math

import numpy as np

from contracts.policy import Policy
from drift.detectors.base import MIN_PVALUE, DriftTest, TestResult, register
from drift.counts import ColumnCounts, ColumnReference


MIN_EXPECTED = 10.0  # the pooled table's smallest expected count: the approximation must hold far in the tail


def pooled_table(reference_counts: np.ndarray, current_counts: np.ndarray) -> np.ndarray:
    """The 2 x k table, with the sparsest bins pooled into one until every column's smallest expected count is at
    least MIN_EXPECTED.

    The flag is decided at p ~ 4e-4 (the family-wise level over a dozen tests), far in the tail where Cochran's "5"
    is not enough: pooling only the bins under 5 (and not at all when one bin alone was sparse) flagged stationary
    windows of 500 rows 1.7 times as often as the level says on txn_count_1h and txn_count_24h (docs/design.md,
    "The drift rule").
    """
    table = np.vstack([reference_counts, current_counts]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / max(table.sum(), 1.0)
    smallest = expected.min(axis=0)
    if (smallest >= MIN_EXPECTED).all():
        return table
    order = np.argsort(smallest, kind="stable")
    pooled_expected = np.cumsum(smallest[order])  # a pool's expected counts add up (row total x column share)
    take = max(int((smallest < MIN_EXPECTED).sum()), int(np.searchsorted(pooled_expected, MIN_EXPECTED)) + 1)
    pool = order[:min(take, len(order) - 1)]  # at least two columns stay (then Fisher's exact test if still sparse)
    rest = np.setdiff1d(np.arange(table.shape[1]), pool)
    return np.column_stack([table[:, rest], table[:, pool].sum(axis=1)])


def chi_square_homogeneity(reference_counts: np.ndarray, current_counts: np.ndarray) -> tuple[float, float, float]:
    """(statistic, p-value, log p-value) of the pooled 2 x k table, by scipy's chi2_contingency(correction=False);
    a 2 x 2 table that pooling cannot make dense enough gets the p-value of Fisher's exact test instead."""
    from scipy.stats import chi2, chi2_contingency, fisher_exact  # imported when first used: scipy.stats costs about 0.5 s to import (drift.stats)
    table = pooled_table(reference_counts, current_counts)
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0, 0.0
    result = chi2_contingency(table, correction=False)
    statistic = float(result.statistic)
    if table.shape[1] == 2 and result.expected_freq.min() < MIN_EXPECTED:
        p = float(fisher_exact(table).pvalue)
        return statistic, max(p, MIN_PVALUE), math.log(max(p, MIN_PVALUE))
    return statistic, max(float(result.pvalue), MIN_PVALUE), float(chi2.logsf(statistic, result.dof))


def total_variation(reference_shares: np.ndarray, current_counts: np.ndarray) -> float:
    n = current_counts.sum()
    return float(0.5 * np.abs(current_counts / n - reference_shares).sum()) if n else math.nan


@register
class ChiSquare(DriftTest):
    name = "chi2"
    has_pvalue = True

    @classmethod
    def defaults(cls, policy: Policy) -> dict[str, float]:
        return {"level": policy.family_wise_level, "floor": policy.chi2_min_effect}

    def compute(self, reference: ColumnReference, counts: ColumnCounts) -> TestResult:
        if counts.bins.sum() == 0:
            return TestResult(math.nan, math.nan, math.nan)
        statistic, p, log_p = chi_square_homogeneity(reference.reference_counts(), counts.bins)
        return TestResult(statistic, p, total_variation(reference.proportions, counts.bins), log_p)
