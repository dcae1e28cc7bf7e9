"""Detectors: figures from counts equal scipy's on the raw values; the rule and the health status, branch by branch."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from contracts.metric_names import CRITICAL, HEALTHY, WARNING
from contracts.policy import Policy
from exporter import detectors
from exporter.detectors import ColumnDrift
from exporter.window import ColumnReference
from tests.helpers import tiny_profile

POLICY = Policy()


def independent_psi(reference_shares: np.ndarray, current: np.ndarray, edges: list[float]) -> float:
    """PSI straight from the raw current values (np.histogram's [a, b) bins), with the documented 1e-4 floor."""
    c = np.histogram(current, bins=[-np.inf, *edges, np.inf])[0] / len(current)
    r, c = np.maximum(reference_shares, 1e-4), np.maximum(c, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


@pytest.mark.parametrize("shift", [0.0, 0.3])
def test_column_drift_from_counts_equals_scipy_and_an_independent_psi(shift):
    rng = np.random.default_rng(3)
    profile = tiny_profile(("x",), n=4000)
    reference = ColumnReference.of(profile, "x")
    current = rng.normal(shift, 1, 6000)
    figures = detectors.column_drift(reference, reference.counts(current))
    expected = stats.ks_2samp(np.array(profile.sample["x"]), current, method="asymp")
    assert figures.ks_statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert figures.ks_pvalue == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert figures.psi == pytest.approx(independent_psi(reference.proportions, current, profile.bins["x"].edges), rel=1e-12)


def test_the_rule_flags_large_psi_alone():
    assert detectors.drifted(ColumnDrift(POLICY.psi_threshold, 0.0, 1.0), POLICY, tests=12)


def test_the_rule_needs_a_corrected_p_and_the_floor_on_d():
    floor, level = POLICY.ks_min_statistic, POLICY.ks_level(12)
    assert detectors.drifted(ColumnDrift(0.0, floor, level * 0.99), POLICY, tests=12)
    assert not detectors.drifted(ColumnDrift(0.0, floor, level * 1.01), POLICY, tests=12)  # significant uncorrected only
    assert detectors.drifted(ColumnDrift(0.0, floor, level * 1.01), POLICY, tests=1)
    assert not detectors.drifted(ColumnDrift(0.0, floor * 0.99, 1e-30), POLICY, tests=12)  # tiny effect, huge n


def test_nan_figures_never_flag():
    assert not detectors.drifted(ColumnDrift(math.nan, 1.0, 0.0), POLICY, tests=1)


def test_the_correction_counts_every_feature_judged_together():
    p = POLICY.ks_threshold / 2.5  # significant among 2 features (level / 2), not among 3 (level / 3)
    figures = {f: ColumnDrift(0.0, 0.5, p) for f in "ab"}
    assert detectors.drifted_features(figures, POLICY) == {"a": True, "b": True}
    three = detectors.drifted_features({**figures, "c": ColumnDrift(0.0, 0.0, 1.0)}, POLICY)
    assert three == {"a": False, "b": False, "c": False}


def test_performance_drop_is_measured_against_the_test_split():
    assert detectors.performance_dropped({"roc_auc": 0.84}, {"roc_auc": 0.9}, POLICY)
    assert not detectors.performance_dropped({"roc_auc": 0.86}, {"roc_auc": 0.9}, POLICY)
    assert not detectors.performance_dropped({}, {"roc_auc": 0.9}, POLICY)


@pytest.mark.parametrize("psi, flagged, prediction, degraded, expected", [
    ({"a": 0.01}, {"a": False}, False, False, HEALTHY),
    ({"a": POLICY.psi_warning}, {"a": False}, False, False, WARNING),
    ({"a": 0.01}, {"a": True}, False, False, WARNING),
    ({"a": POLICY.psi_threshold}, {"a": True}, False, False, CRITICAL),
    ({"a": 0.01}, {"a": False}, True, False, CRITICAL),
    ({"a": 0.01}, {"a": False}, False, True, CRITICAL),
])
def test_health_status(psi, flagged, prediction, degraded, expected):
    assert detectors.health_status(psi, flagged, prediction, degraded, POLICY) == expected
