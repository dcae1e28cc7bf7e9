"""The refresh loop: discover model versions in Redis, take the leases of this replica's share of them
(exporter.lease_plan, exporter.leases), feed their windows, compute their snapshots.

Only the versions whose lease this replica holds are judged and exported; a version's figures are hidden the moment
its lease runs out on this replica's clock, even while a slow refresh is still running.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace

import redis

from drift_client import redis_layout as layout
from drift_client.reference_profile import ReferenceProfile
from contracts.policy import Policy
from exporter.config import Config
from drift.detectors import ModelDetectors
from exporter.lease_plan import LeaseView, plan_leases
from exporter.leases import Leases
from exporter.profile_store import FencedOut
from exporter.reader import StreamReader
from drift.comparison import PromotionRule
from drift_client.redis_client import connect
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
        self.leases = Leases(config.replica_id, self.policy.lease_seconds, config.redis_prefix)
        self.members: set[str] = set()  # the versions that publish samples, as last seen
        self.replicas = 1  # live replicas, as last counted
        self._free_before: set[str] = set()
        self._snapshots: dict[str, ModelSnapshot] = {}
        self._span_snapshots: dict[str, dict[str, ModelSnapshot]] = {}  # member -> span name -> snapshot
        self._comparisons: dict[str, VersionComparison] = {}  # model name -> champion vs challenger
        self._model_versions: dict = {}  # model name -> its versions document (contracts/model_versions.py)
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

    # What is exported: only the versions whose lease is valid now (read at scrape time, without the lock).
    def exported(self) -> tuple[set[str], dict[str, ModelSnapshot], dict[str, dict[str, ModelSnapshot]]]:
        """(owned versions, their snapshots, their span snapshots) at one instant: one scrape sees one ownership."""
        owned = self.leases.owned()
        return owned, self._owned(self._snapshots, owned), self._owned(self._span_snapshots, owned)

    def _owned(self, by_member: dict, owned: set[str] | None = None) -> dict:
        owned = self.leases.owned() if owned is None else owned
        return {m: v for m, v in list(by_member.items()) if m in owned}

    @property
    def snapshots(self) -> dict[str, ModelSnapshot]:
        return self._owned(self._snapshots)

    @property
    def span_snapshots(self) -> dict[str, dict[str, ModelSnapshot]]:
        return self._owned(self._span_snapshots)

    @property
    def comparisons(self) -> dict[str, VersionComparison]:
        """Champion vs challenger, from the replica that holds the champion's lease."""
        owned = self.leases.owned()
        return {n: c for n, c in list(self._comparisons.items()) if f"{n}/{c.champion}" in owned}

    @property
    def model_versions(self) -> dict:
        """The versions documents of the models whose champion this replica judges."""
        owned = self.leases.owned()
        return {n: s for n, s in list(self._model_versions.items()) if f"{n}/{s.champion}" in owned}

    def _refresh_all(self, now: float) -> None:
        members = {m.decode() if isinstance(m, bytes) else m for m in self.client.smembers(layout.models_key(self.config.redis_prefix))}
        self._model_versions = models_with_versions(self.client, self.config.redis_prefix)
        # a model's comparison is made by the replica that holds its champion's lease: a champion is a version to judge
        members |= {f"{name}/{state.champion}" for name, state in self._model_versions.items()}
        self.members = members
        self._balance(members)
        owned = self.leases.owned()
        for gone in set(self.tracked) - owned:
            self.tracked.pop(gone)
        snapshots, spans = {}, {}
        for member in sorted(owned):
            self.leases.register_if_due(self.client)  # a long cycle: stay counted, keep the leases before the work
            for lost in self.leases.renew_due(self.client):
                self.tracked.pop(lost, None)
            if member not in self.leases.owned():
                continue
            tracked = self.tracked.get(member) or self._open(member)
            if tracked is None:
                continue
            try:
                tracked.refresh(self.client, now)
            except FencedOut as exc:  # the lease ran out during this refresh: another replica has the version now
                log.warning("%s", exc)
                self.leases.lose(member)
                self.tracked.pop(member, None)
                continue
            snapshots[member] = tracked.snapshot(self.policy, now)
            spans[member] = tracked.spans.snapshots(now, tracked.reader.last_refused)
        self._snapshots, self._span_snapshots = snapshots, spans
        self._comparisons = self._compare_versions(now)

    def _balance(self, members: set[str]) -> None:
        """Renew this replica's leases, then take or hand over versions toward its fair share (exporter.lease_plan)."""
        for gone in set(self.leases.held) - members:  # a version that stopped publishing needs no judge
            self.leases.release(self.client, gone)
        self.leases.renew(self.client)
        replicas = self.replicas = self.leases.register(self.client)
        held = set(self.leases.held)
        free = self.leases.free(self.client, members - held)
        plan = plan_leases(LeaseView(frozenset(members), frozenset(held), frozenset(free),
                                     frozenset(self._free_before), replicas), self.leases.replica)
        for member in plan.release:
            self.leases.release(self.client, member)
        taken = {member for member in plan.acquire if self.leases.acquire(self.client, member)}
        self._free_before = free - taken

    def stop(self) -> None:
        """A graceful stop: hand every version over now rather than after the lease TTL."""
        try:
            with self.lock:
                self.leases.release_all(self.client)
        except ERRORS as exc:
            log.warning("could not release the leases (they expire by themselves): %s", exc)

    def _compare_versions(self, now: float) -> dict[str, VersionComparison]:
        """Champion vs challenger of every model that has one (exporter/version_comparison.py)."""
        found = {}
        owned = self.leases.owned()
        for name, state in self._model_versions.items():
            if f"{name}/{state.champion}" not in owned:  # judged by the replica that holds the champion's lease
                continue
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
        profile = self._as_published(profile, keys)
        try:
            detectors = ModelDetectors(profile.model_name, profile.model_schema, self.policy, self.config.monitoring)
        except ValueError as exc:  # the monitoring config asks for a test this model cannot use: say so, keep the rest
            log.error("cannot judge %s: %s", member, exc)
            return None
        tracked = Tracked(StreamReader(keys), self._window(profile, self.policy.window_seconds), detectors,
                          Spans(keys, profile, self.policy, self.config.monitoring, token=self.leases.token(member)))
        self.tracked[member] = tracked
        return tracked

    @staticmethod
    def _as_published(profile: ReferenceProfile, keys: layout.Keys) -> ReferenceProfile:
        """The profile under the model and version its stream is published as: a profile built for another version
        (a publisher that bypassed the client's check) would otherwise export a second, conflicting series of that
        version. Said once, when the version is first watched."""
        if (profile.model_name, profile.model_version) == (keys.model_name, keys.model_version):
            return profile
        log.warning("the reference profile of %s/%s was built for %s/%s: judged as %s/%s (publish a profile built "
                    "for this version)", keys.model_name, keys.model_version, profile.model_name, profile.model_version,
                    keys.model_name, keys.model_version)
        return replace(profile, model_name=keys.model_name, model_version=keys.model_version)

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
