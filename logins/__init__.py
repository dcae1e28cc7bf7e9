"""The login-risk domain (account takeover): feature schema with kinds, synthetic logins, drift scenarios.

The second model's data, shaped like `transactions/` but with categorical features:

- `FEATURES` (tuple of `Feature`: name, description, kind, minimum/maximum or categories; `.range`, `.check(value)`,
  `.to_dict()`), `FEATURE_NAMES`, `FEATURES_BY_NAME`, `CATEGORICAL_FEATURES`, `KINDS`, `LABEL` ("is_takeover");
- `generate(n, *, seed, scenario="baseline", ramp=1.0)` -> DataFrame of the features and the 0/1 label;
- `get_scenario(name, *, ramp=1.0)`, `SCENARIO_NAMES`, `Scenario`, `UNSEEN_COUNTRY`.
"""
from logins.generator import generate
from logins.scenarios import SCENARIO_NAMES, UNSEEN_COUNTRY, Scenario, get_scenario
from logins.schema import (BASE_TAKEOVER_RATE, CATEGORICAL_FEATURES, FEATURE_NAMES, FEATURES, FEATURES_BY_NAME, KINDS,
                           LABEL, N_FEATURES, Feature)

__all__ = ["generate", "get_scenario", "Scenario", "SCENARIO_NAMES", "UNSEEN_COUNTRY", "Feature", "FEATURES",
           "FEATURE_NAMES", "FEATURES_BY_NAME", "CATEGORICAL_FEATURES", "KINDS", "LABEL", "N_FEATURES",
           "BASE_TAKEOVER_RATE"]
