"""Retraining reads labelled traffic from a real redis-server: the window is cut by the entries' Redis time, labels
are joined across versions, a batch of another width is skipped and counted."""
from __future__ import annotations

import time
import uuid

import numpy as np
import pytest
import redis

from drift_client import redis_layout as layout
from exporter.labelled_traffic import read_labelled_traffic

WIDTH = 4


@pytest.fixture
def client(redis_server):
    client = redis.Redis.from_url(redis_server.extra["url"])
    yield client
    client.flushdb()


def publish(client, keys, entry_seconds, ids, label_values=None, width=WIDTH):
    """One predictions batch (and optionally its labels) as stream entries stamped at `entry_seconds`."""
    client.sadd(layout.models_key(), keys.member)
    n = len(ids)
    batch = layout.PredictionBatch(ids, np.full(n, entry_seconds), np.full((n, width), entry_seconds % 1000, np.float32),
                                   np.full(n, 0.3, np.float32))
    stamp = f"{int(entry_seconds * 1000)}-{uuid.uuid4().int % 1000}"
    client.xadd(keys.predictions, layout.encode_predictions(batch), id=stamp)
    if label_values is not None:
        labels = layout.LabelBatch(ids, np.full(n, entry_seconds + 5), np.array(label_values, np.uint8))
        client.xadd(keys.labels, layout.encode_labels(labels), id=f"{int((entry_seconds + 5) * 1000)}-{uuid.uuid4().int % 1000}")


def test_window_respected_and_labels_joined_across_versions(client):
    now = time.time()
    champion, challenger = layout.Keys("fraud_detector", "v1"), layout.Keys("fraud_detector", "v2")
    other_model = layout.Keys("login_risk", "v1")
    publish(client, champion, now - 3 * 3600, ["old1", "old2"], [1, 0])  # before the window
    publish(client, champion, now - 1800, ["a", "b", "c"], [1, 0, 0])
    publish(client, challenger, now - 1800 + 0.5, ["a", "b", "c"])  # shadow: the same transactions, no labels of its own
    publish(client, challenger, now - 600, ["d", "e"], [0, 1])
    publish(client, champion, now - 300, ["unlabelled"])
    publish(client, other_model, now - 60, ["x"], [1])
    traffic, malformed = read_labelled_traffic(client, "fraud_detector", hours=2, now=now, width=WIDTH)
    assert traffic.ids == ["a", "b", "c", "d", "e"]
    assert traffic.labels.tolist() == [1, 0, 0, 0, 1]
    assert malformed == 0
    assert np.all(traffic.times >= now - 2 * 3600)
    narrower, _ = read_labelled_traffic(client, "fraud_detector", hours=0.25, now=now, width=WIDTH)
    assert narrower.ids == ["d", "e"]


def test_a_batch_of_another_width_is_skipped_and_counted(client):
    now = time.time()
    keys = layout.Keys("fraud_detector", "v1")
    publish(client, keys, now - 100, ["a"], [1])
    publish(client, keys, now - 90, ["b"], [0], width=WIDTH + 1)
    traffic, malformed = read_labelled_traffic(client, "fraud_detector", hours=1, now=now, width=WIDTH)
    assert traffic.ids == ["a"] and malformed == 1
    assert traffic.features.shape == (1, WIDTH)


def test_no_traffic_gives_an_empty_set_of_the_right_width(client):
    traffic, malformed = read_labelled_traffic(client, "fraud_detector", hours=1, now=time.time(), width=WIDTH)
    assert len(traffic) == 0 and traffic.features.shape == (0, WIDTH) and malformed == 0


def test_many_pages_are_read(client):
    now = time.time()
    keys = layout.Keys("fraud_detector", "v1")
    for i in range(1200):  # more than two XRANGE pages
        publish(client, keys, now - 1000 + i * 0.5, [f"t{i}"], [i % 2])
    traffic, _ = read_labelled_traffic(client, "fraud_detector", hours=1, now=now, width=WIDTH)
    assert len(traffic) == 1200 and traffic.positives == 600
