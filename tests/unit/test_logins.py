"""The login-risk domain: schema kinds and ranges, seeded generation, and what each scenario changes."""
import math
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from logins import (CATEGORICAL_FEATURES, FEATURE_NAMES, FEATURES, FEATURES_BY_NAME, KINDS, LABEL, SCENARIO_NAMES,
                    UNSEEN_COUNTRY, Feature, generate, get_scenario)
from logins.schema import COUNTRIES, DEVICE_TYPES, LOGIN_CHANNELS

SCENARIOS = [name for name in SCENARIO_NAMES if name != "gradual"]
RISKY_COUNTRIES = ["BR", "IN", "MX"]


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return generate(200_000, seed=3)


@pytest.fixture(scope="module")
def stuffing() -> pd.DataFrame:
    return generate(200_000, seed=4, scenario="credential_stuffing")


def share(column: pd.Series, value: str) -> float:
    return float((column == value).mean())


def log_odds(labels: pd.Series) -> float:
    rate = labels.mean()
    return math.log(rate / (1 - rate))


def test_the_schema_declares_each_kind():
    kinds = {f.name: f.kind for f in FEATURES}
    assert kinds == {"country": "categorical", "device_type": "categorical", "login_channel": "categorical",
                     "hour_of_day": "discrete", "failed_attempts_24h": "discrete", "new_device": "binary",
                     "ip_risk_score": "numeric", "session_length_s": "numeric"}
    assert set(kinds.values()) == set(KINDS)
    assert CATEGORICAL_FEATURES == ("country", "device_type", "login_channel")
    assert len(COUNTRIES) == 12 and len(set(COUNTRIES)) == 12 and UNSEEN_COUNTRY not in COUNTRIES
    assert all(len(c) == 2 and c.isupper() for c in (*COUNTRIES, UNSEEN_COUNTRY))
    for f in FEATURES:
        if f.kind == "categorical":
            assert f.range is None and f.categories
        else:
            low, high = f.range
            assert math.isfinite(low) and math.isfinite(high) and low < high and not f.categories


def test_features_publish_as_the_model_catalogue_shape():
    assert FEATURES_BY_NAME["country"].to_dict() == {
        "name": "country", "kind": "categorical", "categories": list(COUNTRIES),
        "description": FEATURES_BY_NAME["country"].description}
    assert FEATURES_BY_NAME["hour_of_day"].to_dict()["range"] == [0.0, 23.0]
    assert FEATURES_BY_NAME["new_device"].to_dict()["range"] == [0.0, 1.0]
    assert FEATURES_BY_NAME["session_length_s"].to_dict()["range"] == [0.0, 86400.0]


@pytest.mark.parametrize("feature,value,reason", [
    ("hour_of_day", 7.5, "integer"),
    ("hour_of_day", 24, "<= 23"),
    ("failed_attempts_24h", -1, ">= 0"),
    ("failed_attempts_24h", 51, "<= 50"),
    ("new_device", 2, "0 or 1"),
    ("new_device", True, "number"),
    ("ip_risk_score", float("nan"), "finite"),
    ("ip_risk_score", 1.5, "<= 1"),
    ("session_length_s", "10", "number"),
    ("country", 3, "string"),
    ("country", "", "string"),
    ("country", "x" * 129, "string"),
])
def test_feature_check_explains_why(feature, value, reason):
    assert reason in FEATURES_BY_NAME[feature].check(value)


@pytest.mark.parametrize("feature,value", [
    ("country", "US"), ("country", UNSEEN_COUNTRY),  # never seen in training, still valid: counted as unseen
    ("hour_of_day", 23), ("hour_of_day", 5.0), ("hour_of_day", np.int64(0)), ("new_device", 1),
    ("ip_risk_score", 0.0), ("session_length_s", 86400.0),
])
def test_feature_check_accepts_valid_values(feature, value):
    assert FEATURES_BY_NAME[feature].check(value) is None


