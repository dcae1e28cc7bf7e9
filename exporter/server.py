"""HTTP endpoints: /metrics (Prometheus), /health, /api/v1/monitoring/drift/latest?hours=N (JSON), /openapi.json; GET only (405 else)."""
from __future__ import annotations

import math
import time
from datetime import datetime, timezone

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


def parse_time(query: dict[str, list[str]], name: str) -> float | None:
    """A `start` or `end` query parameter: Unix seconds or an ISO 8601 time (UTC unless it says otherwise)."""
    if name not in query:
        return None
    text = query[name][-1].strip()
    try:
        value = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"{name} must be Unix seconds or an ISO 8601 time, got {text!r}") from None
        value = (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
    if not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite time, got {text!r}")
    return value


def parse_period(query: dict[str, list[str]], default: float, maximum: float,
                 now: float | None = None) -> tuple[float, float | None, float | None]:
    """(hours, start, end): `hours` alone is the last hours; `start`/`end` a period within the retention (`maximum`
    hours back), `end` defaulting to now and `start` to `end` minus `hours`."""
    hours = parse_hours(query, default, maximum)
    start, end = parse_time(query, "start"), parse_time(query, "end")
    if start is None and end is None:
        return hours, None, None
    now = time.time() if now is None else now
    end = min(end, now) if end is not None else now
    start = start if start is not None else end - hours * 3600
    if start < now - maximum * 3600:
        raise BadRequest(f"start must be within the last {maximum:g} hours (profiles older than that are not kept)")
    if end <= start:
        raise BadRequest("end must be after start" if "end" in query else "start must be in the past")
    return (end - start) / 3600, start, end


def serve(monitor: Monitor, registry: CollectorRegistry) -> HTTPServer:
    """The HTTP API (exporter.http_api) on uvicorn; call serve_forever() in a thread, shutdown() to stop."""
    return HTTPServer(make_app(monitor, registry, parse_period), monitor.config.host, monitor.config.port)
