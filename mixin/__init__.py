"""The monitoring mixin: tunables (config.yml), alerting and recording rules (rules.py) and dashboards
(dashboards.py) kept together; `python -m mixin` writes what Prometheus, Grafana and Kubernetes read:

    prometheus/rules/alerts.yml, prometheus/rules/recording.yml, grafana/dashboards/*.json, deploy/kubernetes/*.yaml
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from contracts.policy import Policy

ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = Path(__file__).resolve().parent / "config.yml"


@lru_cache(maxsize=1)
def config() -> dict:
    return yaml.safe_load(CONFIG_FILE.read_text())


def policy() -> Policy:
    """The monitoring policy the rules and dashboards are drawn with (contracts/policy.py's defaults)."""
    return Policy()
