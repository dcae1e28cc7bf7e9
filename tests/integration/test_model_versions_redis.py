"""The versions document in a real redis-server: concurrent updates are not lost."""
from __future__ import annotations

import threading

import redis

from contracts import model_versions as versions


def test_concurrent_updates_all_land(redis_server):
    client = redis.Redis.from_url(redis_server.extra["url"])
    versions.save(client, "m", versions.VersionsState(champion="v1", available=("v1",)))

    def add(i):
        own = redis.Redis.from_url(redis_server.extra["url"])
        versions.update(own, "m", lambda s: s.with_available(f"x{i}"))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = versions.load(client, "m")
    assert set(state.available) == {"v1", *(f"x{i}" for i in range(8))}
    assert versions.load(client, "absent") is None
    client.delete(versions.versions_key("m"))
