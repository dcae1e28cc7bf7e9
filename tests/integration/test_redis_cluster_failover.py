"""A Redis Cluster master killed under 100 predictions/s (bench/redis_cluster_failover.py, a shorter run): a real
3-master/3-replica cluster, the real service and exporter. Serving never fails, every sample is counted once as
published or dropped, and the exporter's window equals what the stream holds again without a restart."""
from __future__ import annotations

import pytest

from bench.redis_cluster_failover import run

pytestmark = pytest.mark.integration


def test_a_master_killed_under_load_costs_no_prediction_and_the_exporter_recovers(log_dir):
    result = run(log_dir / "cluster-failover", rps=100, seconds=20, node_timeout_ms=1000)
    assert result.sent == 2000 and result.failed == 0
    assert result.published + result.dropped == result.sent  # every sample counted once
    assert result.kill_to_promoted < 10  # the replica took over (node timeout 1 s)
    assert result.dropped < result.sent / 4  # only what was flushed while the slot had no master
    assert result.exporter_redis_up and result.exporter_window == result.in_stream > 0
    assert result.in_stream <= result.published  # lost: acknowledged, then gone with the master (asynchronous replication)
