"""DriftClient without Redis (publishing off: every call is a no-op) and profile_from_training's profile."""
from __future__ import annotations

import numpy as np
import pytest

import logins
from drift_client.reference_profile import ReferenceProfile
from drift_client import DriftClient, profile_from_training
from logins.schema import SCHEMA


@pytest.fixture(scope="module")
def train():
    return logins.generate(3000, seed=2)


def test_profile_from_training_is_the_reference_profile_of_the_encoded_frame(train):
    scores = np.linspace(0.01, 0.99, len(train))
    profile = profile_from_training(train, scores, train[logins.LABEL], SCHEMA, model_name="m", model_version="7",
                                    metrics={"roc_auc": 0.8}, threshold=0.3, trained_at="2026-01-01T00:00:00Z")
    built = ReferenceProfile.build(model_name="m", model_version="7", trained_at="2026-01-01T00:00:00Z",
                                   features=list(SCHEMA.names), metrics={"roc_auc": 0.8}, train=SCHEMA.encode_frame(train),
                                   scores=scores, labels=train[logins.LABEL].to_numpy(),
                                   importance={n: 1 / SCHEMA.width for n in SCHEMA.names}, schema=SCHEMA)
    assert profile.bins == built.bins and profile.sample == built.sample and profile.schema == built.schema
    assert profile.positive_rate == pytest.approx(train[logins.LABEL].mean())
    assert profile.threshold == 0.3 and np.isclose(profile.score_edges, 0.3, atol=1e-6).any()
    assert profile.calibrator["kind"] == "identity"
    assert len(profile.bins["country"].proportions) == len(SCHEMA["country"].categories) + 1
    assert profile.bins["country"].proportions[-1] == 0  # no unseen country in training
    assert ReferenceProfile.from_json(profile.to_json()).model_schema == SCHEMA


def test_profile_from_training_names_missing_columns(train):
    with pytest.raises(ValueError, match="country"):
        profile_from_training(train.drop(columns=["country"]), None, None, SCHEMA, model_name="m", model_version="1")


def reference_json(train) -> str:
    """The profile the client checks its schema against (issue 22: it must be the schema's own)."""
    return profile_from_training(train, None, None, SCHEMA, model_name="m", model_version="1").to_json()


def test_rows_are_encoded_by_the_schema_in_any_form(train):
    client = DriftClient(None, "m", "1", SCHEMA, reference_json(train))
    part = train.head(5)
    records = part[list(SCHEMA.names)].to_dict("records")
    expected = SCHEMA.encode_frame(part)
    np.testing.assert_array_equal(client.encode(records), expected)
    np.testing.assert_array_equal(client.encode(part), expected)
    np.testing.assert_array_equal(client.encode(expected), expected)
    assert client.encode([{**records[0], "country": "VN"}])[0, 0] == SCHEMA["country"].unseen_code
    assert client.encode(np.zeros((2, 12))).shape == (0, 8)
    assert client.counters.invalid_counts == {"unknown_category": 1, "shape": 1}  # VN above, then the width
    with pytest.raises(ValueError, match="n x 8"):  # strict mode raises (issue 22: counted otherwise)
        DriftClient(None, "m", "1", SCHEMA, reference_json(train), strict=True).encode(np.zeros((2, 12)))


def test_a_client_without_redis_is_off_and_checks_its_arguments(train):
    client = DriftClient("", "m", "1", SCHEMA, reference_json(train)).start()
    assert not client.enabled
    client.log_prediction("a", train.iloc[0].to_dict(), 0.5)
    client.log_predictions(["a", "b"], train.head(3), [0.1, 0.2, 0.3])  # counted, not raised (issue 22)
    client.log_label("a", 2)
    assert client.counters.invalid_counts == {"length": 1, "label": 1}
    strict = DriftClient("", "m", "1", SCHEMA, reference_json(train), strict=True)
    with pytest.raises(ValueError, match="must match"):
        strict.log_predictions(["a", "b"], train.head(3), [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="0 or 1"):
        strict.log_label("a", 2)
    client.stop()
