"""A data set's counts over a reference profile's bins and KS slots: the exporter's `Window`, without time.

`drift.snapshot.compute` reads a `Tally` exactly as it reads the exporter's window (profile, columns, counts,
labelled scores, score counts), so an offline report's figures are the exporter's by construction. The counts of
each batch come from `ColumnReference.counts`, the same bins and slots the window adds up; rows with a missing or
non-finite value are skipped and counted, as the window does.

A data set too large for one process is counted in parts (drift_report/partitions.py: one Parquet file each, on Dask
workers or in turn): each part's `TallyCounts` (the counts alone, without the reference) are merged by addition in
the parts' order, so the integers (bins, KS slots, rows) equal one pass over the whole set exactly and the labelled
rows keep their order; only float sums (means, standard deviations, calibrated score mass) are added in another
grouping.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from drift_client.reference_profile import SCORE, ReferenceProfile
from drift.score_counts import ScoreCounts
from drift.counts import ColumnCounts, ColumnReference


@dataclass
class TallyCounts:
    """A `Tally`'s counts without its reference profile: what a worker sends back for one part of a data set."""

    counts: list[ColumnCounts]
    score_counts: np.ndarray | None = None
    score_mass: np.ndarray | None = None
    predictions: int = 0
    predicted_positive: int = 0
    skipped_rows: int = 0
    labels: list[np.ndarray] = field(default_factory=list)
    labelled_scores: list[np.ndarray] = field(default_factory=list)


class Tally:
    def __init__(self, profile: ReferenceProfile, references: list[ColumnReference] | None = None) -> None:
        """`references`: another tally's of the same profile (a data set counted in parts builds them once: sorting
        the reference's values for KS costs about as much as counting a million rows)."""
        self.profile = profile
        self.window_seconds = math.nan  # a data set, not a time window
        self.columns = [*profile.features, *([SCORE] if SCORE in profile.bins else [])]
        self.scored = SCORE in self.columns
        self.references = references or [ColumnReference.of(profile, c) for c in self.columns]
        if len(self.references) != len(self.columns):
            raise ValueError("references of another profile")
        self.counts = [ColumnCounts(np.zeros(r.n_bins, np.int64), np.zeros(r.ks.slots, np.int64)) for r in self.references]
        self.score_counts = ScoreCounts(profile) if self.scored else None
        self.predictions = 0
        self.predicted_positive = 0
        self.skipped_rows = 0
        self._labels: list[np.ndarray] = []
        self._labelled_scores: list[np.ndarray] = []

    def column(self, name: str) -> tuple[ColumnReference, ColumnCounts]:
        i = self.columns.index(name)
        return self.references[i], self.counts[i]

    def add(self, features: np.ndarray, scores: np.ndarray | None = None, labels: np.ndarray | None = None) -> int:
        """Count a batch: features (rows x features, float32 as samples carry them), scores, labels (nan: unknown)."""
        features = np.asarray(features, np.float32)
        finite = np.ones(len(features), bool)  # a missing feature value counts for its feature only, as in the window
        if self.scored:
            scores = np.asarray(scores, np.float32)
            finite &= np.isfinite(scores)
        self.skipped_rows += int((~finite).sum())
        if not finite.all():
            features = features[finite]
            scores = scores[finite] if self.scored else None
            labels = np.asarray(labels)[finite] if labels is not None else None
        columns = [features[:, j].astype(float) for j in range(features.shape[1])]
        if self.scored:
            columns.append(scores.astype(float))
            self.predicted_positive += int((scores >= self.profile.threshold).sum())
            self.score_counts.add(columns[-1])
            if labels is not None:
                labels = np.asarray(labels, float)
                known = np.isfinite(labels)
                self._labels.append(labels[known].astype(np.float32))
                self._labelled_scores.append(scores[known])
        for values, reference, counts in zip(columns, self.references, self.counts):
            reference.counts(values, into=counts)
        self.predictions += len(features)
        return len(features)

    def labelled(self) -> tuple[np.ndarray, np.ndarray]:
        """(labels, scores) of the labelled rows in ascending score order, as the window's."""
        if not self._labels:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        labels, scores = np.concatenate(self._labels), np.concatenate(self._labelled_scores)
        order = np.argsort(scores, kind="stable")
        return labels[order], scores[order]

    def counted(self) -> TallyCounts:
        """The counts alone (no reference: a small message from a worker)."""
        return TallyCounts(self.counts, self.score_counts.counts if self.scored else None,
                           self.score_counts.mass if self.scored else None, self.predictions,
                           self.predicted_positive, self.skipped_rows, self._labels, self._labelled_scores)

    def merge(self, part: TallyCounts) -> None:
        """Add the counts of another part of the data set (counted over the same profile) after those so far."""
        same = len(part.counts) == len(self.counts) and (part.score_counts is not None) == self.scored and all(
            a.bins.shape == b.bins.shape and a.slots.shape == b.slots.shape for a, b in zip(self.counts, part.counts))
        if not same:
            raise ValueError("counts of another reference profile: cannot merge")
        for mine, theirs in zip(self.counts, part.counts):
            mine.merge(theirs)
        if self.scored:
            self.score_counts.counts += part.score_counts
            self.score_counts.mass += part.score_mass
        self.predictions += part.predictions
        self.predicted_positive += part.predicted_positive
        self.skipped_rows += part.skipped_rows
        self._labels.extend(part.labels)
        self._labelled_scores.extend(part.labelled_scores)
