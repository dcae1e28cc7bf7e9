"""Several windows judged at every refresh (policy.spans, default 5 min, 1 h, 24 h), each merged from the model
version's per-minute profiles (drift.profiles), so a 24 h window costs a sum of 1,440 minutes, not a re-read.

The Bonferroni correction counts the windows as well as the tests (ModelDetectors(windows=...)): judging three
windows is three times as many chances of a false flag. Each window's snapshot says, per feature, whether the drift
rule flags it (`drifted`: significant *and* the effect at its floor) and whether it is `significant` alone; the alert
rules pair a short window's flag with a long window's significance as multiwindow burn-rate alerts do
(docs/design.md, "Several windows").
"""
from __future__ import annotations

import redis

from drift_client import redis_layout as layout
from contracts.policy import Policy
from drift_client.reference_profile import ReferenceProfile
from drift.detectors import ModelDetectors
from drift.monitoring_config import MonitoringConfig
from exporter.profile_store import MinuteCache, ProfileWriter, minute_range, period_minutes, read_minutes
from drift.profiles import MINUTE, ProfileLayout
from drift.snapshot import ModelSnapshot, compute


class Spans:
    """The judged windows of one model version: writes its minute profiles, keeps the longest window's in memory."""

    def __init__(self, keys: layout.Keys, profile: ReferenceProfile, policy: Policy,
                 monitoring: MonitoringConfig | None = None, token: str | None = None) -> None:
        self.keys = keys
        self.policy = policy
        self.seconds = policy.span_seconds
        self.layout = ProfileLayout(profile)
        self.detectors = ModelDetectors(profile.model_name, profile.model_schema, policy, monitoring, windows=len(self.seconds))
        self.one_window = ModelDetectors(profile.model_name, profile.model_schema, policy, monitoring)
        self.writer = ProfileWriter(keys, self.layout, policy.profile_retention_seconds, policy.sample_retention_seconds,
                                    token)  # the lease's token: profile writes are fenced (exporter.leases)
        self.cache = MinuteCache(keys, self.layout, keep_minutes=max(self.seconds.values()) // MINUTE)

    def refresh(self, client: redis.Redis, now: float) -> None:
        """Profile what is new in the stream, then make sure every minute of the longest window is in memory."""
        self.cache.update(self.writer.refresh(client, now))
        self.cache.load(client, *minute_range(now, max(self.seconds.values())))

    def snapshots(self, now: float, last_refused: float = -float("inf")) -> dict[str, ModelSnapshot]:
        """One snapshot per judged window, by name ("5m", "1h", ...).

        `last_refused`: when a batch was last refused for its schema (exporter.reader): a window that holds that
        moment is not judged, as the live window is not (its minutes would mix the two publishers' samples)."""
        result = {}
        for name, seconds in self.seconds.items():
            merged = self.cache.merged(*minute_range(now, seconds))
            refused = "schema_mismatch" if last_refused >= now - seconds else ""
            result[name] = compute(self.layout.window(merged, seconds), self.policy, now, self.malformed, self.detectors,
                                   refused=refused)
        return result

    def report(self, client: redis.Redis, start: float, end: float, now: float) -> ModelSnapshot:
        """A one-off window [start, end) merged from the stored minutes (judged alone: one window's correction)."""
        first, last = period_minutes(start, end)
        minutes = read_minutes(client, self.keys, self.layout, range(first, last + 1))
        merged = self.layout.merge([p for p in minutes.values() if p is not None])
        snap = compute(self.layout.window(merged, end - start), self.policy, now, self.malformed, self.one_window)
        return snap

    @property
    def malformed(self) -> int:
        return self.writer.malformed + self.cache.malformed
