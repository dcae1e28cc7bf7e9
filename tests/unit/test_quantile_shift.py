"""The quantile shift test: quantiles from slot counts against np.quantile, Mann-Whitney against scipy, the effect
against a hand computation, and its decision in the detectors."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from contracts.policy import Policy
from drift_client.reference_profile import Bins
from drift.detectors import make
from drift.detectors.quantile_shift import (QUANTILES, mann_whitney, quantile_shift, reference_quantiles,
                                               window_quantiles)
from drift.profiles import CoarseKS
from drift.stats import KSReference
from drift.counts import ColumnReference


def _resolution(ks: KSReference, x: np.ndarray) -> np.ndarray:
    """The gap between the reference values around each x: how close a quantile from slot counts can be."""
    i = np.clip(np.searchsorted(ks.values, x), 1, len(ks.values) - 1)
    return ks.values[i] - ks.values[i - 1]


def test_reference_quantiles_equal_numpy_with_ties() -> None:
    sample = np.random.default_rng(1).integers(0, 20, size=999).astype(float)
    ks = KSReference(sample)
    qs = np.array([0.0, 0.1, 0.25, 0.333, 0.5, 0.8, 1.0])
    np.testing.assert_allclose(reference_quantiles(ks, qs), np.quantile(sample, qs), rtol=0, atol=1e-12)


def test_window_quantiles_agree_with_numpy_to_the_reference_resolution() -> None:
    rng = np.random.default_rng(2)
    ks = KSReference(rng.lognormal(3.0, 1.0, size=35_000))
    current = rng.lognormal(3.1, 1.0, size=5_000)
    got = window_quantiles(ks, ks.counts(current))
    want = np.quantile(current, QUANTILES)
    assert np.all(np.abs(got - want) <= _resolution(ks, want))


def test_window_quantiles_exact_where_values_are_reference_values() -> None:
    ks = KSReference(np.arange(0.0, 50.0))
    current = np.random.default_rng(3).integers(0, 50, size=777).astype(float)
    np.testing.assert_allclose(window_quantiles(ks, ks.counts(current)), np.quantile(current, QUANTILES), atol=1e-12)


def test_values_outside_the_reference_count_as_its_edges() -> None:
    ks = KSReference(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(window_quantiles(ks, ks.counts(np.array([-5.0, 10.0, 20.0])), np.array([0.0, 1.0])),
                               [1.0, 3.0])


def test_effect_is_the_mean_log_quantile_ratio_for_positive_features() -> None:
    sample = np.arange(1.0, 1001.0)
    ks = KSReference(sample)
    current = sample[::2] * 1.10  # 500 values
    hand = np.mean(np.log(np.quantile(current, QUANTILES) / np.quantile(sample, QUANTILES)))
    assert quantile_shift(ks, ks.counts(current)) == pytest.approx(hand, abs=2e-3)
    assert quantile_shift(ks, ks.counts(sample)) == pytest.approx(0.0, abs=1e-12)
    assert quantile_shift(ks, ks.counts(sample * 1.10)) == pytest.approx(math.log(1.10), abs=1e-3)


def test_effect_is_in_iqr_units_where_values_can_be_zero_or_negative() -> None:
    sample = np.arange(-500.0, 501.0)  # IQR 500
    ks = KSReference(sample)
    assert quantile_shift(ks, ks.counts(sample + 50.0)) == pytest.approx(0.1, abs=1e-9)
    assert math.isnan(quantile_shift(KSReference(np.zeros(10)), np.array([0, 5, 0])))


def test_mann_whitney_equals_scipy() -> None:
    rng = np.random.default_rng(4)
    reference = np.round(rng.normal(size=3_000), 1)  # many ties with the window
    current = np.round(rng.normal(0.1, 1.0, size=800), 1)
    ks = KSReference(reference)
    z, p, log_p = mann_whitney(ks, ks.counts(current))
    want = mannwhitneyu(current, reference, method="asymptotic", use_continuity=False)
    assert p == pytest.approx(want.pvalue, rel=1e-9)
    assert math.exp(log_p) == pytest.approx(want.pvalue, rel=1e-9)
    assert z > 0  # the window is higher


def test_mann_whitney_log_p_stays_finite_far_in_the_tail() -> None:
    ks = KSReference(np.arange(1000.0))
    z, p, log_p = mann_whitney(ks, ks.counts(np.arange(2000.0, 3000.0)))
    assert math.isfinite(log_p) and log_p < -700 and p == 0.0


def test_flags_a_ten_percent_shift_not_two_percent() -> None:
    rng = np.random.default_rng(5)
    sample = rng.lognormal(3.0, 1.0, size=35_000)
    reference = ColumnReference(Bins([float(np.median(sample))], [0.5, 0.5], len(sample)), sample=list(sample))
    test = make("quantile_shift", Policy())
    current = rng.lognormal(3.0, 1.0, size=50_000)
    for scale, flagged in ((1.0, False), (1.02, False), (1.10, True)):
        result = test.compute(reference, reference.counts(current * scale))
        assert test.flags(result, 20) is flagged, (scale, result)


def test_a_coarse_reference_grid_gives_nearly_the_exact_figures() -> None:
    """The exporter's minute profiles count windows on a grid of 512 reference quantiles (drift.profiles)."""
    rng = np.random.default_rng(6)
    exact = KSReference(rng.lognormal(3.0, 1.0, size=35_000))
    coarse = CoarseKS(exact)
    current = rng.lognormal(3.0, 1.0, size=5_000) * 1.05
    np.testing.assert_allclose(reference_quantiles(coarse), reference_quantiles(exact), rtol=0.01)
    assert quantile_shift(coarse, coarse.counts(current)) == pytest.approx(quantile_shift(exact, exact.counts(current)), abs=0.003)
    assert mann_whitney(coarse, coarse.counts(current))[0] == pytest.approx(mann_whitney(exact, exact.counts(current))[0], rel=0.01)
