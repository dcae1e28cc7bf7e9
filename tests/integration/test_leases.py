"""Leases and fencing against a real redis-server and a real 3-node Redis Cluster (exporter.leases,
exporter.profile_store): one holder per version, a lapsed lease taken over, and a replica whose lease ran out during
a slow refresh writes nothing."""
from __future__ import annotations

import time

import pytest
import redis

from drift_client import redis_layout as layout
from contracts.policy import Policy
from exporter.config import Config
from exporter.leases import Leases
from exporter.monitor import Monitor
from exporter.profile_store import FencedOut, ProfileWriter, read_minutes
from drift.profiles import ProfileLayout, minute_of
from drift_client.redis_client import connect
from scripts import servers
from tests.helpers import Publisher

pytestmark = pytest.mark.integration
TTL = 2.0  # long enough for a loaded machine between acquire and renew


@pytest.fixture(scope="module")
def cluster_url(log_dir):
    nodes = servers.start_redis_cluster(log_dir / "leases-cluster", 3)
    try:
        yield nodes[0].extra["url"]
    finally:
        for node in nodes:
            node.stop()


@pytest.fixture(params=["redis", "cluster"])
def url(request, redis_server):
    return redis_server.extra["url"] if request.param == "redis" else request.getfixturevalue("cluster_url")


@pytest.fixture
def client(url):
    client = connect(url)
    yield client
    client.flushall() if hasattr(client, "get_nodes") else client.flushdb()


def test_one_holder_per_version_and_a_lapsed_lease_changes_hands(client):
    a, b = Leases("a", TTL), Leases("b", TTL)
    assert a.acquire(client, "m/1") and not b.acquire(client, "m/1")
    assert a.renew(client) == set() and a.owned() == {"m/1"}
    time.sleep(TTL + 0.1)  # a stalls past its TTL: Redis expires the lease, a's own clock says it is gone too
    assert a.owned() == set()
    assert b.acquire(client, "m/1")
    assert a.renew(client) == {"m/1"} and a.token("m/1") is None  # a learns it lost it, b keeps it
    assert b.owned() == {"m/1"} and b.token("m/1").startswith("b:")
    b.release(client, "m/1")
    assert not client.exists(layout.Keys.from_member("m/1").lease)
    assert a.acquire(client, "m/1") and a.token("m/1").endswith(":3")  # the fencing counter moved at every tenure


def counted(client, keys: layout.Keys, profile_layout: ProfileLayout) -> int:
    now = minute_of(time.time())
    return sum(p.predictions for p in read_minutes(client, keys, profile_layout, range(now - 5, now + 2)).values() if p)


def test_a_lease_lost_during_a_slow_refresh_writes_nothing(client):
    pub = Publisher(client, "fenced")
    profile_layout = ProfileLayout(pub.profile)
    a, b = Leases("a", 30.0), Leases("b", 30.0)  # long leases: the machine's load must not decide this test
    member = pub.keys.member
    assert a.acquire(client, member)
    writer_a = ProfileWriter(pub.keys, profile_layout, 3600, 3600, token=a.token(member))
    pub.send(1000, seed=1)
    writer_a.refresh(client, time.time())
    assert counted(client, pub.keys, profile_layout) == 1000

    pub.send(500, seed=2)  # a reads these in a refresh so slow that its lease lapses before it writes...
    client.pexpire(pub.keys.lease, 1)  # (a stall, or a clock that ran slow: a still believes its lease valid)
    time.sleep(0.05)
    assert a.owned() == {member} and b.acquire(client, member)  # ...and b takes the version over and counts them first
    writer_b = ProfileWriter(pub.keys, profile_layout, 3600, 3600, token=b.token(member))
    writer_b.refresh(client, time.time())
    before = {k: client.get(k) for k in client.keys(pub.keys.profile(0).replace(":0", ":*"))}
    cursor = client.get(pub.keys.profiled)
    with pytest.raises(FencedOut, match="no longer this replica's"):
        writer_a.refresh(client, time.time())
    assert {k: client.get(k) for k in before} == before and client.get(pub.keys.profiled) == cursor
    assert counted(client, pub.keys, profile_layout) == 1500  # every sample once


def test_two_monitors_split_four_versions_and_export_disjoint_sets(client, url):
    for i in range(4):
        Publisher(client, f"split-{i}").send(300, seed=i)
    policy = Policy(interval_seconds=10, lease_ttl_seconds=30, window_hours=1.0)  # cycles are run by hand here
    monitors = [Monitor(Config(redis_url=url, policy=policy, replica_id=r)) for r in ("a", "b")]
    for _ in range(4):
        for monitor in monitors:
            monitor.cycle()
    owned = [set(m.snapshots) for m in monitors]
    assert owned[0].isdisjoint(owned[1]) and owned[0] | owned[1] == {f"fraud_detector/split-{i}" for i in range(4)}
    assert [len(o) for o in owned] == [2, 2]
    monitors[1].stop()  # a graceful stop hands over at once
    monitors[0].cycle()
    assert set(monitors[0].snapshots) == owned[0] | owned[1]
