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
import numpy as np

from drift_client import redis_layout as layout
from exporter.labelled_traffic import LabelledTraffic, join, read_labelled_traffic  # noqa: F401  (the data selection's source)


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
