"""Per-minute profiles: merged minutes give the raw samples' figures exactly (counts, PSI, chi-square, moments, score
counts), and KS D from the coarse grid stays within its documented bound of the exact D."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

from drift_client.redis_layout import MalformedEntry
from drift_client.reference_profile import ReferenceProfile
from drift_client.schema import FeatureSpec, ModelSchema
from drift.detectors.chi_square import chi_square_homogeneity
from drift.profiles import KS_GRID, CoarseKS, ProfileLayout
from drift.stats import KSReference, psi
from drift.tally import Tally

RNG = np.random.default_rng(7)
SCHEMA = ModelSchema((FeatureSpec("amount", "numeric"), FeatureSpec("count", "discrete"), FeatureSpec("flag", "binary")))


def reference(n: int = 20_000) -> ReferenceProfile:
    train = np.column_stack([RNG.lognormal(3, 1, n), RNG.poisson(3, n), RNG.integers(0, 2, n)]).astype(float)
    scores = RNG.beta(1, 20, 5000)
    return ReferenceProfile.build(model_name="m", model_version="1", trained_at="", features=["amount", "count", "flag"],
                                  metrics={}, train=train, scores=scores, labels=None,
                                  importance={"amount": 0.5, "count": 0.3, "flag": 0.2}, schema=SCHEMA)


PROFILE = reference()
LAYOUT = ProfileLayout(PROFILE)


def traffic(n: int, shift: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    x = np.column_stack([RNG.lognormal(3, 1, n) * shift, RNG.poisson(3, n), RNG.integers(0, 2, n)]).astype(np.float32)
    x[RNG.uniform(size=n) < 0.01, 0] = np.nan  # missing values
    x[RNG.uniform(size=n) < 0.005, 1] = 99  # out of range
    scores = RNG.beta(1, 20, n).astype(np.float32)
    scores[RNG.uniform(size=n) < 0.002] = np.nan  # skipped rows
    return x, scores


def minutes_and_tally(k: int = 12, rows: int = 700, shift: float = 1.0):
    tally, minutes = Tally(PROFILE), []
    for _ in range(k):
        x, s = traffic(rows, shift)
        tally.add(x, s)
        minutes.append(LAYOUT.decode(LAYOUT.encode(LAYOUT.count(x, s))))
    return LAYOUT.window(LAYOUT.merge(minutes), 60 * k), tally


def test_merged_minutes_give_the_raw_samples_counts_psi_chi_square_and_moments_exactly():
    merged, tally = minutes_and_tally(shift=1.2)
    assert (merged.predictions, merged.predicted_positive, merged.skipped_rows) == (
        tally.predictions, tally.predicted_positive, tally.skipped_rows)
    assert merged.score_counts.counts.tolist() == tally.score_counts.counts.tolist()
    assert merged.score_counts.mass == pytest.approx(tally.score_counts.mass)
    for name in [*PROFILE.features, "score"]:
        ref, got = merged.column(name)
        _, raw = tally.column(name)
        assert got.bins.tolist() == raw.bins.tolist(), name
        assert (got.n, got.missing, got.below, got.above) == (raw.n, raw.missing, raw.below, raw.above), name
        assert psi(ref.proportions, got.bins) == psi(ref.proportions, raw.bins)
        assert chi_square_homogeneity(ref.reference_counts(), got.bins) == chi_square_homogeneity(ref.reference_counts(), raw.bins)
        assert got.total / got.n == pytest.approx(raw.total / raw.n, rel=1e-9)
        assert got.total_sq / got.n == pytest.approx(raw.total_sq / raw.n, rel=1e-9)


@pytest.mark.parametrize("shift", [1.0, 1.02, 1.1, 1.3, 2.0])
def test_ks_d_from_the_coarse_grid_is_within_the_documented_bound_of_the_exact_d(shift):
    merged, tally = minutes_and_tally(k=5, rows=2000, shift=shift)
    ref, coarse = merged.column("amount")
    exact_ref, exact = tally.column("amount")
    d_coarse = ref.ks.statistic(coarse.slots)
    d_exact = exact_ref.ks.statistic(exact.slots)
    assert 0 < ref.ks.error_bound < 1 / KS_GRID
    assert d_coarse <= d_exact + 1e-12 and d_exact <= d_coarse + ref.ks.error_bound + 1e-12


def test_the_exact_d_is_scipys_and_a_column_with_few_values_is_exact_on_the_grid():
    merged, tally = minutes_and_tally(k=3, rows=1000, shift=1.3)
    values = np.concatenate([traffic(10)[0][:, 0]])  # scipy check of the exact reference on a fresh sample
    values = values[np.isfinite(values)]
    exact = KSReference(np.asarray(PROFILE.sample["amount"]))
    assert exact.statistic(exact.counts(values)) == pytest.approx(ks_2samp(values, PROFILE.sample["amount"]).statistic)
    for name in ("count", "flag"):
        ref, coarse = merged.column(name)
        exact_ref, raw = tally.column(name)
        assert ref.ks.error_bound == 0.0
        assert ref.ks.statistic(coarse.slots) == pytest.approx(exact_ref.ks.statistic(raw.slots))


def test_the_bound_holds_at_the_worst_place_between_grid_values():
    exact = KSReference(np.arange(10_000.0))
    coarse = CoarseKS(exact, grid=100)
    current = np.arange(10_000.0)[(np.arange(10_000) % 100) < 50]  # every gap half filled: D hides inside the gaps
    d_exact, d_coarse = exact.statistic(exact.counts(current)), coarse.statistic(coarse.counts(current))
    assert d_coarse <= d_exact <= d_coarse + coarse.error_bound
    assert coarse.error_bound == pytest.approx(0.0099)


def test_a_profile_of_another_layout_or_garbage_is_refused():
    blob = LAYOUT.encode(LAYOUT.count(*traffic(50)))
    other = ProfileLayout(reference(5000))
    with pytest.raises(MalformedEntry):
        other.decode(blob)
    for bad in (b"", b"DMP1xx", blob[:-3], blob[:30]):
        with pytest.raises(MalformedEntry):
            LAYOUT.decode(bad)


def test_an_empty_merge_and_a_minute_without_rows_are_empty():
    assert LAYOUT.merge([]).predictions == 0
    empty = LAYOUT.count(np.zeros((0, 3), np.float32), np.zeros(0, np.float32))
    window = LAYOUT.window(LAYOUT.merge([empty, LAYOUT.decode(LAYOUT.encode(empty))]), 60)
    assert window.predictions == 0 and window.column("amount")[1].n == 0
