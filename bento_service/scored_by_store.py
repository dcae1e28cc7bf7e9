"""Which versions scored a transaction id, shared by every service replica through Redis, so that a label posted
to any replica reaches every version that scored the id (docs/design.md, "Service replicas").

- `add` (request path): remembers the id in this worker's `ScoredBy` and queues it for Redis; a background thread
  writes the queue every FLUSH_SECONDS as one pipeline of `HSET {prefix}:scored-by:{model}:{id} <version> 1` +
  `EXPIRE ttl` per id (a small hash is a listpack: about half the memory of a set of two versions). The request never waits on Redis; a full queue drops and counts.
- `get` (label path): this worker's memory first; else Redis (HKEYS, time-out LOOKUP_TIMEOUT_SECONDS); a failed
  lookup makes the next ones skip Redis for BREAKER_SECONDS, so a frozen Redis costs a label path at most one
  time-out a second. Empty: the caller falls back to the versions serving now, as before.

Every label's route is counted: `ml_monitoring_label_routes_total{source}` with source `local` (this worker scored
it), `shared` (another worker or replica did, read from Redis), `current` (nobody remembered it: the versions serving
now), `redis_failed` (Redis unreachable: the versions serving now).

The key's TTL is the samples' retention (policy.sample_retention_seconds, 2 h): a label later than that finds no
prediction in the stream to join anyway. Memory in Redis: see docs/design.md (measured by
tests/integration/test_service_replicas.py).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Sequence

from drift_client import redis_layout as layout
from drift_client.worker import PeriodicWorker

log = logging.getLogger("bentoml.serve.scored_by")

FLUSH_SECONDS = 0.1
MAX_PENDING_IDS = 100_000  # ids waiting for Redis (about 10 s at 10,000 predictions/s)
LOOKUP_TIMEOUT_SECONDS = 0.1
BREAKER_SECONDS = 1.0


class LabelRouteCounters:
    """Hooks the service points at Prometheus (no-ops by default)."""

    def route(self, model_name: str, source: str) -> None: ...
    def writes(self, model_name: str, outcome: str, n: int) -> None: ...


class SharedScoredBy:
    """`ScoredBy` (bento_service.versions) backed by Redis; same `add`/`get` interface."""

    def __init__(self, local, client, lookup_client, model_name: str, ttl_seconds: float,
                 prefix: str = layout.DEFAULT_PREFIX, counters: LabelRouteCounters | None = None,
                 flush_seconds: float = FLUSH_SECONDS, max_pending: int = MAX_PENDING_IDS,
                 clock=time.monotonic) -> None:
        self.local = local
        self.client = client  # the writer's (background thread)
        self.lookup_client = lookup_client  # the label path's: a short time-out
        self.model_name = model_name
        self.ttl = max(int(ttl_seconds), 1)
        self.prefix = prefix
        self.counters = counters or LabelRouteCounters()
        self.max_pending = max_pending
        self.clock = clock
        self._pending: deque[tuple[list[str], str]] = deque()
        self._pending_ids = 0
        self._skip_until = 0.0
        self._lock = threading.Lock()  # the queue and its count, between request threads and the writer
        self._worker = PeriodicWorker("scored-by", flush_seconds, self.flush)

    def start(self) -> "SharedScoredBy":
        self._worker.start()
        return self

    def stop(self) -> None:
        self._worker.stop()

    def key(self, tid: str) -> str:
        return layout.scored_by_key(self.model_name, tid, self.prefix)

    def add(self, ids: Sequence[str], version: str) -> None:
        self.local.add(ids, version)
        with self._lock:
            full = self._pending_ids + len(ids) > self.max_pending
            if not full:
                self._pending.append((list(ids), version))
                self._pending_ids += len(ids)
        if full:
            self.counters.writes(self.model_name, "dropped", len(ids))

    def flush(self) -> int:
        """Write what waits; the ids written (a Redis error drops the batch, counted: labels then fall back)."""
        with self._lock:
            batch, self._pending, self._pending_ids = list(self._pending), deque(), 0
        n = sum(len(ids) for ids, _ in batch)
        if not batch:
            return 0
        try:
            pipe = self.client.pipeline(transaction=False)
            for ids, version in batch:
                for tid in ids:
                    pipe.hset(self.key(tid), version, 1)
                    pipe.expire(self.key(tid), self.ttl)
            pipe.execute()
        except Exception as exc:  # Redis down or slow: serving goes on; labels of these ids use the current versions
            log.warning("scored-by memory not written to Redis (%d ids): %s", n, exc)
            self.counters.writes(self.model_name, "dropped", n)
            return 0
        self.counters.writes(self.model_name, "written", n)
        return n

    def get(self, tid: str) -> tuple[str, ...]:
        found = self.local.get(tid)
        if found:
            self.counters.route(self.model_name, "local")
            return found
        if self.clock() < self._skip_until:
            self.counters.route(self.model_name, "redis_failed")
            return ()
        try:
            members = self.lookup_client.hkeys(self.key(tid))
        except Exception as exc:
            self._skip_until = self.clock() + BREAKER_SECONDS
            log.warning("scored-by lookup failed (%s): labels go to the versions serving now for %gs", exc, BREAKER_SECONDS)
            self.counters.route(self.model_name, "redis_failed")
            return ()
        versions = tuple(sorted(m.decode() if isinstance(m, bytes) else m for m in members))
        self.counters.route(self.model_name, "shared" if versions else "current")
        return versions

    def __len__(self) -> int:
        return len(self.local)
