"""`GET|PUT /api/v1/models/{model_name}/versions`: which versions of a model serve, read and changed at run time.

GET answers `{"champion", "challenger", "mode", "ab_share", "available"}` (contracts/model_versions.py). PUT takes a
JSON object of the fields to change, authorised by `Authorization: Bearer <token>`: the token is read (at each PUT,
so it can be rotated) from the file named by VERSIONS_API_TOKEN_FILE, else from VERSIONS_API_TOKEN. Neither set: PUT
is refused (403) with a message saying so. The new document is written to Redis atomically, followed at once by
this worker and within VERSIONS_POLL_SECONDS by the others (and by the service after a restart).

Answers: 401 without the token or with a wrong one (compared in constant time); 404 for a model not served; 415, 413
and 400 for a body that is not JSON, too large or not a JSON object; 400 naming the field (`field`) for an unknown
version, a share outside [0, 1], an unknown mode or a field that cannot be set; 409 naming the field when the values
fit one by one but not together (a mode without a challenger, a challenger equal to the champion); 503 when Redis is
unreachable (the change is not made; serving goes on). `document_versions_routes` adds both methods, per served
model with its loadable versions, to the service's OpenAPI document (`/docs.json`). Errors are `{"error", "detail"}` as the service's other errors.
"""
from __future__ import annotations

import hmac
import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from bento_service.guard import BodyTooLarge, is_json, read_body
from bento_service.model_schemas import MODELS_ROUTE
from bento_service.versions import ModelVersions, VersionsPoller
from contracts import model_versions
from contracts.model_versions import MODES, TOKEN_ENV, TOKEN_FILE_ENV, ConflictingVersions, InvalidVersions, VersionsState

log = logging.getLogger("bentoml.serve.versions")

VERSIONS_TEMPLATE = f"{MODELS_ROUTE}/{{model_name}}/versions"
MAX_PUT_BYTES = 4096  # five short fields
_redis = None  # the client the API and the poller share (None: REDIS_URL unset)
_prefix = model_versions.DEFAULT_PREFIX


def configured_token(environ: Mapping[str, str] = os.environ) -> bytes | None:
    """The versions API's token: the file named by VERSIONS_API_TOKEN_FILE (trailing newline dropped), else
    VERSIONS_API_TOKEN; None when neither gives a non-empty token (an unreadable file counts as none)."""
    path = environ.get(TOKEN_FILE_ENV)
    if path:
        try:
            token = Path(path).read_text().strip()
        except OSError as exc:
            log.error("%s %s unreadable (%s): PUT of versions refused", TOKEN_FILE_ENV, path, exc.strerror or exc)
            return None
        return token.encode() or None
    value = environ.get(TOKEN_ENV, "").strip()
    return value.encode() or None


