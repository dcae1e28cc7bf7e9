"""HTTP endpoints: /metrics (Prometheus), /health, /api/v1/monitoring/drift/latest?hours=N (JSON), /openapi.json; GET only (405 else)."""
from __future__ import annotations

import math

from prometheus_client import CollectorRegistry

from exporter.http_api import BadRequest, HTTPServer, make_app
from exporter.monitor import Monitor


def parse_hours(query: dict[str, list[str]], default: float, maximum: float) -> float:
    """The `hours` query parameter: a number in (0, maximum]."""
    values = query.get("hours", [str(default)])
    try:
        hours = float(values[-1])
    except ValueError:
        raise BadRequest(f"hours must be a number, got {values[-1]!r}") from None
    if not math.isfinite(hours) or hours <= 0:
        raise BadRequest(f"hours must be a positive number, got {values[-1]!r}")
    if hours > maximum:
        raise BadRequest(f"hours must be at most {maximum:g} (samples older than that are not kept), got {values[-1]!r}")
    return hours


def serve(monitor: Monitor, registry: CollectorRegistry) -> HTTPServer:
    """The HTTP API (exporter.http_api) on uvicorn; call serve_forever() in a thread, shutdown() to stop."""
    return HTTPServer(make_app(monitor, registry, parse_hours), monitor.config.host, monitor.config.port)