@pytest.mark.parametrize("kwargs,message", [
    ({"kind": "ordinal"}, "kind must be one of"),
    ({"kind": "categorical"}, "needs its training categories"),
    ({"kind": "numeric", "maximum": math.inf}, "finite range"),
    ({"kind": "discrete", "minimum": 5, "maximum": 5}, "finite range"),
    ({"kind": "binary", "maximum": 2}, "0 and 1"),
])
def test_an_inconsistent_feature_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Feature("f", "a feature", **kwargs)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_generate_is_seeded_and_has_the_schema(scenario):
    a, b = generate(2000, seed=7, scenario=scenario), generate(2000, seed=7, scenario=scenario)
    assert list(a.columns) == [*FEATURE_NAMES, LABEL]
    assert a.equals(b)
    assert not a.equals(generate(2000, seed=8, scenario=scenario))
    for f in FEATURES:
        expected = {"categorical": "category", "numeric": "float64"}.get(f.kind, "int64")
        assert a[f.name].dtype.name == expected, f.name
    assert a[LABEL].dtype.name == "int64" and set(a[LABEL].unique()) <= {0, 1}


def test_categories_keep_the_schema_order_so_codes_are_schema_indices():
    df = generate(5000, seed=1)
    assert df.country.cat.categories.tolist() == list(COUNTRIES)
    assert df.device_type.cat.categories.tolist() == list(DEVICE_TYPES)
    assert df.login_channel.cat.categories.tolist() == list(LOGIN_CHANNELS)
    assert (np.asarray(COUNTRIES)[df.country.cat.codes] == df.country.astype(str)).all()
    unseen = generate(5000, seed=1, scenario="unseen_country").country
    assert unseen.cat.categories.tolist() == [*COUNTRIES, UNSEEN_COUNTRY]
    assert (unseen.cat.codes[unseen == UNSEEN_COUNTRY] == len(COUNTRIES)).all()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_generated_values_respect_the_schema(scenario):
    df = generate(20_000, seed=1, scenario=scenario)
    for f in FEATURES:
        values = df[f.name].unique()
        assert all(f.check(v) is None for v in values), f.name
        if f.kind == "categorical":
            extra = {UNSEEN_COUNTRY} if (scenario == "unseen_country" and f.name == "country") else set()
            assert set(values) == set(f.categories) | extra, f.name  # every training category occurs
    assert df.failed_attempts_24h.max() <= 50 and df.session_length_s.max() <= 86400


def test_countries_are_skewed_like_a_real_customer_base(baseline):
    shares = baseline.country.value_counts(normalize=True)
    assert shares.index[0] == "US" and shares["US"] == pytest.approx(0.34, abs=0.01)
    assert shares.min() == pytest.approx(0.02, abs=0.005)


def test_base_takeover_rate_is_three_percent(baseline):
    assert baseline[LABEL].mean() == pytest.approx(0.03, abs=0.002)


def test_takeover_depends_on_several_features(baseline):
    taken, genuine = baseline[baseline[LABEL] == 1], baseline[baseline[LABEL] == 0]
    for name in ("new_device", "failed_attempts_24h", "ip_risk_score"):
        assert roc_auc_score(baseline[LABEL], baseline[name]) > 0.55, name
    assert roc_auc_score(baseline[LABEL], baseline.session_length_s) < 0.45  # short sessions are riskier
    assert share(taken.login_channel, "api") > 2 * share(genuine.login_channel, "api")
    assert taken.country.isin(RISKY_COUNTRIES).mean() > 1.5 * genuine.country.isin(RISKY_COUNTRIES).mean()
    score = baseline.new_device + np.log1p(baseline.failed_attempts_24h) + 3 * baseline.ip_risk_score
    assert roc_auc_score(baseline[LABEL], score) > 0.75


def new_device_log_odds_ratio(df: pd.DataFrame, countries: list[str]) -> float:
    rows = df[df.country.isin(countries)]
    return log_odds(rows[LABEL][rows.new_device == 1]) - log_odds(rows[LABEL][rows.new_device == 0])


