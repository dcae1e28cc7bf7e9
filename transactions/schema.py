"""The model's 12 input features: names, meaning and valid ranges (docs/design.md)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from contracts.schema import FeatureSpec, ModelSchema


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    minimum: float = 0.0
    maximum: float = math.inf
    binary: bool = False
    kind: str = "numeric"  # contracts.schema.KINDS: how the monitoring bins and tests it

    def __post_init__(self) -> None:
        if self.binary:
            object.__setattr__(self, "kind", "binary")

    def check(self, value: float) -> str | None:
        """Return why `value` is invalid for this feature, or None when it is valid."""
        if not math.isfinite(value):
            return "must be a finite number"
        if self.binary and value not in (0, 1):
            return "must be 0 or 1"
        if value < self.minimum:
            return f"must be >= {self.minimum:g}"
        if value > self.maximum:
            return f"must be <= {self.maximum:g}"
        return None


FEATURES: tuple[Feature, ...] = (
    Feature("amount", "transaction amount, USD"),
    Feature("hour_of_day", "local hour", 0, 23, kind="discrete"),
    Feature("day_of_week", "0 = Monday", 0, 6, kind="discrete"),
    Feature("distance_from_home_km", "distance from the card holder's home"),
    Feature("distance_from_last_txn_km", "distance from the previous transaction"),
    Feature("ratio_to_median_purchase", "amount / holder's median amount"),
    Feature("merchant_risk_score", "merchant's historical risk", 0, 1),
    Feature("txn_count_1h", "holder's transactions in the last hour", kind="discrete"),
    Feature("txn_count_24h", "holder's transactions in the last 24 h", kind="discrete"),
    Feature("account_age_days", "age of the account"),
    Feature("is_online", "card-not-present", 0, 1, binary=True),
    Feature("used_chip", "chip used", 0, 1, binary=True),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURES_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}
N_FEATURES = len(FEATURES)
SCHEMA = ModelSchema(tuple(FeatureSpec(f.name, f.kind, (f.minimum, f.maximum), description=f.description) for f in FEATURES))
LABEL = "is_fraud"
BASE_FRAUD_RATE = 0.02
