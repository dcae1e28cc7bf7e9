"""Every served model behind one set of routes: `GET /api/v1/models` and
`POST /api/v1/models/{model_name}/predict|predict_batch|explain|feedback`.

`ServedModel` is one loaded model version: its booster, threshold, declared schema (from its reference profile),
the request models generated from that schema, and its own `DriftClient` (its own Redis keys). The Starlette
handlers below find the model by name in a `ModelCatalogue`; the request guard (bento_service/guard.py) has
already refused bodies that are not JSON, too large or invalid for that model, using `ModelCatalogue.request_model`.
Which version answers (the champion, or the challenger in A/B) is the model's `ModelVersions`' choice
(bento_service/versions.py); every answer names it in `model_version`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from bento_service.guard import validation_detail
from bento_service.metrics import PrometheusCounters
from bento_service.model_schemas import (ModelBatchPrediction, ModelExplanation, ModelFeedbackReceipt, ModelPrediction,
                                         RequestModels, model_action, request_models)
from bento_service.model_store import BOOSTER_FILE, PROFILE_FILE, load_booster, predict_scores
from bento_service.versions import ModelVersions, ShadowScorer
from drift_client import redis_layout as layout
from drift_client.reference_profile import ReferenceProfile
from drift_client.schema import ModelSchema
from drift_client import DriftClient, PublisherConfig

if TYPE_CHECKING:
    import xgboost as xgb


def publisher_config() -> PublisherConfig:
    """Where and how samples are published, from the environment (REDIS_URL unset: publishing off)."""
    return PublisherConfig(
        redis_url=os.environ.get("REDIS_URL") or None,
        prefix=os.environ.get("REDIS_PREFIX", layout.DEFAULT_PREFIX),
        retention_seconds=float(os.environ.get("SAMPLE_RETENTION_SECONDS", layout.DEFAULT_RETENTION_SECONDS)),
    )


@dataclass
class ServedModel:
    name: str
    version: str
    booster: "xgb.Booster"
    threshold: float
    schema: ModelSchema
    info: dict
    requests: RequestModels
    client: DriftClient
    metadata: dict | None = None  # the stored model's metadata (training metrics, calibration, ...)

    @classmethod
    def load(cls, stored, config: PublisherConfig) -> "ServedModel":
        """Load a model from the BentoML store (`stored`: a bentoml Model) and start its publishing client."""
        with open(stored.path_of(PROFILE_FILE)) as f:
            reference_json = f.read()
        schema = ReferenceProfile.from_json(reference_json).model_schema
        meta = stored.info.metadata
        name, version = stored.tag.name, stored.tag.version
        info = {"name": name, "version": version, "trained_at": meta["trained_at"], "metrics": meta["metrics"],
                "threshold": float(meta["threshold"]),
                "features": [{k: v for k, v in f.to_dict().items() if k != "description"} for f in schema.features]}
        client = DriftClient(config.redis_url, name, version, schema, reference_json,
                             counters=PrometheusCounters(name, version), config=config).start()
        booster = load_booster(stored.path_of(BOOSTER_FILE))
        predict_scores(booster, np.zeros((1, schema.width), np.float32))  # warm up before the first request
        return cls(name, version, booster, float(meta["threshold"]), schema, info, request_models(name, schema), client,
                   dict(meta))

    def rows(self, features: list[BaseModel]) -> np.ndarray:
        return self.schema.encode_rows(f.model_dump() for f in features)


    def explain(self, transaction_id: str, features: BaseModel) -> ModelExplanation:
        """Exact TreeSHAP contributions per feature name, in log-odds (categoricals: of their code)."""
        import xgboost as xgb  # loaded by then (load_booster): here, so that the service's supervisor does not import it

        rows = self.rows([features])
        contribs = self.booster.predict(xgb.DMatrix(rows, feature_names=list(self.schema.names)), pred_contribs=True)[0]
        return ModelExplanation(transaction_id=transaction_id, score=float(predict_scores(self.booster, rows)[0]),
                                base_value=float(contribs[-1]), model_version=self.version,
                                contributions={n: float(v) for n, v in zip(self.schema.names, contribs[:-1])})



class ModelCatalogue:
    """The served models by name; empty until the service has loaded them."""

    def __init__(self) -> None:
        self.models: dict[str, ServedModel] = {}  # the version each model started with (its schema, its routes)
        self.versions: dict[str, ModelVersions] = {}  # which versions serve, following the versions document

    def add(self, model: ServedModel, shadow: ShadowScorer | None = None,
            loader: Callable[[str, str], ServedModel] | None = None) -> None:
        self.models[model.name] = model
        self.versions[model.name] = ModelVersions(model, loader or load_version, shadow)

    def request_model(self, path: str) -> type[BaseModel] | None:
        """The request body a generic route expects (for the guard), or None: not such a route, or unknown model."""
        found = model_action(path)
        if found is None or found[0] not in self.models:
            return None
        return self.models[found[0]].requests.for_action(found[1])


CATALOGUE = ModelCatalogue()


def _error(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


async def list_models(request: Request) -> JSONResponse:
    """GET /api/v1/models: every served model with its schema, metrics and threshold."""
    if not CATALOGUE.models:
        return _error(503, "models not loaded yet", "the service is starting")
    return JSONResponse({"models": [m.info for m in CATALOGUE.models.values()]})


def load_version(name: str, version: str) -> ServedModel:
    """Version `version` of model `name` from the BentoML store, with its own publishing client."""
    import bentoml

    return ServedModel.load(bentoml.models.get(f"{name}:{version}"), publisher_config())


def score(versions: ModelVersions, ids: list[str], features: list[BaseModel]) -> list[ModelPrediction]:
    """Each transaction scored by the version that answers it (named in `model_version`)."""
    rows = versions.default.rows(features)
    scores, answered = versions.score(ids, rows)
    return [ModelPrediction(transaction_id=i, score=float(s), is_positive=bool(s >= m.threshold), model_version=m.version)
            for i, s, m in zip(ids, scores, answered)]


def feedback(versions: ModelVersions, transaction_id: str, label: int) -> ModelFeedbackReceipt:
    """The label goes to every version that scored the transaction."""
    reached = versions.log_label(transaction_id, int(label))
    return ModelFeedbackReceipt(transaction_id=transaction_id, label=int(label), accepted=True,
                                model_version=reached[0], model_versions=list(reached))


def _run(versions: ModelVersions, action: str, body: BaseModel) -> BaseModel:
    if action == "predict":
        return score(versions, [body.transaction_id], [body.features])[0]
    if action == "predict_batch":
        items = body.transactions
        return ModelBatchPrediction(predictions=score(versions, [t.transaction_id for t in items], [t.features for t in items]))
    if action == "explain":
        return versions.answering(body.transaction_id).explain(body.transaction_id, body.features)
    return feedback(versions, body.transaction_id, body.label)


def action_endpoint(action: str) -> Callable:
    """The handler of POST /api/v1/models/{model_name}/<action>."""

    async def endpoint(request: Request) -> JSONResponse:
        name = request.path_params["model_name"]
        model = CATALOGUE.models.get(name)
        if model is None:
            served = ", ".join(CATALOGUE.models) or "none yet"
            return _error(404, f"unknown model {name[:128]!r}",
                          f"model_name: no model {name[:128]!r} is served (served: {served})")
        try:  # the guard validated the body already; this only parses it
            body = model.requests.for_action(action).model_validate_json(await request.body())
        except ValidationError as exc:
            detail = validation_detail(exc)
            return _error(400, f"invalid request body: {detail}", detail)
        return JSONResponse(_run(CATALOGUE.versions[name], action, body).model_dump())

    endpoint.__name__ = f"model_{action}"
    return endpoint
