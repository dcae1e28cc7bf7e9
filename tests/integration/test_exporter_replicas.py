"""Two `python -m exporter` replicas on one Redis share four model versions through leases (exporter.leases): each
version's drift series comes from exactly one replica at every scrape, and when the owner of a version is killed
(SIGKILL) the other exports it within two lease periods, never both at once."""
from __future__ import annotations

import re
import time

import pytest
import redis

from contracts import redis_layout as layout
from scripts import servers
from tests.helpers import Publisher, http, wait_for

pytestmark = pytest.mark.integration
TTL = 2.0
ENV = {"MONITORING_INTERVAL": "0.5", "EXPORTER_LEASE_TTL_SECONDS": str(TTL), "DRIFT_WINDOW_HOURS": "1",
       "MIN_WINDOW_SAMPLES": "100"}
VERSIONS = [f"replica-{i}" for i in range(4)]


def exported(exporter) -> tuple[set[str], set[str]]:
    """(versions with an ml_drift_psi series, versions whose lease gauge is 1) on one replica's /metrics."""
    try:
        status, text = http("GET", f"{exporter.url}/metrics")
    except OSError:  # a killed replica answers nothing
        return set(), set()
    if status != 200:
        return set(), set()
    psi = set(re.findall(r'^ml_drift_psi\{[^}]*model_version="([^"]+)"', text, re.M))
    owned = set(re.findall(r'^ml_exporter_lease_owned\{[^}]*model_version="([^"]+)"[^}]*\} 1\.0$', text, re.M))
    return psi, owned


def scrape_round(replicas) -> list[tuple[set[str], set[str]]]:
    found = [exported(r) for r in replicas]
    for i, (psi, owned) in enumerate(found):
        assert psi <= owned, f"replica {i} exports series of versions it does not own: {psi - owned}"
    for version in VERSIONS:
        owners = [i for i, (_, owned) in enumerate(found) if version in owned]
        assert len(owners) <= 1, f"{version} owned by replicas {owners} at one scrape"
    return found


def test_two_replicas_share_four_versions_and_take_over_from_a_killed_one(redis_server, log_dir):
    url = redis_server.extra["url"]
    client = redis.Redis.from_url(url)
    replicas = [servers.start_exporter(log_dir, url, env={**ENV, "EXPORTER_REPLICA_ID": name}) for name in ("a", "b")]
    try:
        wait_for(lambda: client.zcard(layout.replicas_key()) == 2)  # both count each other before versions appear
        for i, version in enumerate(VERSIONS):
            Publisher(client, version).send(300, seed=i)

        def split() -> bool:
            found = scrape_round(replicas)
            return all(sum(version in psi for psi, _ in found) == 1 for version in VERSIONS)

        wait_for(split, timeout=30, interval=0.1)
        for _ in range(30):  # steady state: every scrape, every version from exactly one replica
            assert split()
            time.sleep(0.1)
        psi_a, psi_b = (psi for psi, _ in scrape_round(replicas))
        assert len(psi_a) == 2 and len(psi_b) == 2

        victim, survivor = replicas[0], replicas[1]
        orphaned = psi_a
        victim.kill()
        killed = time.monotonic()
        while True:
            psi, _ = scrape_round([survivor])[0]
            if psi == set(VERSIONS):
                break
            assert time.monotonic() - killed < 2 * TTL, f"not taken over within two lease periods: missing {set(VERSIONS) - psi}"
            time.sleep(0.05)
        took = time.monotonic() - killed
        assert orphaned <= psi and took >= TTL * 0.5  # not before the dead replica's leases could lapse
        text = http("GET", f"{survivor.url}/metrics")[1]
        assert re.search(r'^ml_exporter_lease_changes_total\{change="acquired",replica="b"\} 4\.0$', text, re.M)
    finally:
        for r in replicas:
            r.stop()
