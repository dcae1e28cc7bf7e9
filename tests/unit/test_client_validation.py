"""Issue 22, finding 4: bad rows never reach the caller's request handler as exceptions (unless strict=True); each
problem is counted by reason and logged once per reason per minute."""
from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest

from drift_client import DriftClient, profile_from_training
from drift_client.schema import FeatureSpec, ModelSchema

SCHEMA = ModelSchema((FeatureSpec("income", "numeric", (0.0, 1e6)), FeatureSpec("visits", "discrete", (0.0, 100.0)),
                      FeatureSpec("risk", "categorical", categories=("Low", "Medium"))))
GOOD = {"income": 1200.0, "visits": 3, "risk": "Low"}


@pytest.fixture(scope="module")
def reference() -> str:
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"income": rng.lognormal(7, 1, 500), "visits": rng.integers(0, 10, 500),
                          "risk": rng.choice(["Low", "Medium"], 500)})
    return profile_from_training(train, rng.random(500), None, SCHEMA, model_name="m", model_version="1").to_json()


def client(reference: str, **kw) -> DriftClient:
    return DriftClient(None, "m", "1", SCHEMA, reference, **kw)


@pytest.mark.parametrize("row, reason, column, expected", [
    ({"visits": 3, "risk": "Low"}, "missing_key", 0, math.nan),
    ({**GOOD, "income": None}, "null", 0, math.nan),
    ({**GOOD, "income": "12.5"}, "wrong_type", 0, math.nan),
    ({**GOOD, "income": True}, "wrong_type", 0, math.nan),
    ({**GOOD, "visits": 2.5}, "not_integer", 1, math.nan),
    ({**GOOD, "visits": 500}, "out_of_range", 1, 500.0),  # kept: the exporter's range check sees it
    ({**GOOD, "risk": 2}, "wrong_type", 2, math.nan),
    ({**GOOD, "risk": "High"}, "unknown_category", 2, 2.0),  # the unseen code as well: counted unseen downstream
])
def test_a_bad_value_is_counted_by_reason_never_raised(reference, row, reason, column, expected):
    c = client(reference)
    matrix = c.encode([GOOD, row])
    c.log_predictions(["a", "b"], [GOOD, row], [0.1, 0.2])  # no exception into the caller's handler
    np.testing.assert_array_equal(matrix[0], c.encode([GOOD])[0])
    assert (math.isnan(matrix[1, column]) if math.isnan(expected) else matrix[1, column] == expected)
    assert c.counters.invalid_counts == {reason: 2}  # once by encode, once by log_predictions


def test_a_score_out_of_its_domain_drops_its_row_and_is_counted(reference):
    c = client(reference)
    c.log_predictions(["a", "b", "c"], [GOOD, GOOD, GOOD], [0.5, 3.7, float("nan")])
    assert c.counters.invalid_counts == {"score": 2}


def test_misuse_is_counted_not_raised_unless_strict(reference):
    c = client(reference)
    c.log_predictions(["a", "b"], [GOOD], [0.1, 0.2])
    c.log_label("a", 59.0)
    c.log_predictions(["a"], np.zeros((1, 5)), [0.1])
    assert c.counters.invalid_counts == {"length": 1, "label": 1, "shape": 1}


def test_strict_mode_raises_naming_the_field(reference):
    c = client(reference, strict=True)
    with pytest.raises(ValueError, match="income"):
        c.log_prediction("a", {**GOOD, "income": "12.5"}, 0.5)
    with pytest.raises(ValueError, match="risk"):
        c.log_prediction("a", {**GOOD, "risk": "High"}, 0.5)
    with pytest.raises(ValueError, match="score"):
        c.log_prediction("a", GOOD, 3.7)
    with pytest.raises(ValueError, match="0 or 1"):
        c.log_label("a", 2)


def test_a_data_frame_is_validated_as_rows_are(reference):
    c = client(reference)
    frame = pd.DataFrame({"income": ["1.5", 7.0, None], "visits": [1, 2, 3], "risk": ["Low", "High", 2]})
    matrix = c.encode(frame)  # text for a number is a wrong type in a frame as in a row; None is pandas' missing value
    assert math.isnan(matrix[0, 0]) and matrix[1, 0] == 7.0 and math.isnan(matrix[2, 0])
    assert matrix[0, 2] == 0.0 and matrix[1, 2] == 2.0 and math.isnan(matrix[2, 2])
    assert c.counters.invalid_counts == {"wrong_type": 2, "unknown_category": 1}
    c.encode(frame.drop(columns=["visits"]))
    assert c.counters.invalid_counts["missing_key"] == 3


def test_each_reason_is_logged_once_a_minute(reference, caplog):
    c = client(reference)
    with caplog.at_level(logging.WARNING, logger="drift_client"):
        for _ in range(50):
            c.log_prediction("a", {**GOOD, "income": "12.5"}, 0.5)
            c.log_prediction("a", {**GOOD, "risk": "High"}, 0.5)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert any("income" in line and "wrong_type" in line for line in lines)
    assert any("risk" in line and "unknown_category" in line for line in lines)
    assert c.counters.invalid_counts == {"wrong_type": 50, "unknown_category": 50}
