"""The champion/challenger comparison: AUCs against sklearn, DeLong's variance against the textbook O(m n) form and
an independent paired bootstrap, its p-values under the null, ties, the unpaired (A/B) form and the promotion rule."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

from drift.comparison import (Comparison, PromotionRule, compare_paired, compare_unpaired, delong_covariance,
                                 midranks, paired_rows, roc_auc_interval)


def simulate(n: int, prevalence: float, shift_a: float, shift_b: float, rho: float, rng: np.random.Generator):
    """Binormal scores of two versions on the same rows: positives shifted by shift_a / shift_b standard deviations,
    the two versions' noise correlated by rho. True AUC of a version = Phi(shift / sqrt(2))."""
    labels = rng.random(n) < prevalence
    noise = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    a = noise[:, 0] + shift_a * labels
    b = noise[:, 1] + shift_b * labels
    return labels, a, b


def naive_delong(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong 1988 written out with the pairwise kernel (1 above, 1/2 tied, 0 below): O(m n), for checking."""
    labels = labels.astype(bool)
    v10s, v01s = [], []
    for row in np.atleast_2d(scores):
        pos, neg = row[labels], row[~labels]
        kernel = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        v10s.append(kernel.mean(axis=1))
        v01s.append(kernel.mean(axis=0))
    v10, v01 = np.array(v10s), np.array(v01s)
    cov = np.atleast_2d(np.cov(v10)) / v10.shape[1] + np.atleast_2d(np.cov(v01)) / v01.shape[1]
    return v10.mean(axis=1), cov


def test_midranks_equal_scipy_average_ranks():
    x = np.array([3.0, 1.0, 3.0, 2.0, 3.0, 1.0])
    np.testing.assert_allclose(midranks(x), stats.rankdata(x, method="average"))


def test_hand_computed_case():
    # positives 0.9, 0.4; negatives 0.5, 0.1: pairs (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) -> AUC 3/4
    labels = np.array([1, 1, 0, 0])
    aucs, cov = delong_covariance(labels, np.array([[0.9, 0.4, 0.5, 0.1]]))
    assert aucs[0] == pytest.approx(0.75)
    # v10 = (1, 0.5), v01 = (0.5, 1): var = 0.125/2 + 0.125/2
    assert cov[0, 0] == pytest.approx(0.125)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aucs_and_average_precision_equal_sklearn(seed):
    labels, a, b = simulate(3000, 0.05, 1.0, 1.4, 0.6, np.random.default_rng(seed))
    result = compare_paired(labels, a, b)
    assert result.roc_auc_a == pytest.approx(roc_auc_score(labels, a), abs=1e-12)
    assert result.roc_auc_b == pytest.approx(roc_auc_score(labels, b), abs=1e-12)
    assert result.average_precision_a == pytest.approx(average_precision_score(labels, a), abs=1e-9)
    assert result.average_precision_b == pytest.approx(average_precision_score(labels, b), abs=1e-9)
    assert result.roc_auc_difference == pytest.approx(result.roc_auc_b - result.roc_auc_a)
    assert result.positives_a == int(labels.sum()) and result.n_a == result.n_b == 3000


def test_fast_delong_equals_the_textbook_form_with_ties():
    rng = np.random.default_rng(3)
    labels, a, b = simulate(600, 0.2, 0.8, 1.1, 0.5, rng)
    # round hard so many scores tie, within and across classes
    a, b = np.round(a, 1), np.round(b * 2) / 2
    fast_aucs, fast_cov = delong_covariance(labels, np.vstack([a, b]))
    slow_aucs, slow_cov = naive_delong(labels, np.vstack([a, b]))
    np.testing.assert_allclose(fast_aucs, slow_aucs, atol=1e-12)
    np.testing.assert_allclose(fast_cov, slow_cov, atol=1e-12)
    assert fast_aucs[1] == pytest.approx(roc_auc_score(labels, b), abs=1e-12)


def test_delong_stderr_and_p_value_agree_with_an_independent_paired_bootstrap():
    rng = np.random.default_rng(11)
    # known difference: true AUCs Phi(1.0/sqrt2)=0.760 and Phi(1.3/sqrt2)=0.821, a difference of 0.061
    labels, a, b = simulate(4000, 0.1, 1.0, 1.3, 0.7, rng)
    result = compare_paired(labels, a, b)
    true_difference = stats.norm.cdf(1.3 / math.sqrt(2)) - stats.norm.cdf(1.0 / math.sqrt(2))
    assert result.ci_lower < true_difference < result.ci_upper
    differences = []
    for _ in range(400):
        rows = rng.integers(0, len(labels), len(labels))  # resample transactions, both versions' scores together
        differences.append(roc_auc_score(labels[rows], b[rows]) - roc_auc_score(labels[rows], a[rows]))
    bootstrap_se = float(np.std(differences, ddof=1))
    assert result.roc_auc_difference_stderr == pytest.approx(bootstrap_se, rel=0.15)
    bootstrap_p = 2 * stats.norm.sf(abs(np.mean(differences)) / bootstrap_se)
    assert math.log10(result.p_value) == pytest.approx(math.log10(bootstrap_p), abs=1.0)
    assert result.p_value < 0.001


def test_pairing_makes_the_test_sharper_than_treating_the_versions_as_independent():
    labels, a, b = simulate(3000, 0.1, 1.0, 1.15, 0.9, np.random.default_rng(5))
    paired = compare_paired(labels, a, b)
    unpaired = compare_unpaired(labels, a, labels, b)
    assert paired.roc_auc_difference == pytest.approx(unpaired.roc_auc_difference)
    assert paired.roc_auc_difference_stderr < 0.6 * unpaired.roc_auc_difference_stderr


def test_p_values_are_calibrated_under_the_null():
    rng = np.random.default_rng(7)
    p_values = [compare_paired(*simulate(400, 0.2, 1.0, 1.0, 0.5, rng)).p_value for _ in range(400)]
    rejections = np.mean(np.array(p_values) < 0.05)
    assert 0.02 <= rejections <= 0.09  # 5% nominal; binomial sd over 400 draws is 1.1 points
    p_values = [compare_unpaired(*simulate(400, 0.2, 1.0, 1.0, 0.0, rng)[:2],
                                 *simulate(400, 0.2, 1.0, 1.0, 0.0, rng)[:2]).p_value for _ in range(400)]
    assert 0.02 <= np.mean(np.array(p_values) < 0.05) <= 0.09


def test_unpaired_equals_sklearn_and_sums_the_variances():
    rng = np.random.default_rng(9)
    labels_a, a, _ = simulate(2000, 0.1, 1.0, 1.0, 0.0, rng)
    labels_b, b, _ = simulate(1500, 0.1, 1.5, 1.0, 0.0, rng)
    result = compare_unpaired(labels_a, a, labels_b, b)
    assert not result.paired and (result.n_a, result.n_b) == (2000, 1500)
    assert result.roc_auc_a == pytest.approx(roc_auc_score(labels_a, a), abs=1e-12)
    assert result.roc_auc_b == pytest.approx(roc_auc_score(labels_b, b), abs=1e-12)
    _, var_a = naive_delong(labels_a, a)
    _, var_b = naive_delong(labels_b, b)
    assert result.roc_auc_difference_stderr == pytest.approx(math.sqrt(var_a[0, 0] + var_b[0, 0]), rel=1e-9)


def test_identical_versions_differ_by_nothing():
    labels, a, _ = simulate(500, 0.1, 1.0, 1.0, 0.0, np.random.default_rng(1))
    result = compare_paired(labels, a, a.copy())
    assert result.roc_auc_difference == 0 and result.p_value == 1.0
    assert result.ci_lower == result.ci_upper == 0.0


def test_one_class_only_gives_nan_not_an_error():
    result = compare_paired(np.zeros(50), np.random.rand(50), np.random.rand(50))
    assert math.isnan(result.roc_auc_a) and math.isnan(result.p_value) and math.isnan(result.average_precision_a)
    assert not PromotionRule(min_labelled=1, min_positives=0).challenger_wins(result)


def test_lengths_must_match():
    with pytest.raises(ValueError):
        compare_paired(np.zeros(3), np.zeros(3), np.zeros(4))


def test_paired_rows_joins_by_transaction_id():
    a, b = paired_rows(["t1", "t2", "t3", "t2"], ["t3", "t9", "t2"])
    assert sorted(zip(a.tolist(), b.tolist())) == [(2, 0), (3, 2)]  # t2's last occurrence in a
    assert len(paired_rows(["x"], ["y"])[0]) == 0


def test_promotion_needs_enough_traffic_and_a_significant_margin():
    labels, a, b = simulate(4000, 0.1, 1.0, 1.5, 0.6, np.random.default_rng(2))
    better = compare_paired(labels, a, b)
    assert PromotionRule(min_labelled=2000, min_positives=40).challenger_wins(better)
    assert not PromotionRule(min_labelled=5000, min_positives=40).challenger_wins(better)
    assert not PromotionRule(min_improvement=0.5).challenger_wins(better)
    worse = compare_paired(labels, b, a)
    assert not PromotionRule().challenger_wins(worse)
    assert isinstance(better.to_dict()["p_value"], float) and isinstance(better, Comparison)


def test_one_auc_interval_is_centred_on_sklearns_auc_with_delongs_textbook_variance():
    labels, a, _ = simulate(400, 0.1, 1.0, 0.0, 0.0, np.random.default_rng(3))
    lower, upper = roc_auc_interval(labels, a)
    auc = roc_auc_score(labels, a)
    _, cov = naive_delong(labels, a[None, :])
    half = stats.norm.ppf(0.975) * math.sqrt(cov[0, 0])
    assert (lower, upper) == pytest.approx((auc - half, auc + half), abs=1e-12)


def test_one_auc_interval_covers_the_true_auc_about_95_percent_of_the_time_on_small_test_splits():
    """What ModelPerformanceDegraded leans on: a retrained version's test split of ~360 rows and ~20 positives."""
    rng = np.random.default_rng(11)
    shift = 1.0
    true_auc = stats.norm.cdf(shift / math.sqrt(2))
    covered = sum(lo <= true_auc <= hi for lo, hi in
                  (roc_auc_interval(*simulate(360, 0.06, shift, 0.0, 0.0, rng)[:2]) for _ in range(400)))
    assert 0.91 <= covered / 400 <= 0.98  # binomial(400, 0.95) lies within these bounds with probability > 0.999


def test_one_auc_interval_is_undefined_without_both_classes():
    assert all(math.isnan(v) for v in roc_auc_interval(np.zeros(5), np.arange(5.0)))
