"""The model's 12 input features: names, meaning and valid ranges (docs/design.md)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from drift_client.schema import FeatureSpec, ModelSchema


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    minimum: float = 0.0
    maximum: float = math.inf
    binary: bool = False
    integer: bool = False
    kind: str = "numeric"  # drift_client.schema.KINDS: how the monitoring bins and tests it

    def __post_init__(self) -> None:
        if self.binary:
            object.__setattr__(self, "kind", "binary")

    @property
    def integral(self) -> bool:
        """Whole numbers only (counts, calendar fields and the 0/1 flags)."""
        return self.integer or self.binary

    def check(self, value: float) -> str | None:
        """Return why `value` is invalid for this feature, or None when it is valid."""
        if not math.isfinite(value):
            return "must be a finite number"
        if self.binary and value not in (0, 1):
            return "must be 0 or 1"
        if self.integral and value != int(value):
            return "must be a whole number"
        if value < self.minimum:
            return f"must be >= {self.minimum:g}"
        if value > self.maximum:
            return f"must be <= {self.maximum:g}"
        return None


# Every range is finite so that one valid request cannot overflow float32 (the model's input) or swamp a
# window's statistics: the maxima are generous physical or business limits, far beyond the training data.
MAX_AMOUNT_USD = 1_000_000.0
MAX_DISTANCE_KM = 20_040.0  # half the Earth's circumference: no two points on Earth are farther apart
FEATURES: tuple[Feature, ...] = (
    Feature("amount", "transaction amount, USD", 0, MAX_AMOUNT_USD),
    Feature("hour_of_day", "local hour", 0, 23, integer=True, kind="discrete"),
    Feature("day_of_week", "0 = Monday", 0, 6, integer=True, kind="discrete"),
    Feature("distance_from_home_km", "distance from the card holder's home", 0, MAX_DISTANCE_KM),
    Feature("distance_from_last_txn_km", "distance from the previous transaction", 0, MAX_DISTANCE_KM),
    Feature("ratio_to_median_purchase", "amount / holder's median amount", 0, 100_000),
    Feature("merchant_risk_score", "merchant's historical risk", 0, 1),
    Feature("txn_count_1h", "holder's transactions in the last hour", 0, 3_600, integer=True, kind="discrete"),
    Feature("txn_count_24h", "holder's transactions in the last 24 h", 0, 86_400, integer=True, kind="discrete"),
    Feature("account_age_days", "age of the account", 0, 36_525, integer=True),
    Feature("is_online", "card-not-present", 0, 1, binary=True),
    Feature("used_chip", "chip used", 0, 1, binary=True),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURES_BY_NAME: dict[str, Feature] = {f.name: f for f in FEATURES}
N_FEATURES = len(FEATURES)
SCHEMA = ModelSchema(tuple(FeatureSpec(f.name, f.kind, (f.minimum, f.maximum), description=f.description) for f in FEATURES))
LABEL = "is_fraud"
BASE_FRAUD_RATE = 0.02
