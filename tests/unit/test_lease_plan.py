"""Lease decisions without Redis (exporter.lease_plan): replicas simulated as a dictionary of leases, to show the
fair split, the hand-over when a replica joins, the take-over when one dies, and no version held twice."""
from __future__ import annotations

from exporter.lease_plan import Lease, LeaseView, fair_share, plan_leases

VERSIONS = frozenset(f"fraud/v{i}" for i in range(4))


class Cluster:
    """A toy lease table with SET NX semantics: enough to run the plan of several replicas in turns."""

    def __init__(self) -> None:
        self.owner: dict[str, str] = {}
        self.free_before: dict[str, frozenset] = {}

    def cycle(self, replica: str, alive: list[str], members=VERSIONS) -> None:
        held = frozenset(m for m, r in self.owner.items() if r == replica)
        free = frozenset(m for m in members if m not in self.owner)
        plan = plan_leases(LeaseView(members, held, free, self.free_before.get(replica, frozenset()), len(alive)), replica)
        for m in plan.release:
            del self.owner[m]
        taken = set()
        for m in plan.acquire:
            if m not in self.owner:  # SET NX
                self.owner[m] = replica
                taken.add(m)
        self.free_before[replica] = free - taken

    def held(self, replica: str) -> set[str]:
        return {m for m, r in self.owner.items() if r == replica}


def test_two_replicas_starting_together_split_four_versions_two_and_two():
    table = Cluster()
    for _ in range(3):
        for r in ("a", "b"):
            table.cycle(r, ["a", "b"])
    assert len(table.held("a")) == 2 and len(table.held("b")) == 2
    assert set(table.owner) == VERSIONS


def test_a_replica_joining_takes_half_and_nothing_is_owned_twice():
    table = Cluster()
    table.cycle("a", ["a"])
    assert table.held("a") == set(VERSIONS)
    for _ in range(3):
        for r in ("a", "b"):
            table.cycle(r, ["a", "b"])
            assert len(table.owner) <= len(VERSIONS)  # a dict: one owner per version by construction
    assert len(table.held("a")) == 2 and len(table.held("b")) == 2


def test_a_dead_replicas_versions_are_taken_over_even_before_it_leaves_the_count():
    table = Cluster()
    for _ in range(3):
        for r in ("a", "b"):
            table.cycle(r, ["a", "b"])
    for m in table.held("b"):  # b dies: its leases expire; it is still counted alive for a while
        del table.owner[m]
    table.cycle("a", ["a", "b"])  # first sight of the free versions: a is at its share, waits a cycle
    assert len(table.held("a")) == 2
    table.cycle("a", ["a", "b"])  # free two cycles running: orphans, taken
    assert table.held("a") == set(VERSIONS)


def test_versions_that_stop_publishing_are_not_planned():
    view = LeaseView(members=frozenset({"m/1"}), held=frozenset({"m/1", "m/gone"}), free=frozenset({"m/gone"}),
                     free_before=frozenset({"m/gone"}), replicas=1)
    plan = plan_leases(view, "a")
    assert plan.acquire == () and plan.release == ()


def test_fair_share_and_lease_validity():
    assert [fair_share(n, 3) for n in (0, 1, 3, 4, 7)] == [0, 1, 1, 2, 3]
    lease = Lease("a:1", valid_until=100.0)
    assert lease.valid(99.999) and not lease.valid(100.0) and not lease.valid(150.0)
