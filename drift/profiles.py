"""Per-minute profiles: everything the drift tests need about one minute of one model version's predictions, as
counts that add up, so that any window is the sum of its minutes (pure: no I/O; `exporter.profile_store` keeps
them in Redis).

A minute's profile holds, for each column (every feature and the score):
- its bin counts (PSI, chi-square, Jensen-Shannon), the values missing, under and over the training range, the
  values present: integers, merged by addition, so merged minutes give exactly the raw samples' figures;
- its counts in the slots of a *coarse* KS grid (`CoarseKS`): exact KS needs 2K + 1 slots around the K distinct
  training values (70,001 for a 35,000-row numeric column), too many to keep per minute for a week. The grid keeps
  the distinct training values at the 1/G, 2/G, ..., 1 quantiles (G = KS_GRID), so D computed on it is a lower
  bound of the exact D and falls short of it by at most the training mass strictly between two grid values:
  `CoarseKS.error_bound`, under 1/G (0.002 at G = 512; a column with at most G distinct values is exact);
- the count, mean and sum of squared deviations of its present values (pooled with Chan's formula, never summed
  as running sums: drift.moments);
and for the model: predictions, predicted positives, rows skipped (non-finite score), and the score counts and
calibrated probability mass per fine score bin (performance estimation without labels, drift.score_counts).

Labels are not in profiles: the labelled performance stays on the live window's label join (drift.live_window).

>>> rng = np.random.default_rng(0)
>>> profile = ReferenceProfile.build(model_name="m", model_version="1", trained_at="", features=["x"], metrics={},
...     train=rng.normal(size=(5000, 1)), scores=rng.uniform(size=1000), labels=None, importance={"x": 1.0})
>>> layout = ProfileLayout(profile)
>>> a = layout.count(rng.normal(size=(300, 1)).astype(np.float32), rng.uniform(size=300).astype(np.float32))
>>> b = layout.count(rng.normal(size=(200, 1)).astype(np.float32), rng.uniform(size=200).astype(np.float32))
>>> merged = layout.merge([layout.decode(layout.encode(a)), b])
>>> merged.predictions, layout.window(merged, 600).column("x")[1].n
(500, 500)
"""
from __future__ import annotations

import copy
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from drift_client.redis_layout import MalformedEntry
from drift_client.reference_profile import SCORE, ReferenceProfile
from drift.score_counts import ScoreCounts
from drift.moments import pooled_mean_std
from drift.stats import KSReference
from drift.counts import ColumnCounts, ColumnReference

KS_GRID = 512
MAGIC = b"DMP1"
HEADER = struct.Struct("<4sIBII")  # magic, layout fingerprint, bytes per count, counts, floats
MINUTE = 60


class CoarseKS(KSReference):
    """KS against the full reference, with the current values counted on a grid of G reference quantiles.

    D on the grid is a lower bound of the exact D, short of it by at most `error_bound`: between two grid values
    g_a < g_b the current ECDF is non-decreasing and the reference ECDF rises by the training mass strictly inside
    (g_a, g_b), so |F_cur - F_ref| anywhere inside exceeds its value at g_a or just below g_b by at most that mass.

    >>> exact = KSReference(np.arange(1000.0))
    >>> coarse = CoarseKS(exact, grid=10)
    >>> len(coarse.values), coarse.error_bound
    (10, 0.099)
    """

    def __init__(self, exact: KSReference, grid: int = KS_GRID) -> None:
        if len(exact.values) <= grid:
            index = np.arange(len(exact.values))
        else:  # the first distinct value whose reference CDF reaches j/G, for j = 1..G
            targets = np.arange(1, grid + 1) / grid - 1e-12
            index = np.unique(np.minimum(np.searchsorted(exact.ref_cdf, targets, side="left"), len(exact.values) - 1))
        self.values = exact.values[index]
        self.value_counts = exact.value_counts[index]
        self.m = exact.m
        self.ref_cdf = exact.ref_cdf[index]
        self.ref_cdf_below = exact.ref_cdf_below[index]
        self.slots = 2 * len(self.values) + 1
        self.error_bound = _largest_gap(exact, index)


def _largest_gap(exact: KSReference, index: np.ndarray) -> float:
    """The largest training mass strictly between consecutive grid values, under the first or over the last."""
    if len(index) == 0 or len(index) == len(exact.values):
        return 0.0
    inner = exact.ref_cdf_below[index[1:]] - exact.ref_cdf[index[:-1]]
    edges = [exact.ref_cdf_below[index[0]], 1.0 - exact.ref_cdf[index[-1]]]
    return float(round(max(inner.max(initial=0.0), *edges), 12))


