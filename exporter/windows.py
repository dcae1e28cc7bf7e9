"""Rolling windows of one model version's predictions and labels, read incrementally from Redis.

Each cycle reads only the stream entries added since the last one (XRANGE from the last id),
turns every new batch into counts (PSI bins, KS slots, its own moments) once, adds them to the window's
running totals and subtracts the batches that fell out of the window. The cost of a cycle
grows with the new samples, not with the window; a restart re-reads the window from Redis.
Labels are joined to predictions by transaction id through a `RowIndex` (16 bytes per prediction).
"""
from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np
import redis

from contracts import redis_layout as layout
from contracts.reference_profile import SCORE, ReferenceProfile
from exporter.labelled import LabelledScores
from exporter.moments import batch_moments, pooled_mean_std
from exporter.row_index import NOT_FOUND, RowIndex, id_hashes
from exporter.stats import KSReference

log = logging.getLogger(__name__)
READ_CHUNK = 500  # stream entries per XRANGE call
CHUNK_ROWS = 100_000  # samples turned into counts at a time
LABEL_GRACE_SECONDS = 60.0  # how long a label waits for its prediction (workers flush independently)


class ColumnCounter:
    """Reference bins and KS slots for one column (a feature or the score)."""

    def __init__(self, edges: list[float], proportions: list[float], sample: list[float]) -> None:
        self.edges = np.asarray(edges, dtype=float)
        self.proportions = np.asarray(proportions, dtype=float)
        self.ks = KSReference(np.asarray(sample))
        self.n_bins = len(self.edges) + 1

    def bin_index(self, values: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.edges, values, side="right").astype(np.uint8)


@dataclass
class ColumnCounts:
    """Running totals of one column over the window."""

    bins: np.ndarray
    slots: np.ndarray
    n: int = 0


@dataclass
class Batch:
    """One decoded predictions entry, kept as compact per-column indices so that it can be subtracted later."""

    entry_time: float
    first_row: int  # window-wide number of its first row (RowIndex rows)
    scores: np.ndarray  # float32 (n,)
    labels: np.ndarray  # int8 (n,), -1 until the label arrives
    bins: np.ndarray  # uint8 (n, columns)
    slots: np.ndarray  # uint16 (n, columns): KS slots
    mean: np.ndarray  # float64 (columns,): this batch's own mean ...
    m2: np.ndarray  # float64 (columns,): ... and sum of squared deviations (exporter.moments)
    positives: int


@dataclass
class WindowState:
    """What the statistics need: running totals over the batches in the window."""

    columns: list[ColumnCounts]
    batches: deque = field(default_factory=deque)
    predictions: int = 0
    predicted_positive: int = 0
    skipped_rows: int = 0


