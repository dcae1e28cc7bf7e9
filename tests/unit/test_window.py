"""The pure window, with no server: counts, label join, expiry, NaN rows. Checked against a direct computation."""
from __future__ import annotations

import numpy as np
import pytest

from drift.live_window import LiveWindow
from tests.helpers import label_batch, prediction_batch, tiny_profile

PROFILE = tiny_profile()
WIDTH = len(PROFILE.features)


def window(seconds: float = 3600.0, grace: float = 60.0) -> LiveWindow:
    return LiveWindow(PROFILE, seconds, grace)


def predict(w: LiveWindow, ids: list[str], at: float, score: float = 0.5, x: np.ndarray | None = None) -> int:
    x = np.ones((len(ids), WIDTH)) if x is None else x
    return w.add_predictions([(prediction_batch(ids, x, np.full(len(ids), score)), at)])


def label(w: LiveWindow, ids: list[str], labels: list[int], at: float) -> None:
    w.add_labels([(label_batch(ids, labels), at)])


def labelled(w: LiveWindow) -> list[int]:
    return sorted(w.labelled()[0].tolist())


def test_counts_equal_a_direct_count_of_the_window_after_adds_and_expiry():
    rng = np.random.default_rng(0)
    w = window(seconds=10)
    sent = []
    for t in range(30):
        x = rng.normal(size=(50, WIDTH))
        w.add_predictions([(prediction_batch([f"{t}-{i}" for i in range(50)], x, rng.uniform(size=50)), float(t))])
        sent.append((float(t), x.astype(np.float32).astype(float)))
        w.expire(now=float(t))
    live = np.concatenate([x for t, x in sent if t >= 29 - 10])
    assert w.predictions == len(live)
    for i, name in enumerate(PROFILE.features):
        reference, counts = w.column(name)
        assert counts.bins.tolist() == np.bincount(reference.bin_index(live[:, i]), minlength=reference.n_bins).tolist()
        assert counts.slots.tolist() == reference.ks.counts(live[:, i]).tolist()
        assert counts.total == pytest.approx(live[:, i].sum()) and counts.n == len(live)


def test_labels_join_their_predictions_across_refreshes():
    w = window()
    predict(w, ["a", "b", "c"], at=1)
    label(w, ["a", "c"], [1, 0], at=2)
    assert labelled(w) == [0, 1]


def test_a_label_that_arrives_before_its_prediction_waits_for_it():
    w = window()
    label(w, ["early"], [1], at=1)
    assert labelled(w) == [] and len(w.pending_labels) == 1
    predict(w, ["early", "other"], at=2)
    assert labelled(w) == [1] and not w.pending_labels


def test_a_repeated_id_labels_its_newest_prediction():
    w = window()
    predict(w, ["dup"], at=1, score=0.1)
    predict(w, ["x", "dup"], at=2, score=0.9)
    label(w, ["dup"], [1], at=3)
    labels, scores = w.labelled()
    assert labels.tolist() == [1] and scores.tolist() == [pytest.approx(0.9)]


def test_expired_predictions_and_unmatched_labels_are_let_go():
    w = window(seconds=2.0, grace=60.0)
    predict(w, ["old"], at=100.0)
    label(w, ["old", "never-predicted"], [1, 0], at=105.0)
    w.expire(now=105.0)
    assert w.predictions == 0 and labelled(w) == [] and len(w.index) == 0
    assert len(w.pending_labels) == 1  # "old" found its (expired) prediction; the other waits for its own
    w.expire(now=105.0 + 2.0 + 60.0 + 1)
    assert not w.pending_labels


def test_a_changed_label_replaces_the_old_one():
    w = window()
    predict(w, ["a", "b"], at=1)
    label(w, ["a", "b"], [0, 0], at=2)
    label(w, ["a"], [1], at=3)
    label(w, ["a"], [1], at=4)
    assert labelled(w) == [0, 1]


def test_sorted_labelled_scores_match_the_batches_under_random_traffic():
    rng = np.random.default_rng(5)
    w = window(seconds=20)
    for step in range(40):
        ids = [f"r{x}" for x in rng.integers(0, 400, 40)]
        w.add_predictions([(prediction_batch(ids, np.ones((40, WIDTH)), rng.random(40).round(2)), float(step))])
        label(w, [f"r{x}" for x in rng.integers(0, 450, 30)], rng.integers(0, 2, 30).tolist(), at=float(step))
        w.expire(now=float(step))
        rows, scores, labels, _ = w._labelled_rows()
        got_labels, got_scores = w.labelled()
        assert sorted(zip(scores.tolist(), labels.tolist())) == sorted(zip(got_scores.tolist(), got_labels.tolist()))
        assert np.all(np.diff(got_scores) >= 0)


