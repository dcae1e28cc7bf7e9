"""What one column looked like in training (`ColumnReference`) and running counts of it (`ColumnCounts`): the
vocabulary every window, detector and report shares.

Pure (no I/O). A reference turns values into bin and KS-slot indices once; counts add or subtract such batches, so a
window can grow with arrivals and shrink with expiry, and a data set can be counted a batch at a time.

>>> from drift_client.reference_profile import Bins
>>> ref = ColumnReference(Bins(edges=[0.0], proportions=[0.5, 0.5]), sample=[-1.0, 1.0])
>>> c = ref.counts(np.array([-2.0, 3.0, np.nan]))
>>> c.bins.tolist(), c.n, c.missing
([1, 1], 2, 1)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drift_client.reference_profile import SCORE, Bins, ReferenceProfile
from drift_client.schema import FeatureSpec
from drift.stats import KSReference


class ColumnReference:
    """What one column (a feature or the score) looked like in training: its bins, KS reference sample, mean and
    std, kind, training range and share of missing values."""

    def __init__(self, bins: Bins, sample: list[float], spec: FeatureSpec | None = None, std: float = math.nan,
                 mean: float = math.nan, training_range: tuple[float, float] | None = None, missing_share: float = 0.0) -> None:
        self.bins = bins
        self.proportions = np.asarray(bins.proportions, dtype=float)
        self.ks = KSReference(np.asarray(sample))
        self.n_bins = len(bins.edges) + 1
        self.spec = spec or FeatureSpec("", "numeric")
        self.std = std if not math.isnan(std) else float(np.std(sample)) if len(sample) else math.nan
        self.mean = mean if not math.isnan(mean) else float(np.mean(sample)) if len(sample) else math.nan
        self.low, self.high = training_range if training_range else (-math.inf, math.inf)
        self.missing_share = missing_share
        # one index past the last bin / slot marks a missing value, so a batch keeps a single index array per column
        self.missing_bin, self.missing_slot = self.n_bins, self.ks.slots
        self._bin_dtype = _index_dtype(self.n_bins + 1)
        self._slot_dtype = _index_dtype(self.ks.slots + 1)

    @classmethod
    def of(cls, profile: ReferenceProfile, column: str) -> "ColumnReference":
        spec = profile.model_schema[column] if column != SCORE else profile.score_spec()
        training_range = tuple(profile.ranges[column]) if column in profile.ranges else None
        return cls(profile.bins[column], profile.sample[column], spec, profile.stds.get(column, math.nan),
                   profile.means.get(column, math.nan), training_range, profile.missing.get(column, 0.0))

    @property
    def rows(self) -> int:
        """Training rows behind the reference (the KS sample's size for old profiles)."""
        return self.bins.count or self.ks.m

    def bin_index(self, values: np.ndarray) -> np.ndarray:
        """Bin of each value; `missing_bin` for NaN and infinities."""
        index = self.bins.bin_index(values).astype(self._bin_dtype)
        index[~np.isfinite(values)] = self.missing_bin
        return index

    def slot_index(self, values: np.ndarray) -> np.ndarray:
        """KS slot of each value; `missing_slot` for NaN and infinities."""
        index = self.ks.slot_index(values).astype(self._slot_dtype)
        index[~np.isfinite(values)] = self.missing_slot
        return index

    def reference_counts(self) -> np.ndarray:
        """The training counts behind the bin shares."""
        return np.round(self.proportions * self.rows)

    def counts(self, values: np.ndarray, into: "ColumnCounts | None" = None) -> "ColumnCounts":
        """The counts of a batch of values (what the window adds up), added to `into` when given (a data set counted
        a batch at a time: no per-batch arrays as long as the KS slots, up to twice the reference's distinct values)."""
        values = np.asarray(values, dtype=float)
        counts = into if into is not None else ColumnCounts(np.zeros(self.n_bins, np.int64), np.zeros(self.ks.slots, np.int64))
        below, above, total, total_sq = _outside_and_sums(values, self.low, self.high)
        counts.total += total
        counts.total_sq += total_sq
        # counts do not depend on the order: sorted values make the binary searches walk the (up to 10^5 distinct
        # values) KS reference in order, about 10 times faster than random probes (NaN sorts last, still missing)
        ordered = np.sort(values)
        counts.add(self, self.bin_index(ordered), self.slot_index(ordered), below, above)
        return counts


@dataclass
class ColumnCounts:
    """Running totals of one column over the window: bin counts (PSI), KS slot counts, the values that were missing
    or outside the training range, and the sum and sum of squares of the present values (in a window these are
    re-derived from pooled batch moments at every change, never accumulated). `n` counts the present values."""

    bins: np.ndarray
    slots: np.ndarray
    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0
    missing: int = 0
    below: int = 0
    above: int = 0

    def merge(self, other: "ColumnCounts") -> None:
        """Add another set of counts of the same column (a data set counted in parts; windows subtract too)."""
        self.bins += other.bins
        self.slots += other.slots
        for name in ("n", "total", "total_sq", "missing", "below", "above"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def seen(self) -> int:
        """Every value of the column, missing ones included."""
        return self.n + self.missing

    def add(self, reference: ColumnReference, bins: np.ndarray, slots: np.ndarray, below: int, above: int,
            sign: int = 1) -> None:
        """Add (sign=1) or subtract (sign=-1) a batch given by its bin and slot indices."""
        bin_counts = np.bincount(bins, minlength=reference.n_bins + 1)
        slot_counts = np.bincount(slots, minlength=reference.ks.slots + 1)[: reference.ks.slots]
        if sign > 0:  # in place, without a signed copy of the (up to 10^6) slot counts
            self.bins += bin_counts[: reference.n_bins]
            self.slots += slot_counts
        else:
            self.bins -= bin_counts[: reference.n_bins]
            self.slots -= slot_counts
        missing = int(bin_counts[reference.n_bins])
        self.missing += sign * missing
        self.n += sign * (len(bins) - missing)
        self.below += sign * below
        self.above += sign * above


def _index_dtype(size: int) -> type:
    return np.uint8 if size <= 256 else np.uint16 if size <= 65536 else np.uint32


def _outside_and_sums(values: np.ndarray, low: float, high: float) -> tuple[int, int, float, float]:
    """(below the training range, above it, sum, sum of squares) of the finite values.

    The sum of squares is numpy's own pairwise sum, not a BLAS dot product: OpenBLAS splits a dot product of more
    than 10,000 values over its threads, so its last bits depended on the machine's cores, and waking those threads
    on a busy machine cost up to 6 ms a call."""
    finite = values[np.isfinite(values)]
    return (int(np.count_nonzero(finite < low)), int(np.count_nonzero(finite > high)), float(finite.sum()),
            float(np.square(finite).sum()))
