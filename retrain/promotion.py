"""Promotion and rollback of a model's versions, by command or automatically when the challenger wins.

The challenger wins when the exporter's rule holds on the live window (drift/comparison.py's PromotionRule:
enough labelled traffic, and the whole 95% interval of the ROC AUC difference above the required improvement).
A promotion keeps the old champion as `previous_champion`, so `python -m retrain rollback` is one command; both send
a notification (ModelPromoted, ModelRolledBack) through Alertmanager (retrain/notify.py).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import redis

from contracts import model_versions as versions
from drift_client.redis_layout import DEFAULT_PREFIX
from drift.comparison import PromotionRule
from exporter.version_comparison import VersionComparison, compare_versions, models_with_versions
from retrain import notify

log = logging.getLogger(__name__)


def current_comparison(client: redis.Redis, model_name: str, hours: float, rule: PromotionRule,
                       prefix: str = DEFAULT_PREFIX) -> VersionComparison | None:
    state = versions.load(client, model_name, prefix)
    if state is None:
        return None
    return compare_versions(client, state, model_name, time.time(), hours, rule, prefix)


def describe(result: VersionComparison) -> str:
    c = result.comparison
    return (f"ROC AUC {c.roc_auc_b:.4f} vs {c.roc_auc_a:.4f} (difference {c.roc_auc_difference:+.4f}, 95% CI "
            f"[{c.ci_lower:+.4f}, {c.ci_upper:+.4f}], DeLong p {c.p_value:.2g}; {c.n_b} and {c.n_a} labelled, "
            f"{result.mode}); average precision {c.average_precision_b:.4f} vs {c.average_precision_a:.4f}")


def promote(client: redis.Redis, model_name: str, reason: str = "by command", prefix: str = DEFAULT_PREFIX) -> versions.VersionsState:
    """The challenger becomes the champion (InvalidVersions when there is none)."""
    state = versions.update(client, model_name, lambda s: _require(s, model_name).promote(), prefix)
    notify.event("ModelPromoted", model_name, f"{model_name} {state.champion} promoted to champion {reason}",
                 f"previous champion {state.previous_champion} (one command rolls back: python -m retrain rollback "
                 f"--model {model_name})", model_version=state.champion)
    return state


def rollback(client: redis.Redis, model_name: str, prefix: str = DEFAULT_PREFIX) -> versions.VersionsState:
    before = versions.load(client, model_name, prefix)
    state = versions.update(client, model_name, lambda s: _require(s, model_name).rollback(), prefix)
    notify.event("ModelRolledBack", model_name, f"{model_name} rolled back to {state.champion}",
                 f"{before.champion if before else '?'} is no longer served (still available)", severity="warning",
                 model_version=state.champion)
    return state


def promote_if_wins(client: redis.Redis, model_name: str, hours: float, rule: PromotionRule,
                    prefix: str = DEFAULT_PREFIX) -> VersionComparison | None:
    """Promote when the challenger wins now; returns the comparison that decided (None: nothing to compare)."""
    result = current_comparison(client, model_name, hours, rule, prefix)
    if result is not None and result.challenger_wins:
        promote(client, model_name, f"automatically: {describe(result)}", prefix)
    return result


@dataclass
class WinStreak:
    """Since when each model's challenger has been winning without a break: automatic promotion waits until the win
    has held `hold_seconds` (PROMOTION_HOLD_SECONDS), so that one lucky window does not promote, and the exporter's
    `ml_model_comparison_challenger_wins` is 1 for a while before the challenger it describes becomes the champion.

    >>> streak = WinStreak(hold_seconds=10)
    >>> streak.ready("m", "v2", True, now=100), streak.ready("m", "v2", True, now=109), streak.ready("m", "v2", True, now=110)
    (False, False, True)
    >>> streak.ready("m", "v2", False, now=111), streak.ready("m", "v2", True, now=112)  # a break starts over
    (False, False)
    >>> WinStreak(hold_seconds=0).ready("m", "v2", True, now=5)
    True
    """

    hold_seconds: float = 0.0
    since: dict[tuple[str, str], float] = field(default_factory=dict)

    def ready(self, model_name: str, challenger: str, wins: bool, now: float) -> bool:
        key = (model_name, challenger)
        if not wins:
            self.since.pop(key, None)
            return False
        return now - self.since.setdefault(key, now) >= self.hold_seconds


def auto_promote_forever(client: redis.Redis, hours: float, rule: PromotionRule, interval: float, stop,
                         prefix: str = DEFAULT_PREFIX, hold_seconds: float = 0.0) -> None:
    """Check every model with a challenger every `interval` seconds until `stop` (a threading.Event) is set; promote
    one whose challenger has been winning for `hold_seconds`."""
    streak = WinStreak(hold_seconds)
    while not stop.is_set():
        try:
            for name in models_with_versions(client, prefix):
                result = current_comparison(client, name, hours, rule, prefix)
                if result is None:
                    continue
                if streak.ready(name, result.challenger, result.challenger_wins, time.monotonic()):
                    promote(client, name, f"automatically: {describe(result)}", prefix)
                    log.info("%s: promoted %s", name, describe(result))
                else:
                    log.info("%s: %s %s", name, "challenger wins, holding:" if result.challenger_wins
                             else "challenger not (yet) better:", describe(result))
        except (redis.RedisError, versions.InvalidVersions, RuntimeError) as exc:
            log.warning("auto-promotion check failed: %s", exc)
        stop.wait(interval)


def _require(state: versions.VersionsState | None, model_name: str) -> versions.VersionsState:
    if state is None:
        raise versions.InvalidVersions("model_name", f"{model_name} has no versions document")
    return state
