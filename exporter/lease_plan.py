"""Which model versions an exporter replica should hold: pure decisions over what the replica saw in Redis (no I/O;
exporter.leases talks to Redis).

Several `python -m exporter` replicas share the model versions through leases (docs/design.md, "Exporter
replicas"). Each cycle a replica knows the versions that publish samples, the leases it holds, the versions whose
lease is free, and how many replicas are alive. It then aims at its fair share, ceil(versions / replicas):

- it tries the free versions it prefers (rendezvous hashing: each replica ranks the versions by a hash of its id and
  the version, so two replicas starting together reach for different versions) up to its share;
- a version free at two cycles running is an orphan nobody else takes: it is taken whatever the share (a replica
  that is registered but stuck must not leave a version unjudged);
- a replica over its share releases the surplus only when no version is free (every version is judged, and a
  replica under its share is there to take what is released): handovers happen when a replica joins, never as a
  loop of release and retake.

A lease is trusted locally until `renewed_at + ttl` on the monotonic clock, `renewed_at` read *before* the renewal
was sent: Redis expires the key no earlier than that, so another replica can hold it only after this replica has
stopped exporting the version (`Lease.valid`).

>>> plan = plan_leases(LeaseView(members=frozenset("abcd"), held=frozenset(), free=frozenset("abcd"),
...                              free_before=frozenset(), replicas=2), "r1")
>>> len(plan.acquire), plan.release
(2, ())
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Lease:
    """A lease this replica holds: its fencing token and until when (monotonic seconds) it may act on it."""

    token: str
    valid_until: float

    def valid(self, now: float) -> bool:
        """
        >>> Lease("r1:7", valid_until=10.0).valid(9.9), Lease("r1:7", valid_until=10.0).valid(10.0)
        (True, False)
        """
        return now < self.valid_until


@dataclass(frozen=True)
class LeaseView:
    """What a replica saw this cycle."""

    members: frozenset[str]  # model versions that publish samples ("name/version")
    held: frozenset[str]  # versions whose lease this replica holds (renewed this cycle)
    free: frozenset[str]  # versions whose lease nobody holds
    free_before: frozenset[str]  # versions that were free at the previous cycle too
    replicas: int  # live replicas, this one included


@dataclass(frozen=True)
class LeasePlan:
    acquire: tuple[str, ...]  # to try, in order (SET NX: another replica may win)
    release: tuple[str, ...]  # to give up (surplus over the fair share)


def fair_share(versions: int, replicas: int) -> int:
    """
    >>> fair_share(4, 2), fair_share(5, 2), fair_share(3, 0), fair_share(0, 3)
    (2, 3, 3, 0)
    """
    return math.ceil(versions / max(replicas, 1))


def preference(replica: str, member: str) -> int:
    """Rendezvous hash: a replica prefers the versions where this is smallest (stable across processes)."""
    return int.from_bytes(hashlib.blake2b(f"{replica}\0{member}".encode(), digest_size=8).digest(), "big")


def plan_leases(view: LeaseView, replica: str) -> LeasePlan:
    """The leases to try and to release this cycle.

    >>> view = LeaseView(members=frozenset("abcd"), held=frozenset("abcd"), free=frozenset(),
    ...                  free_before=frozenset(), replicas=2)
    >>> len(plan_leases(view, "r1").release)  # a second replica joined: hand two over
    2
    >>> view = LeaseView(members=frozenset("abcd"), held=frozenset("ab"), free=frozenset("c"),
    ...                  free_before=frozenset("c"), replicas=2)
    >>> plan_leases(view, "r1")  # c is nobody's for two cycles: take it beyond the share
    LeasePlan(acquire=('c',), release=())
    """
    held = view.held & view.members
    share = fair_share(len(view.members), view.replicas)
    rank = lambda member: (preference(replica, member), member)  # noqa: E731
    release: tuple[str, ...] = ()
    if len(held) > share and not view.free:
        release = tuple(sorted(held, key=rank, reverse=True)[: len(held) - share])  # the least preferred go
    free = sorted(view.free & view.members, key=rank)
    wanted = free[: max(share - len(held), 0)]
    orphans = [m for m in free if m in view.free_before and m not in wanted]
    return LeasePlan(acquire=tuple(wanted + orphans), release=release)
