import numpy as np
import pytest

from transactions import FEATURE_NAMES, FEATURES, LABEL, generate, get_scenario
from transactions.schema import FEATURES_BY_NAME


def test_generate_is_seeded_and_has_the_schema():
    a, b = generate(2000, seed=7), generate(2000, seed=7)
    assert list(a.columns) == [*FEATURE_NAMES, LABEL]
    assert a.equals(b)
    assert not a.equals(generate(2000, seed=8))


def test_generated_values_respect_the_validation_ranges():
    df = generate(20_000, seed=1)
    for f in FEATURES:
        assert all(f.check(v) is None for v in df[f.name].unique()), f.name


def test_base_fraud_rate_is_two_percent():
    assert generate(200_000, seed=3)[LABEL].mean() == pytest.approx(0.02, abs=0.002)


def test_fraud_depends_on_several_features():
    df = generate(100_000, seed=2)
    fraud, legit = df[df[LABEL] == 1], df[df[LABEL] == 0]
    for name in ("ratio_to_median_purchase", "merchant_risk_score", "txn_count_1h"):
        assert fraud[name].mean() > 1.3 * legit[name].mean(), name
    assert fraud.used_chip.mean() < legit.used_chip.mean()


@pytest.mark.parametrize("value,reason", [(float("nan"), "finite"), (-1, ">= 0"), (24, "<= 23"), (0.5, "0 or 1"),
                                          (3.5, "whole number")])
def test_feature_check_explains_why(value, reason):
    feature = FEATURES_BY_NAME["is_online" if reason == "0 or 1" else "hour_of_day"]
    assert reason in feature.check(value)


def test_unknown_scenario_names_the_choices():
    with pytest.raises(ValueError, match="baseline"):
        get_scenario("nope")


def test_gradual_ramps_between_baseline_and_covariate():
    assert get_scenario("gradual", ramp=0).amount_scale == 1
    assert get_scenario("gradual", ramp=0.5).amount_scale == pytest.approx(1.15)
    assert get_scenario("gradual", ramp=1).distance_scale == pytest.approx(1.5)
