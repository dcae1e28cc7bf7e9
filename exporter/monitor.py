"""The refresh loop: discover model versions in Redis, update their windows, compute snapshots."""
from __future__ import annotations

import logging
import threading
import time

import redis

from contracts import redis_layout as layout
from contracts.reference_profile import ReferenceProfile
from exporter.config import Config
from exporter.snapshot import ModelSnapshot, compute
from exporter.windows import ModelWindow

log = logging.getLogger(__name__)


class Monitor:
    def __init__(self, config: Config, client: redis.Redis | None = None) -> None:
        self.config = config
        self.client = client or redis.Redis.from_url(config.redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.windows: dict[str, ModelWindow] = {}
        self.snapshots: dict[str, ModelSnapshot] = {}
        self.redis_up = False
        self.last_cycle_seconds = 0.0
        self.last_success = 0.0
        self.lock = threading.Lock()

    def cycle(self, now: float | None = None) -> None:
        """One refresh of every model; on a Redis error keep the last figures and report Redis down."""
        started = time.perf_counter()
        try:
            with self.lock:
                self._refresh_all(now or time.time())
            self.redis_up = True
            self.last_success = time.time()
        except redis.RedisError as exc:
            self.redis_up = False
            log.warning("Redis unavailable: %s", exc)
        self.last_cycle_seconds = time.perf_counter() - started

    def _refresh_all(self, now: float) -> None:
        members = {m.decode() if isinstance(m, bytes) else m for m in self.client.smembers(layout.models_key(self.config.redis_prefix))}
        for gone in set(self.windows) - members:
            self.windows.pop(gone)
        snapshots = {}
        for member in sorted(members):
            window = self.windows.get(member) or self._open(member)
            if window is None:
                continue
            window.refresh(self.client, now)
            snapshots[member] = compute(window, self.config, now)
        self.snapshots = snapshots

    def _open(self, member: str) -> ModelWindow | None:
        """A window for a model version newly seen in Redis (None while its reference is missing)."""
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
        window = ModelWindow(profile, keys, self.config.window_seconds)
        self.windows[member] = window
        return window

    def report(self, hours: float) -> list[dict]:
        """Drift report for a window of `hours`: the live figures, or a one-off read of Redis for another size."""
        if abs(hours - self.config.window_hours) < 1e-9:
            return [s.as_dict() for s in self.snapshots.values()]
        now = time.time()
        result = []
        for member, live in list(self.windows.items()):
            window = ModelWindow(live.profile, live.keys, hours * 3600)
            window.refresh(self.client, now)
            result.append(compute(window, self.config, now).as_dict())
        return result

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            self.cycle()
            stop.wait(max(0.0, self.config.interval_seconds - (time.monotonic() - started)))
