"""The retraining trigger with real servers: Alertmanager routes ModelPerformanceDegraded to the webhook, an alert
storm starts exactly one job (the lock while it runs, the cooldown after), the outcome is a metric and a notification.

The job here is a stand-in command that holds the real lock for two seconds (the trigger is under test, not the
training: tests/integration/test_retrain_job.py runs the real one)."""
from __future__ import annotations

import datetime as dt
import sys
import threading
import time

import pytest
import redis

from retrain import admission
from scripts import servers
from scripts.render_alertmanager import write
from tests.conftest import http
from tests.helpers import series

pytestmark = pytest.mark.integration

JOB = ("import os, sys, time, redis; from retrain.admission import Lock; "
       "lock = Lock(redis.Redis.from_url(os.environ['REDIS_URL']), sys.argv[sys.argv.index('--model') + 1]); "
       "ok = lock.acquire(); time.sleep(2); lock.release(); sys.exit(0 if ok else 4)")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    logs = tmp_path_factory.mktemp("retrain-webhook")
    with servers.start_webhook_receiver(logs) as sink:
        am_port = servers.free_port()
        hook = servers.start_retrain_webhook(
            logs, redis_server.extra["url"], args=["--cooldown", "30"],
            env={"RETRAIN_COMMAND": f"{sys.executable} -c \"{JOB}\"", "ALERTMANAGER_URL": f"http://127.0.0.1:{am_port}"})
        with hook:
            config = write(logs / "am" / "alertmanager.yml", {"WEBHOOK_URL": f"{sink.url}/alerts",
                                                              "RETRAIN_WEBHOOK_URL": f"{hook.url}/alerts"})
            with servers.start_alertmanager(logs, config, am_port) as am:
                yield am, hook, sink, redis.Redis.from_url(redis_server.extra["url"])


def alert(name: str, model: str, version: str) -> dict:
    now = dt.datetime.now(dt.timezone.utc)
    return {"labels": {"alertname": name, "severity": "critical", "model_name": model, "model_version": version},
            "annotations": {"summary": "ROC AUC fell"}, "startsAt": now.isoformat(),
            "endsAt": (now + dt.timedelta(minutes=5)).isoformat()}


def metric(hook_url: str, name: str, **labels) -> float:
    return series(http("GET", f"{hook_url}/metrics")[1], name, **labels) or 0.0


def wait(predicate, timeout: float = 40.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_an_alert_storm_starts_one_retraining(stack):
    am, hook, sink, client = stack
    client.delete(admission.cooldown_key("fraud_detector"), admission.lock_key("fraud_detector"))
    # through Alertmanager: 20 versions' alerts in one group
    status, _ = http("POST", f"{am.url}/api/v2/alerts", [alert("ModelPerformanceDegraded", "fraud_detector", f"v{i}") for i in range(20)])
    assert status == 200
    # and straight at the webhook, 20 at once, as a storm of repeated notifications would
    body = {"status": "firing", "alerts": [{"status": "firing", "labels": alert("ModelPerformanceDegraded", "fraud_detector", "v0")["labels"]}]}
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(http("POST", f"{hook.url}/alerts", body)[1])) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 20, "every notification of the storm is answered (none reset by a full listen backlog)"
    assert wait(lambda: metric(hook.url, "ml_retraining_runs_total", model_name="fraud_detector", outcome="succeeded") == 1)
    time.sleep(1)
    assert metric(hook.url, "ml_retraining_triggers_total", model_name="fraud_detector", decision="start") == 1
    decisions = [a["decisions"]["fraud_detector"] for a in answers]
    assert set(decisions) <= {"start", "running", "cooldown"} and decisions.count("start") <= 1
    assert metric(hook.url, "ml_retraining_in_progress", model_name="fraud_detector") == 0
    assert metric(hook.url, "ml_retraining_last_duration_seconds", model_name="fraud_detector") >= 2
    # after the run, still in the cooldown: nothing starts
    assert http("POST", f"{hook.url}/alerts", body)[1]["decisions"] == {"fraud_detector": "cooldown"}
    # the start reached people through Alertmanager
    assert wait(lambda: _started_notified(sink))


def _started_notified(sink) -> bool:
    for entry in http("GET", f"{sink.url}/alerts")[1]["notifications"]:
        notification = entry.get("notification", entry)
        for a in notification.get("alerts", []):
            if a["labels"]["alertname"] == "ModelRetrainingStarted" and a["labels"]["model_name"] == "fraud_detector":
                return True
    return False


def test_a_running_job_holds_the_lock(stack):
    _, hook, _, client = stack
    model = "login_risk"
    client.delete(admission.cooldown_key(model), admission.lock_key(model))
    held = admission.Lock(client, model)
    assert held.acquire()
    try:
        body = {"alerts": [{"status": "firing", "labels": {"alertname": "ModelPerformanceDegraded", "model_name": model}}]}
        assert http("POST", f"{hook.url}/alerts", body)[1]["decisions"] == {model: "running"}
        assert not admission.Lock(client, model).acquire()  # `make retrain` by hand refuses too
    finally:
        held.release()
    assert not client.exists(admission.lock_key(model))


def test_other_alerts_and_bad_bodies_start_nothing(stack):
    _, hook, _, _ = stack
    body = {"alerts": [{"status": "firing", "labels": {"alertname": "FeatureDrift", "severity": "critical", "model_name": "m"}},
                       {"status": "resolved", "labels": {"alertname": "ModelPerformanceDegraded", "model_name": "m"}},
                       {"status": "firing", "labels": {"alertname": "ModelPerformanceDegraded"}}]}
    assert http("POST", f"{hook.url}/alerts", body)[1]["decisions"] == {}
    assert http("POST", f"{hook.url}/alerts", [1, 2])[0] == 400
    status, _ = http("POST", f"{hook.url}/elsewhere", {})
    assert status == 404