def coarse_reference(reference: ColumnReference, grid: int = KS_GRID) -> ColumnReference:
    """The same column reference with its KS slots on the coarse grid."""
    coarse = copy.copy(reference)
    coarse.ks = CoarseKS(reference.ks, grid)
    coarse.missing_slot = coarse.ks.slots
    coarse._slot_dtype = np.uint16 if coarse.ks.slots + 1 <= 65536 else np.uint32
    return coarse


@dataclass
class MinuteProfile:
    """The counts of some minutes (one, or several merged): `counts` int64 (layout.size), `floats` float64."""

    counts: np.ndarray
    floats: np.ndarray

    @property
    def predictions(self) -> int:
        return int(self.counts[0])


class ProfileLayout:
    """Where each figure sits in a profile's vectors, for one reference profile (and its coarse KS grid)."""

    def __init__(self, profile: ReferenceProfile, grid: int = KS_GRID) -> None:
        self.profile = profile
        self.columns = [*profile.features, SCORE]
        self.references = [coarse_reference(ColumnReference.of(profile, c), grid) for c in self.columns]
        self.score_template = ScoreCounts(profile)
        sizes = [3, len(self.score_template.counts)]  # predictions, positives, skipped; score bins
        for r in self.references:
            sizes += [r.n_bins, r.ks.slots, 4]  # bins, slots, (missing, below, above, present)
        self.offsets = np.cumsum([0, *sizes])
        self.size = int(self.offsets[-1])
        self.present_index = np.array([self.offsets[4 + 3 * i] + 3 for i in range(len(self.references))])
        self.n_columns = len(self.columns)
        self.n_floats = len(self.score_template.mass) + 2 * self.n_columns  # score mass; mean and M2 per column
        self.fingerprint = self._fingerprint()

    def _fingerprint(self) -> int:
        """Changes whenever the layout or the grid does: a profile written for another reference is refused."""
        crc = zlib.crc32(np.asarray(self.offsets, np.int64).tobytes())
        for r in self.references:
            crc = zlib.crc32(np.asarray(r.ks.values, np.float64).tobytes(), crc)
            crc = zlib.crc32(np.asarray(r.bins.edges, np.float64).tobytes(), crc)
        return zlib.crc32(np.asarray(self.score_template.edges, np.float64).tobytes(), crc)

    def _part(self, counts: np.ndarray, k: int) -> np.ndarray:
        return counts[self.offsets[k]: self.offsets[k + 1]]

    def empty(self) -> MinuteProfile:
        return MinuteProfile(np.zeros(self.size, np.int64), np.zeros(self.n_floats))

    def count(self, features: np.ndarray, scores: np.ndarray) -> MinuteProfile:
        """The profile of these rows (features float32 rows x columns, scores float32); rows without a finite score
        are skipped and counted, a missing feature value counts for its feature only (as in drift.live_window)."""
        out = self.empty()
        scored = np.isfinite(scores)
        out.counts[2] = int((~scored).sum())
        data = np.column_stack([np.asarray(features, np.float32)[scored], np.asarray(scores, np.float32)[scored]]).astype(float)
        out.counts[0] = len(data)
        out.counts[1] = int((data[:, -1] >= self.profile.threshold).sum())
        score_bins = self._part(out.counts, 1)
        score_counts = copy.copy(self.score_template)
        score_counts.counts, score_counts.mass = np.zeros_like(score_counts.counts), np.zeros_like(score_counts.mass)
        score_counts.add(data[:, -1])
        score_bins[:] = score_counts.counts
        mass_end = len(score_counts.mass)
        out.floats[:mass_end] = score_counts.mass
        for i, reference in enumerate(self.references):
            values = data[:, i]
            finite = np.isfinite(values)
            present = values[finite]
            self._part(out.counts, 2 + 3 * i)[:] = np.bincount(reference.bin_index(values), minlength=reference.n_bins + 1)[:-1]
            self._part(out.counts, 3 + 3 * i)[:] = np.bincount(reference.slot_index(values), minlength=reference.ks.slots + 1)[:-1]
            self._part(out.counts, 4 + 3 * i)[:] = [len(values) - len(present), (present < reference.low).sum(),
                                                    (present > reference.high).sum(), len(present)]
            mean = present.mean() if len(present) else 0.0
            out.floats[mass_end + i] = mean
            out.floats[mass_end + self.n_columns + i] = float(((present - mean) ** 2).sum())
        return out

    def merge(self, profiles: list[MinuteProfile]) -> MinuteProfile:
        """The profile of the union: counts and score mass added, moments pooled (drift.moments)."""
        if not profiles:
            return self.empty()
        counts = np.zeros(self.size, np.int64)
        for p in profiles:
            counts += p.counts
        floats = np.stack([p.floats for p in profiles])
        mass_end = len(self.score_template.mass)
        present = np.stack([p.counts[self.present_index] for p in profiles])
        means = floats[:, mass_end: mass_end + self.n_columns]
        m2s = floats[:, mass_end + self.n_columns:]
        mean, std = pooled_mean_std(present, means, m2s)
        n = present.sum(axis=0)
        merged = np.concatenate([floats[:, :mass_end].sum(axis=0), np.where(n > 0, mean, 0.0),
                                 np.where(n > 0, std ** 2 * n, 0.0)])
        return MinuteProfile(counts, merged)

    def encode(self, profile: MinuteProfile) -> bytes:
        """Header, the floats raw, then the counts in the narrowest unsigned type that holds them, deflated."""
        top = int(profile.counts.max(initial=0))
        width = 1 if top < 2**8 else 2 if top < 2**16 else 4 if top < 2**32 else 8
        packed = zlib.compress(profile.counts.astype(f"<u{width}").tobytes(), 1)
        return (HEADER.pack(MAGIC, self.fingerprint, width, self.size, self.n_floats)
                + profile.floats.astype("<f8").tobytes() + packed)

    def decode(self, blob: bytes) -> MinuteProfile:
        """A stored profile; raises MalformedEntry for anything not written with this layout."""
        if len(blob) < HEADER.size:
            raise MalformedEntry("profile shorter than its header")
        magic, fingerprint, width, size, n_floats = HEADER.unpack_from(blob)
        if magic != MAGIC or fingerprint != self.fingerprint or size != self.size or n_floats != self.n_floats:
            raise MalformedEntry("profile written for another layout or reference")
        if width not in (1, 2, 4, 8):
            raise MalformedEntry(f"bad count width {width}")
        start = HEADER.size + 8 * n_floats
        try:
            raw = zlib.decompress(blob[start:])
        except zlib.error as exc:
            raise MalformedEntry(f"profile counts do not inflate: {exc}") from None
        if len(raw) != width * size or len(blob) < start:
            raise MalformedEntry("profile counts have the wrong length")
        floats = np.frombuffer(blob, "<f8", n_floats, HEADER.size).copy()
        return MinuteProfile(np.frombuffer(raw, f"<u{width}").astype(np.int64), floats)

    def window(self, merged: MinuteProfile, seconds: float) -> "ProfileWindow":
        return ProfileWindow(self, merged, seconds)


