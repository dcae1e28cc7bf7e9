"""Which labelled traffic a retraining learns from: predictions joined to their labels by transaction id, read from
Redis over a recent window, split by time so the most recent slice is held out.

The choices, and why:

- **How far back**: the last `hours` (default 2, the service's sample retention) of predictions, cut by the stream
  entries' Redis time as the exporter cuts its windows. Concept drift makes old labels wrong: learn from what the
  model sees now.
- **Which rows**: every prediction of every version of the model that has a label (shadow mode scores a
  transaction twice: its features are the same, so it is kept once, its newest prediction). A transaction labelled
  twice keeps its newest label. Labels arrive later than predictions, so labels are read from the same start.
- **Held-out recent slice**: rows in time order; the oldest 70% train, the next 15% validate (early stopping and the
  decision threshold), the newest 15% test (the metrics the new version reports and the score reference of its
  profile). Testing on the newest traffic measures the new version where it will serve.
- **Class balance**: the traffic's own fraud rate by default (the threshold and the calibrator are chosen on it, so
  they stay right for production); `negatives_per_positive` downsamples legitimate rows of the training split only.
- **Reference data**: not mixed in by default (under concept drift it teaches the old pattern);
  `reference_rows` adds that many rows of the original training distribution to the training split.
- **Enough data**: at least `min_rows` labelled rows with `min_positives` positives, in each of validation and test
  at least a few positives, or the retraining is refused with a message (`NotEnoughData`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import redis

from contracts import redis_layout as layout

READ_PAGE = 500  # stream entries per XRANGE


class NotEnoughData(RuntimeError):
    """Too few labelled rows (or positives) to train and validate a new version."""


@dataclass(frozen=True)
class SelectionPolicy:
    hours: float = layout.DEFAULT_RETENTION_SECONDS / 3600
    min_rows: int = 2000
    min_positives: int = 40
    min_split_positives: int = 5  # in validation and in test each
    validation_share: float = 0.15
    test_share: float = 0.15
    negatives_per_positive: float | None = None
    reference_rows: int = 0
    seed: int = 0


@dataclass
class LabelledTraffic:
    """Labelled predictions in time order (one row per transaction id)."""

    ids: list[str]
    times: np.ndarray  # float64, the prediction's time
    features: np.ndarray  # float32 (n, width)
    labels: np.ndarray  # uint8

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def positives(self) -> int:
        return int(self.labels.sum())

    def take(self, rows: np.ndarray) -> "LabelledTraffic":
        return LabelledTraffic([self.ids[i] for i in rows], self.times[rows], self.features[rows], self.labels[rows])


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
        return LabelledTraffic([], np.array([], float), np.zeros((0, width), np.float32), np.array([], np.uint8))
    ordered = sorted(newest.items(), key=lambda item: item[1][0])
    ids = [tid for tid, _ in ordered]
    features = np.stack([predictions[b].features[r] for _, (_, b, r) in ordered]).astype(np.float32)
    return LabelledTraffic(ids, np.array([t for _, (t, _, _) in ordered]), features,
                           np.array([label_of[tid][1] for tid in ids], np.uint8))


@dataclass
class Splits:
    train: LabelledTraffic
    validation: LabelledTraffic
    test: LabelledTraffic


def split_by_time(traffic: LabelledTraffic, policy: SelectionPolicy) -> Splits:
    """Oldest rows train, then validation, the newest test; refuses too little data; optional negative downsampling."""
    n = len(traffic)
    if n < policy.min_rows or traffic.positives < policy.min_positives:
        raise NotEnoughData(f"{n} labelled rows with {traffic.positives} positives in the last {policy.hours:g} h; "
                            f"need {policy.min_rows} with {policy.min_positives}")
    order = np.argsort(traffic.times, kind="stable")
    a = int(round(n * (1 - policy.validation_share - policy.test_share)))
    b = int(round(n * (1 - policy.test_share)))
    splits = Splits(traffic.take(order[:a]), traffic.take(order[a:b]), traffic.take(order[b:]))
    for name in ("validation", "test"):
        if getattr(splits, name).positives < policy.min_split_positives:
            raise NotEnoughData(f"the {name} slice has {getattr(splits, name).positives} positives; "
                                f"need {policy.min_split_positives}")
    if policy.negatives_per_positive is not None:
        splits.train = downsample_negatives(splits.train, policy.negatives_per_positive, policy.seed)
    return splits


def downsample_negatives(traffic: LabelledTraffic, per_positive: float, seed: int) -> LabelledTraffic:
    """Every positive and at most `per_positive` negatives for each, drawn at random; time order kept."""
    positive = np.flatnonzero(traffic.labels == 1)
    negative = np.flatnonzero(traffic.labels == 0)
    keep = int(min(len(negative), round(per_positive * len(positive))))
    chosen = np.random.default_rng(seed).choice(negative, size=keep, replace=False)
    return traffic.take(np.sort(np.r_[positive, chosen]))


# ---------------------------------------------------------------- Redis adapter

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


def read_labelled_traffic(client: redis.Redis, model_name: str, hours: float, now: float, width: int,
                          prefix: str = layout.DEFAULT_PREFIX) -> tuple[LabelledTraffic, int]:
    """Labelled predictions of every version of `model_name` whose stream entries are younger than `hours`;
    returns them and the number of malformed entries skipped (a batch of another width is one)."""
    since = now - hours * 3600
    predictions, labels, malformed = [], [], 0
    for keys in model_versions_in_redis(client, model_name, prefix):
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
    if not len(traffic):
        traffic.features = traffic.features.reshape(0, width)
    return traffic, malformed
