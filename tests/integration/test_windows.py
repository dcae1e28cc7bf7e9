"""ModelWindow against a real redis-server: labels join their predictions whatever order they arrive in."""
from __future__ import annotations

import time

import numpy as np
import pytest
import redis

from contracts import redis_layout as layout
from exporter.windows import LABEL_GRACE_SECONDS, ModelWindow
from tests.integration.exporter_data import Publisher

pytestmark = pytest.mark.integration


@pytest.fixture
def publisher(redis_server, request):
    client = redis.Redis.from_url(redis_server.extra["url"])
    return Publisher(client, request.node.name.replace("[", "-").replace("]", ""))


def window(pub: Publisher, seconds: float = 3600.0) -> ModelWindow:
    return ModelWindow(pub.profile, pub.keys, seconds)


def predict(pub: Publisher, ids: list[str], score: float = 0.5) -> None:
    x = np.ones((len(ids), len(pub.profile.features)), np.float32)
    pub.client.xadd(pub.keys.predictions, layout.encode_predictions(
        layout.PredictionBatch(ids, np.full(len(ids), time.time()), x, np.full(len(ids), score, np.float32))))


def label(pub: Publisher, ids: list[str], labels: list[int]) -> None:
    pub.client.xadd(pub.keys.labels, layout.encode_labels(
        layout.LabelBatch(ids, np.full(len(ids), time.time()), np.array(labels, np.uint8))))


def labelled(w: ModelWindow) -> list[int]:
    return sorted(w.labelled()[0].tolist())


def test_labels_join_across_refreshes_and_survive_a_restart(publisher):
    w = window(publisher)
    predict(publisher, ["a", "b", "c"])
    w.refresh(publisher.client, time.time())
    label(publisher, ["a", "c"], [1, 0])
    w.refresh(publisher.client, time.time())
    assert labelled(w) == [0, 1]
    assert labelled(restarted := window(publisher)) == [] and restarted.refresh(publisher.client, time.time()) == 3
    assert labelled(restarted) == [0, 1]


def test_a_label_that_arrives_before_its_prediction_waits_for_it(publisher):
    w = window(publisher)
    label(publisher, ["early"], [1])
    w.refresh(publisher.client, time.time())
    assert labelled(w) == [] and len(w.pending_labels) == 1
    predict(publisher, ["early", "other"])
    w.refresh(publisher.client, time.time())
    assert labelled(w) == [1] and not w.pending_labels


def test_a_repeated_id_labels_its_newest_prediction(publisher):
    w = window(publisher)
    predict(publisher, ["dup"], score=0.1)
    predict(publisher, ["x", "dup"], score=0.9)
    label(publisher, ["dup"], [1])
    w.refresh(publisher.client, time.time())
    labels, scores = w.labelled()
    assert labels.tolist() == [1] and scores.tolist() == [pytest.approx(0.9)]


def test_expired_predictions_and_unmatched_labels_are_let_go(publisher):
    w = window(publisher, seconds=2.0)
    predict(publisher, ["old"])
    w.refresh(publisher.client, time.time())
    later = time.time() + 5
    label(publisher, ["old", "never-predicted"], [1, 0])
    w.refresh(publisher.client, later)
    assert w.state.predictions == 0 and labelled(w) == [] and len(w.index) == 0
    assert len(w.pending_labels) == 1
    w.refresh(publisher.client, later + LABEL_GRACE_SECONDS + 5)
    assert not w.pending_labels


def test_a_changed_label_replaces_the_old_one(publisher):
    w = window(publisher)
    predict(publisher, ["a", "b"])
    label(publisher, ["a", "b"], [0, 0])
    w.refresh(publisher.client, time.time())
    label(publisher, ["a"], [1])
    label(publisher, ["a"], [1])
    w.refresh(publisher.client, time.time())
    assert labelled(w) == [0, 1]


def test_sorted_labelled_scores_match_the_batches_under_random_traffic(publisher):
    rng = np.random.default_rng(5)
    w = window(publisher, seconds=3600)
    for step in range(30):
        ids = [f"r{x}" for x in rng.integers(0, 400, 40)]
        x = np.ones((len(ids), len(publisher.profile.features)), np.float32)
        publisher.client.xadd(publisher.keys.predictions, layout.encode_predictions(layout.PredictionBatch(
            ids, np.full(len(ids), time.time()), x, rng.random(len(ids)).round(2).astype(np.float32))))
        label(publisher, [f"r{x}" for x in rng.integers(0, 450, 30)], rng.integers(0, 2, 30).tolist())
        w.refresh(publisher.client, time.time())
        rows, scores, labels = w._labelled_rows()
        got_labels, got_scores = w.labelled()
        assert sorted(zip(scores.tolist(), labels.tolist())) == sorted(zip(got_scores.tolist(), got_labels.tolist()))
        assert np.all(np.diff(got_scores) >= 0)


