"""Two `python -m exporter` replicas on one Redis share four model versions through leases (exporter.leases): each
version's drift series comes from exactly one replica at every scrape, and when the owner of a version is killed
(SIGKILL) the other exports it within two lease periods, never both at once.

Two scrapes are two instants: a hand-over between them (a joining replica, a lease renewed too late on a loaded
machine) could show a version on both without two owners at any instant, so the split is checked once it has
settled; from then on, and through the take-over, no scrape round may show a version twice. The lease TTL leaves
room for this 2-core machine's cycles: at a load of 15, 2.6 s for four versions, and a take-over is a lease TTL plus
up to two cycles (the one that finds the lease free, the one that opens and judges the version)."""
from __future__ import annotations

import re
import time

import pytest
import redis

from drift_client import redis_layout as layout
from drift_client import DriftClient
from scripts import servers
from bento_service.model_store import predict_scores
from tests.helpers import http, trained_model, wait_for
from transactions import FEATURE_NAMES, generate

pytestmark = pytest.mark.integration
TTL = 10.0
ENV = {"MONITORING_INTERVAL": "0.5", "EXPORTER_LEASE_TTL_SECONDS": str(TTL), "DRIFT_WINDOW_HOURS": "1",
       "DRIFT_SPANS": "5m", "MIN_WINDOW_SAMPLES": "100"}
VERSIONS = [f"replica-{i}" for i in range(4)]


def publish(url: str, version: str, seed: int, n: int = 300) -> None:
    """n predictions of the trained fraud model, published under `version` through drift_client as a service does."""
    booster, reference = trained_model()
    reference.model_version = version
    client = DriftClient(url, reference.model_name, version, reference.model_schema, reference.to_json()).start()
    frame = generate(n, seed=seed)
    x = frame[list(FEATURE_NAMES)].to_numpy("float32")
    client.log_predictions([f"{version}-{i}" for i in range(n)], x, predict_scores(booster, x))
    client.stop()


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


def scrape_round(replicas, settled: bool = True) -> list[tuple[set[str], set[str]]]:
    found = [exported(r) for r in replicas]
    for i, (psi, owned) in enumerate(found):
        assert psi <= owned, f"replica {i} exports series of versions it does not own: {psi - owned}"
    for version in VERSIONS if settled else ():
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
            publish(url, version, seed=i)

        def split(settled: bool) -> bool:
            found = scrape_round(replicas, settled)
            return all(sum(version in psi for psi, _ in found) == 1 for version in VERSIONS)

        wait_for(lambda: split(settled=False), timeout=60, interval=0.1)
        for _ in range(30):  # settled: every scrape, every version from exactly one replica
            assert split(settled=True)
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
