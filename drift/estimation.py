"""Performance before the labels arrive: confidence-based performance estimation (CBPE) from score counts.

If the model's (calibrated) scores are probabilities, a window of n predictions with fraud probabilities p_i
and decisions s_i >= t has an *expected* confusion matrix

    E[TP] = sum_{s_i >= t} p_i      E[FP] = sum_{s_i >= t} (1 - p_i)
    E[FN] = sum_{s_i <  t} p_i      E[TN] = sum_{s_i <  t} (1 - p_i)

and precision, recall, F1 follow from it (NannyML's CBPE takes ratios of these expectations). ROC AUC and
average precision are the same curves with every prediction counted p_i times as a positive and (1 - p_i) times
as a negative. Everything is computed from *groups* of tied scores in ascending order: a positive "mass" and a
negative "mass" per group. With labels the masses are counts (the realized metrics, equal to scikit-learn's,
ties included); with calibrated probabilities they are sums of p_i (the estimate). The exporter keeps these
masses per fine score bin (`score_edges`), so the estimate is incremental like its other counts; the decision
threshold is always a bin edge, so the expected confusion matrix is exact. ROC AUC counts pairs inside one bin as
ties (within 1e-4 of the unbinned figure, BENCHMARKS.md); average precision takes a bin's n predictions as n
distinct thresholds of equal probability (`expected_average_precision`), as the realized metric sees distinct scores.

Sampling interval: a *parametric bootstrap*: each bin's fraud count is drawn from Binomial(n_b, q_b) with
q_b = (mass of the bin) / n_b, the metrics are recomputed on every draw, and the interval is the central 95% of
them. It is where the realized metric of this window should fall if the scores are calibrated (a Poisson-binomial
within a bin has a variance at most the binomial's, so the interval errs wide), and it is wide for small windows
with a few frauds, which keeps them from alarming.

Calibration (`fit_calibrator`): an isotonic map fitted on a labelled reference (scipy's pool-adjacent-violators,
`scipy.optimize.isotonic_regression`), applied as a piecewise-linear interpolation between its knots, as
scikit-learn's `IsotonicRegression(out_of_bounds="clip")` predicts, kept only when it estimates held-out folds of the
reference better than the raw score. Its own error (the reference is a sample) is measured when it is fitted and
widens a second, *total* interval (docs/design.md, "Performance estimation without labels").
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from drift_client.metrics import (  # noqa: F401  (re-exported: the estimator's vocabulary)
    _safe_ratio, average_precision, average_precision_of_sorted, grouped_average_precision, grouped_roc_auc, tied_groups)
from drift_client.reference_profile import score_edges  # noqa: F401  (the score bins: the client builds profiles with them)

METRICS = ("roc_auc", "average_precision", "precision", "recall", "f1")
INTERVAL_DRAWS = 400
INTERVAL_LEVEL = 0.95


# ---------------------------------------------------------------- metrics from groups of tied scores

def expected_average_precision(counts: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """Average precision of bins in ascending score order when each bin's n predictions are n distinct thresholds
    (as raw scores are), each carrying the bin's positive share q: NannyML's per-prediction curve, in closed form.

    grouped_average_precision counts a bin as one threshold (tied scores), which is right for labels but lowers the
    expected curve by merging thresholds that the realized metric keeps apart (BENCHMARKS.md, CBPE). Within a bin
    entered with T expected positives among N predictions, the k-th prediction has precision (T + k q) / (N + k), and
    sum_k=1..n (T + k q) / (N + k) = n q + (T - q N) (H(N + n) - H(N)), H the harmonic numbers (digamma(x + 1) + γ).
    `positives` may carry leading axes (bootstrap draws); the last axis is the bins."""
    from scipy.special import digamma  # lazily, like drift.stats: scipy costs the exporter's start-up otherwise
    counts = np.asarray(counts, float)[::-1]
    pos = np.asarray(positives, float)[..., ::-1]
    entered = np.cumsum(counts) - counts  # predictions ranked above each bin
    harmonic = digamma(entered + counts + 1) - digamma(entered + 1)
    above = np.cumsum(pos, axis=-1) - pos
    share = np.nan_to_num(_safe_ratio(pos, counts))
    inside = share * counts * share + share * (above - share * entered) * harmonic
    return _safe_ratio(np.sum(inside, axis=-1), pos.sum(axis=-1))


def grouped_metrics(pos: np.ndarray, neg: np.ndarray, positive_from: int) -> dict[str, np.ndarray]:
    """Every metric of METRICS from group masses; groups from index `positive_from` on are predicted fraud."""
    tp, fp = pos[..., positive_from:].sum(axis=-1), neg[..., positive_from:].sum(axis=-1)
    fn = pos[..., :positive_from].sum(axis=-1)
    precision = np.nan_to_num(_safe_ratio(tp, tp + fp))  # no predicted fraud: precision 0, as in quality.py
    recall = _safe_ratio(tp, tp + fn)
    return {
        "roc_auc": grouped_roc_auc(pos, neg),
        "average_precision": grouped_average_precision(pos, neg),
        "precision": precision,
        "recall": recall,
        "f1": np.where(np.isnan(recall), np.nan, np.nan_to_num(_safe_ratio(2 * tp, 2 * tp + fp + fn))),
    }


# ---------------------------------------------------------------- calibration

@dataclass(frozen=True)
class Calibrator:
    """A monotone map from raw score to fraud probability: linear interpolation between knots (x, y),
    clipped at the ends. No knots: the identity (the raw score is taken as the probability).

    `error_sd`: per metric, the standard deviation that the calibrator's own sampling error (it was fitted on a
    finite reference) adds to every estimate; it does not shrink with the window's size (`fit_calibrator`)."""

    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    error_sd: dict = field(default_factory=dict, compare=False, hash=False)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=float)
        if not self.x:
            return np.clip(scores, 0.0, 1.0)
        return np.interp(scores, self.x, self.y)

    @property
    def kind(self) -> str:
        return "isotonic" if self.x else "identity"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "x": list(self.x), "y": list(self.y), "error_sd": dict(self.error_sd)}

    @classmethod
    def from_dict(cls, data: dict | None) -> "Calibrator":
        error_sd = {k: float(v) for k, v in (data or {}).get("error_sd", {}).items()}
        if not data or data.get("kind", "identity") == "identity":
            return cls(error_sd=error_sd)
        return cls(tuple(float(v) for v in data["x"]), tuple(float(v) for v in data["y"]), error_sd)


