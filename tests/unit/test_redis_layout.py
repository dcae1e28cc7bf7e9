import numpy as np
import pytest

from drift_client import redis_layout as layout


def _batch(n=5):
    rng = np.random.default_rng(0)
    return layout.PredictionBatch(
        ids=[f"t{i}" for i in range(n)], times=rng.random(n) + 1.7e9,
        features=rng.random((n, 12)).astype(np.float32), scores=rng.random(n).astype(np.float32),
    )


def test_prediction_batch_round_trips():
    batch = _batch()
    fields = {k.encode(): v for k, v in layout.encode_predictions(batch).items()}
    back = layout.decode_predictions(fields)
    assert back.ids == batch.ids
    np.testing.assert_array_equal(back.features, batch.features)
    np.testing.assert_array_equal(back.scores, batch.scores)
    np.testing.assert_array_equal(back.times, batch.times)


def test_class_probabilities_round_trip():
    batch = layout.PredictionBatch(["a", "b"], np.array([1.0, 2.0]), np.zeros((2, 3), np.float32),
                                   np.array([2, 0], np.float32), np.array([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]], np.float32))
    back = layout.decode_predictions(layout.encode_predictions(batch))
    np.testing.assert_array_equal(back.probabilities, batch.probabilities)
    assert layout.decode_predictions(layout.encode_predictions(_batch())).probabilities is None


def test_label_batch_round_trips():
    batch = layout.LabelBatch(["a", "b"], np.array([1.0, 2.0]), np.array([0, 1], dtype=np.uint8))
    back = layout.decode_labels(layout.encode_labels(batch))
    assert back.ids == ["a", "b"] and back.labels.tolist() == [0, 1]


@pytest.mark.parametrize("damage", ["drop_scores", "short_features", "bad_n", "ids_mismatch"])
def test_malformed_entries_raise_malformed_entry(damage):
    fields = layout.encode_predictions(_batch())
    if damage == "drop_scores":
        del fields["scores"]
    elif damage == "short_features":
        fields["features"] = fields["features"][:-4]
    elif damage == "bad_n":
        fields["n"] = b"five"
    else:
        fields["ids"] = b"only-one"
    with pytest.raises(layout.MalformedEntry):
        layout.decode_predictions(fields)


def test_labels_other_than_0_1_are_malformed():
    batch = layout.LabelBatch(["a"], np.array([1.0]), np.array([7], dtype=np.uint8))
    with pytest.raises(layout.MalformedEntry):
        layout.decode_labels(layout.encode_labels(batch))


def test_keys_are_namespaced_by_model_and_version():
    keys = layout.Keys("fraud", "v1")
    assert keys.predictions == "drift:{fraud:v1}:predictions"
    assert layout.Keys.from_member(keys.member) == keys
    assert layout.entry_time_seconds(b"1700000000123-4") == pytest.approx(1700000000.123)


def test_version_2_entries_carry_their_width_and_other_versions_are_malformed():
    narrow = layout.PredictionBatch(["a", "b"], np.zeros(2), np.array([[1, 2, 3], [4, 5, 6]], np.float32), np.zeros(2, np.float32))
    fields = layout.encode_predictions(narrow)
    assert fields["v"] == b"2" and fields["width"] == b"3"
    assert layout.decode_predictions(fields, width=3).features.tolist() == [[1, 2, 3], [4, 5, 6]]
    with pytest.raises(layout.MalformedEntry, match="3 features wide, the model's schema has 12"):
        layout.decode_predictions(fields, width=12)
    legacy = {k: v for k, v in layout.encode_predictions(layout.PredictionBatch(
        ["c"], np.zeros(1), np.arange(12, dtype=np.float32).reshape(1, 12), np.zeros(1, np.float32))).items() if k not in ("v", "width")}
    with pytest.raises(layout.MalformedEntry, match="field 'v'"):  # version 1 (no `v`, no `width`): skipped and counted
        layout.decode_predictions(legacy, width=12)
    with pytest.raises(layout.MalformedEntry, match="field 'v'"):
        layout.decode_predictions({**fields, "v": b"3"}, width=3)
    with pytest.raises(layout.MalformedEntry):
        layout.decode_predictions({**fields, "width": b"zero"})


def test_every_key_of_a_model_version_lives_in_one_cluster_slot():
    from redis.crc import key_slot

    keys = layout.Keys("fraud_detector", "3roq7oxjdksusax4")
    names = [keys.reference, keys.predictions, keys.labels, keys.profile(29_000_000), keys.profiled,
             keys.publish_token("abc"), keys.lease, keys.lease_epoch]
    assert len({key_slot(k.encode()) for k in names}) == 1
    assert key_slot(layout.Keys("fraud_detector", "other").predictions.encode()) != key_slot(keys.predictions.encode())
