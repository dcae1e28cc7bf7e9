"""Issue 22, finding 5: the client says when publishing is off, and with Redis down logs at most one warning per
interval, none when there is nothing to send (it logged about 5 a second either way)."""
from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from drift_client import DriftClient, PublisherConfig, profile_from_training
from drift_client.schema import FeatureSpec, ModelSchema
from scripts.servers import free_port

SCHEMA = ModelSchema((FeatureSpec("x", "numeric", (-10.0, 10.0)),))


def reference(version: str = "1") -> str:
    train = pd.DataFrame({"x": np.random.default_rng(0).normal(size=300)})
    return profile_from_training(train, None, None, SCHEMA, model_name="m", model_version=version).to_json()


def test_publishing_off_is_said_once(caplog):
    with caplog.at_level(logging.INFO, logger="drift_client"):
        client = DriftClient(None, "m", "1", SCHEMA, reference())
    assert not client.enabled
    assert [r.levelno for r in caplog.records] == [logging.INFO] and "publishing is off" in caplog.records[0].getMessage()


def test_redis_down_logs_once_per_interval_and_nothing_when_idle(caplog):
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    config = PublisherConfig(dead, flush_interval=0.05, heartbeat_interval=0.05, socket_timeout=0.1)
    with caplog.at_level(logging.WARNING, logger="drift_client"):
        idle = DriftClient(dead, "m", "idle", SCHEMA, reference("idle"), config=config).start()
        time.sleep(1.0)
        idle.stop()
        assert caplog.records == [] and idle.counters.redis_is_up is False
        busy = DriftClient(dead, "m", "busy", SCHEMA, reference("busy"), config=config).start()
        for i in range(20):
            busy.log_prediction(f"p{i}", {"x": 0.5}, 0.5)
            time.sleep(0.05)
        busy.stop()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "not published" in lines[0], lines
    assert busy.counters.dropped_total == 20 and busy.counters.published_total == 0
