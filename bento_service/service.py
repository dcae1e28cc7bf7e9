"""The BentoML service (`ModelService`): serves every model of bento_service/registry.py (each on
`/api/v1/models/{model_name}/...`, and the fraud model on its own routes as well) and publishes each model version's monitoring samples through its own client.
Each model's champion and challenger (shadow or A/B) follow its versions document in Redis
(bento_service/versions.py; `GET|PUT /api/v1/models/{model_name}/versions`, bento_service/versions_api.py).

    bentoml serve            # from the repository root (bentofile.yaml), port 8000
"""
from __future__ import annotations

import gc
import os

import bentoml
import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bento_service.guard import RequestGuard, install_known_route_metrics
from bento_service.metrics import PrometheusShadowCounters
from bento_service.model_schemas import ACTION_TEMPLATES, ACTIONS, MODELS_ROUTE
from bento_service.model_store import import_xgboost_without_sklearn, model_tag, predict_scores
from bento_service.models_api import CATALOGUE, ServedModel, action_endpoint, list_models, publisher_config
from bento_service.registry import FRAUD, MODELS
from bento_service.versions import ShadowScorer
from bento_service.versions_api import VERSIONS_TEMPLATE, document_versions_routes, start_versions_poller, versions_endpoint
from bento_service.schemas import (BatchPrediction, Explanation, Feedback, FeedbackReceipt, Prediction, Transaction,
                                   TransactionBatch, feature_matrix)
from contracts.ports import Ports
from transactions.schema import FEATURE_NAMES

LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]
_service: "ModelService | None" = None


async def health(request: Request) -> JSONResponse:
    svc = _service
    if svc is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    champion = svc.versions.plan.champion
    return JSONResponse({"status": "ok", "model": champion.name, "model_version": champion.version,
                         "publishing": champion.client.enabled})


async def model_info(request: Request) -> JSONResponse:
    if _service is None:
        return JSONResponse({"error": "model not loaded yet"}, status_code=503)
    return JSONResponse(_service.info)


routes = Starlette(routes=[
    Route("/health", health), Route("/api/v1/model", model_info), Route(MODELS_ROUTE, list_models),
    *(Route(ACTION_TEMPLATES[action], action_endpoint(action), methods=["POST"]) for action in ACTIONS),
    Route(VERSIONS_TEMPLATE, versions_endpoint, methods=["GET", "PUT"]),
])
REQUEST_MODELS = {"/api/v1/predict": Transaction, "/api/v1/predict_batch": TransactionBatch,
                  "/api/v1/explain": Transaction, "/api/v1/feedback": Feedback}
install_known_route_metrics([*REQUEST_MODELS, MODELS_ROUTE], [*ACTION_TEMPLATES.values(), VERSIONS_TEMPLATE])


def legacy_info(served: ServedModel) -> dict:
    """GET /api/v1/model: the fraud model's champion as the fraud routes describe it."""
    meta = served.metadata or {}
    return {"name": served.name, "version": served.version, "trained_at": meta.get("trained_at"),
            "features": list(FEATURE_NAMES), "metrics": meta.get("metrics"), "threshold": served.threshold,
            "calibration": meta.get("calibration")}  # reliability, Brier, ECE on the test split (None: older model)


# BentoML packs (`bentoml build`) and loads the models it finds among the service class's attributes: one attribute per
# registered model, made from the registry, so that adding a model stays one entry there.
RegisteredModels = type("RegisteredModels", (), {f"{name}_model": bentoml.models.BentoModel(model_tag(name)) for name in MODELS})


@bentoml.asgi_app(routes, path="/")
@bentoml.service(
    name="model_service",
    workers=int(os.environ.get("SERVICE_WORKERS", "1")),
    traffic={"timeout": 10},
    http={"port": Ports.from_env().service},
    logging={"access": {"enabled": os.environ.get("SERVICE_ACCESS_LOG", "true").lower() == "true"}},
    metrics={"duration": {"buckets": LATENCY_BUCKETS_SECONDS}},
)
class ModelService(RegisteredModels):
    """Every registered model on /api/v1/models/{model_name}/..., the fraud model on its own routes as well."""

    def __init__(self) -> None:
        global _service
        import_xgboost_without_sklearn()  # the worker serves Boosters: ~125 MB less (bento_service/model_store.py)
        config = publisher_config()
        shadow = ShadowScorer(counters=PrometheusShadowCounters()).start()
        for name in MODELS:
            CATALOGUE.add(ServedModel.load(getattr(self, f"{name}_model"), config), shadow)
        # the fraud routes and /api/v1/models/fraud_detector/ share one set of versions (and their clients)
        self.versions = CATALOGUE.versions[FRAUD.name]
        self.poller = start_versions_poller(config, CATALOGUE.versions)  # follows Redis from the first request on
        gc.collect()
        gc.freeze()
        _service = self

    @property
    def info(self) -> dict:
        return legacy_info(self.versions.plan.champion)

    def _score(self, ids: list[str], rows: np.ndarray) -> list[Prediction]:
        scores, answered = self.versions.score(ids, rows)
        return [
            Prediction(transaction_id=tid, fraud_probability=float(s), is_fraud=bool(s >= m.threshold),
                       model_version=m.version)
            for tid, s, m in zip(ids, scores, answered)
        ]

    @bentoml.api(route="/api/v1/predict", input_spec=Transaction)
    async def predict(self, transaction_id: str, features) -> Prediction:
        """Fraud probability of one transaction."""
        return self._score([transaction_id], feature_matrix([features]))[0]

    @bentoml.api(route="/api/v1/predict_batch", input_spec=TransactionBatch)
    async def predict_batch(self, transactions: list) -> BatchPrediction:
        """Fraud probabilities of up to 100 transactions in one call."""
        rows = feature_matrix([t.features for t in transactions])
        return BatchPrediction(predictions=self._score([t.transaction_id for t in transactions], rows))

    @bentoml.api(route="/api/v1/explain", input_spec=Transaction)
    async def explain(self, transaction_id: str, features) -> Explanation:
        """Exact TreeSHAP contributions in log-odds: base_value + sum(contributions) = logit(fraud_probability)."""
        import xgboost as xgb  # loaded by then (model_store.load_booster): not in the supervisor (issue 24)

        rows = feature_matrix([features])
        served = self.versions.answering(transaction_id)
        contribs = served.booster.predict(xgb.DMatrix(rows, feature_names=list(FEATURE_NAMES)), pred_contribs=True)[0]
        return Explanation(
            transaction_id=transaction_id,
            fraud_probability=float(predict_scores(served.booster, rows)[0]),
            base_value=float(contribs[-1]),
            contributions={name: float(v) for name, v in zip(FEATURE_NAMES, contribs[:-1])},
            model_version=served.version,
        )

    @bentoml.api(route="/api/v1/feedback", input_spec=Feedback)
    async def feedback(self, transaction_id: str, label: int) -> FeedbackReceipt:
        """Record the ground truth of an earlier prediction (it arrives later)."""
        reached = self.versions.log_label(transaction_id, int(label))
        return FeedbackReceipt(transaction_id=transaction_id, label=int(label), accepted=True, model_versions=list(reached))


ModelService.add_asgi_middleware(RequestGuard, models=REQUEST_MODELS, resolve=CATALOGUE.request_model,
                                  document=document_versions_routes)
