"""The live rolling window of one model version (`LiveWindow`, one of the `drift.window.Window` readers): running counts of its predictions, and late labels joined to them.

Pure (no I/O): `exporter.reader` feeds it decoded stream batches with their entry times. Each batch is turned
into per-column bin and KS-slot indices once, added to the running counts, and subtracted when it leaves the
window, so the cost of a refresh grows with the new samples, not with the window. Labels are joined to the
newest prediction with their transaction id through a `RowIndex` (16 bytes per prediction); a label that
arrives before its prediction waits `label_grace_seconds` for it.

>>> rng = np.random.default_rng(0)
>>> profile = ReferenceProfile.build(model_name="m", model_version="1", trained_at="", features=["x"], metrics={},
...     train=rng.normal(size=(1000, 1)), scores=rng.uniform(size=1000), labels=np.zeros(1000), importance={"x": 1.0})
>>> w = LiveWindow(profile, window_seconds=60, label_grace_seconds=10)
>>> w.add_predictions([(PredictionBatch(["a", "b"], np.zeros(2), np.ones((2, 1), np.float32), np.array([0.9, 0.1], np.float32)), 100.0)])
2
>>> w.add_labels([(LabelBatch(["a"], np.zeros(1), np.array([1], np.uint8)), 101.0)])
>>> w.labelled()
(array([1.], dtype=float32), array([0.9], dtype=float32))
>>> w.expire(now=161.0); w.predictions
0
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from drift_client.redis_layout import LabelBatch, PredictionBatch
from drift_client.reference_profile import SCORE, ReferenceProfile
from drift_client.tasks import task_of
from drift.counts import ColumnCounts, ColumnReference
from drift.score_counts import ScoreCounts
from drift.labelled import LabelledScores
from drift.moments import pooled_mean_std
from drift.row_index import NOT_FOUND, RowIndex, id_hashes

Arrived = list[tuple[PredictionBatch, float]]  # decoded batches with their entry times (s)
ArrivedLabels = list[tuple[LabelBatch, float]]


@dataclass
class Batch:
    """One predictions entry kept as compact per-column indices, so that it can be subtracted when it expires."""

    entry_time: float
    first_row: int  # window-wide number of its first row (RowIndex rows)
    scores: np.ndarray  # float32 (n,)
    labels: np.ndarray  # float32 (n,), NaN until the label arrives (0/1, a class index or a regression target)
    bins: np.ndarray  # (n, columns): bin indices, the column's missing_bin for a missing value
    slots: np.ndarray  # (n, columns): KS slot indices, missing_slot for a missing value
    below: np.ndarray  # int64 (columns,): values under the training range
    above: np.ndarray  # int64 (columns,): values over it
    positives: int
    probabilities: np.ndarray | None = None  # float32 (n, classes): a multiclass model's, when the client sent them


@dataclass
class PendingLabel:
    label: float
    arrived: float


class LiveWindow:
    def __init__(self, profile: ReferenceProfile, window_seconds: float, label_grace_seconds: float) -> None:
        self.profile = profile
        self.window_seconds = window_seconds
        self.label_grace_seconds = label_grace_seconds
        self.columns = [*profile.features, SCORE]
        self.references = [ColumnReference.of(profile, c) for c in self.columns]
        self.counts = [ColumnCounts(np.zeros(r.n_bins, np.int64), np.zeros(r.ks.slots, np.int64)) for r in self.references]
        self.batches: deque[Batch] = deque()
        self.predictions = 0
        self.predicted_positive = 0
        self.skipped_rows = 0
        self.index = RowIndex()
        self.labelled_scores = LabelledScores()
        self.counts_positives = task_of(profile.task).positive_ratio
        self.score_counts = ScoreCounts(profile)  # performance estimation without labels (binary models only)
        self.next_row = 0
        self.pending_labels: dict[int, PendingLabel] = {}  # id hash -> label waiting for its prediction
        # each arrival's per-batch (present, mean, M2) arrays, (batches, columns), in the batches' order
        self._moments: deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = deque()
        self._moments_stale = False

    def column(self, name: str) -> tuple[ColumnReference, ColumnCounts]:
        if self._moments_stale:
            self._pool_moments()
        i = self.columns.index(name)
        return self.references[i], self.counts[i]

    def add_predictions(self, arrived: Arrived) -> int:
        """Index the new batches column by column in one pass and add their counts; returns the rows added.

        A missing (NaN or infinite) feature value counts as missing for that feature only; a row whose score is not
        finite is skipped whole (counted in skipped_rows)."""
        kept = [(self._scored_rows(b), t) for b, t in arrived]
        kept = [(b, t) for b, t in kept if len(b)]
        if not kept:
            return 0
        data = np.column_stack([np.concatenate([b.features for b, _ in kept]).astype(float),
                                np.concatenate([b.scores for b, _ in kept]).astype(float)])
        bins = np.column_stack([r.bin_index(data[:, i]) for i, r in enumerate(self.references)])
        slots = np.column_stack([r.slot_index(data[:, i]) for i, r in enumerate(self.references)])
        self.score_counts.add(data[:, -1])
        starts = np.cumsum([0] + [len(b) for b, _ in kept[:-1]])
        below, above, *moments = self._batch_figures(data, starts)  # each (batches, columns)
        self._count(bins, slots, below.sum(axis=0), above.sum(axis=0), sign=1)
        self._moments.append(tuple(moments))
        offset, first_row, keys = 0, self.next_row, []
        for k, (batch, entry_time) in enumerate(kept):
            rows = slice(offset, offset + len(batch))
            offset += len(batch)
            positives = int((batch.scores >= self.profile.threshold).sum()) if self.counts_positives else 0
            self.batches.append(Batch(entry_time, self.next_row, batch.scores, np.full(len(batch), np.nan, np.float32),
                                      bins[rows], slots[rows], below[k], above[k], positives, batch.probabilities))
            keys.append(id_hashes(batch.ids))
            self.next_row += len(batch)
            self.predicted_positive += positives
        self.index.add(np.concatenate(keys), first_row)
        if self.pending_labels:
            self._take_pending_labels(np.concatenate(keys), first_row)
        self.predictions += len(data)
        self._moments_stale = True
        return len(data)

    def add_labels(self, arrived: ArrivedLabels) -> None:
        """Join labels to the newest prediction with their id; keep the others waiting for label_grace_seconds."""
        if not arrived:
            return
        keys = np.concatenate([id_hashes(b.ids) for b, _ in arrived])
        values = np.concatenate([b.labels for b, _ in arrived]).astype(np.float32)
        times = np.concatenate([np.full(len(b), t) for b, t in arrived])
        rows = self.index.find(keys)
        for i in np.flatnonzero(rows == NOT_FOUND):
            self.pending_labels[int(keys[i])] = PendingLabel(float(values[i]), float(times[i]))
        found = np.flatnonzero(rows != NOT_FOUND)
        if len(found):
            self._set_labels(rows[found], values[found])

    def expire(self, now: float) -> None:
        """Subtract the batches that left the window; forget labels that waited too long for their prediction."""
        cutoff = now - self.window_seconds
        gone = []
        while self.batches and self.batches[0].entry_time < cutoff:
            gone.append(self.batches.popleft())
        if gone:
            n = sum(len(b.scores) for b in gone)
            self._count(np.concatenate([b.bins for b in gone]), np.concatenate([b.slots for b in gone]),
                        np.sum([b.below for b in gone], axis=0), np.sum([b.above for b in gone], axis=0), sign=-1)
            self._drop_moments(len(gone))
            self.score_counts.remove(np.concatenate([b.scores for b in gone]))
            self.predictions -= n
            self.predicted_positive -= sum(b.positives for b in gone)
            first_live = self.batches[0].first_row if self.batches else self.next_row
            self.index.expire_before(first_live)
            self.labelled_scores.expire_before(first_live)
        label_cutoff = cutoff - self.label_grace_seconds
        if self.pending_labels:
            self.pending_labels = {k: v for k, v in self.pending_labels.items() if v.arrived >= label_cutoff}

    def labelled(self) -> tuple[np.ndarray, np.ndarray]:
        """(labels, scores) of the predictions in the window whose label has arrived, in ascending score order."""
        return self.labelled_scores.labels, self.labelled_scores.scores

    def labelled_true_class_probabilities(self) -> np.ndarray:
        """Each labelled prediction's probability of its true class (multiclass; NaN where none was sent), in the
        order of `labelled()` (log loss)."""
        return self.labelled_scores.true_class

    def _scored_rows(self, batch: PredictionBatch) -> PredictionBatch:
        """The batch without rows whose score is NaN or infinite (counted as skipped)."""
        scored = np.isfinite(batch.scores)
        if scored.all():
            return batch
        self.skipped_rows += int((~scored).sum())
        keep = np.flatnonzero(scored)
        return PredictionBatch([batch.ids[i] for i in keep], batch.times[keep], batch.features[keep], batch.scores[keep],
                               None if batch.probabilities is None else batch.probabilities[keep])

    def _batch_figures(self, data: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per batch (rows from each of `starts`) and column: values under the training range, over it, and the
        count, mean and sum of squared deviations of the finite values."""
        finite = np.isfinite(data)
        values = np.where(finite, data, 0.0)
        lows = np.array([r.low for r in self.references])
        highs = np.array([r.high for r in self.references])
        below = np.add.reduceat((values < lows) & finite, starts, axis=0).astype(np.int64)
        above = np.add.reduceat((values > highs) & finite, starts, axis=0).astype(np.int64)
        present = np.add.reduceat(finite, starts, axis=0).astype(np.int64)
        mean = np.add.reduceat(values, starts, axis=0) / np.maximum(present, 1)
        rows_mean = np.repeat(mean, np.diff(np.append(starts, len(data))), axis=0)
        m2 = np.add.reduceat(np.where(finite, (values - rows_mean) ** 2, 0.0), starts, axis=0)
        return below, above, present, mean, m2

    def _count(self, bins: np.ndarray, slots: np.ndarray, below: np.ndarray, above: np.ndarray, sign: int) -> None:
        """Add or subtract rows given as per-column bin and slot indices (one bincount per column for all of them)."""
        for i, (counts, reference) in enumerate(zip(self.counts, self.references)):
            counts.add(reference, bins[:, i], slots[:, i], int(below[i]), int(above[i]), sign)

    def _drop_moments(self, batches: int) -> None:
        """Forget the moments of the oldest `batches` batches (they left the window)."""
        while batches:
            present, mean, m2 = self._moments[0]
            if len(present) <= batches:
                self._moments.popleft()
                batches -= len(present)
            else:
                self._moments[0] = (present[batches:], mean[batches:], m2[batches:])
                batches = 0
        self._moments_stale = True

    def _pool_moments(self) -> None:
        """Each column's mean and spread, pooled from the live batches' own moments when they are next read: no
        running sum, so a value that left the window leaves no trace (one 1e30 once made a running sum's mean -1.97
        and its std 0)."""
        self._moments_stale = False
        if not self._moments:
            for counts in self.counts:
                counts.total = counts.total_sq = 0.0
            return
        present, means, m2s = (np.concatenate(part) for part in zip(*self._moments))
        means, stds = pooled_mean_std(present.astype(float), means, m2s)
        n = present.sum(axis=0)
        for i, counts in enumerate(self.counts):
            mean = float(means[i]) if n[i] else 0.0
            counts.total = mean * n[i]
            counts.total_sq = n[i] * (float(stds[i]) ** 2 + mean * mean) if n[i] else 0.0

    def _take_pending_labels(self, keys: np.ndarray, first_row: int) -> None:
        """Labels that arrived before these new predictions (rows first_row, first_row + 1, ...)."""
        waiting = np.flatnonzero(np.isin(keys, np.fromiter(self.pending_labels, np.int64, len(self.pending_labels))))
        values = np.array([self.pending_labels.pop(int(keys[i]), PendingLabel(np.nan, 0.0)).label for i in waiting], np.float32)
        taken = ~np.isnan(values)
        if taken.any():
            self._set_labels(first_row + waiting[taken], values[taken])

    def _set_labels(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Write labels onto the batches that hold these window rows (the last label of a row wins)."""
        last = len(rows) - 1 - np.unique(rows[::-1], return_index=True)[1]
        rows, values = rows[last], values[last]
        starts = np.fromiter((b.first_row for b in self.batches), np.int64, len(self.batches))
        owner = np.searchsorted(starts, rows, side="right") - 1
        new_rows, new_scores, new_values, new_true, relabelled = [], [], [], [], False
        for group in np.split(np.arange(len(rows)), np.flatnonzero(np.diff(owner)) + 1):
            batch = self.batches[int(owner[group[0]])]
            at = rows[group] - batch.first_row
            first_time = np.isnan(batch.labels[at])
            relabelled |= bool(np.any(batch.labels[at][~first_time] != values[group][~first_time]))
            batch.labels[at] = values[group]
            new_rows.append(rows[group][first_time])
            new_scores.append(batch.scores[at[first_time]])
            new_values.append(values[group][first_time])
            new_true.append(_true_class(batch, at[first_time], values[group][first_time]))
        if relabelled:
            self.labelled_scores.rebuild(*self._labelled_rows())
        else:
            self.labelled_scores.add(np.concatenate(new_rows), np.concatenate(new_scores), np.concatenate(new_values),
                                     np.concatenate(new_true))

    def _labelled_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(rows, scores, labels, true-class probabilities) of every labelled prediction, read from the batches."""
        labels = np.concatenate([b.labels for b in self.batches])
        known = ~np.isnan(labels)
        rows = np.concatenate([np.arange(b.first_row, b.first_row + len(b.scores)) for b in self.batches])
        true = np.concatenate([_true_class(b, np.arange(len(b.scores)), b.labels) for b in self.batches])
        return rows[known], np.concatenate([b.scores for b in self.batches])[known], labels[known], true[known]


def _true_class(batch: Batch, at: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The probability the model gave each row's true class (multiclass with probabilities), else NaN."""
    out = np.full(len(at), np.nan, np.float32)
    if batch.probabilities is None:
        return out
    classes = batch.probabilities.shape[1]
    ok = np.isfinite(labels) & (labels >= 0) & (labels < classes)
    out[ok] = batch.probabilities[at[ok], labels[ok].astype(np.int64)]
    return out
