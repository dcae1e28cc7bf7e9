"""Population Stability Index over the reference bins.

>>> import numpy as np
>>> from contracts.reference_profile import Bins
>>> from drift.counts import ColumnReference
>>> reference = ColumnReference(Bins([0.5], [0.5, 0.5], 1000), sample=[0.0, 1.0])
>>> round(PSI(threshold=0.2).compute(reference, reference.counts(np.array([1.0, 1.0, 1.0, 1.0, 0.0]))).statistic, 4)
0.4159
"""
from __future__ import annotations

from contracts.policy import Policy
from drift.detectors.base import DriftTest, TestResult, register
from drift.stats import psi
from drift.counts import ColumnCounts, ColumnReference


@register
class PSI(DriftTest):
    name = "psi"

    @classmethod
    def defaults(cls, policy: Policy) -> dict[str, float]:
        return {"threshold": policy.psi_threshold}

    def compute(self, reference: ColumnReference, counts: ColumnCounts) -> TestResult:
        return TestResult(psi(reference.proportions, counts.bins))
