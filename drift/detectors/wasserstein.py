"""Wasserstein-1 distance between the reference sample and the window, divided by the reference's standard
deviation (scale-free). Incremental: the window's values are placed on the reference sample's grid by their KS
slot (a value equal to a reference value at it, one between two at their midpoint, one beyond the ends at the
end), so it equals `scipy.stats.wasserstein_distance` on those located values and differs from the raw values'
distance by at most half the widest gap between neighbouring reference values. Optional: flags at `threshold`.

>>> import numpy as np
>>> from drift_client.reference_profile import Bins
>>> from drift.counts import ColumnReference
>>> reference = ColumnReference(Bins([], [1.0], 4), sample=[0.0, 1.0, 2.0, 3.0])
>>> round(Wasserstein(threshold=0.1).compute(reference, reference.counts(np.array([1.0, 2.0, 3.0, 3.0]))).statistic, 4)
0.6708
"""
from __future__ import annotations

import math

import numpy as np

from contracts.policy import Policy
from drift.detectors.base import DriftTest, TestResult, register
from drift.counts import ColumnCounts, ColumnReference


def slot_points(values: np.ndarray) -> np.ndarray:
    """Where each of the 2K+1 KS slots sits on the line: u_0 for below, midpoints between, u_k at u_k, u_{K-1} above."""
    mids = (values[:-1] + values[1:]) / 2
    points = np.empty(2 * len(values) + 1)
    points[1::2] = values
    points[2:-1:2] = mids
    points[0], points[-1] = values[0], values[-1]
    return points


@register
class Wasserstein(DriftTest):
    name = "wasserstein"
    kinds = ("numeric", "discrete", "binary")

    @classmethod
    def defaults(cls, policy: Policy) -> dict[str, float]:
        return {"threshold": policy.wasserstein_threshold}

    def compute(self, reference: ColumnReference, counts: ColumnCounts) -> TestResult:
        from scipy.stats import wasserstein_distance  # imported when first used: scipy.stats costs about 0.5 s to import (drift.stats)
        ks = reference.ks
        if counts.slots.sum() == 0 or len(ks.values) == 0:
            return TestResult(math.nan)
        reference_weights = np.zeros(ks.slots)
        reference_weights[1::2] = ks.value_counts
        points = slot_points(ks.values)
        distance = float(wasserstein_distance(points, points, reference_weights, counts.slots.astype(float)))
        std = reference.std
        return TestResult(distance / std if std > 0 else (0.0 if distance == 0 else math.inf))
