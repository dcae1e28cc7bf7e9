"""The Redis errors the exporter survives (a refresh that meets one degrades monitoring and is counted): a Redis
Cluster raises RedisClusterException, which is not a RedisError. Clients come from drift_client.redis_client.connect
(one Redis or a Redis Cluster, chosen by URL)."""
from __future__ import annotations

import redis
from redis.exceptions import RedisClusterException

ERRORS = (redis.RedisError, RedisClusterException)
