"""Each drift test against scipy on the same counts, the edge cases (unseen categories, a constant window, a
one-category feature), and the decision: correction, floors, per-feature choice of tests, health."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from contracts.metric_names import CRITICAL, HEALTHY, WARNING
from contracts.policy import Policy
from drift_client.reference_profile import Bins
from drift_client.schema import FeatureSpec, ModelSchema
from drift import detectors
from drift.detectors import ModelDetectors, TestResult
from drift.detectors.base import make
from drift.detectors.chi_square import pooled_table
from drift.detectors.wasserstein import slot_points
from drift.monitoring_config import ConfigError, MonitoringConfig
from drift.counts import ColumnReference
from tests.helpers import tiny_profile

POLICY = Policy()
RNG = np.random.default_rng(3)


def numeric_reference(n: int = 4000) -> ColumnReference:
    return ColumnReference.of(tiny_profile(("x",), n=n), "x")


def categorical_reference(shares=(0.5, 0.3, 0.2), n: int = 10_000) -> ColumnReference:
    spec = FeatureSpec("country", "categorical", categories=("DE", "FR", "IT")[: len(shares)])
    codes = np.repeat(np.arange(len(shares)), np.round(np.array(shares) * n).astype(int)).astype(float)
    return ColumnReference(Bins.for_feature(codes, spec), codes[:5000].tolist(), spec)


def run(name: str, reference: ColumnReference, values: np.ndarray, **params) -> TestResult:
    return make(name, POLICY, params).compute(reference, reference.counts(values))


def test_psi_equals_an_independent_computation():
    reference, current = numeric_reference(), RNG.normal(0.3, 1, 6000)
    shares = np.histogram(current, bins=[-np.inf, *reference.bins.edges, np.inf])[0] / len(current)
    r, c = np.maximum(reference.proportions, 1e-4), np.maximum(shares, 1e-4)
    assert run("psi", reference, current).statistic == pytest.approx(np.sum((c - r) * np.log(c / r)), rel=1e-12)


@pytest.mark.parametrize("shift", [0.0, 0.3])
def test_ks_equals_scipy_ks_2samp(shift):
    reference, current = numeric_reference(), RNG.normal(shift, 1, 6000)
    result = run("ks", reference, current)
    expected = stats.ks_2samp(reference.ks.values.repeat(reference.ks.value_counts), current, method="asymp")
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-12) and result.effect == result.statistic
    assert result.pvalue == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("current_shares", [(0.5, 0.3, 0.2), (0.4, 0.3, 0.2, 0.1)])  # the second with 10% unseen
def test_chi_square_equals_scipy_chi2_contingency_with_unseen_categories(current_shares):
    reference = categorical_reference()
    values = np.repeat(np.arange(len(current_shares)), np.round(np.array(current_shares) * 3000).astype(int)).astype(float)
    result = run("chi2", reference, values)
    table = np.vstack([reference.reference_counts(), np.bincount(values.astype(int), minlength=4)])
    table = table[:, table.sum(axis=0) > 0]  # no bin is sparse here: nothing is pooled
    expected = stats.chi2_contingency(table, correction=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.pvalue == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert result.effect == pytest.approx(0.5 * np.abs(np.array([*current_shares, 0][:4]) - [0.5, 0.3, 0.2, 0]).sum())
    assert make("chi2", POLICY).flags(result, tests=12) == (len(current_shares) == 4)


def test_chi_square_pools_the_sparsest_bins_until_every_expected_count_is_ten():
    reference = ColumnReference(Bins([0.5, 1.5, 2.5, 3.5], [0.69, 0.25, 0.05, 0.009, 0.001], 10_000), [0.0])
    current = np.array([0.0] * 140 + [1.0] * 52 + [2.0] * 6 + [3.0] * 1 + [4.0] * 1)
    result = run("chi2", reference, current)
    # expected current counts: 200 * column total / 10,200: bins 2, 3, 4 get 9.9, 1.8 and 0.2, all under 10: pooled
    pooled = np.array([[6900, 2500, 500 + 90 + 10], [140, 52, 6 + 1 + 1]])
    expected = stats.chi2_contingency(pooled, correction=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.pvalue == pytest.approx(expected.pvalue, rel=1e-9)


def test_one_sparse_bin_is_pooled_with_the_next_sparsest():
    # expected current counts 440 * column total / 10,440: 307.7, 101.1, 21.5, 9.7; bin 3 alone is under 10, pooled with
    # bin 2 (the old rule left a single sparse bin in the table)
    table = pooled_table(np.array([7000, 2300, 500, 200]), np.array([300, 100, 10, 30]))
    np.testing.assert_array_equal(table, [[7000, 2300, 700], [300, 100, 40]])
    assert pooled_table(np.array([500, 500]), np.array([500, 500])).shape == (2, 2)  # nothing sparse: as given


def test_a_sparse_two_by_two_table_gets_fishers_exact_p_value():
    # a rare flag (0.2% in training) seen 4 times in 500: expected count 1.0, where the chi-square tail is not trusted
    reference = ColumnReference(Bins([0.5], [0.998, 0.002], 35_000), [0.0, 1.0])
    result = run("chi2", reference, np.array([0.0] * 496 + [1.0] * 4))
    table = [[34930, 70], [496, 4]]
    assert result.pvalue == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-12)
    assert result.statistic == pytest.approx(stats.chi2_contingency(table, correction=False).statistic, rel=1e-12)
    assert result.pvalue > stats.chi2_contingency(table, correction=False).pvalue  # the approximation was too small


def test_jensen_shannon_equals_scipy():
    reference, current = numeric_reference(), RNG.normal(0.5, 1.2, 3000)
    counts = np.bincount(reference.bin_index(current), minlength=reference.n_bins)
    assert run("jensen_shannon", reference, current).statistic == pytest.approx(
        jensenshannon(reference.proportions, counts / counts.sum(), base=2), rel=1e-9)


def test_wasserstein_equals_scipy_on_the_located_values_and_is_close_to_the_raw_distance():
    reference, current = numeric_reference(), RNG.normal(0.4, 1, 5000)
    points = slot_points(reference.ks.values)
    located = points[reference.ks.slot_index(current)]
    sample = reference.ks.values.repeat(reference.ks.value_counts)
    result = run("wasserstein", reference, current)
    assert result.statistic * reference.std == pytest.approx(stats.wasserstein_distance(sample, located), rel=1e-9)
    bound = np.diff(reference.ks.values).max() / 2 + 0.01  # half the widest gap inside, and tails beyond the sample
    assert abs(result.statistic * reference.std - stats.wasserstein_distance(sample, current)) < bound


def test_a_constant_window_and_a_one_category_feature():
    reference = numeric_reference()
    constant = run("ks", reference, np.full(500, 0.0))
    assert constant.statistic == pytest.approx(stats.ks_2samp(reference.ks.values.repeat(reference.ks.value_counts), np.full(500, 0.0)).statistic)
    single = categorical_reference(shares=(1.0,))
    same = run("chi2", single, np.zeros(800))
    assert same.pvalue == 1.0 and same.effect == 0.0 and run("psi", single, np.zeros(800)).statistic == 0.0
    moved = run("chi2", single, np.array([0.0] * 700 + [1.0] * 100))  # 100 unseen values
    assert moved.pvalue < 1e-10 and moved.effect == pytest.approx(0.125)


def test_an_empty_window_gives_nan_and_never_flags():
    reference = numeric_reference()
    for name in ("psi", "ks", "chi2", "jensen_shannon", "wasserstein"):
        test = make(name, POLICY)
        result = test.compute(reference, reference.counts(np.array([])))
        assert math.isnan(result.statistic) and not test.flags(result, tests=1), name


def test_p_value_tests_need_the_corrected_level_and_the_floor():
    ks = make("ks", POLICY)
    floor, level = POLICY.ks_min_statistic, POLICY.family_wise_level / 12
    assert ks.flags(TestResult(floor, level * 0.99, floor), tests=12)
    assert not ks.flags(TestResult(floor, level * 1.01, floor), tests=12)
    assert ks.flags(TestResult(floor, level * 1.01, floor), tests=1)
    assert not ks.flags(TestResult(floor * 0.99, 1e-30, floor * 0.99), tests=12)  # tiny effect, huge n
    assert make("psi", POLICY).flags(TestResult(POLICY.psi_threshold), tests=12)


SCHEMA = ModelSchema((FeatureSpec("amount", "numeric", (0, 1e6)), FeatureSpec("hour", "discrete", (0, 23)),
                      FeatureSpec("online", "binary"), FeatureSpec("country", "categorical", categories=("DE", "FR"))))


def test_tests_by_kind_and_the_family_they_form():
    d = ModelDetectors("m", SCHEMA, POLICY)
    assert {f: [t.name for t in tests] for f, tests in d.tests.items()} == {
        "amount": ["psi", "ks", "quantile_shift"], "hour": ["psi", "chi2"], "online": ["psi", "chi2"],
        "country": ["psi", "chi2"]}
    assert d.family == 5


def test_drift_tests_and_quality_checks_share_one_family_wise_level():
    d = ModelDetectors("m", SCHEMA, POLICY, windows=3)
    # p-value tests, and (missing, out of range) per feature but the categorical (missing only: issue 22), x windows
    assert d.family == 5 * 3 and d.checks == (2 * 3 + 1) * 3
    per_test, per_check = POLICY.family_wise_level / d.drift_divisor, POLICY.family_wise_level / d.quality_divisor
    assert d.family * per_test + d.checks * per_check == pytest.approx(POLICY.family_wise_level, rel=1e-12)
    assert d.checks * per_check == pytest.approx(POLICY.family_wise_level * POLICY.quality_level_share, rel=1e-12)
    with pytest.raises(ValueError, match="QUALITY_LEVEL_SHARE"):
        ModelDetectors("m", SCHEMA, Policy(quality_level_share=1.0))


def test_the_monitoring_config_chooses_tests_and_thresholds_per_feature_and_model():
    config = MonitoringConfig.from_mapping({
        "features": {"amount": {"tests": {"psi": {"threshold": 0.2}, "wasserstein": {}}}},
        "models": {"other": {"features": {"country": {"tests": ["jensen_shannon"]}}}}})
    d = ModelDetectors("m", SCHEMA, POLICY, config)
    assert [t.name for t in d.tests["amount"]] == ["psi", "wasserstein"] and d.tests["amount"][0].params["threshold"] == 0.2
    assert [t.name for t in d.tests["country"]] == ["psi", "chi2"]
    assert [t.name for t in ModelDetectors("other", SCHEMA, POLICY, config).tests["country"]] == ["jensen_shannon"]
    with pytest.raises(ConfigError, match="ks.*categorical.*country"):
        ModelDetectors("m", SCHEMA, POLICY, MonitoringConfig.from_mapping({"features": {"country": {"tests": ["ks"]}}}))
    with pytest.raises(ValueError, match="unknown drift test 'nope'"):
        ModelDetectors("m", SCHEMA, POLICY, MonitoringConfig.from_mapping({"features": {"amount": {"tests": ["nope"]}}}))


def test_performance_drop_is_measured_against_the_test_split():
    assert detectors.performance_dropped({"roc_auc": 0.84}, {"roc_auc": 0.9}, POLICY)
    assert not detectors.performance_dropped({"roc_auc": 0.86}, {"roc_auc": 0.9}, POLICY)
    assert not detectors.performance_dropped({}, {"roc_auc": 0.9}, POLICY)


def test_the_snapshot_judges_performance_against_the_test_splits_lower_bound():
    from drift_client.reference_profile import ReferenceProfile

    profile = ReferenceProfile.build(model_name="m", model_version="v", trained_at="t", features=["x"],
                                     metrics={"roc_auc": 0.691}, train=np.zeros((10, 1)), scores=None, labels=None,
                                     importance={"x": 1.0})
    assert profile.metric_lower_bound("roc_auc") == 0.691  # an older profile: the figure itself
    profile.metric_lower_bounds = {"roc_auc": 0.58}
    again = ReferenceProfile.from_json(profile.to_json())
    assert again.metric_lower_bound("roc_auc") == 0.58
    assert not detectors.performance_dropped({"roc_auc": 0.62}, {"roc_auc": again.metric_lower_bound("roc_auc")}, POLICY)
    assert detectors.performance_dropped({"roc_auc": 0.52}, {"roc_auc": again.metric_lower_bound("roc_auc")}, POLICY)


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
