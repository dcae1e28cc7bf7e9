"""Drift statistics computed from counts, so that a window is updated by its new samples only.

Both tests compare the current window with the model's reference profile:

- PSI over the reference bins (drift_client.reference_profile): sum((c - r) * ln(c / r)) over bins,
  with both shares floored at 1e-4 so that an empty bin costs a bounded amount instead of infinity.
- Two-sample Kolmogorov-Smirnov between the reference sample and the whole current window,
  computed *exactly* from counts (see `KSReference`), with the asymptotic p-value that
  `scipy.stats.ks_2samp(method="asymp")` gives.

scipy.stats is imported where a p-value is first computed, not with this module (it costs about half a second):
what imports the exporter's core without judging anything (a CLI's usage error, a test collection) does not pay it.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

PSI_FLOOR = 1e-4


def psi(reference: np.ndarray, current_counts: np.ndarray) -> float:
    """Population Stability Index of current bin counts against reference bin shares.

    >>> round(psi(np.array([0.5, 0.5]), np.array([60, 40])), 4)
    0.0405
    """
    total = current_counts.sum()
    if total == 0:
        return float("nan")
    expected = np.maximum(np.asarray(reference, dtype=float), PSI_FLOOR)
    actual = np.maximum(current_counts / total, PSI_FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """Two-sided asymptotic p-value of a two-sample KS statistic, as scipy's ks_2samp(method="asymp")."""
    return ks_pvalues(statistic, n, m)[0]


def ks_pvalues(statistic: float, n: int, m: int) -> tuple[float, float]:
    """(p-value, log p-value): `kstwo.sf` and `kstwo.logsf` at the effective size round(n m / (n + m)), with the
    survival function evaluated once.

    Above the distribution's median scipy's logsf is log(sf), so the log is taken of the sf already computed: the
    same figures at half the cost (at n of about 10^5 and moderate D one sf costs about 0.2 s, as scipy sums n
    terms). At or below the median logsf is log1p(-cdf), asked of scipy itself.
    """
    if n == 0 or m == 0:
        return math.nan, math.nan
    from scipy.stats import kstwo
    size = float(np.round(n * m / (n + m)))
    sf = float(kstwo.sf(statistic, size))
    if statistic > _kstwo_median(size):
        with np.errstate(divide="ignore"):  # numpy's log, as scipy's: libm's may differ in the last bit
            log_sf = float(np.log(np.asarray([sf]))[0])
    else:
        log_sf = float(kstwo.logsf(statistic, size))
    if log_sf == -math.inf:  # scipy's logsf underflows from n D^2 of about 370 (e.g. D 0.5 at size 4,375)
        log_sf = _far_tail_log_sf(statistic, int(size), n, m)
    return float(np.clip(sf, 0.0, 1.0)), float(min(log_sf, 0.0))


def _far_tail_log_sf(statistic: float, size: int, n: int, m: int) -> float:
    """log P(D >= d) where scipy's logsf gives -inf: twice the one-sided tail (the two tails overlap by about its
    square, nothing at this depth), Smirnov's exact finite sum taken in log space; never below the two-sample test's
    own smallest p-value, 2 / C(n + m, n) (complete separation of the samples), which is also the figure at D = 1.

    >>> round(_far_tail_log_sf(0.3, 3000, 3000, 10**9), 3)  # scipy's kstwo.logsf(0.3, 3000) is -550.824
    -550.824
    """
    from scipy.special import gammaln, logsumexp

    smallest = math.log(2.0) - float(gammaln(n + m + 1) - gammaln(n + 1) - gammaln(m + 1))
    if not 0.0 < statistic < 1.0:
        return smallest
    j = np.arange(0, math.floor(size * (1.0 - statistic)) + 1, dtype=float)
    with np.errstate(divide="ignore"):
        terms = (gammaln(size + 1) - gammaln(j + 1) - gammaln(size - j + 1)
                 + (size - j) * np.log(1.0 - statistic - j / size) + (j - 1) * np.log(statistic + j / size))
    return max(math.log(2.0) + math.log(statistic) + float(logsumexp(terms)), smallest)


