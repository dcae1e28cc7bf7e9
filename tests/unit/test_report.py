"""The offline report's API on small frames: the exporter's figures by construction, schema inference,
categoricals with unseen values, no-score and labelled cases, JSON and HTML."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from contracts.policy import Policy
from drift_client.reference_profile import ReferenceProfile
from drift_client.schema import UNSEEN
from drift.snapshot import compute
from drift.live_window import LiveWindow
from drift_report import BadInput, DriftReport, infer_schema
from drift_report.core import profile_of
from tests.helpers import prediction_batch, same_figures


def frames(n: int = 3000, shift: float = 0.0, seed: int = 0, unseen: float = 0.0):
    rng = np.random.default_rng(seed)
    country = rng.choice(["DE", "FR", "IT"], n, p=[0.5, 0.3, 0.2]).astype(object)
    country[rng.random(n) < unseen] = "XX"
    return pd.DataFrame({
        "amount": rng.lognormal(3 + shift, 1, n),
        "hour": rng.integers(0, 24, n),
        "online": (rng.random(n) < 0.3).astype(int),
        "country": country,
    })


def test_inferred_kinds_and_categories_by_frequency():
    schema = infer_schema(frames())
    assert [(f.name, f.kind) for f in schema.features] == [
        ("amount", "numeric"), ("hour", "discrete"), ("online", "binary"), ("country", "categorical")]
    assert schema["country"].categories == ("DE", "FR", "IT")


def test_integral_floats_with_many_values_stay_numeric():
    frame = pd.DataFrame({"age_days": np.arange(1000, dtype=float), "flag": [True, False] * 500})
    assert [f.kind for f in infer_schema(frame).features] == ["numeric", "binary"]


def test_too_many_categories_is_refused_with_the_column_name():
    frame = pd.DataFrame({"user_id": [f"u{i}" for i in range(2000)]})
    with pytest.raises(BadInput, match=r"'user_id' has 2,000 distinct values.*at most 1,000"):
        infer_schema(frame)


def test_stationary_data_flags_nothing_and_shift_flags_the_shifted_feature():
    assert not DriftReport.compare(frames(seed=0), frames(seed=1)).drift_found
    report = DriftReport.compare(frames(seed=0), frames(seed=1, shift=0.3))
    assert report.drifted_features() == ["amount"]
    assert report.snapshot.features["amount"].attribution == pytest.approx(1.0)


def test_unseen_categories_are_counted_and_flag_the_feature():
    report = DriftReport.compare(frames(seed=0), frames(seed=1, unseen=0.1))
    country = report.snapshot.features["country"]
    assert country.drifted and "chi2" in [t for t, r in country.tests.items() if r.drifted]
    assert country.unseen_ratio == pytest.approx(0.1, abs=0.02)
    d = report.distributions["country"]
    assert d.labels == ["DE", "FR", "IT", UNSEEN]
    assert d.reference[-1] == 0 and d.current[-1] == pytest.approx(country.unseen_ratio)


def test_figures_equal_the_exporters_window_on_the_same_rows():
    """The same rows through the exporter's LiveWindow and snapshot.compute give the same figures."""
    ref, cur = frames(seed=0), frames(seed=1, shift=0.2, unseen=0.05)
    rng = np.random.default_rng(3)
    ref["score"], cur["score"] = rng.beta(1, 8, len(ref)), rng.beta(1.3, 8, len(cur))
    profile = profile_of(ref, score="score")
    report = DriftReport.from_profile(profile, cur, score="score")
    window = LiveWindow(profile, window_seconds=3600, label_grace_seconds=60)
    features = profile.model_schema.encode_frame(cur)
    window.add_predictions([(prediction_batch([str(i) for i in range(len(cur))], features, cur["score"]), 100.0)])
    expected = compute(window, Policy(), now=report.snapshot.computed_at).as_dict()
    got = report.to_dict()
    assert same_figures(got, expected)
    assert got["features"]["country"]["drifted"] and got["prediction_drift"]


def test_same_figures_can_fail():
    assert not same_figures({"features": {"x": {"psi": 0.1}}}, {"features": {"x": {"psi": 0.1000001}}})
    assert not same_figures({"features": {"x": {"drifted": True}}}, {"features": {"x": {"drifted": False}}})


