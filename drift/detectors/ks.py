"""Two-sample Kolmogorov-Smirnov against the reference sample, exact from slot counts (drift.stats.KSReference);
the effect compared with the floor is D itself.

>>> import numpy as np
>>> from drift_client.reference_profile import Bins
>>> from drift.counts import ColumnReference
>>> reference = ColumnReference(Bins([0.5], [0.5, 0.5], 2), sample=[0.0, 1.0])
>>> KS(level=0.05, floor=0.07).compute(reference, reference.counts(np.array([1.0, 1.0, 1.0, 1.0, 0.0]))).statistic
0.3
"""
from __future__ import annotations

from contracts.policy import Policy
from drift.detectors.base import MIN_PVALUE, DriftTest, TestResult, register
from drift.counts import ColumnCounts, ColumnReference


@register
class KS(DriftTest):
    name = "ks"
    kinds = ("numeric", "discrete", "binary")
    has_pvalue = True

    @classmethod
    def defaults(cls, policy: Policy) -> dict[str, float]:
        return {"level": policy.family_wise_level, "floor": policy.ks_min_statistic}

    def compute(self, reference: ColumnReference, counts: ColumnCounts) -> TestResult:
        d, p, log_p = reference.ks.test_with_log(counts.slots)
        return TestResult(d, max(p, MIN_PVALUE) if p == p else p, d, log_p)
