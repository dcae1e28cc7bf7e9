import math
import numpy as np
import pytest
from scipy import stats

from drift_client.reference_profile import Bins
from drift.stats import KSReference, attribution, ks_pvalue, ks_pvalues, mean_std, psi


def ks_from_counts(ref, cur, chunks=1):
    k = KSReference(ref)
    counts = sum(k.counts(part) for part in np.array_split(cur, chunks))
    return k.test(counts)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("kind", ["continuous", "integers", "binary", "shifted"])
def test_ks_equals_scipy_ks_2samp(seed, kind):
    rng = np.random.default_rng(seed)
    if kind == "continuous":
        ref, cur = rng.normal(size=5000), rng.normal(0.05, 1, size=20000)
    elif kind == "integers":
        ref, cur = rng.poisson(3, 5000).astype(float), rng.poisson(3.2, 7000).astype(float)
    elif kind == "binary":
        ref, cur = (rng.random(5000) < 0.35).astype(float), (rng.random(3000) < 0.4).astype(float)
    else:
        ref, cur = rng.lognormal(3.6, 1, 5000), rng.lognormal(3.6, 1, 12000) * 1.3
    d, p = ks_from_counts(ref, cur, chunks=7)
    expected = stats.ks_2samp(ref, cur, method="asymp")
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_ks_with_values_outside_the_reference_range():
    ref = np.arange(10.0)
    cur = np.array([-5.0, -1.0, 20.0, 30.0, 4.5])
    assert ks_from_counts(ref, cur)[0] == pytest.approx(stats.ks_2samp(ref, cur).statistic)


def test_ks_constant_feature_same_and_moved():
    ref = np.full(1000, 3.0)
    assert ks_from_counts(ref, np.full(500, 3.0))[0] == 0.0
    d, p = ks_from_counts(ref, np.full(500, 4.0))
    assert d == 1.0 and p < 1e-10


def test_ks_of_empty_window_is_nan():
    k = KSReference(np.arange(5.0))
    assert np.isnan(k.statistic(k.counts(np.array([]))))


def test_ks_pvalue_matches_scipy_asymptotic_formula():
    assert ks_pvalue(0.05, 2000, 5000) == pytest.approx(stats.kstwo.sf(0.05, round(2000 * 5000 / 7000)))


def test_psi_hand_computed():
    # (0.3-0.5)ln(0.3/0.5) + (0.7-0.5)ln(0.7/0.5) = 0.1022 + 0.0673
    assert psi(np.array([0.5, 0.5]), np.array([30, 70])) == pytest.approx(0.2 * np.log(5 / 3) + 0.2 * np.log(7 / 5))
    assert psi(np.array([0.25] * 4), np.array([10, 10, 10, 10])) == 0.0


def test_psi_empty_bins_are_floored_not_infinite():
    value = psi(np.array([0.5, 0.5, 0.0]), np.array([0, 50, 50]))
    expected = (1e-4 - 0.5) * np.log(1e-4 / 0.5) + 0 + (0.5 - 1e-4) * np.log(0.5 / 1e-4)
    assert value == pytest.approx(expected)
    assert np.isfinite(value)


def test_psi_of_empty_window_is_nan():
    assert np.isnan(psi(np.array([0.5, 0.5]), np.array([0, 0])))


def test_psi_binary_feature_with_reference_bins():
    rng = np.random.default_rng(0)
    train = (rng.random(10000) < 0.35).astype(float)
    bins = Bins.from_values(train)
    same = np.bincount(bins.bin_index((rng.random(10000) < 0.35).astype(float)), minlength=len(bins.proportions))
    moved = np.bincount(bins.bin_index((rng.random(10000) < 0.60).astype(float)), minlength=len(bins.proportions))
    assert psi(np.array(bins.proportions), same) < 0.01
    p, q = 0.35, 0.60
    assert psi(np.array(bins.proportions), moved) == pytest.approx((q - p) * np.log(q / p) + (p - q) * np.log((1 - q) / (1 - p)), abs=0.02)


def test_psi_constant_feature():
    bins = Bins.from_values(np.full(1000, 7.0))
    assert psi(np.array(bins.proportions), np.bincount(bins.bin_index(np.full(100, 7.0)), minlength=len(bins.proportions))) == 0.0
    moved = np.bincount(bins.bin_index(np.full(100, 2.0)), minlength=len(bins.proportions))
    assert psi(np.array(bins.proportions), moved) > 5


def test_psi_for_the_seed_amount_shift_is_small_and_ks_catches_it():
    """The measured fact behind our rule: +30% on a lognormal(sigma=1) gives PSI ~0.07 but KS D ~0.1."""
    rng = np.random.default_rng(1)
    train = rng.lognormal(3.6, 1, 50000)
    bins = Bins.from_values(train)
    cur = rng.lognormal(3.6, 1, 20000) * 1.3
    value = psi(np.array(bins.proportions), np.bincount(bins.bin_index(cur), minlength=len(bins.proportions)))
    assert 0.04 < value < 0.1
    assert 0.08 < ks_from_counts(train[:5000], cur)[0] < 0.13