def test_ks_matches_scipy_against_the_reference_sample():
    ref, cur = frames(seed=0), frames(seed=1, shift=0.1)
    profile = profile_of(ref)
    report = DriftReport.from_profile(profile, cur)
    d, p = stats.ks_2samp(np.asarray(profile.sample["amount"]), cur["amount"].to_numpy(np.float32).astype(float), method="asymp")
    ks = report.snapshot.features["amount"].tests["ks"]
    assert ks.statistic == pytest.approx(d) and ks.pvalue == pytest.approx(p, rel=1e-6)


def test_without_scores_there_is_no_prediction_drift():
    report = DriftReport.compare(frames(seed=0), frames(seed=1))
    assert report.snapshot.prediction_drift == {} and "score" not in report.distributions


def test_labels_give_performance_equal_to_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    ref, cur = frames(seed=0), frames(seed=1)
    for f in (ref, cur):
        f["label"] = (rng.random(len(f)) < 0.1).astype(int)
        f["score"] = np.clip(0.1 + 0.5 * f["label"] * rng.random(len(f)) + 0.3 * rng.random(len(f)), 0, 1)
    report = DriftReport.compare(ref, cur, score="score", label="label", threshold=0.4)
    perf = report.snapshot.performance
    y, s = cur["label"].to_numpy(), cur["score"].to_numpy(np.float32)
    assert perf["roc_auc"] == pytest.approx(sk.roc_auc_score(y, s))
    assert perf["f1"] == pytest.approx(sk.f1_score(y, s >= 0.4))
    assert report.snapshot.reference_performance["roc_auc"] == pytest.approx(sk.roc_auc_score(ref["label"], ref["score"]))


def test_a_missing_value_counts_for_its_feature_only():
    cur = frames(seed=1)
    cur.loc[:9, "amount"] = np.nan
    report = DriftReport.compare(frames(seed=0), cur)
    assert report.snapshot.skipped_rows == 0 and report.snapshot.predictions == len(cur)
    assert report.snapshot.features["amount"].missing_ratio == pytest.approx(10 / len(cur))
    assert report.snapshot.features["hour"].missing_ratio == 0


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns="hour"), "current: missing column 'hour'"),
    (lambda f: f.assign(extra=1.0), "current: unexpected column 'extra'"),
    (lambda f: f.assign(amount="lots"), "current: column 'amount' should hold numbers"),
])
def test_bad_current_frames_are_refused_by_name(change, message):
    with pytest.raises(BadInput, match=message):
        DriftReport.compare(frames(seed=0), change(frames(seed=1)))


def test_too_few_rows_are_not_judged():
    report = DriftReport.compare(frames(seed=0), frames(n=50, seed=1))
    assert not report.judged and report.snapshot.features == {}
    assert "Not judged" in report.to_html()


def test_from_a_models_profile_judges_its_scores(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.normal(size=(2000, 2))
    profile = ReferenceProfile.build(model_name="m", model_version="7", trained_at="", features=["x", "y"], metrics={},
                                     train=train, scores=rng.uniform(size=2000), labels=np.zeros(2000), importance={"x": 1, "y": 1})
    cur = pd.DataFrame({"x": rng.normal(size=1000), "y": rng.normal(size=1000), "score": rng.uniform(0.5, 1, 1000)})
    report = DriftReport.from_profile(profile, cur)
    assert report.snapshot.prediction_drift["drifted"] and report.snapshot.model_version == "7"


def test_json_is_strict_and_html_is_self_contained(tmp_path):
    report = DriftReport.compare(frames(seed=0), frames(seed=1, unseen=0.1))
    data = json.loads(report.to_json())  # no NaN tokens
    assert data["drifted_features"] == ["country"] and data["distributions"]["country"]["labels"][-1] == UNSEEN
    page = report.to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text() == page
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "default-src 'none'" in page
    assert page.index("country") < page.index("amount")  # flagged first
    assert "<svg" in report._repr_html_() and "<html" not in report._repr_html_()


def test_bin_labels_read_as_values_and_ranges():
    report = DriftReport.compare(frames(seed=0), frames(seed=1))
    assert report.distributions["online"].labels == ["0", "1"]
    assert report.distributions["hour"].labels[:3] == ["0", "1", "2"] and report.distributions["hour"].labels[-1] == "≥ 23"
    amount = report.distributions["amount"].labels
    assert amount[0].startswith("< ") and amount[-1].startswith("≥ ") and len(amount) == 10
    assert math.isclose(sum(report.distributions["amount"].reference), 1.0)