def test_rows_with_nan_or_infinity_are_skipped_and_counted(publisher):
    from exporter.config import Config
    from exporter.snapshot import compute

    w = window(publisher)
    rng = np.random.default_rng(1)
    x = rng.random((300, len(publisher.profile.features))).astype(np.float32)
    x[3, 0], x[7, 5] = np.nan, np.inf
    scores = rng.random(300).astype(np.float32)
    scores[11] = np.nan
    ids = [f"n{i}" for i in range(300)]
    publisher.client.xadd(publisher.keys.predictions, layout.encode_predictions(
        layout.PredictionBatch(ids, np.full(300, time.time()), x, scores)))
    label(publisher, ["n3", "n4"], [1, 0])
    assert w.refresh(publisher.client, time.time()) == 297
    assert w.state.skipped_rows == 3 and labelled(w) == [0]
    snap = compute(w, Config(), time.time())
    assert snap.skipped_rows == 3 and snap.predictions == 297
    assert all(np.isfinite([f.psi, f.ks_statistic, f.current_mean]).all() for f in snap.features.values())


class FailingAfter:
    """The real client, with XRANGE failing after `calls` calls: Redis going away in the middle of a read."""

    def __init__(self, client: redis.Redis, calls: int) -> None:
        self.client, self.calls = client, calls

    def xrange(self, *args, **kwargs):
        self.calls -= 1
        if self.calls < 0:
            raise redis.ConnectionError("gone")
        return self.client.xrange(*args, **kwargs)


def test_redis_lost_in_the_middle_of_a_read_loses_nothing(publisher):
    pipe = publisher.client.pipeline()
    for i in range(1200):  # 3 XRANGE pages of 500 entries
        pipe.xadd(publisher.keys.predictions, layout.encode_predictions(layout.PredictionBatch(
            [f"m{i}"], np.array([time.time()]), np.ones((1, len(publisher.profile.features)), np.float32),
            np.array([0.5], np.float32))))
    pipe.execute()
    w = window(publisher)
    with pytest.raises(redis.ConnectionError):
        w.refresh(FailingAfter(publisher.client, calls=1), time.time())
    w.refresh(publisher.client, time.time())
    assert w.state.predictions == 1200


def test_an_extreme_value_that_left_the_window_does_not_corrupt_its_mean_and_std(publisher):
    """Finding 6: amount=1e30 in an old batch; once it expires the window's mean and std are those of what is left."""
    from exporter.config import Config
    from exporter.snapshot import compute

    t0 = time.time()
    rng = np.random.default_rng(6)
    n_features = len(publisher.profile.features)

    def add(ids: list[str], x: np.ndarray, at: float) -> None:
        publisher.client.xadd(publisher.keys.predictions, layout.encode_predictions(
            layout.PredictionBatch(ids, np.full(len(ids), at), x.astype(np.float32), np.full(len(ids), 0.1, np.float32))),
            id=f"{int(at * 1000)}-0")

    extreme = rng.lognormal(3.6, 1, (5, n_features))
    extreme[0, 0] = 1e30
    add([f"e{i}" for i in range(5)], extreme, t0 - 100)
    live = [rng.lognormal(3.6, 1, (300, n_features)) for _ in range(3)]
    for k, x in enumerate(live):
        add([f"l{k}-{i}" for i in range(300)], x, t0 - 50 + k)
    w = window(publisher, seconds=3600)
    w.refresh(publisher.client, t0)
    w.refresh(publisher.client, t0 + 3600 - 75)  # the extreme batch (t0 - 100) has left, the others have not
    assert w.state.predictions == 900
    snap = compute(w, Config(), t0)
    union = np.concatenate(live).astype(np.float32).astype(float)
    for i, name in enumerate(publisher.profile.features):
        assert snap.features[name].current_mean == pytest.approx(union[:, i].mean(), rel=1e-9), name
        assert snap.features[name].current_std == pytest.approx(union[:, i].std(), rel=1e-9), name
