"""Drift scenarios of the login traffic: the one definition that loadgen, tests and benchmarks use.

- `baseline`: the training distribution.
- `unseen_country`: 10% of logins come from a country never seen in training (UNSEEN_COUNTRY): categorical drift
  the monitoring must count in its unseen bucket.
- `mobile_surge`: the mobile share of device_type doubles (the other devices shrink in proportion; the login
  channel follows, since mobile logins mostly use the app).
- `credential_stuffing`: a quarter of logins are an automated attack (many failed attempts, mostly over the API,
  risky IPs) and takeovers follow a different pattern at 7%: covariate and concept drift together.
- `gradual`: the unseen-country shift scaled by `ramp` in [0, 1].

>>> get_scenario("mobile_surge").mobile_factor
2.0
>>> get_scenario("gradual", ramp=0.5).unseen_country_share
0.05
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from logins.schema import BASE_TAKEOVER_RATE

UNSEEN_COUNTRY = "VN"  # a real ISO code that is not among the training countries


@dataclass(frozen=True)
class Scenario:
    """How login traffic differs from the training distribution.

    `unseen_country_share` is the share of logins from UNSEEN_COUNTRY; `mobile_factor` multiplies the mobile share
    of device_type; `stuffing_share` is the share of logins that are a credential-stuffing attack; `takeover_rate`
    is the target share of takeovers; `takeover_pattern` picks which feature-takeover relation generates the labels
    ("training" or "credential_stuffing").
    """

    name: str
    unseen_country_share: float = 0.0
    mobile_factor: float = 1.0
    stuffing_share: float = 0.0
    takeover_rate: float = BASE_TAKEOVER_RATE
    takeover_pattern: str = "training"

    def ramped(self, ramp: float) -> "Scenario":
        """This scenario's shifts scaled by `ramp` in [0, 1] (0 = baseline, 1 = full)."""
        r = min(max(ramp, 0.0), 1.0)
        return replace(
            self,
            unseen_country_share=self.unseen_country_share * r,
            mobile_factor=1 + (self.mobile_factor - 1) * r,
            stuffing_share=self.stuffing_share * r,
            takeover_rate=BASE_TAKEOVER_RATE + (self.takeover_rate - BASE_TAKEOVER_RATE) * r,
        )


BASELINE = Scenario("baseline")
UNSEEN_COUNTRY_SCENARIO = Scenario("unseen_country", unseen_country_share=0.10)
MOBILE_SURGE = Scenario("mobile_surge", mobile_factor=2.0)
CREDENTIAL_STUFFING = Scenario("credential_stuffing", stuffing_share=0.25, takeover_rate=0.07,
                               takeover_pattern="credential_stuffing")

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (BASELINE, UNSEEN_COUNTRY_SCENARIO, MOBILE_SURGE,
                                                      CREDENTIAL_STUFFING)}
SCENARIO_NAMES: tuple[str, ...] = ("baseline", "unseen_country", "mobile_surge", "credential_stuffing", "gradual")


def get_scenario(name: str | Scenario, *, ramp: float = 1.0) -> Scenario:
    """Look a scenario up by name; `gradual` is the unseen-country shift scaled by `ramp`."""
    if isinstance(name, Scenario):
        return name
    if name == "gradual":
        return replace(UNSEEN_COUNTRY_SCENARIO.ramped(ramp), name="gradual")
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIO_NAMES)}") from None
