"""The standard library's threading HTTP server and a JSON handler, sized for alert storms (Alertmanager's webhooks)."""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20  # an Alertmanager notification is a few KiB; anything larger is refused before it is read
NO_BODY = object()  # what read_json answers when it has already replied with a 4xx


class WebhookServer(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: 20 notifications at once had connections reset by the kernel
    request_queue_size = 128
    daemon_threads = True


class JsonHandler(BaseHTTPRequestHandler):
    """Replies in JSON; reads a bounded JSON body, answering 400/413 itself when it cannot."""

    def read_json(self) -> object:
        try:
            length = int(self.headers.get("Content-Length", 0))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.reply(413 if length > MAX_BODY else 400, {"error": f"Content-Length must be 0-{MAX_BODY} bytes"})
            return NO_BODY
        try:
            return json.loads(self.rfile.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError):
            self.reply(400, {"error": "body must be JSON"})
            return NO_BODY

    def reply(self, status: int, body: dict) -> None:
        self.send(status, "application/json", json.dumps(body).encode())

    def send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # one line per request would drown the logs of a demo


def serve_forever(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
    WebhookServer((host, port), handler).serve_forever()
