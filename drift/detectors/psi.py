"""Population Stability Index over the reference bins, the sparse ones pooled.

A bin whose expected count is small makes PSI judge noise: its share in a window of a few hundred rows is 0 or a
few times the reference's, and ln(c / r) is large either way (PSI over ~60 one-value bins of 221 ages was over the
critical threshold on every random half of the same data). So PSI is computed over the table that chi-square pools
(`chi_square.pooled_table`: the sparsest bins into one until every expected count is at least MIN_EXPECTED). At
production window sizes no bin is that sparse, and the figure is the plain PSI. docs/design.md, "Small and
integer-valued data".

>>> import numpy as np
>>> from drift_client.reference_profile import Bins
>>> from drift.counts import ColumnReference
>>> reference = ColumnReference(Bins([0.5], [0.5, 0.5], 1000), sample=[0.0, 1.0])
>>> round(PSI(threshold=0.2).compute(reference, reference.counts(np.array([1.0] * 40 + [0.0] * 10))).statistic, 4)
0.4159
"""
from __future__ import annotations

import math

import numpy as np

from contracts.policy import Policy
from drift.detectors.base import DriftTest, TestResult, register
from drift.detectors.chi_square import pooled_table
from drift.stats import psi
from drift.counts import ColumnCounts, ColumnReference


def pooled_psi(reference: ColumnReference, counts: np.ndarray) -> float:
    """PSI of the window's bin counts against the reference's shares, over chi-square's pooled bins."""
    counts = np.asarray(counts)
    if counts.sum() == 0:
        return math.nan
    table = pooled_table(reference.reference_counts(), counts)
    if table.shape[1] < 2 or table[0].sum() == 0:
        return 0.0 if table.shape[1] < 2 else psi(reference.proportions, counts)
    return psi(table[0] / table[0].sum(), table[1])


@register
class PSI(DriftTest):
    name = "psi"

    @classmethod
    def defaults(cls, policy: Policy) -> dict[str, float]:
        return {"threshold": policy.psi_threshold}

    def compute(self, reference: ColumnReference, counts: ColumnCounts) -> TestResult:
        return TestResult(pooled_psi(reference, counts.bins))
