"""ASGI middleware in front of the service's JSON API: refuse what would cost before it costs.

`RequestGuard` (added with BentoML's `Service.add_asgi_middleware`) answers, for the POST API routes:
415 unless the body is JSON, 413 as soon as the body passes MAX_BODY_BYTES (before anything is parsed),
400 with a string `detail` naming the fields when the body does not validate; each refusal is one
WARNING line with the route and the reasons, never the rejected values. Valid requests go on to BentoML
with their body replayed. It also completes the OpenAPI document (`/docs.json`) with these answers.

`KnownRouteMetrics` replaces BentoML's request-metrics middleware (the outermost layer, which labels by
raw path) by one that labels a path with a parameter by its route template (`/api/v1/models/{model_name}/predict`)
and unknown paths as one `unmatched` endpoint.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Awaitable, Callable, Iterable

from pydantic import BaseModel, ValidationError

from bento_service.limits import INFRASTRUCTURE_PATHS, MAX_BODY_BYTES, UNMATCHED_ENDPOINT

Scope = dict
Message = dict
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Under BentoML's "bentoml" logger so the line gets its format and handlers.
log = logging.getLogger("bentoml.serve.rejected")
MAX_REASON_CHARS = 300


def is_json(content_type: str) -> bool:
    """application/json, with or without parameters (charset)."""
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def validation_detail(error: ValidationError) -> str:
    """'field.path: message; ...' without the rejected values (they may be large or sensitive)."""
    parts = []
    for e in error.errors(include_input=False, include_url=False):
        where = ".".join(str(p)[:64] for p in e["loc"]) or "body"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


class BodyTooLarge(Exception):
    pass


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body, or BodyTooLarge as soon as it passes `limit` bytes."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body to the app, then defers to the real one."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


async def send_json(send: Send, status: int, body: dict, headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


class RequestGuard:
    """Content type, size and schema checks for the POST routes in `models` (route -> request model), and for the
    paths `resolve` maps to a request model (routes with parameters, e.g. one per served model)."""

    def __init__(self, app: ASGIApp, models: dict[str, type[BaseModel]], max_body_bytes: int = MAX_BODY_BYTES,
                 resolve: Callable[[str], type[BaseModel] | None] | None = None,
                 document: Callable[[dict], dict] | None = None) -> None:
        self.app = app
        self.models = models
        self.max_body_bytes = max_body_bytes
        self.resolve = resolve
        self.document = document  # adds routes BentoML does not know about to the OpenAPI document

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if path == "/docs.json" and scope["method"] == "GET":
            return await self._documented(scope, receive, send)
        model = self.models.get(path)
        if model is None and self.resolve is not None and scope["method"] == "POST":
            model = self.resolve(path)
        if model is None or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if not is_json(headers.get("content-type", "")):
            return await self._reject(send, path, 415, "unsupported media type: send application/json",
                                      f"content type {headers.get('content-type', 'missing')[:80]!r}")
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return await self._too_large(send, path)
        try:
            body = await read_body(receive, self.max_body_bytes)
        except BodyTooLarge:
            return await self._too_large(send, path)
        try:
            model.model_validate_json(body)
        except ValidationError as exc:
            detail = validation_detail(exc)
            return await self._reject(send, path, 400, f"invalid request body: {detail}", detail)
        await self.app(scope, replay(body, receive), send)

    async def _too_large(self, send: Send, path: str) -> None:
        await self._reject(send, path, 413, f"request body larger than {self.max_body_bytes} bytes",
                           f"body over {self.max_body_bytes} bytes")

    async def _reject(self, send: Send, path: str, status: int, error: str, detail: str) -> None:
        log.warning("rejected POST %s: %d %s", path, status, detail[:MAX_REASON_CHARS])
        await send_json(send, status, {"error": error[:2000], "detail": detail[:2000]},
                        [(b"connection", b"close")] if status == 413 else None)

    async def _documented(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve BentoML's OpenAPI document completed with what this middleware answers."""
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if start.get("status") == 200:
            doc = complete_openapi(json.loads(body), list(self.models))
            body = json.dumps(self.document(doc) if self.document else doc).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def complete_openapi(doc: dict, routes: list[str]) -> dict:
    """Mark the JSON bodies required and document the 413 and 415 answers of the guarded routes."""
    error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/InvalidArgument"}}}}
    for route in routes:
        post = doc.get("paths", {}).get(route, {}).get("post")
        if post is None:
            continue
        post.setdefault("requestBody", {})["required"] = True
        post["responses"]["413"] = {"description": f"Request body larger than {MAX_BODY_BYTES} bytes", **error_ref}
        post["responses"]["415"] = {"description": "Content type other than application/json", **error_ref}
    return doc


def route_labeller(known: Iterable[str], templates: Iterable[str] = ()) -> Callable[[str], str]:
    """path -> its metrics label: the path itself if known, the template it matches (`{name}` matches one path
    segment), else UNMATCHED_ENDPOINT. A bounded set of labels whatever the paths requested."""
    known = frozenset(known)
    patterns = [(re.compile("^" + re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(t)) + "$"), t) for t in templates]

    def label(path: str) -> str:
        if path in known:
            return path
        return next((t for pattern, t in patterns if pattern.match(path)), UNMATCHED_ENDPOINT)

    return label


def known_route_metrics_middleware(base: type, label_of: Callable[[str], str]) -> type:
    """A subclass of BentoML's request-metrics middleware that labels each request by `label_of(path)`."""

    class KnownRouteMetrics(base):
        def __init__(self, app: ASGIApp, **kwargs) -> None:
            super().__init__(restore_path(app), **kwargs)

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            path = scope.get("path")
            if scope["type"] in ("http", "websocket") and (label := label_of(path)) != path:
                scope = {**scope, "path": label, "guard.path": path}
            await super().__call__(scope, receive, send)

    return KnownRouteMetrics


def restore_path(app: ASGIApp) -> ASGIApp:
    async def with_real_path(scope: Scope, receive: Receive, send: Send) -> None:
        if "guard.path" in scope:
            scope = {**scope, "path": scope["guard.path"]}
            del scope["guard.path"]
        await app(scope, receive, send)

    return with_real_path


def install_known_route_metrics(api_routes: list[str], templates: Iterable[str] = ()) -> None:
    """Make BentoML build its request-metrics middleware from KnownRouteMetrics (it imports the class when the
    app is built, after the service module is loaded). Known: the API routes and the infrastructure paths;
    `templates` are routes with parameters, labelled by the template."""
    from bentoml._internal.server.http import instruments

    label_of = route_labeller(INFRASTRUCTURE_PATHS | set(api_routes), templates)
    if not getattr(instruments.RunnerTrafficMetricsMiddleware, "_known_routes_only", False):
        cls = known_route_metrics_middleware(instruments.RunnerTrafficMetricsMiddleware, label_of)
        cls._known_routes_only = True
        instruments.RunnerTrafficMetricsMiddleware = cls
