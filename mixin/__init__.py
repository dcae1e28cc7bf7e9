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


def task_board(task: str) -> str:
    """The key (links.dashboard_uids) of the board that shows a task's figures: binary models have Performance."""
    from drift_client.tasks import BINARY, TASKS
    if task not in TASKS:
        raise ValueError(f"task: must be one of {', '.join(TASKS)}, got {task!r}")
    return "performance" if task == BINARY else task
