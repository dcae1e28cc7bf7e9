"""CBPE from score counts against hand-computed expectations, simulations with known probabilities, and sklearn."""
import numpy as np
import pytest
from sklearn import metrics as sk
from sklearn.isotonic import IsotonicRegression

from drift import estimation as est
from drift.performance import classification_metrics


def test_expected_confusion_matrix_by_hand():
    # four predictions whose probabilities are known; threshold 0.5 on the score (= the probability here)
    p = np.array([0.1, 0.2, 0.6, 0.9])
    # E[TP] = 0.6 + 0.9 = 1.5, E[FP] = 0.4 + 0.1 = 0.5, E[FN] = 0.1 + 0.2 = 0.3, E[TN] = 1.7
    e = est.estimate(counts=np.ones(4), mass=p, first_positive_bin=2)
    assert e.confusion == pytest.approx({"tp": 1.5, "fp": 0.5, "fn": 0.3, "tn": 1.7})
    assert e.metrics["precision"] == pytest.approx(1.5 / 2.0)  # the predicted-fraud count is known: exact
    assert e.expected_positives == pytest.approx(1.8)
    # recall is TP / (TP + FN) with a random denominator: its expectation over the 16 label outcomes, by enumeration
    outcomes = np.array(np.meshgrid(*[[0, 1]] * 4)).reshape(4, -1).T
    weight = np.prod(np.where(outcomes == 1, p, 1 - p), axis=1)
    some = outcomes.sum(axis=1) > 0
    recall = outcomes[some][:, 2:].sum(axis=1) / outcomes[some].sum(axis=1)
    assert e.metrics["recall"] == pytest.approx(np.sum(weight[some] * recall) / weight[some].sum(), abs=0.02)


