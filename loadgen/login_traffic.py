"""The login model's traffic: scenario timeline and pre-generated logins (no Locust import here).

Every shift comes from `logins.scenarios`; `demo` is baseline for `drift_after` seconds, then `unseen_country`.
Logins are sent as a client would: categoricals as strings, counts and flags as JSON integers.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from logins import LABEL, get_scenario
from logins.generator import generate_columns
from logins.scenarios import Scenario
from logins.schema import SCHEMA

MODEL_NAME = "login_risk"
LOGIN_SCENARIOS = ("baseline", "unseen_country", "mobile_surge", "credential_stuffing", "gradual", "demo")
DEMO_DRIFT = "unseen_country"
BLOCK = 1000
PREDICT_PATH = f"/api/v1/models/{MODEL_NAME}/predict"
BATCH_PATH = f"/api/v1/models/{MODEL_NAME}/predict_batch"
FEEDBACK_PATH = f"/api/v1/models/{MODEL_NAME}/feedback"


@dataclass(frozen=True)
class LoginTimeline:
    """Which login scenario is live `elapsed` seconds into the run."""

    scenario: str = "baseline"
    drift_after: float = 60.0
    ramp_seconds: float = 300.0

    def at(self, elapsed: float) -> Scenario:
        if self.scenario == "demo":
            return get_scenario(DEMO_DRIFT if elapsed >= self.drift_after else "baseline")
        if self.scenario == "gradual":
            steps = 1.0 if self.ramp_seconds <= 0 else min(1.0, math.floor(20 * elapsed / self.ramp_seconds) / 20)
            return get_scenario("gradual", ramp=steps)
        return get_scenario(self.scenario)


@dataclass
class Login:
    transaction_id: str
    features: dict
    label: int

    def body(self) -> dict:
        return {"transaction_id": self.transaction_id, "features": self.features}


def _json_value(kind: str, value) -> str | int | float:
    if kind == "categorical":
        return str(value)
    return int(value) if kind in ("discrete", "binary") else float(value)


class LoginSource:
    """Hands out logins of the live scenario, generated `BLOCK` rows at a time; ids are unique per run."""

    def __init__(self, run_id: str, seed: int = 0) -> None:
        self.run_id = run_id
        self.seed = seed
        self._blocks: dict[Scenario, list[Login]] = {}
        self._sequence = itertools.count()

    def next(self, scenario: Scenario) -> Login:
        if not self._blocks.get(scenario):
            columns = generate_columns(BLOCK, seed=self.seed * 1_000_003 + next(self._sequence), scenario=scenario)
            kinds = [(f.name, f.kind) for f in SCHEMA.features]
            self._blocks[scenario] = [
                Login("", {name: _json_value(kind, columns[name][i]) for name, kind in kinds}, int(columns[LABEL][i]))
                for i in range(BLOCK)
            ][::-1]
        login = self._blocks[scenario].pop()
        login.transaction_id = f"{self.run_id}-l{next(self._sequence)}"
        return login
