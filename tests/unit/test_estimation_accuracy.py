"""Accuracy of the label-free estimate under covariate shift, on data whose true fraud probabilities are known.

The generator is calibrated by construction: P(y=1 | z) = sigmoid(-1 + 2.2 z) exactly, and the model's score is a
monotone but overconfident distortion of it (as the third-party loan data set's scores were: raw expected
calibration error about 0.03). The reference (50,000 labelled rows, z ~ N(0, 1)) is what the calibrator is fitted
on; the judged sample (5,000 rows) has z ~ N(0.6, 1): inputs moved, the mechanism did not, which is the case CBPE is
for. Its realized ROC AUC is computed from its labels; its expected ROC AUC from the known probabilities.
"""
import numpy as np
import pandas as pd
import pytest

from drift import estimation as est
from drift.performance import roc_auc
from drift_report.core import DriftReport

THRESHOLD = 0.5


def _sample(n: int, shift: float, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    z = rng.normal(shift, 1.0, n)
    p = 1 / (1 + np.exp(-(-1.0 + 2.2 * z)))
    y = (rng.random(n) < p).astype(int)
    score = 1 / (1 + np.exp(-(1.7 * np.log(p / (1 - p)) + 0.6)))  # monotone in p, not a probability
    return pd.DataFrame({"z": z, "score": score.astype(np.float32), "label": y}), p


@pytest.fixture(scope="module")
def shifted_case():
    rng = np.random.default_rng(25)
    reference, _ = _sample(50_000, 0.0, rng)
    current, p = _sample(5_000, 0.6, rng)
    return reference, current, p


def test_cli_estimate_of_a_shifted_sample_is_within_0_005_of_its_realized_roc_auc(shifted_case):
    reference, current, p = shifted_case
    realized = roc_auc(current["label"].to_numpy(), current["score"].to_numpy())
    order = np.argsort(current["score"].to_numpy(), kind="stable")
    expected = float(est.grouped_roc_auc(p[order], 1 - p[order]))  # E[realized | scores], from the true probabilities
    report = DriftReport.compare(reference, current.drop(columns="label"), score="score", label="label",
                                 threshold=THRESHOLD)
    estimated = report.snapshot.estimated_performance["roc_auc"]
    assert abs(expected - realized) < 0.005  # the case itself: sampling noise of this sample is small
    assert abs(estimated - realized) < 0.005, (estimated, realized)
    assert abs(estimated - expected) < 0.003, (estimated, expected)


def test_reference_calibration_error_is_in_the_total_interval_not_the_sampling_one(shifted_case):
    reference, current, _ = shifted_case
    calibrator = est.fit_calibrator(reference["score"].to_numpy(float), reference["label"].to_numpy())
    assert calibrator.kind == "isotonic"
    assert 0 < calibrator.error_sd["roc_auc"] < 0.01
    edges = est.score_edges(reference["score"].to_numpy(float), THRESHOLD)
    e = est.estimate_from_scores(current["score"].to_numpy(float), calibrator, edges, THRESHOLD)
    for m in est.METRICS:
        assert e.total_lower[m] <= e.lower[m] <= e.metrics[m] <= e.upper[m] <= e.total_upper[m]


def test_fit_calibrator_keeps_isotonic_only_where_it_helps():
    rng = np.random.default_rng(3)
    p = rng.beta(1, 4, 20_000)
    y = (rng.random(len(p)) < p).astype(int)
    assert est.fit_calibrator(p, y).kind == "identity"  # the scores are the probabilities already
    distorted = 1 / (1 + np.exp(-(1.7 * np.log(p / (1 - p)) + 0.6)))
    assert est.fit_calibrator(distorted, y).kind == "isotonic"


def test_point_estimates_of_auc_and_ap_are_the_expected_curves_without_monte_carlo_noise():
    rng = np.random.default_rng(4)
    counts = rng.integers(1, 50, 200).astype(float)
    mass = counts * np.sort(rng.random(200))
    a, b = est.estimate(counts, mass, 150, seed=1), est.estimate(counts, mass, 150, seed=2)
    assert a.metrics["roc_auc"] == b.metrics["roc_auc"] == pytest.approx(float(est.grouped_roc_auc(mass, counts - mass)))
    assert a.metrics["average_precision"] == b.metrics["average_precision"]
    assert a.metrics["average_precision"] == pytest.approx(float(est.expected_average_precision(counts, mass)))


def test_the_cli_profile_carries_score_bins_and_a_calibrator_only_with_labels(shifted_case):
    from drift_report.core import profile_of
    reference, _, _ = shifted_case
    with_labels = profile_of(reference, score="score", label="label", threshold=THRESHOLD)
    assert est.Calibrator.from_dict(with_labels.calibrator).kind == "isotonic" and with_labels.score_edges
    without = profile_of(reference.drop(columns="label"), score="score", threshold=THRESHOLD)
    assert est.Calibrator.from_dict(without.calibrator).kind == "identity" and without.score_edges


def test_the_exporters_counts_carry_the_calibrators_error_into_the_total_interval(shifted_case):
    from drift.score_counts import ScoreCounts
    from drift_report.core import profile_of
    reference, current, _ = shifted_case
    profile = profile_of(reference, score="score", label="label", threshold=THRESHOLD)
    counts = ScoreCounts(profile)
    counts.add(current["score"].to_numpy(float))
    e = counts.estimate()
    assert e.total_lower["roc_auc"] < e.lower["roc_auc"] and e.total_upper["roc_auc"] > e.upper["roc_auc"]


def test_expected_average_precision_by_hand():
    # bins ascending: 2 predictions at q = 0.5, then 1 at q = 1. Descending: precision 1, (1 + .5) / 2, (1 + 1) / 3,
    # recall steps 1/2, .5/2, .5/2
    ap = est.expected_average_precision(np.array([2.0, 1.0]), np.array([1.0, 1.0]))
    assert ap == pytest.approx((1 * 1 + 0.5 * 0.75 + 0.5 * (2 / 3)) / 2)
    assert np.isnan(est.expected_average_precision(np.array([3.0, 2.0]), np.zeros(2)))  # no expected positive


def test_expected_average_precision_equals_the_per_prediction_curve_and_leading_axes():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 40, 60).astype(float)  # empty bins included
    q = np.sort(rng.random(60)) ** 3
    p = np.repeat(q, counts.astype(int))[::-1]  # NannyML's curve: one threshold per prediction, descending
    per_prediction = np.sum(p * np.cumsum(p) / np.arange(1, len(p) + 1)) / p.sum()
    assert est.expected_average_precision(counts, counts * q) == pytest.approx(per_prediction, rel=1e-12)
    stacked = est.expected_average_precision(counts, np.stack([counts * q, counts * q[::-1].clip(0, 1)]))
    assert stacked[0] == pytest.approx(per_prediction, rel=1e-12)
    assert stacked[1] == pytest.approx(float(est.expected_average_precision(counts, counts * q[::-1])))


def test_expected_average_precision_is_nearer_the_realized_mean_than_tied_bins():
    """Labels drawn with the bins' probabilities over distinct scores: scikit-learn's mean average precision is what
    the estimate should match; counting each bin as one threshold (the estimate before) sits below it."""
    from sklearn.metrics import average_precision_score
    rng = np.random.default_rng(1)
    counts = rng.integers(1, 40, 60).astype(float)
    q = np.sort(rng.random(60)) ** 3
    p = np.repeat(q, counts.astype(int))
    realized = np.mean([average_precision_score(rng.random(len(p)) < p, np.arange(len(p))) for _ in range(2000)])
    ours = float(est.expected_average_precision(counts, counts * q))
    tied = float(est.grouped_average_precision(counts * q, counts * (1 - q)))
    assert abs(ours - realized) < 0.5 * abs(tied - realized), (ours, tied, realized)
