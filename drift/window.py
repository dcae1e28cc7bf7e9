"""What a window is to the judgement: the one interface `drift.snapshot.compute` reads.

Three things implement it, and compute cannot tell them apart, so the exporter's figures, the minute profiles'
multi-window figures and an offline report's figures come from one code path:

- `drift.live_window.LiveWindow`: the exporter's rolling window of one model version, fed by the stream reader;
- `drift.profiles.ProfileWindow`: merged per-minute profiles (the exporter's longer windows; no labels);
- `drift.tally.Tally`: a data set counted a batch at a time (the offline report; no time).

>>> from drift.live_window import LiveWindow
>>> from drift.profiles import ProfileWindow
>>> from drift.tally import Tally
>>> all(isinstance(cls, type) for cls in (LiveWindow, ProfileWindow, Tally))
True
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from drift_client.reference_profile import ReferenceProfile
from drift.counts import ColumnCounts, ColumnReference
from drift.score_counts import ScoreCounts


class Window(Protocol):
    """Counts of one model version's predictions over a span (a time window, or a whole data set)."""

    profile: ReferenceProfile
    window_seconds: float  # NaN for a data set
    columns: list[str]  # the profile's features, then the score column when predictions carry scores
    predictions: int
    predicted_positive: int
    skipped_rows: int  # rows left out for a missing or non-finite value
    score_counts: ScoreCounts | None  # score-bin counts for estimation; None when there is no score column

    def column(self, name: str) -> tuple[ColumnReference, ColumnCounts]:
        """The reference of one column and its counts over the span."""
        ...

    def labelled(self) -> tuple[np.ndarray, np.ndarray]:
        """(labels, scores) of the labelled predictions, sorted by score."""
        ...
