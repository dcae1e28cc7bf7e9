"""Request and answer models of the generic routes (`/api/v1/models/{model_name}/...`), generated from a model's
declared schema (drift_client.schema): the same bodies as the fraud routes, validated by each feature's kind.

- `discrete` and `binary`: JSON integers within the range (3 and 3.0 pass, 3.5, "3" and true do not);
- `numeric`: finite JSON numbers within the range;
- `categorical`: strings of 1 to 128 characters; a category never seen in training is accepted (the monitoring
  counts it as unseen).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, create_model

from bento_service.schemas import _STRICT, MAX_BATCH_SIZE, TransactionId, _json_number_only
from drift_client.schema import FeatureSpec, ModelSchema

MAX_CATEGORY_CHARS = 128
ACTIONS = ("predict", "predict_batch", "explain", "feedback")
MODELS_ROUTE = "/api/v1/models"
ACTION_TEMPLATES = {action: f"{MODELS_ROUTE}/{{model_name}}/{action}" for action in ACTIONS}
_ACTION_PATH = re.compile(rf"^{re.escape(MODELS_ROUTE)}/([^/]+)/({'|'.join(ACTIONS)})$")


def model_action(path: str) -> tuple[str, str] | None:
    """(model_name, action) of a generic route's path, or None."""
    match = _ACTION_PATH.match(path)
    return (match.group(1), match.group(2)) if match else None


def _bounds(feature: FeatureSpec) -> dict:
    low, high = feature.range or (None, None)
    return {"ge": low, "le": high}


def feature_field(feature: FeatureSpec) -> tuple:
    """The pydantic field of one feature, by its kind."""
    doc = {"description": feature.description} if feature.description else {}
    if feature.kind == "categorical":
        return (Annotated[str, Field(strict=True, min_length=1, max_length=MAX_CATEGORY_CHARS,
                                     examples=list(feature.categories[:3]), **doc)], ...)
    if feature.kind in ("discrete", "binary"):
        return (Annotated[int, Field(**_bounds(feature), **doc), BeforeValidator(_json_number_only)], ...)
    return (Annotated[float, Field(strict=True, allow_inf_nan=False, **_bounds(feature), **doc)], ...)


@dataclass(frozen=True)
class RequestModels:
    """The four request bodies of one model."""

    features: type[BaseModel]
    predict: type[BaseModel]
    predict_batch: type[BaseModel]
    explain: type[BaseModel]
    feedback: type[BaseModel]

    def for_action(self, action: str) -> type[BaseModel]:
        return getattr(self, action)


def _model_prefix(model_name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", model_name) if part) or "Model"


def request_models(model_name: str, schema: ModelSchema) -> RequestModels:
    """Pydantic models of the bodies of `model_name`'s routes, generated from its schema."""
    prefix = _model_prefix(model_name)
    features = create_model(f"{prefix}Features", __config__=_STRICT,
                            __doc__=f"The {schema.width} inputs of {model_name}: all required.",
                            **{f.name: feature_field(f) for f in schema.features})
    single = create_model(f"{prefix}Request", __config__=_STRICT, transaction_id=(TransactionId, ...),
                          features=(features, ...))
    batch = create_model(f"{prefix}BatchRequest", __config__=_STRICT,
                         transactions=(Annotated[list[single], Field(min_length=1, max_length=MAX_BATCH_SIZE)], ...))
    feedback = create_model(f"{prefix}Feedback", __config__=_STRICT, transaction_id=(TransactionId, ...),
                            label=(Annotated[int, Field(strict=True, ge=0, le=1, description="the ground truth, 0 or 1")], ...))
    return RequestModels(features, single, batch, single, feedback)


class ModelPrediction(BaseModel):
    transaction_id: str
    score: float = Field(description="the model's score in [0, 1]")
    is_positive: bool = Field(description="score >= the model's decision threshold")
    model_version: str


class ModelBatchPrediction(BaseModel):
    predictions: list[ModelPrediction]


class ModelExplanation(BaseModel):
    transaction_id: str
    score: float
    base_value: float = Field(description="the model's expected log-odds")
    contributions: dict[str, float] = Field(description="exact TreeSHAP contribution of each feature, in log-odds")
    model_version: str


class ModelFeedbackReceipt(BaseModel):
    transaction_id: str
    label: int
    accepted: bool
    model_version: str = Field(description="the first version the label reached (the one that answered)")
    model_versions: list[str] = Field(description="every version the label reached: each that scored the transaction")
