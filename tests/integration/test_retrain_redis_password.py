"""The retraining loop's own Redis clients (`python -m retrain`, the retraining webhook) through a password, as
`make up` runs Redis: REDIS_URL without the password plus REDIS_PASSWORD_FILE, like the service and the exporter.
Before the fix both built their client with redis.Redis.from_url(REDIS_URL) and got NOAUTH on the demo's Redis."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scripts import servers
from tests.helpers import http

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secured_redis(tmp_path_factory):
    run = tmp_path_factory.mktemp("retrain-secured")
    password_file = servers.ensure_secret(run / "secrets" / "redis_password")
    with servers.start_redis(run / "logs", options=servers.RedisOptions(password_file=password_file)) as srv:
        yield srv


def test_retrain_commands_read_the_password_file(secured_redis):
    env = {**secured_redis.extra["client_env"], "ALERTMANAGER_URL": ""}
    assert "@" not in env["REDIS_URL"] and env["REDIS_PASSWORD_FILE"]
    done = subprocess.run([sys.executable, "-m", "retrain", "status", "--model", "fraud_detector"],
                          env={**servers.os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(done.stdout) == {"versions": None, "previous_champion": None, "comparison": None}


def test_retrain_webhook_takes_its_lock_through_the_password(secured_redis, tmp_path):
    env = {**secured_redis.extra["client_env"], "ALERTMANAGER_URL": "", "RETRAIN_COMMAND": "true"}  # the job: a no-op
    with servers.start_retrain_webhook(tmp_path, env["REDIS_URL"], env=env) as hook:
        alert = {"labels": {"alertname": "ModelPerformanceDegraded", "model_name": "fraud_detector"}, "status": "firing"}
        status, body = http("POST", f"{hook.url}/alerts", {"alerts": [alert]})
        assert (status, body) == (200, {"decisions": {"fraud_detector": "start"}}), (status, body)
