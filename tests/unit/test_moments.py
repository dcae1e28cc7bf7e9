"""Window moments pooled from per-batch moments: equal to numpy's over the union, whatever left the window."""
from __future__ import annotations

import numpy as np
import pytest

from drift.moments import batch_moments, pooled_mean_std
from drift.stats import mean_std


def pooled(batches: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    moments = [batch_moments(b) for b in batches]
    return pooled_mean_std(np.array([len(b) for b in batches]), np.array([m for m, _ in moments]),
                           np.array([m2 for _, m2 in moments]))


def test_pooled_moments_equal_numpy_over_the_union():
    rng = np.random.default_rng(3)
    batches = [rng.lognormal(3.6, 1, (rng.integers(1, 300), 4)) for _ in range(50)]
    mean, std = pooled(batches)
    union = np.concatenate(batches)
    np.testing.assert_allclose(mean, union.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, union.std(axis=0), rtol=1e-10)


def test_single_rows_and_constant_columns():
    mean, std = pooled([np.array([[2.0, 7.0]]), np.array([[4.0, 7.0]])])
    assert mean.tolist() == [3.0, 7.0] and std.tolist() == [1.0, 0.0]
    assert all(np.isnan(v).all() for v in pooled_mean_std(np.zeros(0), np.zeros((0, 2)), np.zeros((0, 2))))


def test_an_extreme_batch_that_left_the_window_leaves_no_trace():
    """Finding 6: the old running sums (add on arrival, subtract on expiry) keep the damage; pooling does not."""
    rng = np.random.default_rng(4)
    extreme = np.array([[1e30]])
    live = [rng.lognormal(3.6, 1, (200, 1)) for _ in range(20)]
    union = np.concatenate(live)
    total = total_sq = 0.0
    for b in [extreme, *live]:
        total, total_sq = total + b.sum(), total_sq + (b * b).sum()
    total, total_sq = total - extreme.sum(), total_sq - (extreme * extreme).sum()
    old_mean, old_std = mean_std(total, total_sq, len(union))
    assert old_mean != pytest.approx(union.mean(), rel=0.01) or old_std != pytest.approx(union.std(), rel=0.01)
    mean, std = pooled(live)  # what the window pools once the extreme batch expired
    assert mean[0] == pytest.approx(union.mean(), rel=1e-12) and std[0] == pytest.approx(union.std(), rel=1e-10)


def test_variance_is_exact_far_from_zero():
    """E[x^2] - E[x]^2 cancels catastrophically for a large mean and a small spread; centred sums do not."""
    x = 1e8 + np.random.default_rng(5).normal(0, 0.01, (1000, 1))
    _, std = pooled([x[:500], x[500:]])
    assert std[0] == pytest.approx(x.std(), rel=1e-6)
    assert mean_std(x.sum(), (x * x).sum(), len(x))[1] != pytest.approx(x.std(), rel=1e-2)
