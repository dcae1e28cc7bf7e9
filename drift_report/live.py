"""A model version's live window read from Redis as the exporter reads it: its `StreamReader` feeds its `Window`
with the version's published reference profile, so a report of the last H hours reproduces the exporter's figures
(and an alert) offline. A window that ends in the past (`--end`) drops the batches that arrived after it."""
from __future__ import annotations

import time

import redis

from drift_client import redis_layout as layout
from contracts.policy import Policy
from drift_client.reference_profile import ReferenceProfile
from drift.monitoring_config import MonitoringConfig
from exporter.reader import StreamReader
from drift.live_window import LiveWindow
from drift_report.core import DriftReport
from drift_report.errors import BadInput


class _Until:
    """The window as the reader sees it, minus the batches that arrived after `end` (a window in the past)."""

    def __init__(self, window: LiveWindow, end: float) -> None:
        self._window, self._end = window, end

    def __getattr__(self, name: str):
        return getattr(self._window, name)

    def add_predictions(self, arrived) -> int:
        return self._window.add_predictions([(b, t) for b, t in arrived if t <= self._end])

    def add_labels(self, arrived) -> None:
        self._window.add_labels([(b, t) for b, t in arrived if t <= self._end])


def versions(client: redis.Redis, model: str, prefix: str = layout.DEFAULT_PREFIX) -> list[str]:
    members = (m.decode() if isinstance(m, bytes) else m for m in client.smembers(layout.models_key(prefix)))
    return sorted(m.split("/", 1)[1] for m in members if m.startswith(model + "/"))


def live_report(client: redis.Redis, model: str, version: str | None, start: float, end: float, policy: Policy,
                config: MonitoringConfig | None = None, prefix: str = layout.DEFAULT_PREFIX) -> DriftReport:
    """The report of `model`'s window [start, end] (Unix seconds)."""
    known = versions(client, model, prefix)
    if version is None:
        if len(known) != 1:
            raise BadInput(f"model {model!r}: " + (f"several versions publish ({', '.join(known)}): pass --version"
                                                    if known else "no version publishes to this Redis"))
        version = known[0]
    keys = layout.Keys(model, version, prefix)
    raw = client.get(keys.reference)
    if raw is None:
        hint = f" (publishing: {', '.join(known)})" if known else ""
        raise BadInput(f"no reference profile for {model}/{version} in Redis{hint}")
    try:
        profile = ReferenceProfile.from_json(raw)
    except (ValueError, TypeError, KeyError) as exc:
        raise BadInput(f"the reference profile of {model}/{version} cannot be read: {exc}") from None
    window = LiveWindow(profile, end - start, policy.label_grace_seconds)
    reader = StreamReader(keys)
    reader.refresh(client, _Until(window, end), now=end)
    sources = {"redis": f"{model}/{version}", "window": f"{_utc(start)} – {_utc(end)}"}
    return DriftReport.from_window(window, policy, config=config, malformed_entries=reader.malformed, sources=sources)


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))
