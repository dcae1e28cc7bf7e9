"""Champion against challenger on the live window: which versions the versions document names, their labelled
predictions read back from Redis, and the comparison (drift/comparison.py) of the right design for the mode.

- shadow: both versions scored every transaction, so the comparison is paired, on the transactions both scored and
  whose label arrived;
- ab: each arm answered its own share of the traffic, so the comparison is unpaired, each on its own labelled rows.

The rows are re-read every cycle (ids, scores and labels of two versions over the window: about 0.4 s for 360,000
predictions), not kept incrementally like the drift window: the comparison exists only while a challenger does.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import redis

from contracts import model_versions
from drift_client.redis_layout import DEFAULT_PREFIX, Keys
from drift_client.tasks import BINARY
from drift.comparison import Comparison, PromotionRule, compare_paired, compare_unpaired, paired_rows
from exporter.labelled_traffic import LabelledTraffic, read_labelled_traffic


@dataclass(frozen=True)
class VersionComparison:
    model_name: str
    champion: str
    challenger: str
    mode: str
    ab_share: float
    comparison: Comparison
    challenger_wins: bool

    def to_dict(self) -> dict:
        return {"model_name": self.model_name, "champion": self.champion, "challenger": self.challenger,
                "mode": self.mode, "ab_share": self.ab_share, "challenger_wins": self.challenger_wins,
                **{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.comparison.to_dict().items()}}


def compare_traffic(champion: LabelledTraffic, challenger: LabelledTraffic, mode: str, level: float = 0.95) -> Comparison:
    """Paired on the common transactions (shadow) or unpaired (ab)."""
    if mode == "shadow":
        a, b = paired_rows(champion.ids, challenger.ids)
        return compare_paired(champion.labels[a], champion.scores[a], challenger.scores[b], level)
    return compare_unpaired(champion.labels, champion.scores, challenger.labels, challenger.scores, level)


def compare_versions(client: redis.Redis, state: model_versions.VersionsState, model_name: str, now: float,
                     hours: float, rule: PromotionRule, prefix: str = DEFAULT_PREFIX) -> VersionComparison | None:
    """The live comparison of the document's champion and challenger (None when there is no challenger or the mode is off)."""
    if state.challenger is None or state.mode == "off":
        return None
    if _task(client, model_name, state.champion, prefix) != BINARY:  # ROC AUC and DeLong: binary classifiers only
        return None
    read = lambda version: read_labelled_traffic(client, model_name, hours, now, None, prefix, [version])[0]  # noqa: E731
    comparison = compare_traffic(read(state.champion), read(state.challenger), state.mode)
    return VersionComparison(model_name, state.champion, state.challenger, state.mode, state.ab_share, comparison,
                             rule.challenger_wins(comparison))


def _task(client: redis.Redis, model_name: str, version: str, prefix: str) -> str:
    """The task a version's reference profile declares (drift_client.tasks; binary when it has none or is gone)."""
    raw = client.get(Keys(model_name, version, prefix).reference)
    try:
        return json.loads(raw).get("task", BINARY) if raw else BINARY
    except (ValueError, AttributeError):
        return BINARY


def models_with_versions(client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> dict[str, model_versions.VersionsState]:
    """Every model that has a versions document."""
    found = {}
    suffix = ":versions"
    for key in client.scan_iter(match=f"{prefix}:*{suffix}", count=100):
        text = key.decode() if isinstance(key, bytes) else key
        name = text[len(prefix) + 1:-len(suffix)]
        if ":" in name:
            continue
        state = model_versions.load(client, name, prefix)
        if state is not None:
            found[name] = state
    return found
