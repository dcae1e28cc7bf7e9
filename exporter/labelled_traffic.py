"""Labelled predictions read back from Redis: each prediction joined to its label by transaction id, over a
recent window. Used where whole rows are needed rather than the window's counts: the champion/challenger comparison
(exporter/version_comparison.py) and retraining's data selection (retrain/selection.py).

One row per transaction id: its newest prediction (shadow mode publishes a transaction under two versions; read
one version at a time to keep them apart) and its newest label. Windows are cut by the stream entries' Redis time,
as the exporter's reader cuts them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import redis

from drift_client import redis_layout as layout

READ_PAGE = 500  # stream entries per XRANGE


@dataclass
class LabelledTraffic:
    """Labelled predictions in time order (one row per transaction id)."""

    ids: list[str]
    times: np.ndarray  # float64, the prediction's time
    features: np.ndarray  # float32 (n, width)
    labels: np.ndarray  # uint8
    scores: np.ndarray | None = None  # float32, the score of the prediction kept

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def positives(self) -> int:
        return int(self.labels.sum())

    def take(self, rows: np.ndarray) -> "LabelledTraffic":
        return LabelledTraffic([self.ids[i] for i in rows], self.times[rows], self.features[rows], self.labels[rows],
                               None if self.scores is None else self.scores[rows])


def join(predictions: list[layout.PredictionBatch], labels: list[layout.LabelBatch]) -> LabelledTraffic:
    """Predictions with a label, one row per transaction id (its newest prediction and its newest label), in time order."""
    label_of: dict[str, tuple[float, int]] = {}
    for batch in labels:
        for tid, t, y in zip(batch.ids, batch.times.tolist(), batch.labels.tolist()):
            if tid not in label_of or t >= label_of[tid][0]:
                label_of[tid] = (t, y)
    newest: dict[str, tuple[float, int, int]] = {}  # id -> (time, batch, row)
    for b, batch in enumerate(predictions):
        for r, (tid, t) in enumerate(zip(batch.ids, batch.times.tolist())):
            if tid in label_of and (tid not in newest or t >= newest[tid][0]):
                newest[tid] = (t, b, r)
    width = predictions[0].features.shape[1] if predictions else 0
    if not newest:
        return LabelledTraffic([], np.array([], float), np.zeros((0, width), np.float32), np.array([], np.uint8),
                               np.array([], np.float32))
    ordered = sorted(newest.items(), key=lambda item: item[1][0])
    ids = [tid for tid, _ in ordered]
    features = np.stack([predictions[b].features[r] for _, (_, b, r) in ordered]).astype(np.float32)
    scores = np.array([predictions[b].scores[r] for _, (_, b, r) in ordered], np.float32)
    return LabelledTraffic(ids, np.array([t for _, (t, _, _) in ordered]), features,
                           np.array([label_of[tid][1] for tid in ids], np.uint8), scores)


def model_versions_in_redis(client: redis.Redis, model_name: str, prefix: str = layout.DEFAULT_PREFIX) -> list[layout.Keys]:
    """The keys of every version of `model_name` that publishes (the models set)."""
    keys = []
    for member in client.smembers(layout.models_key(prefix)):
        try:
            parsed = layout.Keys.from_member(member, prefix)
        except layout.MalformedEntry:
            continue
        if parsed.model_name == model_name:
            keys.append(parsed)
    return sorted(keys, key=lambda k: k.model_version)


def _entries(client: redis.Redis, key: str, since: float) -> Iterator[dict]:
    lower = layout.stream_id_at(since)
    while True:
        page = client.xrange(key, min=lower, max="+", count=READ_PAGE)
        for _, fields in page:
            yield fields
        if len(page) < READ_PAGE:
            return
        last = page[-1][0]
        lower = f"({last.decode() if isinstance(last, bytes) else last}"


def read_labelled_traffic(client: redis.Redis, model_name: str, hours: float, now: float, width: int | None,
                          prefix: str = layout.DEFAULT_PREFIX, versions: list[str] | None = None) -> tuple[LabelledTraffic, int]:
    """Labelled predictions of every version of `model_name` (or of `versions`) whose stream entries are younger
    than `hours`; returns them and the number of malformed entries skipped (a batch of another width is one)."""
    since = now - hours * 3600
    predictions, labels, malformed = [], [], 0
    chosen = [layout.Keys(model_name, v, prefix) for v in versions] if versions is not None else \
        model_versions_in_redis(client, model_name, prefix)
    for keys in chosen:
        for fields in _entries(client, keys.predictions, since):
            try:
                predictions.append(layout.decode_predictions(fields, width))
            except layout.MalformedEntry:
                malformed += 1
        for fields in _entries(client, keys.labels, since):
            try:
                labels.append(layout.decode_labels(fields))
            except layout.MalformedEntry:
                malformed += 1
    traffic = join(predictions, labels)
    if not len(traffic) and width is not None:
        traffic.features = traffic.features.reshape(0, width)
    return traffic, malformed
