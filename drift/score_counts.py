"""The window's score counts for performance estimation without labels (CBPE, drift/estimation.py).

Predictions are counted per fine score bin (`ReferenceProfile.score_edges`) together with the sum of their
calibrated fraud probabilities (`ReferenceProfile.calibrator`); batches entering the window are added, batches
leaving it subtracted, so an estimate costs the same whatever the window's size. Profiles published before
these fields existed are binned by their reference score sample and read with the raw score as the probability.
"""
from __future__ import annotations

import numpy as np

from drift_client.reference_profile import SCORE, ReferenceProfile
from drift.estimation import Calibrator, Estimate, bin_scores, estimate, positive_from, score_edges


class ScoreCounts:
    """Per-bin prediction counts and calibrated probability mass of one model's window."""

    def __init__(self, profile: ReferenceProfile) -> None:
        self.calibrator = Calibrator.from_dict(profile.calibrator)
        self.edges = (np.asarray(profile.score_edges, float) if profile.score_edges
                      else score_edges(np.asarray(profile.sample[SCORE], float), profile.threshold))
        self.first_positive_bin = positive_from(self.edges, profile.threshold)
        self.counts = np.zeros(len(self.edges) + 1, np.int64)
        self.mass = np.zeros(len(self.edges) + 1)

    def add(self, scores: np.ndarray) -> None:
        self._count(scores, 1)

    def remove(self, scores: np.ndarray) -> None:
        self._count(scores, -1)
        self.mass[self.counts == 0] = 0.0  # no rounding residue in emptied bins

    def _count(self, scores: np.ndarray, sign: int) -> None:
        bins = bin_scores(self.edges, scores)
        self.counts += sign * np.bincount(bins, minlength=len(self.counts))
        self.mass += sign * np.bincount(bins, weights=self.calibrator(scores), minlength=len(self.counts))

    def estimate(self) -> Estimate:
        return estimate(self.counts, self.mass, self.first_positive_bin, calibration_sd=self.calibrator.error_sd)
