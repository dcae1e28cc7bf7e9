"""The stream reader against a real redis-server: incremental reads, restarts and Redis failing mid-read lose nothing.
(The window's own logic, label join and expiry, is unit-tested without a server: tests/unit/test_window.py.)"""
from __future__ import annotations

import time

import numpy as np
import pytest
import redis

from drift_client import redis_layout as layout
from contracts.policy import Policy
from exporter.reader import StreamReader
from drift.snapshot import compute
from drift.live_window import LiveWindow
from tests.helpers import Publisher

pytestmark = pytest.mark.integration


@pytest.fixture
def publisher(redis_server, request):
    client = redis.Redis.from_url(redis_server.extra["url"])
    return Publisher(client, request.node.name.replace("[", "-").replace("]", ""))


def watch(pub: Publisher, seconds: float = 3600.0) -> tuple[StreamReader, LiveWindow]:
    return StreamReader(pub.keys), LiveWindow(pub.profile, seconds, Policy().label_grace_seconds)


def predict(pub: Publisher, ids: list[str], score: float = 0.5) -> None:
    x = np.ones((len(ids), len(pub.profile.features)), np.float32)
    pub.client.xadd(pub.keys.predictions, layout.encode_predictions(
        layout.PredictionBatch(ids, np.full(len(ids), time.time()), x, np.full(len(ids), score, np.float32))))


def label(pub: Publisher, ids: list[str], labels: list[int]) -> None:
    pub.client.xadd(pub.keys.labels, layout.encode_labels(
        layout.LabelBatch(ids, np.full(len(ids), time.time()), np.array(labels, np.uint8))))


def labelled(w: LiveWindow) -> list[int]:
    return sorted(w.labelled()[0].tolist())


def test_each_refresh_reads_only_new_entries_and_a_restart_rebuilds_the_window(publisher):
    reader, w = watch(publisher)
    predict(publisher, ["a", "b", "c"])
    assert reader.refresh(publisher.client, w, time.time()) == 3
    label(publisher, ["a", "c"], [1, 0])
    assert reader.refresh(publisher.client, w, time.time()) == 0
    assert labelled(w) == [0, 1] and w.predictions == 3
    reader, restarted = watch(publisher)
    assert reader.refresh(publisher.client, restarted, time.time()) == 3
    assert labelled(restarted) == [0, 1]


def test_malformed_entries_are_skipped_and_counted_and_a_missing_value_reaches_the_snapshot(publisher):
    reader, w = watch(publisher)
    publisher.client.xadd(publisher.keys.predictions, {"n": "2", "ids": "a"})
    rng = np.random.default_rng(1)
    x = rng.random((300, len(publisher.profile.features))).astype(np.float32)
    x[3, 0] = np.nan
    publisher.client.xadd(publisher.keys.predictions, layout.encode_predictions(layout.PredictionBatch(
        [f"n{i}" for i in range(300)], np.full(300, time.time()), x, rng.random(300).astype(np.float32))))
    assert reader.refresh(publisher.client, w, time.time()) == 300
    snap = compute(w, Policy(), time.time(), reader.malformed)
    first = publisher.profile.features[0]
    assert reader.malformed == 1 and snap.malformed_entries == 1 and snap.skipped_rows == 0 and snap.predictions == 300
    assert w.column(first)[1].missing == 1
    assert all(np.isfinite([f.psi, f.current_mean]).all() for f in snap.features.values())


class FailingAfter:
    """The real client, with XRANGE failing after `calls` calls: Redis going away in the middle of a read."""

    def __init__(self, client: redis.Redis, calls: int) -> None:
        self.client, self.calls = client, calls

    def xrange(self, *args, **kwargs):
        self.calls -= 1
        if self.calls < 0:
            raise redis.ConnectionError("gone")
        return self.client.xrange(*args, **kwargs)


def test_redis_lost_in_the_middle_of_a_read_loses_nothing(publisher, monkeypatch):
    monkeypatch.setattr("exporter.reader.CHUNK_ROWS", 400)  # several chunks counted before the failure
    pipe = publisher.client.pipeline()
    for i in range(1200):  # 3 XRANGE pages of 500 entries
        pipe.xadd(publisher.keys.predictions, layout.encode_predictions(layout.PredictionBatch(
            [f"m{i}"], np.array([time.time()]), np.ones((1, len(publisher.profile.features)), np.float32),
            np.array([0.5], np.float32))))
    pipe.execute()
    reader, w = watch(publisher)
    with pytest.raises(redis.ConnectionError):
        reader.refresh(FailingAfter(publisher.client, calls=1), w, time.time())
    assert 0 < w.predictions < 1200
    reader.refresh(publisher.client, w, time.time())
    assert w.predictions == 1200
