"""Quantile shift of a numeric feature: a rank test (Mann-Whitney U) whose effect is how far the central quantiles
moved, both computed from the window's KS slot counts (drift.stats.KSReference) and the reference's values.

The effect is scale-free: for a feature whose training values are all positive, the mean over q in QUANTILES of
log(x_cur(q) / x_ref(q)) (about 0.02 for every value +2%, 0.095 for +10%); for any other numeric feature the mean
of x_cur(q) - x_ref(q) in units of the reference's interquartile range. KS D is not an efficient effect for such
shifts: at 5,000 rows a harmless +2% and a +10% overlap in D (docs/design.md, "The drift rule").

>>> import numpy as np
>>> from drift.stats import KSReference
>>> ref = KSReference(np.arange(1.0, 1001.0))
>>> round(quantile_shift(ref, ref.counts(np.arange(1.0, 1001.0) * 1.1)), 3)  # log(1.1) = 0.0953, to the resolution
0.096
"""
from __future__ import annotations

import math
import weakref

import numpy as np

from contracts.policy import Policy
from drift.detectors.base import MIN_PVALUE, DriftTest, TestResult, register
from drift.stats import KSReference
from drift.counts import ColumnCounts, ColumnReference

QUANTILES = np.round(np.arange(0.2, 0.81, 0.1), 10)  # the central quantiles whose shift is the effect


def reference_slots(ks: KSReference) -> np.ndarray:
    """The reference's own mass per slot: at each reference value, and between them where the reference is a grid of
    the training values' quantiles (drift.profiles.CoarseKS; none for the exact reference)."""
    slots = np.empty(ks.slots)
    slots[1::2] = ks.ref_cdf - ks.ref_cdf_below
    slots[0::2] = _between(ks)
    return np.round(np.clip(slots, 0.0, None) * ks.m, 6)  # whole counts for the exact reference, float noise aside


def _between(ks: KSReference) -> np.ndarray:
    """Reference share strictly between consecutive reference values (under the first, over the last)."""
    return np.concatenate(([ks.ref_cdf_below[0]], ks.ref_cdf_below[1:] - ks.ref_cdf[:-1], [1.0 - ks.ref_cdf[-1]]))


def reference_quantiles(ks: KSReference, qs: np.ndarray = QUANTILES) -> np.ndarray:
    """np.quantile (linear) of the reference sample (exact for the exact reference)."""
    return window_quantiles(ks, reference_slots(ks), qs, ks.m)


def window_quantiles(ks: KSReference, slots: np.ndarray, qs: np.ndarray = QUANTILES, n: int | None = None) -> np.ndarray:
    """np.quantile (linear) of the window's values, recovered from their slot counts: exact where a value equals a
    reference value, otherwise spread evenly between the two reference values around it (the error is under one
    gap between neighbouring reference values); values outside the reference's range count as its edge value."""
    n = int(round(slots.sum())) if n is None else n
    if n == 0 or len(ks.values) == 0:
        return np.full(len(qs), math.nan)
    ends = np.cumsum(slots)
    starts = ends - slots
    lower = np.concatenate(([ks.values[0]], np.repeat(ks.values, 2)))  # slot 2k: (u_{k-1}, u_k); 2k+1: u_k
    upper = np.concatenate((np.repeat(ks.values, 2), [ks.values[-1]]))

    def value_at(rank: np.ndarray) -> np.ndarray:
        s = np.minimum(np.searchsorted(ends, rank + 1e-9, side="right"), len(slots) - 1)
        within = np.clip((rank - starts[s] + 0.5) / np.maximum(slots[s], 1), 0.0, 1.0)  # evenly spread in the slot
        return lower[s] + (upper[s] - lower[s]) * within

    return _interpolate(qs, n, value_at)


def _interpolate(qs: np.ndarray, n: int, value_at) -> np.ndarray:
    """numpy's default ("linear") quantile: between sorted positions floor(h) and floor(h) + 1, h = (n - 1) q."""
    h = (n - 1) * np.asarray(qs, dtype=float)
    low = np.floor(h)
    high = np.minimum(low + 1, n - 1)
    a, b = value_at(low), value_at(high)
    return a + (h - low) * (b - a)


# a reference's quantiles (QUANTILES, then the quartiles), computed once per reference: half the cost otherwise
_REFERENCE_QUANTILES: "weakref.WeakKeyDictionary[KSReference, np.ndarray]" = weakref.WeakKeyDictionary()


def _reference_figures(ks: KSReference) -> np.ndarray:
    figures = _REFERENCE_QUANTILES.get(ks)
    if figures is None:
        figures = _REFERENCE_QUANTILES[ks] = reference_quantiles(ks, np.concatenate((QUANTILES, [0.25, 0.75])))
    return figures


def quantile_shift(ks: KSReference, slots: np.ndarray) -> float:
    """The effect: mean log quantile ratio for all-positive references, else mean quantile shift over the IQR."""
    figures = _reference_figures(ks)
    ref, (q1, q3) = figures[:-2], figures[-2:]
    cur = window_quantiles(ks, slots)
    if len(ks.values) and ks.values[0] > 0:
        return float(np.mean(np.log(cur / ref)))
    return float(np.mean(cur - ref) / (q3 - q1)) if q3 > q1 else math.nan


def mann_whitney(ks: KSReference, slots: np.ndarray) -> tuple[float, float, float]:
    """(z, two-sided p, log p) of the Mann-Whitney U test of window against reference, normal approximation with
    the tie correction for ties with reference values, without continuity correction, as
    `scipy.stats.mannwhitneyu(current, reference, method="asymptotic", use_continuity=False)` (window values tied
    among themselves between reference values are taken as distinct)."""
    from scipy.stats import norm

    n, m = int(slots.sum()), ks.m
    if n == 0 or m == 0:
        return math.nan, math.nan, math.nan
    # reference values under a window value in each slot, ties counted half (and, on a coarse grid, half of the
    # reference mass between the grid values around it)
    at_or_below = np.concatenate(([0.0], ks.ref_cdf))
    below = np.concatenate((ks.ref_cdf_below, [1.0]))
    under = np.empty(ks.slots)
    under[0::2] = (at_or_below + below) / 2 * m
    under[1::2] = (ks.ref_cdf_below + ks.ref_cdf) / 2 * m
    u = float(np.dot(slots, under))
    total = n + m
    ties = ks.value_counts + slots[1::2]
    tie_term = float(np.sum(ties.astype(float) ** 3 - ties)) / (total * (total - 1))
    sd = math.sqrt(n * m / 12.0 * ((total + 1) - tie_term))
    if sd == 0:
        return math.nan, math.nan, math.nan
    z = (u - n * m / 2.0) / sd
    log_p = math.log(2.0) + float(norm.logsf(abs(z)))
    return z, min(math.exp(log_p), 1.0), min(log_p, 0.0)


@register
class QuantileShift(DriftTest):
    """Flags a numeric feature whose values moved: Mann-Whitney significant and the quantile shift at the floor."""

    name = "quantile_shift"
    kinds = ("numeric",)
    has_pvalue = True

    @classmethod
    def defaults(cls, policy: Policy) -> dict[str, float]:
        return {"level": policy.family_wise_level, "floor": policy.quantile_shift_min}

    def compute(self, reference: ColumnReference, counts: ColumnCounts) -> TestResult:
        _, p, log_p = mann_whitney(reference.ks, counts.slots)
        effect = quantile_shift(reference.ks, counts.slots)
        # the floor applies to the size of the shift, either way
        return TestResult(effect, max(p, MIN_PVALUE) if p == p else p, abs(effect), log_p)
