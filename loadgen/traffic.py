"""What to send and when: scenario timelines and pre-generated transactions (no Locust import here).

Every shift comes from `transactions.scenarios`; this module only decides which scenario
applies at a given moment of the run and hands out rows generated in blocks.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from transactions import FEATURE_NAMES, LABEL, Scenario, get_scenario
from transactions.generator import generate_columns

LOADGEN_SCENARIOS = ("baseline", "covariate", "concept", "gradual", "spec_drift", "demo", "demo_concept")
# demo: baseline, then the spec's drift after --drift-after; demo_concept: baseline, then concept drift (the retraining demo)
DEMO_DRIFTS = {"demo": "spec_drift", "demo_concept": "concept"}
BLOCK = 1000


@dataclass(frozen=True)
class Timeline:
    """Which scenario is live `elapsed` seconds into the run."""

    scenario: str = "baseline"
    drift_after: float = 60.0
    ramp_seconds: float = 300.0

    def at(self, elapsed: float) -> Scenario:
        if self.scenario in DEMO_DRIFTS:
            return get_scenario(DEMO_DRIFTS[self.scenario] if elapsed >= self.drift_after else "baseline")
        if self.scenario == "gradual":
            return get_scenario("gradual", ramp=self.ramp(elapsed))
        return get_scenario(self.scenario)

    def ramp(self, elapsed: float) -> float:
        """Gradual drift in 20 steps from 0 to 1 over `ramp_seconds` (steps keep row blocks reusable)."""
        if self.ramp_seconds <= 0:
            return 1.0
        return min(1.0, math.floor(20 * elapsed / self.ramp_seconds) / 20)


@dataclass
class Transaction:
    transaction_id: str
    features: dict[str, float]
    label: int

    def body(self) -> dict:
        return {"transaction_id": self.transaction_id, "features": self.features}


class TransactionSource:
    """Hands out transactions of the live scenario, generated `BLOCK` rows at a time; ids are unique per run."""

    def __init__(self, run_id: str, seed: int = 0) -> None:
        self.run_id = run_id
        self.seed = seed
        self._blocks: dict[Scenario, list[dict]] = {}
        self._positions: dict[Scenario, int] = {}
        self._sequence = itertools.count()

    def next(self, scenario: Scenario) -> Transaction:
        rows = self._rows(scenario)
        position = self._positions[scenario]
        self._positions[scenario] = position + 1
        if position + 1 >= len(rows):
            del self._blocks[scenario]
        row = rows[position]
        label = int(row.pop(LABEL))
        return Transaction(f"{self.run_id}-{next(self._sequence)}", row, label)

    def _rows(self, scenario: Scenario) -> list[dict]:
        if scenario not in self._blocks:
            block_seed = self.seed * 1_000_003 + next(self._sequence)
            columns = generate_columns(BLOCK, seed=block_seed, scenario=scenario)  # no pandas in Locust's process
            values = np.column_stack([np.asarray(columns[name], np.float64) for name in (*FEATURE_NAMES, LABEL)])
            self._blocks[scenario] = [dict(zip([*FEATURE_NAMES, LABEL], map(float, r))) for r in values]
            self._positions[scenario] = 0
        return self._blocks[scenario]


def users_for(rps: float, per_user: float = 10.0) -> int:
    """How many paced users give `rps` requests per second (each at most `per_user` per second)."""
    return max(1, math.ceil(rps / per_user))
