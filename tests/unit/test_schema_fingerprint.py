"""Issue 22, finding 2: a client schema that differs from its profile's is refused, and a window that cannot be judged
(no traffic, a refused stream) is never reported healthy."""
from __future__ import annotations

import json

import numpy as np
import pytest

from contracts.policy import Policy
from drift_client.reference_profile import ReferenceProfile
from drift_client.schema import FeatureSpec, ModelSchema
from drift_client import DriftClient
from drift.snapshot import compute
from drift.live_window import LiveWindow as Window

SCHEMA = ModelSchema((FeatureSpec("amount", "numeric", (0.0, 1e6)), FeatureSpec("hour", "discrete", (0.0, 23.0)),
                      FeatureSpec("country", "categorical", categories=("DE", "FR"))))


def profile(schema: ModelSchema = SCHEMA) -> ReferenceProfile:
    rng = np.random.default_rng(0)
    train = np.column_stack([rng.lognormal(3, 1, 500), rng.integers(0, 24, 500), rng.integers(0, 2, 500)]).astype(np.float32)
    return ReferenceProfile.build(model_name="m", model_version="1", trained_at="", features=list(SCHEMA.names),
                                  metrics={}, train=train, scores=rng.random(500), labels=rng.integers(0, 2, 500),
                                  importance={n: 1 / 3 for n in SCHEMA.names}, schema=schema)


def test_the_fingerprint_changes_with_what_the_exporter_reads_and_only_that():
    base = SCHEMA.fingerprint()
    assert base == ModelSchema.from_list(json.loads(json.dumps(SCHEMA.to_list()))).fingerprint()  # stable
    swapped = ModelSchema((SCHEMA.features[1], SCHEMA.features[0], SCHEMA.features[2]))
    other_kind = ModelSchema((SCHEMA.features[0], FeatureSpec("hour", "numeric", (0.0, 23.0)), SCHEMA.features[2]))
    other_categories = ModelSchema((*SCHEMA.features[:2], FeatureSpec("country", "categorical", categories=("FR", "DE"))))
    other_range = ModelSchema((FeatureSpec("amount", "numeric", (0.0, 1e5)), *SCHEMA.features[1:]))
    described = ModelSchema((FeatureSpec("amount", "numeric", (0.0, 1e6), description="USD"), *SCHEMA.features[1:]))
    assert len({base, swapped.fingerprint(), other_kind.fingerprint(), other_categories.fingerprint(),
                other_range.fingerprint()}) == 5
    assert described.fingerprint() == base  # a description is no part of the samples' meaning


def test_the_profile_carries_its_schema_fingerprint():
    built = profile()
    assert built.schema_fingerprint == SCHEMA.fingerprint()
    assert ReferenceProfile.from_json(built.to_json()).schema_fingerprint == SCHEMA.fingerprint()


def test_the_client_refuses_a_schema_that_differs_from_its_profile():
    reference = profile().to_json()
    DriftClient(None, "m", "1", SCHEMA, reference)  # the same schema: fine
    swapped = ModelSchema((SCHEMA.features[1], SCHEMA.features[0], SCHEMA.features[2]))
    with pytest.raises(ValueError, match="order"):
        DriftClient(None, "m", "1", swapped, reference)
    dropped = ModelSchema(SCHEMA.features[:2])
    with pytest.raises(ValueError, match="country"):
        DriftClient(None, "m", "1", dropped, reference)
    recoded = ModelSchema((*SCHEMA.features[:2], FeatureSpec("country", "categorical", categories=("FR", "DE"))))
    with pytest.raises(ValueError, match="country"):
        DriftClient(None, "m", "1", recoded, reference)


def test_a_window_without_traffic_is_not_judged_and_not_healthy():
    window = Window(profile(), 3600.0, 60.0)
    snap = compute(window, Policy(), now=1000.0)
    assert snap.health_status is None and not snap.judged and snap.not_judged_reason == "too_few_samples"
    assert snap.as_dict()["health_status"] is None


def test_the_client_refuses_a_profile_built_for_another_model_or_version():
    """A challenger published as version 2 with version 1's profile was exported as version 1 a second time: two
    conflicting series for one model version. The client names the mismatch instead."""
    reference = profile().to_json()  # model m, version 1
    with pytest.raises(ValueError, match="model_version.*'1'.*'2'"):
        DriftClient(None, "m", "2", SCHEMA, reference)
    with pytest.raises(ValueError, match="model_name.*'m'.*'other'"):
        DriftClient(None, "other", "1", SCHEMA, reference)
