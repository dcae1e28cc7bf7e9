"""Data-quality checks (missing, out of range) against scipy and hand computation; a missing value changes nothing
for the other features; a feature with no value at all makes the model critical."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import betabinom, fisher_exact

from contracts.metric_names import CRITICAL, HEALTHY, WARNING
from contracts.policy import Policy
from drift.detectors import quality
from drift.snapshot import compute
from drift.live_window import LiveWindow
from tests.helpers import prediction_batch, tiny_profile

PROFILE = tiny_profile(("x", "y"), n=4000)
POLICY = Policy(min_window_samples=100)


def window_of(x: np.ndarray, seed: int = 0) -> LiveWindow:
    w = LiveWindow(PROFILE, 3600, 60)
    scores = np.random.default_rng(seed).uniform(size=len(x))
    w.add_predictions([(prediction_batch([f"r{i}" for i in range(len(x))], x, scores), 1.0)])
    return w


def test_the_out_of_range_tail_is_the_beta_binomial_of_exchangeable_draws():
    p, log_p = quality.outside_tail(k=3, n=1000, m=4000)
    assert p == pytest.approx(betabinom.sf(2, 1000, 2, 3999), rel=1e-12) and log_p == pytest.approx(math.log(p), rel=1e-9)
    # by hand: one new value among m = 3 training values is outside their range in 2 of the 4 equally likely ranks
    assert quality.outside_tail(k=1, n=1, m=3)[0] == pytest.approx(0.5)
    # two new values, m = 2: of the C(4, 2) = 6 equally likely rank sets of the training values only {1, 4} holds both
    # new values inside: P(at least one outside) = 5/6
    assert quality.outside_tail(k=1, n=2, m=2)[0] == pytest.approx(5 / 6)
    assert quality.outside_tail(0, 1000, 4000) == (1.0, 0.0)
    p, log_p = quality.outside_tail(1000, 1000, 35_000)  # underflows as a p-value, not as a log
    assert p > 0 and math.isfinite(log_p) and log_p < -700


def test_the_missing_tail_is_fishers_exact_test_one_sided():
    for k, n, k0, m in [(30, 1000, 100, 35_000), (3, 500, 0, 35_000), (0, 500, 10, 4000)]:
        p, log_p = quality.missing_tail(k, n, k0, m)
        expected = fisher_exact([[k, n - k], [k0, m - k0]], alternative="greater").pvalue
        assert p == pytest.approx(expected, rel=1e-9), (k, n, k0, m)
        assert log_p == pytest.approx(math.log(p), rel=1e-9, abs=1e-12)
    p, log_p = quality.missing_tail(5000, 5000, 0, 35_000)
    assert p > 0 and math.isfinite(log_p) and log_p < -700


def test_out_of_range_counts_both_sides_and_needs_the_floor():
    w = window_of(np.column_stack([np.r_[np.full(5, -99.0), np.zeros(995)], np.zeros(1000)]))
    reference, counts = w.column("x")
    check = quality.out_of_range(reference, counts, level=0.01, floor=0.01, family=4)
    assert check.ratio == pytest.approx(0.005) and not check.flagged  # significant, but under the 1-point floor
    w = window_of(np.column_stack([np.r_[np.full(30, -99.0), np.full(20, 99.0), np.zeros(950)], np.zeros(1000)]))
    check = quality.out_of_range(*w.column("x"), level=0.01, floor=0.01, family=4)
    expected_p = betabinom.sf(49, 1000, 2, reference.rows - 1)
    assert check.ratio == pytest.approx(0.05) and check.flagged and check.pvalue == pytest.approx(expected_p, rel=1e-9)


def test_a_missing_value_leaves_the_other_features_figures_unchanged():
    rng = np.random.default_rng(4)
    x = rng.normal(0.3, 1, (3000, 2))
    holed = x.copy()
    holed[rng.random(3000) < 0.3, 0] = np.nan
    clean, with_holes = compute(window_of(x), POLICY, 1.0), compute(window_of(holed), POLICY, 1.0)
    same = {k: v for k, v in with_holes.as_dict()["features"]["y"].items() if k != "attribution"}  # attribution is relative
    assert same == {k: v for k, v in clean.as_dict()["features"]["y"].items() if k != "attribution"}
    x_feature = with_holes.features["x"]
    assert x_feature.missing_ratio == pytest.approx(0.3, abs=0.03) and x_feature.quality["missing"]
    assert with_holes.health_status == WARNING or with_holes.health_status == CRITICAL


def test_a_feature_with_no_value_at_all_is_critical_never_healthy():
    x = np.column_stack([np.full(500, np.nan), np.random.default_rng(1).normal(size=500)])
    snap = compute(window_of(x), POLICY, 1.0)
    assert snap.features["x"].missing_ratio == 1.0 and snap.features["x"].quality["missing"]
    assert snap.health_status == CRITICAL
    assert compute(window_of(np.random.default_rng(2).normal(size=(500, 2))), POLICY, 1.0).health_status == HEALTHY
