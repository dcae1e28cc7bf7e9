"""Jensen-Shannon distance (base 2, in [0, 1]) between the reference's and the window's bin shares, as
`scipy.spatial.distance.jensenshannon(p, q, base=2)`. Optional: flags at `threshold`.

>>> import numpy as np
>>> from contracts.reference_profile import Bins
>>> from exporter.window import ColumnReference
>>> reference = ColumnReference(Bins([0.5], [1.0, 0.0], 10), sample=[0.0])
>>> JensenShannon(threshold=0.1).compute(reference, reference.counts(np.array([1.0, 1.0]))).statistic
1.0
"""
from __future__ import annotations

import math

import numpy as np

from contracts.policy import Policy
from exporter.detectors.base import DriftTest, TestResult, register
from exporter.window import ColumnCounts, ColumnReference


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))
    return math.sqrt(max(0.5 * kl(p) + 0.5 * kl(q), 0.0))


@register
class JensenShannon(DriftTest):
    name = "jensen_shannon"

    @classmethod
    def defaults(cls, policy: Policy) -> dict[str, float]:
        return {"threshold": policy.js_threshold}

    def compute(self, reference: ColumnReference, counts: ColumnCounts) -> TestResult:
        if counts.bins.sum() == 0:
            return TestResult(math.nan)
        return TestResult(js_distance(reference.proportions.astype(float), counts.bins.astype(float)))
