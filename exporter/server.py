"""HTTP endpoints: /metrics (Prometheus), /health, /api/v1/monitoring/drift/latest?hours=N (JSON)."""
from __future__ import annotations

import json
import math
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import redis
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from exporter.monitor import Monitor


class BadRequest(ValueError):
    pass


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


def make_handler(monitor: Monitor, registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            try:
                if url.path == "/metrics":
                    self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif url.path == "/health":
                    self._json(200 if monitor.redis_up else 503, {
                        "status": "ok" if monitor.redis_up else "redis unavailable",
                        "redis_up": monitor.redis_up, "models": sorted(monitor.snapshots),
                        "last_success_timestamp_seconds": monitor.last_success,
                    })
                elif url.path == "/api/v1/monitoring/drift/latest":
                    cfg = monitor.policy
                    hours = parse_hours(parse_qs(url.query, keep_blank_values=True), cfg.window_hours, cfg.max_report_hours)
                    self._json(200, {"window_hours": hours, "models": monitor.report(hours)})
                else:
                    self._json(404, {"error": f"no such path {url.path!r}"})
            except BadRequest as exc:
                self._json(400, {"error": str(exc), "field": "hours"})
            except redis.RedisError as exc:
                self._json(503, {"error": f"Redis unavailable: {exc}"})

        def _json(self, status: int, body: dict) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


def serve(monitor: Monitor, registry: CollectorRegistry) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((monitor.config.host, monitor.config.port), make_handler(monitor, registry))
    server.daemon_threads = True
    return server