def authorised(header: str | None, token: bytes) -> bool:
    """`Authorization: Bearer <token>` with the right token, compared in constant time."""
    scheme, _, given = (header or "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token)


def _error(status: int, error: str, detail: str, field: str | None = None, headers: dict | None = None) -> JSONResponse:
    body = {"error": error, "detail": detail, **({"field": field} if field else {})}
    return JSONResponse(body, status_code=status, headers=headers)


def start_versions_poller(config, models: dict[str, ModelVersions]) -> VersionsPoller | None:
    """Read the versions documents once now (a restart serves what Redis says from the first request), then poll.
    Nothing to follow without REDIS_URL: each model serves the version it started with."""
    global _redis, _prefix
    if not config.redis_url:
        return None
    from bento_service.metrics import set_versions_document_up
    from drift_client.redis_client import connect

    _redis = connect(config.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=0)
    _prefix = config.prefix
    poller = VersionsPoller(_redis, models, config.prefix, on_status=set_versions_document_up)
    poller.poll()
    share_scored_by(config, models)
    return poller.start()


def share_scored_by(config, models: dict[str, ModelVersions]) -> None:
    """Every model's "which versions scored this id" memory shared in Redis, for labels posted to other replicas."""
    from bento_service.metrics import PrometheusLabelRouteCounters
    from bento_service.scored_by_store import LOOKUP_TIMEOUT_SECONDS, SharedScoredBy
    from contracts.policy import Policy
    from drift_client.redis_client import connect

    lookups = connect(config.redis_url, socket_timeout=LOOKUP_TIMEOUT_SECONDS,
                      socket_connect_timeout=LOOKUP_TIMEOUT_SECONDS, health_check_interval=0)
    ttl = Policy.from_env().sample_retention_seconds  # a later label finds no prediction to join in the stream
    for name, versions in models.items():
        versions.scored_by = SharedScoredBy(versions.scored_by, _redis, lookups, name, ttl, config.prefix,
                                            PrometheusLabelRouteCounters()).start()


def stored_versions(model_name: str) -> list[str]:
    """The versions of `model_name` in the BentoML store, oldest first."""
    import bentoml

    try:
        found = bentoml.models.list(model_name)
    except Exception:  # an unreadable store must not fail the API: the document's own list remains
        log.exception("listing %s in the BentoML store failed", model_name)
        return []
    return [m.tag.version for m in sorted(found, key=lambda m: m.info.creation_time)]


def current_state(versions: ModelVersions, document: VersionsState | None, stored: list[str]) -> VersionsState:
    """The document completed with the store's versions; without a document, what serves now."""
    if document is None:
        plan = versions.plan
        document = versions.state or VersionsState(champion=plan.champion.version, available=(plan.champion.version,))
    return replace(document, available=tuple(dict.fromkeys((*document.available, *stored))))


def _read_document(name: str) -> VersionsState | None:
    return model_versions.load(_redis, name, _prefix) if _redis is not None else None


def _get(versions: ModelVersions) -> dict:
    try:
        document = _read_document(versions.name)
    except Exception as exc:  # Redis down: answer what this worker serves
        log.warning("versions document of %s unreadable (%s): answering the last known", versions.name, exc)
        document = None
    return current_state(versions, document, stored_versions(versions.name)).to_api()


def _put(versions: ModelVersions, changes: object) -> VersionsState:
    """Validate the change, load the versions it names, then write it atomically and follow it here at once."""
    stored = stored_versions(versions.name)

    def change(document: VersionsState | None) -> VersionsState:
        return current_state(versions, document, stored).apply(changes)

    planned = change(_read_document(versions.name))
    for role in ("champion", "challenger"):
        version = getattr(planned, role)
        if version is not None:
            try:
                versions.get(version)
            except Exception as exc:  # a stored version this code cannot serve (e.g. an older schema): the store's
                # state, not the request, is at fault, so 409 like other changes that do not fit what exists
                raise ConflictingVersions(role, f"version {version!r} cannot be loaded from the model store: {exc}") from None
    with versions.sync_lock:
        new = model_versions.update(_redis, versions.name, change, _prefix)
        versions.follow(new)
    return new


async def versions_endpoint(request: Request) -> JSONResponse:
    """GET or PUT /api/v1/models/{model_name}/versions."""
    from bento_service.models_api import CATALOGUE

    name = request.path_params["model_name"]
    if request.method == "PUT":
        refused = _refuse_unauthorised(request)
        if refused is not None:
            return refused
    versions = CATALOGUE.versions.get(name)
    if versions is None:
        served = ", ".join(CATALOGUE.versions) or "none yet"
        return _error(404, f"unknown model {name[:128]!r}", f"model_name: no model {name[:128]!r} is served (served: {served})",
                      "model_name")
    if request.method == "GET":
        return JSONResponse(await run_in_threadpool(_get, versions))
    changes = await _read_changes(request)
    if isinstance(changes, JSONResponse):
        return changes
    if _redis is None:
        return _error(503, "the versions document needs Redis", "REDIS_URL is not set: versions cannot be changed")
    try:
        new = await run_in_threadpool(_put, versions, changes)
    except ConflictingVersions as exc:  # each value fits, together they do not
        return _error(409, f"conflicting versions change: {exc}", str(exc)[:2000], exc.field)
    except InvalidVersions as exc:
        return _error(400, f"invalid versions change: {exc}", str(exc)[:2000], exc.field)
    except Exception as exc:  # Redis down or a write race lost 20 times: nothing was changed
        log.warning("versions change of %s not made: %s", name, exc)
        return _error(503, "the versions document could not be written: nothing was changed", f"{type(exc).__name__}: {exc}"[:500])
    log.info("versions of %s changed to %s (revision %d)", name, new.to_api(), new.revision)
    return JSONResponse(new.to_api())


def _refuse_unauthorised(request: Request) -> JSONResponse | None:
    token = configured_token()
    if token is None:
        return _error(403, "changing versions is disabled: no token is configured",
                      f"set {TOKEN_FILE_ENV} (a file holding the token) or {TOKEN_ENV} in the service's environment, "
                      "then send `Authorization: Bearer <token>`")
    if not authorised(request.headers.get("authorization"), token):
        return _error(401, "unauthorised: send `Authorization: Bearer <token>`",
                      f"authorization: missing or wrong bearer token (the service reads it from {TOKEN_FILE_ENV} or {TOKEN_ENV})",
                      "authorization", headers={"WWW-Authenticate": "Bearer"})
    return None


async def _read_changes(request: Request) -> object:
    """The PUT body as parsed JSON, or the 415/413/400 answer."""
    if not is_json(request.headers.get("content-type", "")):
        return _error(415, "unsupported media type: send application/json", "content-type: must be application/json",
                      "content-type")
    try:
        body = await read_body(request.receive, MAX_PUT_BYTES)
    except BodyTooLarge:
        return _error(413, f"request body larger than {MAX_PUT_BYTES} bytes", f"body over {MAX_PUT_BYTES} bytes", "body")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return _error(400, "invalid request body: not JSON", f"body: {exc}"[:300], "body")


SECURITY_SCHEME = "versionsToken"


def document_versions_routes(doc: dict) -> dict:
    """Add GET and PUT of each served model's versions route to an OpenAPI document: one path per model, so that the
    request body names exactly the versions that model can load."""
    from bento_service.models_api import CATALOGUE

    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    doc["components"].setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "http", "scheme": "bearer", "description": f"the token in {TOKEN_FILE_ENV} (a file) or {TOKEN_ENV}"}
    schemas["VersionsError"] = {"type": "object", "required": ["error", "detail"], "properties": {
        "error": {"type": "string"}, "detail": {"type": "string"}, "field": {"type": "string"}}}
    schemas["Versions"] = {"type": "object", "required": ["champion", "challenger", "mode", "ab_share", "available"],
                           "properties": {"champion": {"type": "string"}, "challenger": {"type": "string", "nullable": True},
                                          "mode": {"type": "string", "enum": list(MODES)},
                                          "ab_share": {"type": "number", "minimum": 0, "maximum": 1},
                                          "available": {"type": "array", "items": {"type": "string"}}}}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/VersionsError"}}}}
    answer = {"description": "which versions serve", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Versions"}}}}
    for name, versions in CATALOGUE.versions.items():
        loadable = sorted(set(stored_versions(name)) | set(versions.loaded))
        change = {"type": "object", "additionalProperties": False, "properties": {
            "champion": {"type": "string", "enum": loadable},
            "challenger": {"type": "string", "enum": [*loadable, None], "nullable": True},
            "mode": {"type": "string", "enum": list(MODES)},
            "ab_share": {"type": "number", "minimum": 0, "maximum": 1}}}
        doc.setdefault("paths", {})[VERSIONS_TEMPLATE.replace("{model_name}", name)] = {
            "get": {"summary": f"Which versions of {name} serve", "tags": ["Versions"], "responses": {"200": answer}},
            "put": {"summary": f"Change which versions of {name} serve", "tags": ["Versions"],
                    "security": [{SECURITY_SCHEME: []}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": change}}},
                    "responses": {"200": answer,
                                  "400": {"description": "a value that does not fit: `field` names it", **error},
                                  "401": {"description": "missing or wrong bearer token", **error},
                                  "403": {"description": "no token configured: changes are disabled", **error},
                                  "409": {"description": "values that do not fit together: `field` names one", **error},
                                  "413": {"description": f"body over {MAX_PUT_BYTES} bytes", **error},
                                  "415": {"description": "content type other than application/json", **error},
                                  "503": {"description": "Redis unreachable: nothing was changed", **error}}}}
    return doc
