"""RowIndex joins labels to predictions: checked against a plain dict over random traffic with repeats and expiry."""
import doctest

import numpy as np

from drift import row_index
from drift.row_index import NOT_FOUND, RowIndex, id_hashes


def test_docstring_example():
    assert doctest.testmod(row_index).failed == 0


def test_matches_a_dict_of_newest_rows_under_random_adds_and_expiry():
    rng = np.random.default_rng(7)
    index, newest, next_row, first_live = RowIndex(), {}, 0, 0
    for step in range(400):
        ids = [f"t{x}" for x in rng.integers(0, 3000, rng.integers(0, 60))]
        index.add(id_hashes(ids), next_row)
        for i, tid in enumerate(ids):
            newest[tid] = next_row + i
        next_row += len(ids)
        if step % 7 == 0:
            first_live = max(first_live, next_row - int(rng.integers(200, 2000)))
            index.expire_before(first_live)
        probe = [f"t{x}" for x in rng.integers(0, 3500, 100)]
        want = [newest[t] if newest.get(t, -1) >= first_live else NOT_FOUND for t in probe]
        assert index.find(id_hashes(probe)).tolist() == want, step


def test_runs_stay_few_and_expired_rows_are_released():
    index = RowIndex()
    for k in range(1000):
        index.add(id_hashes(f"{k}-{i}" for i in range(100)), k * 100)
        index.expire_before(max(0, (k - 300) * 100))
    assert len(index.runs) <= 12
    assert len(index) <= 2 * 300 * 100


def test_empty_index_and_empty_queries():
    index = RowIndex()
    assert index.find(id_hashes(["a"])).tolist() == [NOT_FOUND]
    index.add(id_hashes([]), 0)
    assert index.find(id_hashes([])).tolist() == []


def test_labelled_scores_docstring_example():
    from drift import labelled
    assert doctest.testmod(labelled).failed == 0


def test_large_queries_are_answered_the_same_sorted_or_not(monkeypatch):
    rng = np.random.default_rng(3)
    keys = rng.integers(-2**62, 2**62, 5000)
    index = RowIndex()
    index.add(keys, 0)
    probe = np.concatenate([keys[rng.permutation(5000)[:3000]], rng.integers(-2**62, 2**62, 1000)])
    direct = index.find(probe)
    monkeypatch.setattr(row_index, "SORT_QUERIES_ABOVE", 100)
    assert index.find(probe).tolist() == direct.tolist()
    assert (direct[:3000] >= 0).all() and (direct[3000:] == NOT_FOUND).all()
