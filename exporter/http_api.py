"""The exporter's HTTP API on uvicorn: /metrics, /health and the on-demand drift report, bounded in time and memory.

A one-off report for another window size or a period (`start`/`end`) is merged from the stored per-minute profiles
(exporter.spans: 10,080 MGET-ed minutes for 7 days), so reports are cached for one monitoring interval, identical concurrent requests share one computation
(single-flight), at most MAX_REPORTS_IN_FLIGHT different ones are computed at a time (in a pool of that many
threads), and a request beyond that gets 503 with Retry-After instead of queueing. uvicorn serves the rest:
a listen backlog of 2048, keep-alive and handshake time-outs, a bound on open connections (503 beyond it);
a half-sent request holds a socket, never a thread.
"""
from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from exporter.redis_errors import ERRORS
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exporter import openapi

MAX_REPORTS_IN_FLIGHT = 2
RETRY_AFTER_SECONDS = 5
BACKLOG = 2048
MAX_CONNECTIONS = 200
KEEP_ALIVE_SECONDS = 5


class BadRequest(ValueError):
    pass


class ReportCache:
    """Cached, single-flight, concurrency-limited computation of reports keyed by (hours, start, end)."""

    def __init__(self, compute: Callable[[float], list[dict]], ttl_seconds: float, slots: int = MAX_REPORTS_IN_FLIGHT):
        self.compute = compute
        self.ttl = ttl_seconds
        self.slots = slots
        self.pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="report")
        self.done: dict[tuple, tuple[float, list[dict]]] = {}
        self.running: dict[tuple, asyncio.Future] = {}

    async def get(self, hours: tuple) -> tuple[str, list[dict] | None]:
        """('cached' | 'joined' | 'computed', report), or ('busy', None) when every slot is taken."""
        cached = self.done.get(hours)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return "cached", cached[1]
        if hours in self.running:
            return "joined", await asyncio.shield(self.running[hours])
        if len(self.running) >= self.slots:
            return "busy", None
        future = asyncio.get_running_loop().run_in_executor(self.pool, self.compute, hours)
        self.running[hours] = future
        try:
            result = await asyncio.shield(future)
        finally:
            self.running.pop(hours, None)
        self._keep(hours, result)
        return "computed", result

    def _keep(self, hours: tuple, result: list[dict]) -> None:
        now = time.monotonic()
        self.done = {h: v for h, v in self.done.items() if now - v[0] < self.ttl}
        self.done[hours] = (now, result)


def make_app(monitor, registry: CollectorRegistry, parse_period: Callable) -> Starlette:
    cfg = monitor.policy
    reports = ReportCache(lambda key: monitor.report(*key), ttl_seconds=max(cfg.interval_seconds, 1.0))

    async def metrics(request: Request) -> Response:
        body = await asyncio.to_thread(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({
            "status": "ok" if monitor.redis_up else "redis unavailable", "redis_up": monitor.redis_up,
            "models": sorted(monitor.snapshots), "last_success_timestamp_seconds": monitor.last_success,
        }, status_code=200 if monitor.redis_up else 503)

    async def drift(request: Request) -> JSONResponse:
        query = {k: request.query_params.getlist(k) for k in request.query_params.keys()}
        try:
            hours, start, end = parse_period(query, cfg.window_hours, cfg.max_report_hours)
        except ValueError as exc:
            field = str(exc).split(" ", 1)[0] if str(exc).split(" ", 1)[0] in ("start", "end") else "hours"
            return JSONResponse({"error": str(exc), "field": field}, status_code=400)
        try:
            how, models = await reports.get((round(hours, 6), start and round(start, 3), end and round(end, 3)))
        except ERRORS as exc:
            return JSONResponse({"error": f"Redis unavailable: {exc}"}, status_code=503,
                                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        if how == "busy":
            return JSONResponse({"error": f"{MAX_REPORTS_IN_FLIGHT} other reports are being computed; retry later"},
                                status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        period = {"start": start, "end": end} if start is not None else {}
        body = json.dumps({"window_hours": hours, **period, "models": models}).encode()
        return Response(body, media_type="application/json", headers={"X-Report": how})

    async def comparison(request: Request) -> JSONResponse:
        """Champion vs challenger of every model that has one, from the last cycle (exporter/version_comparison.py)."""
        return JSONResponse({"window_hours": cfg.window_hours,
                             "models": [c.to_dict() for c in list(getattr(monitor, "comparisons", {}).values())]})

    api_document = json.dumps(openapi.document(cfg)).encode()

    async def openapi_json(request: Request) -> Response:
        return Response(api_document, media_type="application/json")

    async def not_found(request: Request, exc) -> JSONResponse:
        return JSONResponse({"error": f"no such path {request.url.path!r}"}, status_code=404)

    return Starlette(routes=[Route("/metrics", metrics, methods=["GET"]), Route("/health", health, methods=["GET"]),
                             Route("/api/v1/monitoring/drift/latest", drift, methods=["GET"]),
                             Route("/api/v1/monitoring/comparison", comparison, methods=["GET"]),
                             Route("/openapi.json", openapi_json, methods=["GET"])],
                     exception_handlers={404: not_found})


class HTTPServer:
    """uvicorn in a thread of the exporter's process: serve_forever() / shutdown() like http.server's."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, backlog=BACKLOG, limit_concurrency=MAX_CONNECTIONS,
                                timeout_keep_alive=KEEP_ALIVE_SECONDS, timeout_graceful_shutdown=5, access_log=False,
                                log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)

    def serve_forever(self) -> None:
        self.server.run()

    def shutdown(self) -> None:
        self.server.should_exit = True
