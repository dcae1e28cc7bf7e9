"""Pure parts of the generic model routes: path parsing, metric labels by template, generated request models."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from bento_service.guard import route_labeller
from bento_service.limits import UNMATCHED_ENDPOINT
from bento_service.model_schemas import ACTION_TEMPLATES, model_action, request_models
from drift_client.schema import FeatureSpec, ModelSchema
from logins.schema import SCHEMA as LOGIN_SCHEMA


def test_model_action_parses_only_the_four_routes():
    assert model_action("/api/v1/models/login_risk/predict") == ("login_risk", "predict")
    assert model_action("/api/v1/models/m-1/predict_batch") == ("m-1", "predict_batch")
    for path in ("/api/v1/models", "/api/v1/models/x/score", "/api/v1/models/a/b/predict", "/api/v1/models//explain",
                 "/api/v1/models/x/feedback/"):
        assert model_action(path) is None, path


def test_metric_labels_are_bounded_by_the_templates():
    label = route_labeller(["/api/v1/predict"], ACTION_TEMPLATES.values())
    assert label("/api/v1/predict") == "/api/v1/predict"
    assert label("/api/v1/models/anything/explain") == "/api/v1/models/{model_name}/explain"
    assert label("/api/v1/models/a/b/explain") == UNMATCHED_ENDPOINT
    assert {label(f"/api/v1/models/{i}/predict") for i in range(1000)} == {"/api/v1/models/{model_name}/predict"}


def test_request_models_follow_each_kind():
    schema = ModelSchema((FeatureSpec("n", "numeric"), FeatureSpec("c", "categorical", categories=("a",))))
    predict = request_models("m", schema).predict
    assert predict.model_validate_json(json.dumps({"transaction_id": "t", "features": {"n": -1e300, "c": "zz"}}))
    with pytest.raises(ValidationError, match="features.n"):
        predict.model_validate_json('{"transaction_id": "t", "features": {"n": Infinity, "c": "a"}}')
    login = request_models("login_risk", LOGIN_SCHEMA)
    properties = login.features.model_json_schema()["properties"]
    assert properties["hour_of_day"]["type"] == "integer" and properties["hour_of_day"]["maximum"] == 23
    assert properties["country"]["type"] == "string" and properties["ip_risk_score"]["type"] == "number"
    assert login.for_action("feedback").model_fields.keys() == {"transaction_id", "label"}
