"""The reference profile stays readable across versions: old profiles without estimation fields, newer with extra ones."""
import json

import numpy as np
import pytest

from contracts.reference_profile import ReferenceProfile
from exporter.estimation import ScoreCounts
from transactions.estimation import Calibrator, fit_isotonic, score_edges


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
