"""A short headless Locust run (a subprocess: Locust monkey-patches the stdlib) against the real service and Redis."""
import csv
import socket
import subprocess
import time

import pytest
import redis

from drift_client import redis_layout as layout
from scripts import servers
from tests.conftest import http

pytestmark = pytest.mark.integration


def locust(service_url: str, csv_prefix, *args: str) -> subprocess.CompletedProcess:
    cmd = [str(servers.BIN / "locust"), "-f", "loadgen/locustfile.py", "--headless", "--host", service_url,
           "--csv", str(csv_prefix), "--only-summary", *args]
    return subprocess.run(cmd, cwd=servers.ROOT, capture_output=True, text=True, timeout=120)


def stats(csv_prefix) -> dict[str, dict]:
    with open(f"{csv_prefix}_stats.csv") as f:
        return {row["Name"]: row for row in csv.DictReader(f)}


def test_headless_demo_run_sends_predictions_and_feedback(log_dir, tmp_path):
    with servers.start_redis(log_dir) as redis_srv, servers.start_service(log_dir, redis_srv.extra["url"]) as svc:
        result = locust(svc.url, tmp_path / "run", "--scenario", "demo", "--drift-after", "3", "--rps", "20",
                        "--label-delay", "1", "--label-rate", "1", "--batch-share", "0.2", "--batch-size", "5", "-t", "8s")
        assert result.returncode == 0, result.stderr[-2000:]
        rows = stats(tmp_path / "run")
        assert int(rows["Aggregated"]["Failure Count"]) == 0
        assert int(rows["predict [baseline]"]["Request Count"]) > 0
        assert int(rows["predict [spec_drift]"]["Request Count"]) > 0
        assert int(rows["predict_batch [spec_drift]"]["Request Count"]) > 0
        assert int(rows["feedback"]["Request Count"]) > 0

        _, info = http("GET", f"{svc.url}/api/v1/model")
        keys = layout.Keys(info["name"], info["version"])
        client = redis.Redis.from_url(redis_srv.extra["url"])
        predicted = {i for _, f in client.xrange(keys.predictions) for i in layout.decode_predictions(f).ids}
        labelled = {i for _, f in client.xrange(keys.labels) for i in layout.decode_labels(f).ids}
        assert labelled and labelled <= predicted  # every label joins a prediction by transaction id


def test_failures_are_reported_with_the_body(log_dir, tmp_path):
    with servers.start_redis(log_dir) as redis_srv, servers.start_service(log_dir, redis_srv.extra["url"]) as svc:
        locust(f"{svc.url}/nope", tmp_path / "bad", "--rps", "5", "-t", "3s", "--label-rate", "0")
        with open(tmp_path / "bad_failures.csv") as f:
            failures = list(csv.DictReader(f))
        assert failures and all("404: Not Found" in row["Error"] for row in failures)


def test_both_models_get_their_traffic(log_dir, tmp_path):
    with servers.start_redis(log_dir) as redis_srv, servers.start_service(log_dir, redis_srv.extra["url"]) as svc:
        result = locust(svc.url, tmp_path / "both", "--model", "both", "--scenario", "baseline", "--login-scenario",
                        "unseen_country", "--rps", "10", "--label-delay", "1", "--label-rate", "1",
                        "--batch-share", "0.2", "--batch-size", "5", "-t", "6s")
        assert result.returncode == 0, result.stderr[-2000:]
        rows = stats(tmp_path / "both")
        assert int(rows["Aggregated"]["Failure Count"]) == 0
        for name in ("predict [baseline]", "login predict [unseen_country]", "login predict_batch [unseen_country]",
                     "feedback", "login feedback"):
            assert int(rows[name]["Request Count"]) > 0, name
        _, catalogue = http("GET", f"{svc.url}/api/v1/models")
        login = next(m for m in catalogue["models"] if m["name"] == "login_risk")
        keys = layout.Keys("login_risk", login["version"])
        client = redis.Redis.from_url(redis_srv.extra["url"])
        batches = [layout.decode_predictions(f) for _, f in client.xrange(keys.predictions)]
        countries = [c for b in batches for c in b.features[:, 0]]
        assert countries and len(login["features"][0]["categories"]) in countries  # VN travels as the unseen code
        labelled = {i for _, f in client.xrange(keys.labels) for i in layout.decode_labels(f).ids}
        assert labelled and labelled <= {i for b in batches for i in b.ids}


def test_a_web_port_taken_by_a_connection_fails_at_once_naming_the_cause(log_dir):
    """The CI failure: Locust's web UI lost its port to a connection's source port and the load ran on unseen."""
    with socket.create_server(("127.0.0.1", 0)) as listener, socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.connect(listener.getsockname())  # holds its port as a source port, no listener on it
        port = squatter.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="already in use"):
            servers.start_locust(log_dir, "http://127.0.0.1:9", ["--scenario", "baseline", "--rps", "1"], port)
        assert time.monotonic() - started < 30  # not the 60 s wait for an answer that cannot come
