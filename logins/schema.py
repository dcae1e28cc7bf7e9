"""The login-risk model's 8 input features: names, kinds, valid ranges and training categories.

Each feature has a `kind`, which says how it is validated and how drift is measured on it:

- `numeric`: continuous, within the finite [minimum, maximum];
- `discrete`: integers with few distinct values (hours, counts), within [minimum, maximum];
- `binary`: 0 or 1;
- `categorical`: strings; `categories` are the values seen in training. A value never seen in training is valid
  (a login from a new country is not an error): the monitoring counts it as unseen.

>>> FEATURES_BY_NAME["failed_attempts_24h"].kind, FEATURES_BY_NAME["failed_attempts_24h"].range
('discrete', (0.0, 50.0))
>>> FEATURES_BY_NAME["device_type"].to_dict()["categories"]
['desktop', 'mobile', 'tablet']
>>> FEATURES_BY_NAME["hour_of_day"].check(7.5)
'must be an integer'
>>> CATEGORICAL_FEATURES
('country', 'device_type', 'login_channel')
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from drift_client.schema import KINDS, FeatureSpec, ModelSchema


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    kind: str
    minimum: float = 0.0
    maximum: float = 1.0
    categories: tuple[str, ...] = ()  # categorical only: the values seen in training, in code order

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"feature {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind == "categorical" and not self.categories:
            raise ValueError(f"feature {self.name!r}: a categorical feature needs its training categories")
        if self.kind != "categorical" and not (math.isfinite(self.minimum) and math.isfinite(self.maximum)
                                               and self.minimum < self.maximum):
            raise ValueError(f"feature {self.name!r}: needs a finite range minimum < maximum")
        if self.kind == "binary" and (self.minimum, self.maximum) != (0, 1):
            raise ValueError(f"feature {self.name!r}: a binary feature ranges over 0 and 1")

    @property
    def range(self) -> tuple[float, float] | None:
        """The valid [low, high] of a numeric, discrete or binary feature; None for a categorical."""
        return None if self.kind == "categorical" else (float(self.minimum), float(self.maximum))

    @property
    def spec(self) -> FeatureSpec:
        """This feature as the declared-schema contract has it (drift_client.schema)."""
        return FeatureSpec(self.name, self.kind, self.range, self.categories, self.description)

    def check(self, value: Any) -> str | None:
        """Return why `value` is invalid for this feature, or None when it is valid."""
        return self.spec.check(value)

    def to_dict(self) -> dict:
        """The feature as the model catalogue publishes it: name, kind, range or categories, description."""
        return self.spec.to_dict()


# ISO 3166-1 alpha-2 codes of the countries logins came from in training, most frequent first.
COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "FR", "CA", "ES", "IT", "BR", "IN", "NL", "AU", "MX")
DEVICE_TYPES: tuple[str, ...] = ("desktop", "mobile", "tablet")
LOGIN_CHANNELS: tuple[str, ...] = ("web", "app", "api")
MAX_FAILED_ATTEMPTS = 50
MAX_SESSION_S = 86_400.0

FEATURES: tuple[Feature, ...] = (
    Feature("country", "country of the login's IP address (ISO 3166-1 alpha-2)", "categorical",
            categories=COUNTRIES),
    Feature("device_type", "kind of device", "categorical", categories=DEVICE_TYPES),
    Feature("login_channel", "web site, mobile app or API client", "categorical", categories=LOGIN_CHANNELS),
    Feature("hour_of_day", "the account's local hour", "discrete", 0, 23),
    Feature("failed_attempts_24h", "failed logins on the account in the last 24 h", "discrete",
            0, MAX_FAILED_ATTEMPTS),
    Feature("new_device", "device never seen on this account", "binary", 0, 1),
    Feature("ip_risk_score", "IP reputation: proxy, hosting, abuse reports", "numeric", 0, 1),
    Feature("session_length_s", "length of the session that follows the login, seconds", "numeric",
            0, MAX_SESSION_S),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURES_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.kind == "categorical")
N_FEATURES = len(FEATURES)
LABEL = "is_takeover"
BASE_TAKEOVER_RATE = 0.03

# The declared schema the model, its reference profile and the monitoring carry (drift_client.schema).
SCHEMA = ModelSchema(tuple(f.spec for f in FEATURES))