def test_a_new_device_counts_more_from_a_risky_country(baseline):
    """Not additive in the log-odds: the label needs a model that learns interactions."""
    risky, home = new_device_log_odds_ratio(baseline, RISKY_COUNTRIES), new_device_log_odds_ratio(baseline, ["US"])
    assert risky - home > 0.8


def test_unseen_country_sends_ten_percent_of_logins_from_a_new_country():
    df = generate(50_000, seed=11, scenario="unseen_country")
    assert share(df.country, UNSEEN_COUNTRY) == pytest.approx(0.10, abs=0.01)
    seen = df.country[df.country != UNSEEN_COUNTRY].value_counts(normalize=True)
    assert seen["US"] == pytest.approx(0.34, abs=0.015)  # the other countries keep their mix
    assert share(generate(50_000, seed=11).country, UNSEEN_COUNTRY) == 0


def test_mobile_surge_doubles_the_mobile_share(baseline):
    surge = generate(200_000, seed=12, scenario="mobile_surge")
    before, after = share(baseline.device_type, "mobile"), share(surge.device_type, "mobile")
    assert after / before == pytest.approx(2.0, abs=0.05)
    ratio = share(surge.device_type, "desktop") / share(surge.device_type, "tablet")
    assert ratio == pytest.approx(share(baseline.device_type, "desktop") / share(baseline.device_type, "tablet"),
                                  rel=0.1)  # the other devices shrink in proportion
    assert share(surge.login_channel, "app") > 1.5 * share(baseline.login_channel, "app")


def test_credential_stuffing_raises_failed_attempts_and_takeovers(baseline, stuffing):
    assert stuffing.failed_attempts_24h.mean() > 4 * baseline.failed_attempts_24h.mean()
    assert share(stuffing.login_channel, "api") > 3 * share(baseline.login_channel, "api")
    assert stuffing[LABEL].mean() == pytest.approx(0.07, abs=0.004)


def test_credential_stuffing_changes_the_concept(baseline, stuffing):
    """The bot's takeovers come over the API on any device: the training pattern's interaction is gone."""
    taken, taken_before = stuffing[stuffing[LABEL] == 1], baseline[baseline[LABEL] == 1]
    assert share(taken.login_channel, "api") > 0.6 > share(taken_before.login_channel, "api")
    interaction = new_device_log_odds_ratio(stuffing, RISKY_COUNTRIES) - new_device_log_odds_ratio(stuffing, ["US"])
    assert abs(interaction) < 0.5


def test_covariate_scenarios_move_the_takeover_rate_naturally(baseline):
    """Without a concept change, the base intercept applies: more logins from a risky new country, more takeovers."""
    unseen = generate(200_000, seed=13, scenario="unseen_country")
    assert unseen[LABEL].mean() > baseline[LABEL].mean() + 0.002


def test_unknown_scenario_names_the_choices():
    with pytest.raises(ValueError, match="credential_stuffing"):
        get_scenario("nope")


def test_gradual_ramps_the_unseen_country_share():
    assert get_scenario("gradual", ramp=0).unseen_country_share == 0
    assert get_scenario("gradual", ramp=0.5).unseen_country_share == pytest.approx(0.05)
    assert get_scenario("gradual", ramp=2).unseen_country_share == pytest.approx(0.10)
    assert get_scenario("credential_stuffing").ramped(0.5).takeover_rate == pytest.approx(0.05)
    assert UNSEEN_COUNTRY not in generate(1000, seed=1, scenario="gradual", ramp=0).country.cat.categories


def test_a_million_logins_generate_quickly():
    """Printed, not asserted (speed is the benchmarks' business): about 0.3 s on the 2-core machine."""
    start = time.perf_counter()
    df = generate(1_000_000, seed=5)
    print(f"\ngenerate(1_000_000): {time.perf_counter() - start:.2f} s, {df.memory_usage(deep=True).sum() / 1e6:.0f} MB")
    assert len(df) == 1_000_000
