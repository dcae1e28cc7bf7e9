"""Retraining's data selection, pure: labels joined by transaction id, newest wins, time-ordered splits, balance."""
from __future__ import annotations

import numpy as np
import pytest

from drift_client.redis_layout import LabelBatch, PredictionBatch
from retrain.selection import NotEnoughData, SelectionPolicy, downsample_negatives, join, split_by_time


def predictions(ids, times, width=3, value=None):
    features = np.array([[value if value is not None else float(i)] * width for i in range(len(ids))], np.float32)
    return PredictionBatch(list(ids), np.array(times, float), features, np.full(len(ids), 0.5, np.float32))


def labels(ids, times, values):
    return LabelBatch(list(ids), np.array(times, float), np.array(values, np.uint8))


def test_only_labelled_predictions_are_kept_in_time_order():
    traffic = join([predictions(["b", "a", "c"], [20, 10, 30])], [labels(["a", "c", "zz"], [40, 41, 42], [1, 0, 1])])
    assert traffic.ids == ["a", "c"]  # b has no label; zz has no prediction
    assert traffic.labels.tolist() == [1, 0]
    assert traffic.times.tolist() == [10, 30]
    assert traffic.features.tolist() == [[1, 1, 1], [2, 2, 2]]


def test_a_transaction_scored_by_two_versions_is_kept_once_with_the_newest_label():
    champion = predictions(["t1", "t2"], [10, 11], value=7)
    challenger = predictions(["t1", "t2"], [10.001, 11.001], value=7)
    traffic = join([champion, challenger], [labels(["t1"], [50], [0]), labels(["t1"], [60], [1])])
    assert traffic.ids == ["t1"] and traffic.labels.tolist() == [1]


def test_nothing_labelled_gives_an_empty_set():
    traffic = join([predictions(["a"], [1])], [])
    assert len(traffic) == 0 and traffic.features.shape == (0, 3)


def make_traffic(n, positive_every, seed=0):
    rng = np.random.default_rng(seed)
    times = rng.permutation(n).astype(float)  # arrival order scrambled on purpose
    ids = [f"t{i}" for i in range(n)]
    batch = PredictionBatch(ids, times, rng.random((n, 2)).astype(np.float32), np.zeros(n, np.float32))
    y = (np.arange(n) % positive_every == 0).astype(np.uint8)
    return join([batch], [LabelBatch(ids, times + 1000, y)])


def test_splits_are_by_time_with_the_newest_rows_held_out():
    traffic = make_traffic(1000, 10)
    splits = split_by_time(traffic, SelectionPolicy(min_rows=100, min_positives=10))
    assert (len(splits.train), len(splits.validation), len(splits.test)) == (700, 150, 150)
    assert splits.train.times.max() < splits.validation.times.min()
    assert splits.validation.times.max() < splits.test.times.min()
    assert splits.test.times.max() == traffic.times.max()


def test_too_little_data_is_refused_with_a_reason():
    traffic = make_traffic(1000, 10)
    with pytest.raises(NotEnoughData, match="1000 labelled rows with 100 positives"):
        split_by_time(traffic, SelectionPolicy(min_rows=5000))
    with pytest.raises(NotEnoughData, match="positives"):
        split_by_time(make_traffic(1000, 400), SelectionPolicy(min_rows=100, min_positives=2))


def test_negatives_are_downsampled_in_training_only():
    traffic = make_traffic(2000, 20)
    splits = split_by_time(traffic, SelectionPolicy(min_rows=100, min_positives=10, negatives_per_positive=3))
    assert splits.train.positives == int((traffic.take(np.argsort(traffic.times)[:1400]).labels).sum())
    assert len(splits.train) == splits.train.positives * 4
    assert np.all(np.diff(splits.train.times) > 0)
    assert len(splits.validation) == 300 and len(splits.test) == 300  # untouched: production's fraud rate
    assert len(downsample_negatives(splits.train, 100, 0)) == len(splits.train)  # fewer negatives than asked
