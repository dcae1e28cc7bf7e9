"""The reference profile stays readable across versions: old profiles without estimation fields, newer with extra ones."""
import json

import numpy as np
import pytest

from drift_client.reference_profile import ReferenceProfile
from drift.score_counts import ScoreCounts
from drift.estimation import Calibrator, fit_isotonic, score_edges


def profile() -> ReferenceProfile:
    rng = np.random.default_rng(0)
    train = rng.normal(size=(500, 2))
    scores = rng.beta(0.5, 10, 500)
    return ReferenceProfile.build(model_name="m", model_version="v", trained_at="t", features=["a", "b"],
                                  metrics={"roc_auc": 0.9}, train=train, scores=scores, labels=(scores > 0.2).astype(int),
                                  importance={"a": 0.5, "b": 0.5}, sample_size=200)


def test_round_trip_keeps_bins_and_calibrator():
    p = profile()
    p.score_edges = score_edges(np.asarray(p.sample["score"]), 0.2).tolist()
    p.calibrator = fit_isotonic(np.linspace(0, 1, 50), np.r_[np.zeros(40), np.ones(10)]).to_dict()
    back = ReferenceProfile.from_json(p.to_json())
    assert back.score_edges == p.score_edges and Calibrator.from_dict(back.calibrator) == Calibrator.from_dict(p.calibrator)


def test_an_old_profile_loads_and_estimates_with_raw_scores():
    data = json.loads(profile().to_json())
    del data["score_edges"], data["calibrator"]
    old = ReferenceProfile.from_json(json.dumps(data))
    counts = ScoreCounts(old)
    assert counts.calibrator == Calibrator() and len(counts.edges) > 100
    counts.add(np.array([0.01, 0.5], np.float32))
    assert counts.mass.sum() == pytest.approx(0.51, abs=1e-7)


def test_unknown_fields_from_a_newer_trainer_are_ignored():
    data = json.loads(profile().to_json())
    data["something_new"] = {"x": 1}
    assert ReferenceProfile.from_json(json.dumps(data)).model_name == "m"


def _mixed_training(rng: np.random.Generator) -> tuple[np.ndarray, "ModelSchema"]:
    from drift_client.schema import FeatureSpec, ModelSchema
    n = 20_000
    train = np.column_stack([
        rng.lognormal(3.6, 1, n).round(2),  # numeric with ties
        rng.poisson(3, n),  # discrete
        rng.random(n) < 0.3,  # binary
        rng.choice(4, n, p=[0.5, 0.3, 0.15, 0.05]),  # categorical codes
        rng.integers(0, 500, n),  # integers with more than 64 values: quantile bins
    ]).astype(float)
    train[rng.random(n) < 0.01, 0] = np.nan
    schema = ModelSchema((FeatureSpec("x", "numeric"), FeatureSpec("k", "discrete"), FeatureSpec("b", "binary"),
                          FeatureSpec("c", "categorical", categories=("p", "q", "r", "s")), FeatureSpec("w", "discrete")))
    return train, schema


@pytest.mark.parametrize("seed", range(3))
def test_bins_of_sorted_values_equal_those_of_the_unsorted_values(seed):
    """build sorts each column once and counts bins by binary search on it: the same edges, shares and counts."""
    from drift_client.reference_profile import Bins
    train, schema = _mixed_training(np.random.default_rng(seed))
    for j, spec in enumerate(schema.features):
        col = train[:, j][np.isfinite(train[:, j])]
        assert Bins.for_feature(np.sort(col), spec) == Bins.for_feature(col, spec), spec.name
    edges = np.array([1.0, 2.0, 2.0, 5.0])  # a repeated edge: the bin between its copies stays empty
    values = np.array([0.0, 1.0, 1.0, 2.0, 3.0, 5.0, 7.0])
    assert Bins.with_edges(edges, values) == Bins.with_edges(edges, values[::-1])
    assert Bins.with_edges(edges, values).proportions == pytest.approx([1 / 7, 2 / 7, 0, 2 / 7, 2 / 7])


def test_a_profile_built_with_arrays_has_the_same_figures_and_json():
    train, schema = _mixed_training(np.random.default_rng(7))
    scores = np.random.default_rng(8).beta(0.5, 10, len(train))
    common = dict(model_name="m", model_version="v", trained_at="t", features=list(schema.names), metrics={},
                  train=train, scores=scores, labels=None, importance={f: 0.2 for f in schema.names}, schema=schema)
    listed, arrays = ReferenceProfile.build(**common), ReferenceProfile.build(**common, arrays=True)
    assert isinstance(arrays.sample["x"], np.ndarray) and isinstance(listed.sample["x"], list)
    assert arrays.to_json() == listed.to_json()
    assert {k: v.tolist() for k, v in arrays.sample.items()} == listed.sample
    assert (arrays.bins, arrays.means, arrays.stds, arrays.ranges, arrays.missing) == \
        (listed.bins, listed.means, listed.stds, listed.ranges, listed.missing)
