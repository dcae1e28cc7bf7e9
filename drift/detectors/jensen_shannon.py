"""Jensen-Shannon distance (base 2, in [0, 1]) between the reference's and the window's bin shares, as
`scipy.spatial.distance.jensenshannon(p, q, base=2)`. Optional: flags at `threshold`.

>>> import numpy as np
>>> from drift_client.reference_profile import Bins
>>> from drift.counts import ColumnReference
>>> reference = ColumnReference(Bins([0.5], [1.0, 0.0], 10), sample=[0.0])
>>> JensenShannon(threshold=0.1).compute(reference, reference.counts(np.array([1.0, 1.0]))).statistic
1.0
"""
from __future__ import annotations

import math

from contracts.policy import Policy
from drift.detectors.base import DriftTest, TestResult, register
from drift.counts import ColumnCounts, ColumnReference


@register
class JensenShannon(DriftTest):
    name = "jensen_shannon"

    @classmethod
    def defaults(cls, policy: Policy) -> dict[str, float]:
        return {"threshold": policy.js_threshold}

    def compute(self, reference: ColumnReference, counts: ColumnCounts) -> TestResult:
        from scipy.spatial.distance import jensenshannon  # imported when first used: scipy.stats costs about 0.5 s to import (drift.stats)
        if counts.bins.sum() == 0:
            return TestResult(math.nan)
        return TestResult(float(jensenshannon(reference.proportions, counts.bins / counts.bins.sum(), base=2)))
