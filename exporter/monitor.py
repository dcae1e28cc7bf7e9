"""The refresh loop: discover model versions in Redis, feed their windows, compute their snapshots."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import redis

from contracts import redis_layout as layout
from contracts.reference_profile import ReferenceProfile
from contracts.policy import Policy
from exporter.config import Config
from drift.detectors import ModelDetectors
from exporter.reader import StreamReader
from drift.comparison import PromotionRule
from contracts.redis_client import connect
from exporter.redis_errors import ERRORS
from drift.snapshot import ModelSnapshot, compute
from exporter.spans import Spans
from exporter.version_comparison import VersionComparison, compare_versions, models_with_versions
from drift.live_window import LiveWindow

log = logging.getLogger(__name__)


@dataclass
class Tracked:
    """One model version being watched: its stream reader, its live window (labels, performance) and the tests that
    judge it, and its judged spans over per-minute profiles."""

    reader: StreamReader
    window: LiveWindow
    detectors: ModelDetectors
    spans: Spans

    def snapshot(self, policy: Policy, now: float) -> ModelSnapshot:
        refused = "schema_mismatch" if self.reader.refused_within(self.window.window_seconds, now) else ""
        snap = compute(self.window, policy, now, self.reader.malformed, self.detectors, refused=refused)
        snap.refused_batches = dict(self.reader.refused)
        return snap

    def refresh(self, client: redis.Redis, now: float) -> None:
        self.reader.refresh(client, self.window, now)
        self.spans.refresh(client, now)


class Monitor:
    def __init__(self, config: Config, client: redis.Redis | None = None) -> None:
        self.config = config
        self.policy = config.policy
        self.client = client or connect(config.redis_url, socket_timeout=5, socket_connect_timeout=2)  # one Redis, or a Redis Cluster (redis+cluster://)
        self.tracked: dict[str, Tracked] = {}
        self.snapshots: dict[str, ModelSnapshot] = {}
        self.span_snapshots: dict[str, dict[str, ModelSnapshot]] = {}  # member -> span name -> snapshot
        self.comparisons: dict[str, VersionComparison] = {}  # model name -> champion vs challenger
        self.model_versions: dict = {}  # model name -> its versions document (contracts/model_versions.py)
        self.promotion_rule = PromotionRule.from_env()
        self.redis_up = False
        self.last_cycle_seconds = 0.0
        self.last_success = 0.0
        self.lock = threading.Lock()
        config.monitoring.import_plugins()

    def cycle(self, now: float | None = None) -> None:
        """One refresh of every model; on a Redis error keep the last figures and report Redis down."""
        started = time.perf_counter()
        try:
            with self.lock:
                self._refresh_all(now or time.time())
            self.redis_up = True
            self.last_success = time.time()
        except ERRORS as exc:
            self.redis_up = False
            log.warning("Redis unavailable: %s", exc)
        self.last_cycle_seconds = time.perf_counter() - started

    def _refresh_all(self, now: float) -> None:
        members = {m.decode() if isinstance(m, bytes) else m for m in self.client.smembers(layout.models_key(self.config.redis_prefix))}
        for gone in set(self.tracked) - members:
            self.tracked.pop(gone)
        snapshots, spans = {}, {}
        for member in sorted(members):
            tracked = self.tracked.get(member) or self._open(member)
            if tracked is None:
                continue
            tracked.refresh(self.client, now)
            snapshots[member] = tracked.snapshot(self.policy, now)
            spans[member] = tracked.spans.snapshots(now)
        self.snapshots, self.span_snapshots = snapshots, spans
        self.comparisons = self._compare_versions(now)

    def _compare_versions(self, now: float) -> dict[str, VersionComparison]:
        """Champion vs challenger of every model that has one (exporter/version_comparison.py)."""
        found = {}
        self.model_versions = models_with_versions(self.client, self.config.redis_prefix)
        for name, state in self.model_versions.items():
            result = compare_versions(self.client, state, name, now, self.policy.window_hours, self.promotion_rule,
                                      self.config.redis_prefix)
            if result is not None:
                found[name] = result
        return found

    def _open(self, member: str) -> Tracked | None:
        """Start watching a model version newly seen in Redis (None while its reference is missing)."""
        try:
            keys = layout.Keys.from_member(member, self.config.redis_prefix)
        except layout.MalformedEntry:
            return None
        raw = self.client.get(keys.reference)
        if raw is None:
            return None
        try:
            profile = ReferenceProfile.from_json(raw)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("unreadable reference profile for %s: %s", member, exc)
            return None
        try:
            detectors = ModelDetectors(profile.model_name, profile.model_schema, self.policy, self.config.monitoring)
        except ValueError as exc:  # the monitoring config asks for a test this model cannot use: say so, keep the rest
            log.error("cannot judge %s: %s", member, exc)
            return None
        tracked = Tracked(StreamReader(keys), self._window(profile, self.policy.window_seconds), detectors,
                          Spans(keys, profile, self.policy, self.config.monitoring))
        self.tracked[member] = tracked
        return tracked

    def _window(self, profile: ReferenceProfile, seconds: float) -> LiveWindow:
        return LiveWindow(profile, seconds, self.policy.label_grace_seconds)

    def report(self, hours: float, start: float | None = None, end: float | None = None) -> list[dict]:
        """Drift report: the live figures for the live window's `hours`, else the stored minute profiles of the last
        `hours` or of [start, end) (any period within the profiles' retention; drift and estimates, no labels)."""
        if start is None and end is None and abs(hours - self.policy.window_hours) < 1e-9:
            return [s.as_dict() for s in self.snapshots.values()]
        now = time.time()
        end = min(end if end is not None else now, now)
        start = start if start is not None else end - hours * 3600
        return [live.spans.report(self.client, start, end, now).as_dict() for live in list(self.tracked.values())]

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            self.cycle()
            stop.wait(max(0.0, self.policy.interval_seconds - (time.monotonic() - started)))
