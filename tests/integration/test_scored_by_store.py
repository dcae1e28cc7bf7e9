"""The shared "which versions scored this id" memory against a real redis-server (bento_service.scored_by_store):
what one replica remembers another reads; bounded by a TTL and a known size per id; Redis down degrades to the
versions serving now, counted, and never raises."""
from __future__ import annotations

import time

import pytest
import redis

from bento_service.scored_by_store import LabelRouteCounters, SharedScoredBy
from bento_service.versions import ScoredBy
from drift_client import redis_layout as layout
from scripts import servers

pytestmark = pytest.mark.integration
V1, V2 = "fraud_v1_3roq7oxj", "fraud_v2_g2jbq4xz"  # as long as BentoML's version strings


class Tally(LabelRouteCounters):
    def __init__(self) -> None:
        self.routes: dict[str, int] = {}
        self.written: dict[str, int] = {}

    def route(self, model_name: str, source: str) -> None:
        self.routes[source] = self.routes.get(source, 0) + 1

    def writes(self, model_name: str, outcome: str, n: int) -> None:
        self.written[outcome] = self.written.get(outcome, 0) + n


def replica(url: str, tally: Tally, ttl: float = 7200) -> SharedScoredBy:
    client = redis.Redis.from_url(url, socket_timeout=0.5)
    lookups = redis.Redis.from_url(url, socket_timeout=0.1, socket_connect_timeout=0.1)
    return SharedScoredBy(ScoredBy(100), client, lookups, "fraud_detector", ttl, counters=tally)


def test_one_replica_reads_what_another_scored_bounded_per_id(redis_server):
    url = redis_server.extra["url"]
    a, b = replica(url, Tally()), replica(url, tally := Tally())
    ids = [f"txn-{i:06d}" for i in range(1000)]
    a.add(ids, V1)
    a.add(ids, V2)  # the challenger in shadow
    assert a.flush() == 2000
    assert a.get(ids[0]) == (V1, V2)  # from its own memory
    assert b.get(ids[0]) == (V1, V2) and b.get("never-scored") == ()
    assert tally.routes == {"shared": 1, "current": 1}
    client = redis.Redis.from_url(url)
    key = layout.scored_by_key("fraud_detector", ids[0])
    assert 7000 < client.ttl(key) <= 7200
    per_id = client.memory_usage(key)
    assert per_id <= 160, per_id  # the bound docs/design.md states ("Service replicas")
    client.delete(*(layout.scored_by_key("fraud_detector", i) for i in ids))


def test_redis_down_degrades_to_the_current_versions_counted(log_dir):
    server = servers.start_redis(log_dir)
    tally = Tally()
    b = replica(server.extra["url"], tally)
    server.kill()
    b.add(["late-1"], V1)  # queued; the write fails and is counted
    assert b.flush() == 0 and tally.written == {"dropped": 1}
    started = time.perf_counter()
    assert b.get("other-1") == ()  # refused connection: the caller sends the label to the versions serving now
    assert b.get("other-2") == ()  # within the breaker's second: Redis not even tried
    assert time.perf_counter() - started < 0.5
    assert tally.routes == {"redis_failed": 2}
    assert b.get("late-1") == (V1,)  # what this worker scored itself still routes
