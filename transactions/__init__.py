"""The domain: feature schema and validation ranges, synthetic transactions, drift scenarios."""
from transactions.generator import generate
from transactions.scenarios import SCENARIO_NAMES, Scenario, get_scenario
from transactions.schema import FEATURE_NAMES, FEATURES, LABEL, N_FEATURES

__all__ = ["generate", "get_scenario", "Scenario", "SCENARIO_NAMES", "FEATURES", "FEATURE_NAMES", "LABEL", "N_FEATURES"]
