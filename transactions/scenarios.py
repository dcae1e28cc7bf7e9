"""Drift scenarios: the one definition of every shift that loadgen, tests and benchmarks use."""
from __future__ import annotations

from dataclasses import dataclass, replace

from transactions.schema import BASE_FRAUD_RATE


@dataclass(frozen=True)
class Scenario:
    """How traffic differs from the training distribution.

    `amount_scale` multiplies every amount (and the holders' medians, so the
    ratio feature stays put); `distance_scale` multiplies distance_from_home_km;
    `fraud_rate` is the target share of fraud; `fraud_pattern` picks which
    feature-fraud relation generates the labels ("training" or "card_testing").
    """

    name: str
    amount_scale: float = 1.0
    distance_scale: float = 1.0
    fraud_rate: float = BASE_FRAUD_RATE
    fraud_pattern: str = "training"

    def ramped(self, ramp: float) -> "Scenario":
        """This scenario's shifts scaled by `ramp` in [0, 1] (0 = baseline, 1 = full)."""
        r = min(max(ramp, 0.0), 1.0)
        return replace(
            self,
            amount_scale=1 + (self.amount_scale - 1) * r,
            distance_scale=1 + (self.distance_scale - 1) * r,
            fraud_rate=BASE_FRAUD_RATE + (self.fraud_rate - BASE_FRAUD_RATE) * r,
        )


BASELINE = Scenario("baseline")
COVARIATE = Scenario("covariate", amount_scale=1.3, distance_scale=1.5)
CONCEPT = Scenario("concept", fraud_rate=0.05, fraud_pattern="card_testing")
# The project brief's drift example: amount +30%, distance from home +50%, fraud 2% -> 5%.
SPEC_DRIFT = Scenario("spec_drift", amount_scale=1.3, distance_scale=1.5, fraud_rate=0.05)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (BASELINE, COVARIATE, CONCEPT, SPEC_DRIFT)}
SCENARIO_NAMES: tuple[str, ...] = ("baseline", "covariate", "concept", "gradual", "spec_drift")
ALIASES = {"spec_drift": "spec_drift"}  # the name before 2026-11-25


def get_scenario(name: str | Scenario, *, ramp: float = 1.0) -> Scenario:
    """Look a scenario up by name; `gradual` is the covariate shift scaled by `ramp`."""
    if isinstance(name, Scenario):
        return name
    if name == "gradual":
        return replace(COVARIATE.ramped(ramp), name="gradual")
    try:
        return SCENARIOS[ALIASES.get(name, name)]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIO_NAMES)}") from None