@lru_cache(maxsize=256)
def _kstwo_median(size: float) -> float:
    """The median of the KS distribution at this size, where scipy's logsf switches formulas (a root search)."""
    from scipy.stats import kstwo
    return float(kstwo.ppf(0.5, size))


class KSReference:
    """A reference sample prepared for exact two-sample KS against counted windows.

    Current values are counted in 2K+1 slots around the K distinct reference values
    u_0 < ... < u_{K-1}: slot 2k holds values strictly between u_{k-1} and u_k, slot 2k+1
    values equal to u_k, slot 2K values above u_{K-1} (slot = left + right insertion index).
    Between consecutive u_k the reference ECDF is flat and the current one non-decreasing, so
    sup |F_cur - F_ref| is reached at some u_k or just below it: the cumulative slot counts give
    both, hence the same D as `scipy.stats.ks_2samp`, whatever the window size.

    >>> ref = KSReference(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> ref.statistic(ref.counts(np.array([3.0, 4.0, 5.0, 6.0])))
    0.5
    """

    def __init__(self, sample: np.ndarray) -> None:
        sample = np.asarray(sample, dtype=float)
        sample = sample[np.isfinite(sample)]
        self.values, ref_counts = np.unique(sample, return_counts=True)
        self.value_counts = ref_counts
        self.m = int(len(sample))
        self.ref_cdf = np.cumsum(ref_counts) / max(self.m, 1)
        self.ref_cdf_below = np.concatenate(([0.0], self.ref_cdf[:-1]))
        self.slots = 2 * len(self.values) + 1

    def slot_index(self, current: np.ndarray) -> np.ndarray:
        """The slot of each current value (uint16 while the reference has < 32,768 distinct values)."""
        left = np.searchsorted(self.values, current, side="left")
        equal = self.values[np.minimum(left, len(self.values) - 1)] == current if len(self.values) else False
        slot = 2 * left + equal  # the values are distinct, so the right insertion index is left + equal
        return slot.astype(np.uint16 if self.slots < 2**16 else np.uint32)

    def counts(self, current: np.ndarray) -> np.ndarray:
        """Slot counts of `current` values (add them up over batches to get the window's)."""
        return np.bincount(self.slot_index(current), minlength=self.slots)

    def statistic(self, counts: np.ndarray) -> float:
        """Exact KS D between the reference sample and the window whose slot `counts` are given."""
        n = counts.sum()
        if n == 0 or self.m == 0:
            return float("nan")
        cumulative = np.cumsum(counts) / n
        below = cumulative[0:-1:2]  # F_cur just below u_k
        at_or_below = cumulative[1::2]  # F_cur at u_k
        return float(max(np.abs(at_or_below - self.ref_cdf).max(), np.abs(below - self.ref_cdf_below).max()))

    def test(self, counts: np.ndarray) -> tuple[float, float]:
        """(D, p-value) of the window with these slot counts."""
        d = self.statistic(counts)
        return d, ks_pvalue(d, int(counts.sum()), self.m)

    def test_with_log(self, counts: np.ndarray) -> tuple[float, float, float]:
        """(D, p-value, log p-value) of the window with these slot counts."""
        d = self.statistic(counts)
        return (d, *ks_pvalues(d, int(counts.sum()), self.m))


def mean_std(total: float, total_sq: float, n: int) -> tuple[float, float]:
    """Mean and population standard deviation from running sums."""
    if n == 0:
        return float("nan"), float("nan")
    mean = total / n
    return mean, float(np.sqrt(max(total_sq / n - mean * mean, 0.0)))


def attribution(effects: dict[str, float], importance: dict[str, float], drifted: dict[str, bool]) -> dict[str, float]:
    """Share of the drift impact owed to each feature: importance x effect size over drifted features.

    Sums to 1 when any feature drifts, all zeros otherwise.

    >>> attribution({"a": 0.2, "b": 0.1}, {"a": 0.5, "b": 0.5}, {"a": True, "b": True})
    {'a': 0.6666666666666666, 'b': 0.3333333333333333}
    """
    impact = {f: importance.get(f, 0.0) * effects[f] if drifted.get(f) else 0.0 for f in effects}
    total = sum(impact.values())
    if total <= 0:
        return {f: 0.0 for f in effects}
    return {f: v / total for f, v in impact.items()}