def test_expected_confusion_matrix_of_a_simulation_with_known_probabilities():
    rng = np.random.default_rng(3)
    p = rng.beta(0.3, 8, 50_000).astype(np.float32)  # ~3.6% fraud, calibrated by construction
    t = 0.2
    edges = est.score_edges(p, t)
    e = est.estimate_from_scores(p, est.Calibrator(), edges, t)
    p64, hit = p.astype(float), p >= t
    tp, fp, fn = p64[hit].sum(), (1 - p64[hit]).sum(), p64[~hit].sum()  # the expected confusion matrix, directly
    assert e.confusion == pytest.approx({"tp": tp, "fp": fp, "fn": fn, "tn": (1 - p64[~hit]).sum()}, rel=1e-9)
    assert e.metrics["precision"] == pytest.approx(tp / (tp + fp), rel=1e-9)
    # a large window: ratio of expectations, to within the Monte Carlo noise of the mean of 400 draws (recall's
    # sampling sd here is about 0.009, so the mean's is about 0.00045: rel 5e-3 is about 3 of them)
    assert e.metrics["recall"] == pytest.approx(tp / (tp + fn), rel=5e-3)
    assert e.metrics["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn), rel=5e-3)
    # labels drawn from those probabilities: the realized metrics average to the estimate and fall in the interval
    realized = {m: [] for m in est.METRICS}
    order = np.argsort(p, kind="stable")
    for _ in range(200):
        y = (rng.random(len(p)) < p).astype(int)
        got = classification_metrics(y[order], p[order], t, sorted_by_score=True)
        got["average_precision"] = est.average_precision_of_sorted(y[order], p[order])
        for m in est.METRICS:
            realized[m].append(got[m])
    for m in est.METRICS:
        values = np.array(realized[m])
        # average precision: ties inside a bin cost it up to ~0.003 (see the next test)
        assert values.mean() == pytest.approx(e.metrics[m], abs=5e-3 if m == "average_precision" else 2e-3), m
        inside = np.mean((values >= e.lower[m]) & (values <= e.upper[m]))
        assert 0.88 <= inside <= 1.0, (m, inside)


def test_estimated_auc_and_ap_equal_sklearn_with_fractional_labels():
    # every prediction counted p times as fraud and (1 - p) times as legitimate: sklearn with sample weights
    rng = np.random.default_rng(0)
    s = np.round(rng.random(400), 2)  # ties
    p = np.clip(s + rng.normal(0, 0.1, 400), 0, 1)
    order = np.argsort(s, kind="stable")
    xs, starts = np.unique(s[order], return_index=True)
    pos = np.add.reduceat(p[order], starts)
    neg = np.add.reduceat(1 - p[order], starts)
    y2, s2, w2 = np.r_[np.ones(400), np.zeros(400)], np.r_[s, s], np.r_[p, 1 - p]
    assert est.grouped_roc_auc(pos, neg) == pytest.approx(sk.roc_auc_score(y2, s2, sample_weight=w2), rel=1e-9)
    assert est.grouped_average_precision(pos, neg) == pytest.approx(
        sk.average_precision_score(y2, s2, sample_weight=w2), rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_realized_average_precision_equals_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(3000) < 0.05).astype(int)
    s = np.round(np.clip(rng.normal(0.2 + 0.3 * y, 0.2), 0, 1), 1 + seed)  # coarse rounding: many ties
    assert est.average_precision(y, s) == pytest.approx(sk.average_precision_score(y, s), rel=1e-12)
    assert classification_metrics(y, s, 0.4)["average_precision"] == pytest.approx(sk.average_precision_score(y, s))


def test_average_precision_hand_computed_and_edge_cases():
    # descending: 0.9 (neg), 0.8 and 0.8 (pos, neg: one threshold), 0.3 (pos): precision at the pos steps 1/3, 2/4
    y, s = np.array([0, 1, 0, 1]), np.array([0.9, 0.8, 0.8, 0.3])
    assert est.average_precision(y, s) == pytest.approx(0.5 * 1 / 3 + 0.5 * 2 / 4)
    assert np.isnan(est.average_precision(np.zeros(3), np.arange(3)))  # no fraud: undefined
    assert est.average_precision(np.ones(3), np.arange(3)) == 1.0
    assert np.isnan(est.average_precision(np.array([], int), np.array([])))


def test_binning_changes_auc_and_ap_only_slightly_and_threshold_metrics_not_at_all():
    rng = np.random.default_rng(5)
    p = rng.beta(0.3, 8, 20_000).astype(np.float32)
    t = float(np.quantile(p, 0.97)) + 1e-9  # not a float32: the edge must round up
    fine = est.estimate_from_scores(p, est.Calibrator(), est.score_edges(p, t), t, draws=50)
    order = np.argsort(p, kind="stable")
    pos, neg = est.tied_groups(np.zeros(len(p)), p[order])  # exact: one group per distinct score
    starts = np.flatnonzero(np.r_[True, np.diff(p[order]) != 0])
    mass = np.add.reduceat(p[order].astype(float), starts)
    k = int(np.searchsorted(p[order][starts], np.float32(t)))
    exact = est.grouped_metrics(mass, pos + neg - mass, k)
    binned = est.grouped_metrics(*_masses(fine_edges := est.score_edges(p, t), p), est.positive_from(fine_edges, t))
    assert float(binned["roc_auc"]) == pytest.approx(float(exact["roc_auc"]), abs=1e-4)
    assert 0 <= float(exact["average_precision"]) - float(binned["average_precision"]) <= 3e-3  # ties only lower AP
    for m in ("precision", "recall", "f1"):
        assert float(binned[m]) == pytest.approx(float(exact[m]), rel=1e-9), m
    assert fine.confusion == pytest.approx(est.expected_confusion(pos + neg, mass, k), rel=1e-9)


def _masses(edges: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bins = est.bin_scores(edges, p)
    counts = np.bincount(bins, minlength=len(edges) + 1).astype(float)
    mass = np.bincount(bins, weights=p.astype(float), minlength=len(edges) + 1)
    return mass, counts - mass


def test_threshold_edge_gives_the_services_decision():
    t = 0.1734  # a float64 between two float32s
    edges = est.score_edges(np.linspace(0, 1, 1000), t)
    scores = np.array([np.nextafter(np.float32(t), np.float32(0)), np.float32(t), np.nextafter(np.float32(t), np.float32(1))],
                      np.float32)
    positive = est.bin_scores(edges, scores) >= est.positive_from(edges, t)
    assert positive.tolist() == (scores >= t).tolist()  # numpy compares float32 with a Python float in float32
    assert positive.tolist() == [bool(s >= t) for s in scores]  # as the service decides, score by score


def test_small_windows_get_wide_intervals():
    rng = np.random.default_rng(1)
    widths = []
    for n in (500, 50_000):
        p = rng.beta(0.3, 12, n).astype(np.float32)
        e = est.estimate_from_scores(p, est.Calibrator(), est.score_edges(p, 0.2), 0.2)
        widths.append(e.upper["roc_auc"] - e.lower["roc_auc"])
        assert e.lower["roc_auc"] <= e.metrics["roc_auc"] <= e.upper["roc_auc"]
    assert widths[0] > 5 * widths[1]


def test_empty_and_fraud_free_windows_are_undefined_not_errors():
    e = est.estimate(np.zeros(5), np.zeros(5), 3)
    assert e.n == 0 and all(np.isnan(v) for v in e.metrics.values())
    e = est.estimate(np.array([10.0, 10.0]), np.zeros(2), 1)
    assert np.isnan(e.metrics["roc_auc"]) and np.isnan(e.lower["roc_auc"]) and e.metrics["precision"] == 0.0


def test_isotonic_calibrator_equals_sklearn():
    rng = np.random.default_rng(2)
    s = np.round(rng.random(3000), 3)
    y = (rng.random(3000) < s ** 2).astype(int)  # raw scores overstate the probability
    cal = est.fit_isotonic(s, y)
    ref = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(s, y)
    grid = np.r_[-0.5, np.linspace(0, 1, 2001), 1.5]
    assert cal(grid) == pytest.approx(ref.predict(grid), abs=1e-12)
    assert est.Calibrator.from_dict(cal.to_dict()) == cal
    assert est.Calibrator.from_dict(None)(np.array([0.3])) == pytest.approx([0.3])


def test_reliability_brier_and_ece_by_hand():
    p = np.array([0.1, 0.1, 0.8, 0.8])
    y = np.array([0, 1, 1, 1])
    r = est.reliability(p, y, bins=2)
    assert r.brier == pytest.approx(np.mean((p - y) ** 2))
    assert r.brier == pytest.approx(sk.brier_score_loss(y, p))
    # bins {0.1, 0.1}: observed 0.5, predicted 0.1; {0.8, 0.8}: observed 1, predicted 0.8
    assert r.ece == pytest.approx((2 * 0.4 + 2 * 0.2) / 4)
    assert r.observed_rate == [0.5, 1.0] and r.count == [2, 2]
