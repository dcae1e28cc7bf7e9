"""A data set counted in parts and merged (`Tally.counted`/`Tally.merge`, what the Dask engine does) gives the counts
of one pass over all its rows: integers exactly, labelled rows in order, float sums to rounding."""
from __future__ import annotations

import numpy as np
import pytest

from drift.tally import Tally
from tests.unit.test_profiles import PROFILE, reference, traffic


def test_parts_merged_in_order_equal_one_pass():
    x, scores = traffic(30_000, shift=1.2)
    labels = np.where(np.random.default_rng(1).uniform(size=len(x)) < 0.3, (scores > 0.1).astype(float), np.nan)
    whole = Tally(PROFILE)
    whole.add(x, scores, labels)
    merged = Tally(PROFILE)
    for part in np.array_split(np.arange(len(x)), 4):
        tally = Tally(PROFILE, merged.references)  # the references built once, shared by every part
        tally.add(x[part], scores[part], labels[part])
        merged.merge(tally.counted())
    assert (merged.predictions, merged.predicted_positive, merged.skipped_rows) == \
           (whole.predictions, whole.predicted_positive, whole.skipped_rows) and whole.skipped_rows > 0
    for a, b in zip(merged.counts, whole.counts):
        assert np.array_equal(a.bins, b.bins) and np.array_equal(a.slots, b.slots)
        assert (a.n, a.missing, a.below, a.above) == (b.n, b.missing, b.below, b.above)
        assert a.total == pytest.approx(b.total, rel=1e-12) and a.total_sq == pytest.approx(b.total_sq, rel=1e-12)
    assert np.array_equal(merged.score_counts.counts, whole.score_counts.counts)
    assert np.allclose(merged.score_counts.mass, whole.score_counts.mass, rtol=1e-12, atol=0)
    for a, b in zip(merged.labelled(), whole.labelled()):
        assert np.array_equal(a, b) and len(a) > 0


def test_counts_of_another_profile_are_refused():
    other = reference(5_000)  # other training values: other KS slots
    with pytest.raises(ValueError, match="another reference profile"):
        Tally(PROFILE).merge(Tally(other).counted())
    with pytest.raises(ValueError, match="references of another profile"):
        Tally(PROFILE, Tally(PROFILE).references[:2])
