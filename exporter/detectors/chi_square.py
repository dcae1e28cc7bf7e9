"""Chi-square test of homogeneity between the reference's and the window's bin counts (a 2 x k table, as
`scipy.stats.chi2_contingency(correction=False)`), which accounts for the reference's own sampling error and lets
a bin empty in training (an unseen category) count. Bins with an expected count under 5 are pooled into one. Valid on discrete data with ties, unlike KS. The effect
compared with the floor is the share of the distribution that moved (total variation distance, half the L1
distance between the shares): scale-free, in percentage points.

>>> import numpy as np
>>> from contracts.reference_profile import Bins
>>> from exporter.window import ColumnReference
>>> reference = ColumnReference(Bins([0.5], [0.6, 0.4], 1000), sample=[0.0, 1.0])
>>> result = ChiSquare(level=0.05, floor=0.05).compute(reference, reference.counts(np.array([0.0] * 500 + [1.0] * 500)))
>>> round(result.effect, 3), result.pvalue < 1e-3
(0.1, True)
"""
from __future__ import annotations

import math

import numpy as np

from contracts.policy import Policy
from exporter.detectors.base import MIN_PVALUE, DriftTest, TestResult, register
from exporter.window import ColumnCounts, ColumnReference


MIN_EXPECTED = 5.0  # Cochran's rule: below this expected count the chi-square approximation is not trusted


def pooled_table(reference_counts: np.ndarray, current_counts: np.ndarray) -> np.ndarray:
    """The 2 x k table, with the bins whose smallest expected count is under MIN_EXPECTED pooled into one.

    Rare tail values (6 transactions in an hour) would otherwise make the p-value far too small on stationary data.
    """
    table = np.vstack([reference_counts, current_counts]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / max(table.sum(), 1.0)
    sparse = expected.min(axis=0) < MIN_EXPECTED
    if sparse.sum() > 1:
        table = np.column_stack([table[:, ~sparse], table[:, sparse].sum(axis=1)])
    return table


def chi_square_homogeneity(reference_counts: np.ndarray, current_counts: np.ndarray) -> tuple[float, float, float]:
    """(statistic, p-value, log p-value) of the pooled 2 x k table, by scipy's chi2_contingency(correction=False)."""
    from scipy.stats import chi2, chi2_contingency  # imported when first used: scipy.stats costs about 0.5 s to import (exporter.stats)
    table = pooled_table(reference_counts, current_counts)
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0, 0.0
    result = chi2_contingency(table, correction=False)
    statistic = float(result.statistic)
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
        return {"level": policy.ks_threshold, "floor": policy.chi2_min_effect}

    def compute(self, reference: ColumnReference, counts: ColumnCounts) -> TestResult:
        if counts.bins.sum() == 0:
            return TestResult(math.nan, math.nan, math.nan)
        statistic, p, log_p = chi_square_homogeneity(reference.reference_counts(), counts.bins)
        return TestResult(statistic, p, total_variation(reference.proportions, counts.bins), log_p)
