"""Mean and standard deviation of a window recomputed from its batches' own moments (no running sums).

A running sum that adds a batch when it arrives and subtracts it when it leaves loses everything smaller than
the largest value it ever held: one 1e30 leaves a mean of -1.97 and a std of 0 behind it. Here each batch keeps
(n, mean, M2) of its own rows and the window pools the live batches at every snapshot (Chan et al.'s parallel
formula, vectorised: about 0.1 ms for 18,000 batches x 13 columns), so a value that left the window leaves no
trace, and variances are computed from centred sums, not from the cancelling E[x^2] - E[x]^2.
"""
from __future__ import annotations

import numpy as np


def batch_moments(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, M2) per column of one batch's rows; M2 is the sum of squared deviations from the mean."""
    mean = data.mean(axis=0)
    return mean, ((data - mean) ** 2).sum(axis=0)


def pooled_mean_std(counts: np.ndarray, means: np.ndarray, m2s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population std per column of the union of k batches, from counts ((k,) or (k, columns): a column
    may have fewer values than the batch has rows), means and M2s (k, columns). NaN where a column has no value."""
    means = np.asarray(means, dtype=float)
    counts = np.asarray(counts, dtype=float)
    counts = np.broadcast_to(counts[:, None] if counts.ndim == 1 else counts, means.shape)
    n = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (counts * means).sum(axis=0) / n
        m2 = np.asarray(m2s, dtype=float).sum(axis=0) + (counts * (means - mean) ** 2).sum(axis=0)
        std = np.sqrt(np.maximum(m2 / n, 0.0))
    return np.where(n > 0, mean, np.nan), np.where(n > 0, std, np.nan)