def fit_isotonic(scores: np.ndarray, labels: np.ndarray) -> Calibrator:
    """Isotonic (non-decreasing) fit of labels on scores; knots are the ends of each constant block."""
    order = np.argsort(scores, kind="stable")
    s, y = np.asarray(scores, float)[order], np.asarray(labels, float)[order]
    xs, starts, counts = np.unique(s, return_index=True, return_counts=True)
    means = np.add.reduceat(y, starts) / counts
    from scipy.optimize import isotonic_regression  # training only: not an import of every exporter and report
    fitted = isotonic_regression(means, weights=counts.astype(float), increasing=True).x
    # keep the first and last point of every block of equal fitted values: the interpolation is unchanged
    change = np.r_[True, fitted[1:] != fitted[:-1]]
    keep = change | np.r_[change[1:], True]
    return Calibrator(tuple(xs[keep].tolist()), tuple(np.clip(fitted[keep], 0, 1).tolist()))


CALIBRATION_FOLDS = 5
CALIBRATION_RESAMPLES = 40


def _expected_metrics(sorted_scores: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict[str, float]:
    """Every metric's ratio of expectations for one row per group (scores ascending): cheap, for the reference."""
    first = int(np.searchsorted(sorted_scores, threshold_edge(threshold), side="left"))
    return {k: float(v) for k, v in grouped_metrics(probabilities, 1 - probabilities, first).items()}


def fit_calibrator(scores: np.ndarray, labels: np.ndarray, threshold: float = 0.5, *,
                   resamples: int = CALIBRATION_RESAMPLES, seed: int = 0) -> Calibrator:
    """The calibrator of a labelled reference: isotonic on the reference's own scores and labels, as NannyML's CBPE
    fits it, kept only when it estimates held-out data better than the raw score does. The test is on what the
    calibrator is for: CALIBRATION_FOLDS-fold cross-validation of every estimated metric of each held-out fold
    against its realized value (a Brier score would be decided by the 98% of easy negatives; a small reference
    overfits isotonic; well-calibrated scores need none).

    `error_sd` is measured here, once: the estimate of the reference itself under calibrators refitted on
    `resamples` bootstrap resamples of the reference. It is the part of the estimate's error that comes from the
    reference being a sample (its frauds were a lucky or unlucky draw) and that no window size averages away; for
    the identity, the gap between the estimated and realized metric of the reference stands in for it."""
    s, y = np.asarray(scores, float), np.asarray(labels, float)
    order = np.argsort(s, kind="stable")
    s, y = s[order], y[order]
    rng = np.random.default_rng(seed)
    folds = rng.integers(0, CALIBRATION_FOLDS, len(s))
    error = {"identity": 0.0, "isotonic": 0.0}
    for k in range(CALIBRATION_FOLDS):
        fit, held = folds != k, folds == k
        if not (0 < y[fit].sum() < fit.sum() and 0 < y[held].sum() < held.sum()):
            continue
        realized = _expected_metrics(s[held], y[held], threshold)
        for name, probabilities in (("identity", np.clip(s[held], 0, 1)),
                                    ("isotonic", fit_isotonic(s[fit], y[fit])(s[held]))):
            estimated = _expected_metrics(s[held], probabilities, threshold)
            error[name] += sum(abs(estimated[m] - realized[m]) for m in METRICS if np.isfinite(realized[m]))
    if not error["isotonic"] < error["identity"]:
        estimated, realized = _expected_metrics(s, np.clip(s, 0, 1), threshold), _expected_metrics(s, y, threshold)
        return Calibrator(error_sd={m: abs(estimated[m] - realized[m]) for m in METRICS})
    calibrator = fit_isotonic(s, y)
    draws = []
    for _ in range(resamples):
        pick = np.sort(rng.integers(0, len(s), len(s)))  # s is sorted: sorted indices keep the resample sorted
        draws.append(_expected_metrics(s, fit_isotonic(s[pick], y[pick])(s), threshold))
    error_sd = {m: float(np.nanstd([d[m] for d in draws], ddof=1)) for m in METRICS}
    return Calibrator(calibrator.x, calibrator.y, error_sd)


@dataclass
class Reliability:
    """Calibration of probabilities against outcomes: a reliability curve over equal-count bins, Brier score and
    expected calibration error (count-weighted mean |observed rate - mean probability| over the same bins)."""

    brier: float
    ece: float
    mean_predicted: list[float] = field(default_factory=list)
    observed_rate: list[float] = field(default_factory=list)
    count: list[int] = field(default_factory=list)


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> Reliability:
    """Equal-count bins, because at 2% fraud equal-width bins put almost every prediction in the first one."""
    p, y = np.asarray(probabilities, float), np.asarray(labels, float)
    order = np.argsort(p, kind="stable")
    groups = [g for g in np.array_split(order, bins) if len(g)]
    mean_p = [float(p[g].mean()) for g in groups]
    rate = [float(y[g].mean()) for g in groups]
    count = [len(g) for g in groups]
    ece = float(sum(n * abs(r - m) for n, r, m in zip(count, rate, mean_p)) / len(p))
    return Reliability(float(np.mean((p - y) ** 2)), ece, mean_p, rate, count)


# ---------------------------------------------------------------- score bins and the estimate

def threshold_edge(threshold: float) -> float:
    """The threshold as the service compares it: numpy compares a float32 score with a Python float in float32
    (NEP 50), so the decision is s >= float32(threshold)."""
    return float(np.float32(threshold))


def positive_from(edges: np.ndarray, threshold: float) -> int:
    """Index of the first bin whose scores are all >= threshold (the threshold's edge is in `edges`)."""
    return int(np.searchsorted(edges, threshold_edge(threshold), side="left")) + 1


def bin_scores(edges: np.ndarray, scores: np.ndarray) -> np.ndarray:
    return np.searchsorted(edges, np.asarray(scores, float), side="right")


@dataclass
class Estimate:
    """Estimated metrics, their sampling interval (lower, upper) and the expected confusion matrix of one window."""

    n: int
    expected_positives: float
    confusion: dict[str, float]
    metrics: dict[str, float]
    lower: dict[str, float]
    upper: dict[str, float]
    total_lower: dict[str, float] = field(default_factory=dict)  # sampling and the calibrator's own error
    total_upper: dict[str, float] = field(default_factory=dict)
    draws_mean: dict[str, float] = field(default_factory=dict)  # mean realized metric over the bootstrap draws

    def as_dict(self) -> dict:
        return {"n": self.n, "expected_positives": self.expected_positives, "confusion": self.confusion,
                "metrics": self.metrics, "lower": self.lower, "upper": self.upper,
                "total_lower": self.total_lower, "total_upper": self.total_upper}


def expected_confusion(counts: np.ndarray, mass: np.ndarray, first_positive_bin: int) -> dict[str, float]:
    """E[TP], E[FP], E[FN], E[TN] at the threshold."""
    k = first_positive_bin
    return {"tp": float(mass[k:].sum()), "fp": float((counts[k:] - mass[k:]).sum()),
            "fn": float(mass[:k].sum()), "tn": float((counts[:k] - mass[:k]).sum())}


def estimate(counts: np.ndarray, mass: np.ndarray, first_positive_bin: int, *, draws: int = INTERVAL_DRAWS,
             level: float = INTERVAL_LEVEL, seed: int = 0, calibration_sd: dict | None = None) -> Estimate:
    """CBPE from per-bin prediction counts and sums of calibrated probabilities, with a bootstrap interval.

    Point estimates: precision exactly (E[TP] / predicted fraud, whose denominator is known without labels); ROC
    AUC and average precision from the expected curves (each prediction counted p times a positive and 1 - p times a
    negative), as NannyML's CBPE computes them; recall and F1 as the mean of the realized metric over the bootstrap
    draws (ratios with a random denominator: in a small window the expected recall is not the ratio of
    expectations). For average precision the mean over draws (`draws_mean`, the point before issue 25) is higher in
    small windows; with known probabilities the two were within each other's noise (BENCHMARKS.md), and the curve
    carries no Monte Carlo noise.

    (lower, upper) is the sampling interval: where the realized metric falls if the calibrated probabilities are
    right. (total_lower, total_upper) adds `calibration_sd` (Calibrator.error_sd) in quadrature on each side: the
    calibrator was fitted on a finite reference, an error that dominates large windows."""
    counts = np.asarray(counts, float)
    mass = np.clip(np.asarray(mass, float), 0, counts)
    if counts.sum() == 0:
        nan = {name: float("nan") for name in METRICS}
        return Estimate(0, 0.0, expected_confusion(counts, mass, first_positive_bin), nan, dict(nan), dict(nan),
                        dict(nan), dict(nan), dict(nan))
    confusion = expected_confusion(counts, mass, first_positive_bin)
    q = _safe_ratio(mass, counts)
    rng = np.random.default_rng(seed)
    q = np.nan_to_num(q)
    drawn = np.zeros((draws, len(counts))) + np.where(q >= 1, counts, 0)  # certain bins need no draw
    active = (q > 0) & (q < 1)
    drawn[:, active] = rng.binomial(counts[active].astype(np.int64), q[active], size=(draws, int(active.sum())))
    sims = grouped_metrics(drawn, counts - drawn, first_positive_bin)
    # a draw's scores inside a bin are distinct too: its average precision over n thresholds per bin, not one
    sims["average_precision"] = expected_average_precision(counts, drawn)
    tail = (1 - level) / 2 * 100
    point, lower, upper = {}, {}, {}
    for name, values in sims.items():
        finite = values[np.isfinite(values)]
        if len(finite) >= draws // 2:  # a draw without any fraud has no AUC: use the draws where the metric exists
            lo, hi = np.percentile(finite, [tail, 100 - tail])
            point[name], lower[name], upper[name] = float(finite.mean()), float(lo), float(hi)
        else:
            point[name] = lower[name] = upper[name] = float("nan")
    draws_mean = dict(point)
    predicted = confusion["tp"] + confusion["fp"]
    point["precision"] = confusion["tp"] / predicted if predicted else 0.0
    # ROC AUC and average precision from the expected curves (NannyML's sampling-free approach): no Monte Carlo
    # noise in a gauge that alerts and forecasts read
    if np.isfinite(point["roc_auc"]):
        point["roc_auc"] = float(grouped_roc_auc(mass, counts - mass))
    if np.isfinite(point["average_precision"]):
        point["average_precision"] = float(expected_average_precision(counts, mass))
    z = float(_normal_quantile(1 - (1 - level) / 2))
    sd = calibration_sd or {}
    total_lower = {m: min(lower[m], point[m] - float(np.hypot(max(point[m] - lower[m], 0.0), z * sd.get(m, 0.0))))
                   for m in point}
    total_upper = {m: max(upper[m], point[m] + float(np.hypot(max(upper[m] - point[m], 0.0), z * sd.get(m, 0.0))))
                   for m in point}
    return Estimate(int(counts.sum()), float(mass.sum()), confusion, point, lower, upper, total_lower, total_upper,
                    draws_mean)


def _normal_quantile(q: float) -> float:
    from statistics import NormalDist  # the standard library's: no scipy at run time
    return NormalDist().inv_cdf(q)


def estimate_from_scores(scores: np.ndarray, calibrator: Calibrator, edges: np.ndarray, threshold: float,
                         **kwargs) -> Estimate:
    """The same estimate from raw scores (benchmarks, tests): bin, calibrate, count."""
    bins = bin_scores(edges, scores)
    size = len(edges) + 1
    counts = np.bincount(bins, minlength=size)
    mass = np.bincount(bins, weights=calibrator(scores), minlength=size)
    return estimate(counts, mass, positive_from(edges, threshold), calibration_sd=calibrator.error_sd, **kwargs)
