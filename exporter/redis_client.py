"""The exporter's Redis errors: a Redis Cluster raises RedisClusterException, which is not a RedisError. Clients are
built by contracts.redis_client.connect (one Redis or a Redis Cluster, chosen by URL)."""
from __future__ import annotations

import redis
from redis.exceptions import RedisClusterException

from contracts.redis_client import connect, is_cluster_url  # noqa: F401  (the exporter's entry points)

ERRORS = (redis.RedisError, RedisClusterException)
