"""Finding 3: the exporter's HTTP API under load: a real backlog, no thread held by a half-sent request, one
computation for identical concurrent reports, 503 + Retry-After beyond the report limit, 405 for other methods."""
from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from scripts import servers
from tests.conftest import http
from tests.helpers import Publisher

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def exporter(log_dir):
    with servers.start_redis(log_dir) as redis_srv:
        client = redis.Redis.from_url(redis_srv.extra["url"])
        for k in range(3):
            Publisher(client, f"http-{k}").send(20_000, seed=k, label_rate=0.5)
        with servers.start_exporter(log_dir, redis_srv.extra["url"], env={"MONITORING_INTERVAL": "30"}) as exp:
            yield exp


def get(url: str) -> tuple[int, dict, float]:
    import urllib.error
    import urllib.request
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, dict(r.headers), time.monotonic() - start
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), time.monotonic() - start


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(exporter, method):
    for path in ("/metrics", "/health", "/api/v1/monitoring/drift/latest"):
        status, _ = http(method, f"{exporter.url}{path}", body={})
        assert status == 405, (method, path, status)


def test_many_parallel_connections_are_all_answered(exporter):
    with ThreadPoolExecutor(100) as pool:
        results = list(pool.map(lambda _: get(f"{exporter.url}/health"), range(300)))
    assert [s for s, _, _ in results] == [200] * 300
    assert max(t for _, _, t in results) < 3.0  # a SYN dropped by a full backlog costs a 1 s+ retransmit


def test_half_sent_requests_do_not_block_the_api(exporter):
    stalled = []
    try:
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", exporter.port))
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never finished
            stalled.append(s)
        status, _, seconds = get(f"{exporter.url}/health")
        assert status == 200 and seconds < 2.0
    finally:
        for s in stalled:
            s.close()


def test_identical_concurrent_reports_are_computed_once(exporter):
    url = f"{exporter.url}/api/v1/monitoring/drift/latest?hours=0.75"
    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: get(url), range(20)))
    assert [s for s, _, _ in results] == [200] * 20
    kinds = [h.get("X-Report") or h.get("x-report") for _, h, _ in results]
    assert kinds.count("computed") == 1 and set(kinds) <= {"computed", "joined", "cached"}
    assert get(url)[1].get("x-report", get(url)[1].get("X-Report")) == "cached"


def test_reports_beyond_the_limit_get_503_with_retry_after(exporter):
    urls = [f"{exporter.url}/api/v1/monitoring/drift/latest?hours={0.2 + i / 100}" for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(get, urls))
    statuses = [s for s, _, _ in results]
    assert set(statuses) <= {200, 503} and statuses.count(200) >= 2 and 503 in statuses, statuses
    for status, headers, _ in results:
        if status == 503:
            assert int(headers.get("Retry-After") or headers.get("retry-after")) > 0
