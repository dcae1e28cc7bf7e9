"""The exporter's HTTP API as an OpenAPI 3.0 document, served at /openapi.json (and checked by schemathesis).

Built from the policy so that the documented bounds of `hours` are the ones the server enforces.

>>> from contracts.policy import Policy
>>> doc = document(Policy())
>>> doc["paths"]["/api/v1/monitoring/drift/latest"]["get"]["parameters"][0]["schema"]["maximum"]
168.0
>>> sorted(doc["paths"])
['/api/v1/monitoring/comparison', '/api/v1/monitoring/drift/latest', '/health', '/metrics', '/openapi.json']
"""
from __future__ import annotations

from contracts.policy import Policy

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}, "field": {"type": "string"}}}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
MODEL_REPORT = {
    "type": "object",
    "description": "One model version's window: sizes, per-feature drift figures, prediction drift, performance, health.",
    "required": ["model_name", "model_version", "predictions", "labels", "enough_samples", "features"],
    "properties": {
        "model_name": {"type": "string"}, "model_version": {"type": "string"},
        "window_hours": {"type": "number"}, "predictions": {"type": "integer", "minimum": 0},
        "labels": {"type": "integer", "minimum": 0}, "enough_samples": {"type": "boolean"},
        "health_status": {"type": "integer", "enum": [0, 1, 2, None], "nullable": True,
                          "description": "0 healthy, 1 warning, 2 critical; null while the window is not judged"},
        "judged": {"type": "boolean"},
        "not_judged_reason": {"type": "string", "enum": ["", "too_few_samples", "schema_mismatch"]},
        "features": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {"application/json": {"schema": schema}}}
    return {**answer, "headers": headers} if headers else answer


def document(policy: Policy) -> dict:
    """The OpenAPI document of the exporter's GET-only API under `policy` (its window and retention)."""
    hours = {"name": "hours", "in": "query", "required": False,
             "description": f"window length in hours (default {policy.window_hours:g}, the live window); another value is "
                            "computed on demand from Redis and cached for one monitoring interval",
             "schema": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": policy.max_report_hours}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "ml-drift-monitor drift exporter", "version": "1",
                 "description": "Prometheus metrics, health and the drift report of every model version publishing to Redis."},
        "paths": {
            "/api/v1/monitoring/drift/latest": {"get": {
                "operationId": "driftReport", "summary": "the drift report of every watched model version",
                "parameters": [hours],
                "responses": {
                    "200": _json({"type": "object", "required": ["window_hours", "models"],
                                  "properties": {"window_hours": {"type": "number"},
                                                 "models": {"type": "array", "items": MODEL_REPORT}}}, "the report"),
                    "400": _json(ERROR, "`hours` is not a number in (0, retention]"),
                    "503": _json(ERROR, "Redis unavailable, or too many different reports being computed", RETRY_AFTER),
                }}},
            "/api/v1/monitoring/comparison": {"get": {
                "operationId": "versionComparison",
                "summary": "champion vs challenger of every model that has one, on the live window (DeLong)",
                "responses": {
                    "200": _json({"type": "object", "required": ["window_hours", "models"],
                                  "properties": {"window_hours": {"type": "number"},
                                                 "models": {"type": "array", "items": {"type": "object"}}}},
                                 "one entry per compared model: versions, mode, both AUCs and APs, the difference, its "
                                 "interval and p-value, whether the challenger wins"),
                }}},
            "/health": {"get": {
                "operationId": "health", "summary": "the exporter's own health",
                "responses": {
                    "200": _json({"type": "object", "required": ["status", "redis_up", "models"],
                                  "properties": {"status": {"type": "string"}, "redis_up": {"type": "boolean"},
                                                 "models": {"type": "array", "items": {"type": "string"}},
                                                 "last_success_timestamp_seconds": {"type": "number"}}}, "Redis reachable"),
                    "503": _json({"type": "object", "required": ["status", "redis_up"]}, "Redis unreachable"),
                }}},
            "/metrics": {"get": {
                "operationId": "metrics", "summary": "Prometheus text exposition",
                "responses": {"200": {"description": "the metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {
                "operationId": "openapi", "summary": "this document",
                "responses": {"200": _json({"type": "object"}, "the OpenAPI document")}}},
        },
    }
