"""The exporter's Redis client, chosen by URL: `redis://host:port/db` (one Redis) or `redis+cluster://host:port` (a
Redis Cluster, through redis-py's RedisCluster: any node's address; the rest is discovered).

Every key of a model version shares the hash tag `{name:version}` (contracts.redis_layout), so what the exporter does
to one model (XRANGE, MGET of its minutes, the MULTI that writes minutes and cursor) stays in one slot.

>>> is_cluster_url("redis+cluster://127.0.0.1:7000"), is_cluster_url("redis://127.0.0.1:6379/0")
(True, False)
"""
from __future__ import annotations

import redis
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException

CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
ERRORS = (redis.RedisError, RedisClusterException)  # RedisClusterException is not a RedisError


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEMES)


def connect(url: str, socket_timeout: float = 5.0, connect_timeout: float = 2.0) -> redis.Redis | RedisCluster:
    if is_cluster_url(url):
        plain = url.replace("+cluster", "", 1)
        return RedisCluster.from_url(plain, socket_timeout=socket_timeout, socket_connect_timeout=connect_timeout)
    return redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=connect_timeout)