def test_a_missing_value_counts_for_its_feature_only_and_a_missing_score_skips_the_row():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, WIDTH))
    x[3, 0], x[7, 0], x[7, 1] = np.nan, np.inf, np.nan
    scores = rng.random(300)
    scores[11] = np.nan
    w = window()
    assert w.add_predictions([(prediction_batch([f"n{i}" for i in range(300)], x, scores), 1.0)]) == 299
    label(w, ["n3", "n4"], [1, 0], at=2)
    assert w.skipped_rows == 1 and labelled(w) == [0, 1]
    (ref_x, x_counts), (ref_y, y_counts) = w.column("x"), w.column("y")
    assert (x_counts.missing, x_counts.n, y_counts.missing, y_counts.n) == (2, 297, 1, 298)
    kept = np.delete(x[:, 1], [7, 11])  # y's values of the kept rows, without the missing one
    assert y_counts.bins.sum() == 298 and y_counts.total == pytest.approx(kept.sum())
    assert y_counts.slots.tolist() == ref_y.ks.counts(kept).tolist()
    w.expire(now=1.0 + 3601)
    assert (x_counts.missing, x_counts.n, x_counts.below, x_counts.above, x_counts.bins.sum()) == (0, 0, 0, 0, 0)


def test_values_outside_the_training_range_are_counted_by_side():
    ref_x, _ = window().column("x")
    low, high = PROFILE.ranges["x"]
    assert (ref_x.low, ref_x.high) == (low, high)
    w = window()
    x = np.column_stack([[low - 1, low, high, high + 1, high + 2, np.nan], np.zeros(6)])
    w.add_predictions([(prediction_batch(list("abcdef"), x, np.full(6, 0.5)), 1.0)])
    _, counts = w.column("x")
    assert (counts.below, counts.above, counts.missing, counts.n) == (1, 2, 1, 5)
    direct = ref_x.counts(x[:, 0])
    assert (direct.below, direct.above, direct.missing, direct.n) == (1, 2, 1, 5)


def test_score_counts_follow_the_window():
    w = window(seconds=1.0)
    predict(w, ["old-1", "old-2"], at=100.0, score=0.9)
    assert w.score_counts.counts.sum() == 2
    predict(w, ["new"], at=101.5, score=0.05)
    w.expire(now=101.5)
    counts = w.score_counts
    assert counts.counts.sum() == 1 and counts.counts.min() >= 0
    assert counts.mass.sum() == pytest.approx(float(counts.calibrator(np.array([np.float32(0.05)]))[0]))


def test_an_extreme_value_that_left_the_window_does_not_corrupt_its_mean_and_std():
    """amount=1e30 in an old batch: once it expires, mean and std are those of what is left (running sums gave a
    mean of -1.97 and a std of 0)."""
    from drift.snapshot import compute
    from contracts.policy import Policy

    rng = np.random.default_rng(6)
    w = window(seconds=100)
    extreme = rng.lognormal(3.6, 1, (5, WIDTH))
    extreme[0, 0] = 1e30
    w.add_predictions([(prediction_batch([f"e{i}" for i in range(5)], extreme, np.full(5, 0.1)), 0.0)])
    live = [rng.lognormal(3.6, 1, (300, WIDTH)) for _ in range(3)]
    for k, x in enumerate(live):
        w.add_predictions([(prediction_batch([f"l{k}-{i}" for i in range(300)], x, np.full(300, 0.1)), 50.0 + k)])
    w.expire(now=120.0)
    assert w.predictions == 900
    snap = compute(w, Policy(min_window_samples=10), 120.0)
    union = np.concatenate(live).astype(np.float32).astype(float)
    for i, name in enumerate(PROFILE.features):
        assert snap.features[name].current_mean == pytest.approx(union[:, i].mean(), rel=1e-9), name
        assert snap.features[name].current_std == pytest.approx(union[:, i].std(), rel=1e-9), name


def test_column_counts_do_not_depend_on_the_order_and_their_sum_of_squares_is_exact_to_rounding():
    """ColumnReference.counts sorts the values for its binary searches; the sum of squares is numpy's pairwise sum
    (a BLAS dot product's last bits depended on its thread count)."""
    import math

    from drift.counts import ColumnReference
    rng = np.random.default_rng(3)
    values = rng.lognormal(3.6, 1, 50_000).astype(np.float32).astype(float)
    values[::97] = np.nan
    reference = ColumnReference.of(PROFILE, PROFILE.features[0])
    a, b = reference.counts(values), reference.counts(rng.permutation(values))
    assert np.array_equal(a.bins, b.bins) and np.array_equal(a.slots, b.slots)
    assert (a.n, a.missing, a.below, a.above) == (b.n, b.missing, b.below, b.above)
    finite = values[np.isfinite(values)]
    assert a.total_sq == pytest.approx(math.fsum(finite * finite), rel=1e-15)
    assert a.total == pytest.approx(math.fsum(finite), rel=1e-15)
    direct = np.bincount(reference.bin_index(values), minlength=reference.n_bins + 1)
    assert np.array_equal(a.bins, direct[: reference.n_bins]) and a.missing == direct[-1]
    halves = reference.counts(values[:20_000])
    assert reference.counts(values[20_000:], into=halves) is halves  # a data set counted a batch at a time
    assert np.array_equal(halves.bins, a.bins) and np.array_equal(halves.slots, a.slots)
    assert (halves.n, halves.missing) == (a.n, a.missing) and halves.total_sq == pytest.approx(a.total_sq, rel=1e-14)
