"""Loadgen logic (no Locust import) and the scenario shifts it sends."""
import numpy as np
import pytest

from loadgen.traffic import LOADGEN_SCENARIOS, Timeline, TransactionSource, users_for
from transactions import FEATURE_NAMES, LABEL, generate

N = 200_000


@pytest.fixture(scope="module")
def baseline():
    return generate(N, seed=100)


def test_baseline_matches_training_distribution(baseline):
    other = generate(N, seed=101)
    for f in FEATURE_NAMES:
        assert other[f].mean() == pytest.approx(baseline[f].mean(), rel=0.03, abs=0.01), f
    assert other[LABEL].mean() == pytest.approx(0.02, abs=0.002)


@pytest.mark.parametrize("scenario", ["covariate", "spec_drift"])
def test_covariate_shifts_amount_30_and_distance_50_percent(baseline, scenario):
    drifted = generate(N, seed=102, scenario=scenario)
    assert drifted.amount.mean() / baseline.amount.mean() == pytest.approx(1.3, abs=0.03)
    assert drifted.distance_from_home_km.mean() / baseline.distance_from_home_km.mean() == pytest.approx(1.5, abs=0.05)
    for f in set(FEATURE_NAMES) - {"amount", "distance_from_home_km"}:
        assert drifted[f].mean() == pytest.approx(baseline[f].mean(), rel=0.03, abs=0.01), f


def test_spec_drift_raises_fraud_to_five_percent():
    assert generate(N, seed=103, scenario="spec_drift")[LABEL].mean() == pytest.approx(0.05, abs=0.003)


def test_concept_changes_labels_not_inputs(baseline):
    concept = generate(N, seed=104, scenario="concept")
    for f in FEATURE_NAMES:
        assert concept[f].mean() == pytest.approx(baseline[f].mean(), rel=0.03, abs=0.01), f
    assert concept[LABEL].mean() == pytest.approx(0.05, abs=0.003)
    fraud = concept[concept[LABEL] == 1]
    assert fraud.ratio_to_median_purchase.median() < baseline[baseline[LABEL] == 1].ratio_to_median_purchase.median() / 2


def test_gradual_reaches_the_covariate_shift_at_the_end_of_the_ramp(baseline):
    half = generate(N, seed=105, scenario="gradual", ramp=0.5)
    assert half.amount.mean() / baseline.amount.mean() == pytest.approx(1.15, abs=0.03)


def test_demo_switches_to_the_spec_drift_after_drift_after():
    demo = Timeline("demo", drift_after=60)
    assert demo.at(59.9).name == "baseline"
    assert demo.at(60).name == "spec_drift"
    concept = Timeline("demo_concept", drift_after=60)  # the retraining demo: the fraud pattern changes
    assert (concept.at(59.9).name, concept.at(60).name) == ("baseline", "concept")


def test_gradual_timeline_ramps_in_steps():
    t = Timeline("gradual", ramp_seconds=100)
    assert t.at(0).amount_scale == 1.0
    assert t.at(50).amount_scale == pytest.approx(1.15)
    assert t.at(500).amount_scale == pytest.approx(1.3)


@pytest.mark.parametrize("name", LOADGEN_SCENARIOS)
def test_every_scenario_produces_valid_transactions(name):
    source = TransactionSource("run1", seed=1)
    timeline = Timeline(name, drift_after=0)
    txs = [source.next(timeline.at(10)) for _ in range(1500)]
    assert len({t.transaction_id for t in txs}) == 1500
    assert all(t.transaction_id.startswith("run1-") for t in txs)
    assert all(set(t.features) == set(FEATURE_NAMES) and t.label in (0, 1) for t in txs)


def test_users_for_rate():
    assert users_for(100) == 10 and users_for(10) == 1 and users_for(0.5) == 1 and users_for(105) == 11


def test_login_traffic_follows_its_scenarios():
    from loadgen.login_traffic import LoginSource, LoginTimeline
    from logins.schema import SCHEMA as LOGIN_SCHEMA

    timeline = LoginTimeline("demo", drift_after=10)
    assert timeline.at(9.9).name == "baseline" and timeline.at(10).name == "unseen_country"
    assert LoginTimeline("gradual", ramp_seconds=100).at(50).unseen_country_share == pytest.approx(0.05)
    source = LoginSource("run", seed=1)
    sent = [source.next(timeline.at(60)) for _ in range(3000)]
    assert len({s.transaction_id for s in sent}) == 3000
    assert np.mean([s.features["country"] == "VN" for s in sent]) == pytest.approx(0.10, abs=0.02)
    first = sent[0].body()["features"]
    assert isinstance(first["country"], str) and type(first["hour_of_day"]) is int and type(first["new_device"]) is int
    assert type(first["ip_risk_score"]) is float and all(LOGIN_SCHEMA[k].check(v) is None for k, v in first.items())
    mobile = [source.next(LoginTimeline("mobile_surge").at(0)).features["device_type"] == "mobile" for _ in range(3000)]
    assert np.mean(mobile) == pytest.approx(0.76, abs=0.03)  # the training share 0.38, doubled
