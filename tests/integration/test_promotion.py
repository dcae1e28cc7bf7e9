"""Promotion and rollback by command against a real redis-server: --if-wins decides on the live comparison, a
promotion keeps the old champion for a one-command rollback, both notify through a real Alertmanager."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
import redis

from contracts import model_versions as versions
from drift_client import redis_layout as layout
from scripts import servers
from scripts.render_alertmanager import write
from tests.helpers import http, wait_for

pytestmark = pytest.mark.integration
MODEL = "promo_model"


@pytest.fixture(scope="module")
def env(log_dir, redis_server):
    with servers.start_webhook_receiver(log_dir) as sink:
        config = write(log_dir / "am-promo" / "alertmanager.yml", {"WEBHOOK_URL": f"{sink.url}/alerts"})
        with servers.start_alertmanager(log_dir, config) as am:
            yield redis.Redis.from_url(redis_server.extra["url"]), sink, {
                **os.environ, "REDIS_URL": redis_server.extra["url"], "ALERTMANAGER_URL": am.url,
                "PROMOTION_MIN_LABELLED": "1000", "PROMOTION_MIN_POSITIVES": "20"}


def run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "retrain", *args, "--model", MODEL], env=env, capture_output=True, text=True)


def publish(client, version, ids, scores, labels):
    keys = layout.Keys(MODEL, version)
    now = np.full(len(ids), time.time())
    client.xadd(keys.predictions, layout.encode_predictions(layout.PredictionBatch(ids, now, np.zeros((len(ids), 1), np.float32), scores)))
    client.xadd(keys.labels, layout.encode_labels(layout.LabelBatch(ids, now, labels)))


def notified(sink, alertname) -> bool:
    return any(a["labels"]["alertname"] == alertname and a["labels"].get("model_name") == MODEL
               for e in http("GET", f"{sink.url}/alerts")[1]["notifications"]
               for a in e.get("notification", e).get("alerts", []))


def test_promote_if_wins_then_rollback(env):
    client, sink, environ = env
    rng = np.random.default_rng(0)
    n = 3000
    y = (rng.random(n) < 0.1).astype(np.uint8)
    ids = [f"p{i}" for i in range(n)]
    weak = (rng.normal(size=n) + 0.5 * y).astype(np.float32)
    strong = (rng.normal(size=n) + 2.0 * y).astype(np.float32)
    versions.save(client, MODEL, versions.VersionsState("old", "new", "shadow", 0.0, ("old", "new")))
    publish(client, "old", ids[:500], weak[:500], y[:500])
    publish(client, "new", ids[:500], strong[:500], y[:500])
    too_early = run(environ, "promote", "--if-wins")
    assert too_early.returncode == 5 and "not promoted" in too_early.stdout  # 500 labelled: not enough yet
    publish(client, "old", ids[500:], weak[500:], y[500:])
    publish(client, "new", ids[500:], strong[500:], y[500:])
    status = run(environ, "status")
    assert '"challenger_wins": true' in status.stdout
    promoted = run(environ, "promote", "--if-wins")
    assert promoted.returncode == 0, promoted.stderr
    state = versions.load(client, MODEL)
    assert (state.champion, state.challenger, state.mode, state.previous_champion) == ("new", None, "off", "old")
    assert wait_for(lambda: notified(sink, "ModelPromoted"), timeout=30)
    back = run(environ, "rollback")
    assert back.returncode == 0 and versions.load(client, MODEL).champion == "old"
    assert wait_for(lambda: notified(sink, "ModelRolledBack"), timeout=30)
    again = run(environ, "rollback")
    assert again.returncode == 2 and "previous_champion" in again.stderr


def test_promote_without_a_challenger_is_refused(env):
    client, _, environ = env
    versions.save(client, MODEL, versions.VersionsState("old", None, "off", 0.0, ("old",)))
    result = run(environ, "promote")
    assert result.returncode == 2 and "challenger" in result.stderr
