"""The versions document in a real redis-server and a real 3-node Redis Cluster: concurrent updates are not lost."""
from __future__ import annotations

import threading

import pytest

from contracts import model_versions as versions
from drift_client.redis_client import connect
from scripts import servers


def check_concurrent_updates_all_land(url: str) -> None:
    client = connect(url)
    versions.save(client, "m", versions.VersionsState(champion="v1", available=("v1",)))

    def add(i):
        own = connect(url)
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


def test_concurrent_updates_all_land(redis_server):
    check_concurrent_updates_all_land(redis_server.extra["url"])


@pytest.mark.integration
def test_concurrent_updates_all_land_on_a_redis_cluster(log_dir):
    """WATCH/MULTI through redis-py's RedisCluster (a pipeline with transaction=True; the default one refuses WATCH)."""
    nodes = servers.start_redis_cluster(log_dir / "versions-cluster", 3)
    try:
        check_concurrent_updates_all_land(nodes[0].extra["url"])
    finally:
        for node in nodes:
            node.stop()