class ModelWindow:
    def __init__(self, profile: ReferenceProfile, keys: layout.Keys, window_seconds: float) -> None:
        self.profile = profile
        self.keys = keys
        self.window_seconds = window_seconds
        self.columns = [*profile.features, SCORE]
        self.counters = [ColumnCounter(profile.bins[c].edges, profile.bins[c].proportions, profile.sample[c]) for c in self.columns]
        self.state = WindowState([ColumnCounts(np.zeros(c.n_bins, np.int64), np.zeros(c.ks.slots, np.int64)) for c in self.counters])
        self.index = RowIndex()
        self.book = LabelledScores()
        self.next_row = 0
        self.pending_labels: dict[int, tuple[int, float]] = {}  # id hash -> (label, entry time)
        self.last_ids: dict[str, str] = {}  # stream key -> id of the last entry read
        self.malformed = 0

    def refresh(self, client: redis.Redis, now: float) -> int:
        """Read what is new in Redis, expire what left the window; returns the new predictions."""
        new = 0
        key, start = self.keys.predictions, layout.stream_id_at(now - self.window_seconds)
        for chunk, last_id in _chunks(self._decoded(client, key, start, layout.decode_predictions)):
            new += self._add_predictions(chunk)
            self.last_ids[key] = last_id
        key, start = self.keys.labels, layout.stream_id_at(now - self.window_seconds - LABEL_GRACE_SECONDS)
        for chunk, last_id in _chunks(self._decoded(client, key, start, layout.decode_labels)):
            self._add_labels(chunk)
            self.last_ids[key] = last_id
        self._expire(now)
        return new

    def _decoded(self, client: redis.Redis, key: str, window_start: str, decode: Callable) -> Iterator[tuple]:
        """(batch or None, entry time, entry id) of each new entry of a stream; malformed entries count and give None."""
        for entry_id, fields in self._read(client, key, self.last_ids.get(key, "-"), window_start):
            try:
                batch = decode(fields)
            except layout.MalformedEntry as exc:
                self.malformed += 1
                log.warning("skipped malformed entry %s of %s: %s", entry_id, key, exc)
                batch = None
            yield batch, layout.entry_time_seconds(entry_id), entry_id

    def _read(self, client: redis.Redis, key: str, last_id: str, window_start: str):
        """Entries after `last_id` (or from the window start on the first read), in chunks."""
        lower = window_start if last_id == "-" else f"({last_id}"
        if last_id != "-" and _id_tuple(last_id) < _id_tuple(window_start):
            lower = window_start
        while True:
            entries = client.xrange(key, min=lower, max="+", count=READ_CHUNK)
            for entry_id, fields in entries:
                yield entry_id.decode() if isinstance(entry_id, bytes) else entry_id, fields
            if len(entries) < READ_CHUNK:
                return
            last = entries[-1][0]
            lower = f"({last.decode() if isinstance(last, bytes) else last}"

    def _add_predictions(self, arrived: list[tuple[layout.PredictionBatch, float]]) -> int:
        """Index the new batches column by column in one pass and add their counts to the window."""
        kept = [(self._finite_rows(b), t) for b, t in arrived]
        kept = [(b, t) for b, t in kept if len(b)]
        if not kept:
            return 0
        data = np.column_stack([np.concatenate([b.features for b, _ in kept]).astype(float),
                                np.concatenate([b.scores for b, _ in kept]).astype(float)])
        bins = np.column_stack([c.bin_index(data[:, i]) for i, c in enumerate(self.counters)])
        slots = np.column_stack([c.ks.slot_index(data[:, i]) for i, c in enumerate(self.counters)])
        self._count(bins, slots, len(data), sign=1)
        offset, first_row, keys = 0, self.next_row, []
        for batch, entry_time in kept:
            rows = slice(offset, offset + len(batch))
            offset += len(batch)
            positives = int((batch.scores >= self.profile.threshold).sum())
            item = Batch(entry_time, self.next_row, batch.scores, np.full(len(batch), -1, np.int8), bins[rows], slots[rows],
                         *batch_moments(data[rows]), positives)
            keys.append(id_hashes(batch.ids))
            self.next_row += len(batch)
            self.state.batches.append(item)
            self.state.predicted_positive += positives
        self.index.add(np.concatenate(keys), first_row)
        if self.pending_labels:
            self._take_pending_labels(np.concatenate(keys), first_row)
        self.state.predictions += len(data)
        return len(data)

    def _finite_rows(self, batch: layout.PredictionBatch) -> layout.PredictionBatch:
        """The batch without rows holding NaN or infinities (counted as skipped)."""
        finite = np.isfinite(batch.features).all(axis=1) & np.isfinite(batch.scores)
        if finite.all():
            return batch
        self.state.skipped_rows += int((~finite).sum())
        keep = np.flatnonzero(finite)
        return layout.PredictionBatch([batch.ids[i] for i in keep], batch.times[keep], batch.features[keep], batch.scores[keep])

    def _count(self, bins: np.ndarray, slots: np.ndarray, n: int, sign: int) -> None:
        for i, (column, counter) in enumerate(zip(self.state.columns, self.counters)):
            column.bins += sign * np.bincount(bins[:, i], minlength=counter.n_bins)
            column.slots += sign * np.bincount(slots[:, i], minlength=counter.ks.slots)
            column.n += sign * n

    def _take_pending_labels(self, keys: np.ndarray, first_row: int) -> None:
        """Labels that arrived before these new predictions (rows first_row, first_row + 1, ...)."""
        waiting = np.flatnonzero(np.isin(keys, np.fromiter(self.pending_labels, np.int64, len(self.pending_labels))))
        values = np.array([self.pending_labels.pop(int(keys[i]), (-1,))[0] for i in waiting], np.int8)
        taken = values >= 0
        if taken.any():
            self._set_labels(first_row + waiting[taken], values[taken])

    def _add_labels(self, arrived: list[tuple[layout.LabelBatch, float]]) -> None:
        """Join labels to the newest prediction with their id; keep the others waiting for LABEL_GRACE_SECONDS."""
        if not arrived:
            return
        keys = np.concatenate([id_hashes(b.ids) for b, _ in arrived])
        values = np.concatenate([b.labels for b, _ in arrived]).astype(np.int8)
        times = np.concatenate([np.full(len(b), t) for b, t in arrived])
        rows = self.index.find(keys)
        for i in np.flatnonzero(rows == NOT_FOUND):
            self.pending_labels[int(keys[i])] = (int(values[i]), float(times[i]))
        found = np.flatnonzero(rows != NOT_FOUND)
        if not len(found):
            return
        self._set_labels(rows[found], values[found])

    def _set_labels(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Write labels onto the batches that hold these window rows (the last label of a row wins)."""
        last = len(rows) - 1 - np.unique(rows[::-1], return_index=True)[1]
        rows, values = rows[last], values[last]
        batches = self.state.batches
        starts = np.fromiter((b.first_row for b in batches), np.int64, len(batches))
        owner = np.searchsorted(starts, rows, side="right") - 1
        new_rows, new_scores, new_values, relabelled = [], [], [], False
        for group in np.split(np.arange(len(rows)), np.flatnonzero(np.diff(owner)) + 1):
            batch = batches[int(owner[group[0]])]
            at = rows[group] - batch.first_row
            first_time = batch.labels[at] < 0
            relabelled |= bool(np.any(batch.labels[at][~first_time] != values[group][~first_time]))
            batch.labels[at] = values[group]
            new_rows.append(rows[group][first_time])
            new_scores.append(batch.scores[at[first_time]])
            new_values.append(values[group][first_time])
        if relabelled:
            self.book.rebuild(*self._labelled_rows())
        else:
            self.book.add(np.concatenate(new_rows), np.concatenate(new_scores), np.concatenate(new_values))

    def _labelled_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, scores, labels) of every labelled prediction, read from the batches."""
        batches = self.state.batches
        labels = np.concatenate([b.labels for b in batches])
        known = labels >= 0
        rows = np.concatenate([np.arange(b.first_row, b.first_row + len(b.scores)) for b in batches])
        return rows[known], np.concatenate([b.scores for b in batches])[known], labels[known]

    def _expire(self, now: float) -> None:
        cutoff = now - self.window_seconds
        batches = self.state.batches
        gone = []
        while batches and batches[0].entry_time < cutoff:
            gone.append(batches.popleft())
        if gone:
            n = sum(len(b.scores) for b in gone)
            self._count(np.concatenate([b.bins for b in gone]), np.concatenate([b.slots for b in gone]), n, sign=-1)
            self.state.predictions -= n
            self.state.predicted_positive -= sum(b.positives for b in gone)
            first_live = batches[0].first_row if batches else self.next_row
            self.index.expire_before(first_live)
            self.book.expire_before(first_live)
        label_cutoff = now - self.window_seconds - LABEL_GRACE_SECONDS
        if self.pending_labels:
            self.pending_labels = {k: v for k, v in self.pending_labels.items() if v[1] >= label_cutoff}

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std per column (features, then score) pooled from the live batches, never from running sums."""
        batches = self.state.batches
        if not batches:
            nan = np.full(len(self.columns), np.nan)
            return nan, nan.copy()
        return pooled_mean_std(np.array([len(b.scores) for b in batches]), np.array([b.mean for b in batches]),
                               np.array([b.m2 for b in batches]))

    def labelled(self) -> tuple[np.ndarray, np.ndarray]:
        """(labels, scores) of the predictions in the window whose label has arrived, in ascending score order."""
        return self.book.labels, self.book.scores


def _chunks(entries: Iterable[tuple], rows: int = CHUNK_ROWS) -> Iterator[tuple[list[tuple], str]]:
    """Group decoded entries into ([(batch, time), ...] of about `rows` samples, id of the last entry), so that a cold
    start never holds the whole window twice and the read position moves only past entries that were counted."""
    chunk, size, last_id = [], 0, None
    for batch, entry_time, last_id in entries:
        if batch is not None:
            chunk.append((batch, entry_time))
            size += len(batch)
        if size >= rows:
            yield chunk, last_id
            chunk, size = [], 0
    if last_id is not None:
        yield chunk, last_id


def _id_tuple(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
