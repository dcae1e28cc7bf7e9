"""Leases in Redis: the thin adapter under exporter.lease_plan (which replica judges which model version).

- a version's lease is `Keys.lease` (in the version's hash-tag slot, next to the profiles it fences), holding the
  token `<replica>:<epoch>`; `<epoch>` comes from INCR of `Keys.lease_epoch`, so every tenure has a token of its own
  (a fencing counter: a replica that lost a lease and took it again never mistakes its old tenure for the new one);
- acquiring is `SET NX PX ttl` done in a script with the INCR; renewing and releasing compare the token first;
- the replicas register in the sorted set `{prefix}:exporter-replicas` (score: when their registration expires, a
  lease TTL after their last cycle), which gives each replica the count for its fair share.

The writes the exporter makes per version (minute profiles and their cursor, exporter.profile_store) check the
token in the same script that writes them: a replica whose lease expired during a slow refresh writes nothing.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterable

import redis

from drift_client import redis_layout as layout
from exporter.lease_plan import Lease

log = logging.getLogger(__name__)

ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local token = ARGV[1] .. ':' .. redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], token, 'NX', 'PX', ARGV[2])
return token
"""
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
EPOCH_TTL_MS = layout.REFERENCE_TTL_SECONDS * 1000  # the counter outlives any lease; it goes with its version


class Leases:
    """The leases one replica holds, and its registration among the replicas."""

    def __init__(self, replica: str, ttl_seconds: float, prefix: str = layout.DEFAULT_PREFIX,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.replica = replica
        self.ttl = ttl_seconds
        self.prefix = prefix
        self.clock = clock
        self.held: dict[str, Lease] = {}  # member -> lease
        self.changes = {"acquired": 0, "released": 0, "lost": 0}
        self.registered_at = float("-inf")  # monotonic time of the last registration

    def _keys(self, member: str) -> layout.Keys:
        return layout.Keys.from_member(member, self.prefix)

    @property
    def _ttl_ms(self) -> int:
        return max(int(self.ttl * 1000), 1)

    def owned(self) -> set[str]:
        """The versions this replica may judge and export now (leases still valid on its own clock)."""
        now = self.clock()
        return {m for m, lease in list(self.held.items()) if lease.valid(now)}

    def token(self, member: str) -> str | None:
        lease = self.held.get(member)
        return lease.token if lease is not None else None

    def register(self, client: redis.Redis) -> int:
        """Say this replica is alive for one more TTL; returns the live replicas, this one included."""
        key, now_ms = layout.replicas_key(self.prefix), int(time.time() * 1000)
        self.registered_at = self.clock()
        client.zadd(key, {self.replica: now_ms + self._ttl_ms})
        client.zremrangebyscore(key, "-inf", now_ms)
        return max(int(client.zcard(key)), 1)

    def register_if_due(self, client: redis.Redis) -> None:
        """Within a long cycle: stay counted (a third of the TTL after the last registration)."""
        if self.clock() - self.registered_at > self.ttl / 3:
            self.register(client)

    def unregister(self, client: redis.Redis) -> None:
        client.zrem(layout.replicas_key(self.prefix), self.replica)

    def renew(self, client: redis.Redis, members: Iterable[str] | None = None) -> set[str]:
        """Renew the held leases (or those of `members`); returns the versions whose lease was lost."""
        lost = set()
        for member in list(self.held if members is None else members):
            lease = self.held.get(member)
            if lease is None:
                continue
            sent = self.clock()  # before the call: Redis' expiry is no earlier than sent + ttl
            if client.eval(RENEW, 1, self._keys(member).lease, lease.token, self._ttl_ms) == 1:
                self.held[member] = Lease(lease.token, sent + self.ttl)
            else:
                self.lose(member)
                lost.add(member)
        return lost

    def renew_due(self, client: redis.Redis) -> set[str]:
        """Within a long cycle: renew the leases with a third of their TTL spent; returns the versions lost."""
        now = self.clock()
        return self.renew(client, [m for m, lease in self.held.items() if lease.valid_until - now <= self.ttl * 2 / 3])

    def free(self, client: redis.Redis, members: Iterable[str]) -> set[str]:
        """Which of `members` nobody holds a lease on."""
        members = list(members)
        return {m for m in members if not client.exists(self._keys(m).lease)}

    def acquire(self, client: redis.Redis, member: str) -> bool:
        keys = self._keys(member)
        sent = self.clock()
        token = client.eval(ACQUIRE, 2, keys.lease, keys.lease_epoch, self.replica, self._ttl_ms, EPOCH_TTL_MS)
        if not token:
            return False
        self.held[member] = Lease(token.decode() if isinstance(token, bytes) else str(token), sent + self.ttl)
        self.changes["acquired"] += 1
        log.info("replica %s judges %s (lease %s)", self.replica, member, self.held[member].token)
        return True

    def release(self, client: redis.Redis, member: str) -> None:
        lease = self.held.pop(member, None)
        if lease is not None:
            client.eval(RELEASE, 1, self._keys(member).lease, lease.token)
            self.changes["released"] += 1
            log.info("replica %s hands %s over", self.replica, member)

    def lose(self, member: str) -> None:
        """Forget a lease Redis no longer gives this replica (expired, or taken by another)."""
        if self.held.pop(member, None) is not None:
            self.changes["lost"] += 1
            log.warning("replica %s lost the lease of %s", self.replica, member)

    def release_all(self, client: redis.Redis) -> None:
        """On a graceful stop: hand every version over at once (another replica takes them at its next cycle)."""
        for member in list(self.held):
            self.release(client, member)
        self.unregister(client)