def test_mean_std_from_running_sums():
    x = np.random.default_rng(2).normal(5, 2, 1000)
    mean, std = mean_std(x.sum(), (x * x).sum(), len(x))
    assert mean == pytest.approx(x.mean()) and std == pytest.approx(x.std())
    assert all(np.isnan(v) for v in mean_std(0, 0, 0))


def test_attribution_sums_to_one_only_with_drift():
    imp = {"a": 0.6, "b": 0.3, "c": 0.1}
    shares = attribution({"a": 0.1, "b": 0.4, "c": 0.9}, imp, {"a": True, "b": True, "c": False})
    assert sum(shares.values()) == pytest.approx(1) and shares["c"] == 0
    assert shares["b"] == pytest.approx(0.12 / 0.18)
    assert sum(attribution({"a": 0.1}, imp, {"a": False}).values()) == 0


KS_SIZES = [(1, 2), (3, 7), (60, 5000), (140, 140), (300, 5000), (20_000, 30_000), (150_000, 400_000)]


@pytest.mark.parametrize("n,m", KS_SIZES)
def test_ks_pvalues_are_scipys_sf_and_logsf_to_the_bit(n, m):
    """One sf evaluation gives both figures: exactly kstwo.sf and kstwo.logsf (which switches formulas at the median)."""
    size = np.round(n * m / (n + m))
    median = stats.kstwo.ppf(0.5, size) if size else 0.5
    scale = 1 / np.sqrt(max(size, 1))
    ds = [0.0, 1.0, 0.5, 0.75, np.nextafter(median, 0), median, np.nextafter(median, 1), *np.linspace(0.0, 1.0, 11),
          *np.linspace(0.1, 2.0, 12) * scale]
    if size and size < 10_000:  # moderate D at large sizes costs scipy 0.1-0.3 s a call
        ds += list(np.linspace(2.0, 8.0, 7) * scale)
    for d in ds:
        d = float(min(d, 1.0))
        p, log_p = ks_pvalues(d, n, m)
        want_p = float(np.clip(stats.kstwo.sf(d, size), 0.0, 1.0))
        want_log = float(min(stats.kstwo.logsf(d, size), 0.0))
        assert (p == want_p or (np.isnan(p) and np.isnan(want_p))), (d, p, want_p)
        if want_log == -np.inf:  # scipy's logsf underflows: ours stays finite (test below)
            assert math.isfinite(log_p) and log_p <= 0.0, (d, log_p)
            continue
        assert (log_p == want_log or (np.isnan(log_p) and np.isnan(want_log))), (d, log_p, want_log)


def test_ks_pvalues_at_a_moderate_d_and_a_large_size_are_scipys():
    """The case that costs scipy a sum of n terms (n D^2 between 2.2 and 370): the log is taken of that same sf."""
    size = round(180_000 * 360_000 / 540_000)
    p, log_p = ks_pvalues(0.0062, 180_000, 360_000)
    assert p == float(stats.kstwo.sf(0.0062, size)) and log_p == float(stats.kstwo.logsf(0.0062, size))


def test_ks_pvalues_of_an_empty_side_are_nan():
    assert all(np.isnan(v) for v in ks_pvalues(0.3, 0, 100) + ks_pvalues(0.3, 100, 0))


@pytest.mark.parametrize("statistic, n", [(0.2, 300), (0.3, 3000), (0.25, 5000), (0.09, 40000)])
def test_the_far_tail_log_pvalue_equals_scipys_logsf_where_scipy_still_gives_one(statistic, n):
    from scipy.stats import kstwo

    from drift.stats import _far_tail_log_sf

    assert _far_tail_log_sf(statistic, n, n, 10**12) == pytest.approx(kstwo.logsf(statistic, n), rel=1e-10)


def test_the_ks_log_pvalue_stays_finite_and_decreasing_where_scipys_underflows():
    """-log10 p feeds log-scale panels: +Inf from D of about 0.27 at 8,000 rows broke them (failed before the fix)."""
    logs = [ks_pvalues(d, 8000, 35000)[1] for d in (0.2, 0.27, 0.4, 0.6, 0.9, 0.999, 1.0)]
    assert all(math.isfinite(v) for v in logs)
    assert all(a > b for a, b in zip(logs[:4], logs[1:4]))
    assert all(a >= b for a, b in zip(logs, logs[1:]))
    # and never below the two-sample test's smallest p-value, 2 / C(n + m, n): complete separation
    assert logs[-1] == pytest.approx(math.log(2) - (math.lgamma(43001) - math.lgamma(8001) - math.lgamma(35001)))
