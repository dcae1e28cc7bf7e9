"""The standard library's threading HTTP server, sized for alert storms (the webhooks Alertmanager calls)."""
from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookServer(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: 20 notifications at once had connections reset by the kernel
    request_queue_size = 128
    daemon_threads = True


def serve_forever(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
    WebhookServer((host, port), handler).serve_forever()