class ProfileWindow:
    """Merged minutes read as drift.snapshot.compute reads the live window (no labels: drift and estimates)."""

    def __init__(self, layout: ProfileLayout, merged: MinuteProfile, seconds: float) -> None:
        self.layout = layout
        self.profile = layout.profile
        self.window_seconds = seconds
        self.columns = layout.columns
        counts = merged.counts
        self.predictions, self.predicted_positive, self.skipped_rows = (int(v) for v in counts[:3])
        self.score_counts = copy.copy(layout.score_template)
        self.score_counts.counts = layout._part(counts, 1).copy()
        mass_end = len(layout.score_template.mass)
        self.score_counts.mass = merged.floats[:mass_end].copy()
        self._counts = []
        for i, reference in enumerate(layout.references):
            missing, below, above, n = (int(v) for v in layout._part(counts, 4 + 3 * i))
            mean = float(merged.floats[mass_end + i])
            m2 = float(merged.floats[mass_end + layout.n_columns + i])
            self._counts.append(ColumnCounts(layout._part(counts, 2 + 3 * i).copy(), layout._part(counts, 3 + 3 * i).copy(),
                                             n, mean * n, m2 + n * mean * mean, missing, below, above))

    def column(self, name: str) -> tuple[ColumnReference, ColumnCounts]:
        i = self.columns.index(name)
        return self.layout.references[i], self._counts[i]

    def labelled(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(0, np.int8), np.zeros(0, np.float32)


def minute_of(seconds: float) -> int:
    """The minute (Unix minutes) a time falls in."""
    return int(math.floor(seconds / MINUTE))
