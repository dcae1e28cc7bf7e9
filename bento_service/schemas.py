"""Request bodies of the HTTP API, validated strictly: every rule names the field it rejects."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from transactions.schema import FEATURES, FEATURE_NAMES, Feature

MAX_BATCH_SIZE = 100
TransactionId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")]


def _json_number_only(value: object) -> object:
    """Integers arrive as JSON numbers: no strings ("3") and no booleans (true) coerced into counts."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a JSON number")
    return value


def _feature_field(feature: Feature) -> tuple:
    """A required, finite number within the feature's documented range; a whole number for integral features
    (3 and 3.0 are the same JSON Schema integer, 3.5 is rejected)."""
    bounds = {"ge": feature.minimum, "le": feature.maximum}
    if feature.integral:
        annotated = Annotated[int, Field(description=feature.description, **bounds), BeforeValidator(_json_number_only)]
    else:
        annotated = Annotated[float, Field(strict=True, allow_inf_nan=False, description=feature.description, **bounds)]
    return (annotated, ...)


_STRICT = ConfigDict(extra="forbid")

Features = create_model(
    "Features",
    __config__=_STRICT,
    __doc__="The 12 model inputs: all required, finite numbers within their documented ranges.",
    **{f.name: _feature_field(f) for f in FEATURES},
)


def feature_row(features: BaseModel) -> list[float]:
    return [getattr(features, name) for name in FEATURE_NAMES]


def feature_matrix(items: list[BaseModel]) -> np.ndarray:
    return np.array([feature_row(f) for f in items], dtype=np.float32).reshape(len(items), len(FEATURE_NAMES))


class Transaction(BaseModel):
    model_config = _STRICT
    transaction_id: TransactionId
    features: Features  # type: ignore[valid-type]


class TransactionBatch(BaseModel):
    model_config = _STRICT
    transactions: Annotated[list[Transaction], Field(min_length=1, max_length=MAX_BATCH_SIZE)]


class Feedback(BaseModel):
    model_config = _STRICT
    transaction_id: TransactionId
    label: Annotated[int, Field(strict=True, ge=0, le=1, description="the ground truth: 1 fraud, 0 legitimate")]


class Prediction(BaseModel):
    transaction_id: str
    fraud_probability: float = Field(description="the model's score in [0, 1]")
    is_fraud: bool = Field(description="fraud_probability >= the model's decision threshold")
    model_version: str = Field(description="the version that answered (the champion, or the challenger in A/B)")


class BatchPrediction(BaseModel):
    predictions: list[Prediction]


class Explanation(BaseModel):
    transaction_id: str
    fraud_probability: float
    base_value: float = Field(description="the model's expected log-odds")
    contributions: dict[str, float] = Field(description="exact TreeSHAP contribution of each feature, in log-odds")
    model_version: str = Field(description="the version that answered (the champion, or the challenger in A/B)")


class FeedbackReceipt(BaseModel):
    transaction_id: str
    label: int
    accepted: bool
    model_versions: list[str] = Field(description="every version the label reached: each that scored the transaction")
