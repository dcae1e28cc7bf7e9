"""The monitoring config: which drift tests judge each feature, with which parameters, and where users' own tests live.

Defaults come from the policy (contracts/policy.py: TESTS_BY_KIND and each test's thresholds); a YAML file named by
MONITORING_CONFIG overrides them per feature, for every model or for one model:

    plugins: [my_company.drift_tests]          # modules imported at start: their @register'ed tests become usable
    tests_by_kind: {numeric: [psi, ks, wasserstein]}
    features:                                  # any model with a feature of that name
      amount: {tests: {psi: {threshold: 0.2}, ks: {}, mean_shift: {threshold: 0.1}}}
    models:
      login_risk:
        features:
          country: {tests: [psi, chi2, jensen_shannon]}

A feature's `tests` is a list of test names or a mapping of test name -> parameter overrides.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import yaml

from contracts.policy import TESTS_BY_KIND
from drift_client.schema import FeatureSpec

TestChoice = dict[str, dict[str, float]]  # test name -> parameter overrides


class ConfigError(ValueError):
    """The monitoring config cannot be used (the message names the offending entry)."""


@dataclass(frozen=True)
class MonitoringConfig:
    tests_by_kind: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(TESTS_BY_KIND))
    features: Mapping[str, Mapping] = field(default_factory=dict)
    models: Mapping[str, Mapping] = field(default_factory=dict)
    plugins: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping | None) -> "MonitoringConfig":
        data = dict(data or {})
        unknown = set(data) - {"plugins", "tests_by_kind", "features", "models"}
        if unknown:
            raise ConfigError(f"unknown key(s) in the monitoring config: {', '.join(sorted(unknown))}")
        by_kind = {**TESTS_BY_KIND, **{k: tuple(v) for k, v in (data.get("tests_by_kind") or {}).items()}}
        return cls(by_kind, data.get("features") or {}, data.get("models") or {}, tuple(data.get("plugins") or ()))

    @classmethod
    def load(cls, path: str | os.PathLike | None) -> "MonitoringConfig":
        if not path:
            return cls()
        try:
            return cls.from_mapping(yaml.safe_load(Path(path).read_text()))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"MONITORING_CONFIG {path}: {exc}") from None

    def import_plugins(self) -> None:
        """Import the modules holding users' own tests (their @register runs on import)."""
        for module in self.plugins:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                raise ConfigError(f"plugin module {module!r} cannot be imported: {exc}") from None

    def tests_for(self, model_name: str, spec: FeatureSpec) -> TestChoice:
        """The tests that judge this feature of this model, with their parameter overrides."""
        chosen = self.models.get(model_name, {}).get("features", {}).get(spec.name) or self.features.get(spec.name)
        tests = (chosen or {}).get("tests", self.tests_by_kind.get(spec.kind, ()))
        if isinstance(tests, Mapping):
            return {str(name): dict(params or {}) for name, params in tests.items()}
        return {str(name): {} for name in tests}
