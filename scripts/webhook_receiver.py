"""A webhook receiver for Alertmanager that keeps what it gets: the native stack's default notification sink.

    python -m scripts.webhook_receiver --port 5001 --out .run/logs/notifications.jsonl

POST /alerts stores a notification (one JSON line per notification); GET /alerts returns them as JSON and
GET / shows them as a page a person reads (newest first, refreshing itself: scripts/notifications_page.py).
Any other path works the same way and is kept apart (e.g. /slack, when a test points Alertmanager's
Slack receiver here to see the rendered notification texts); each stored line names its path.
GET /README.md (and docs/...) renders the repository's documentation, where the alerts' runbook_url points
natively (scripts/docs_page.py). The last MAX_KEPT notifications per path are kept; bodies over MAX_BODY are refused.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from contracts.ports import Ports
from scripts import docs_page, notifications_page
from scripts.http_server import serve_forever

MAX_KEPT = 1000
MAX_BODY = 1 << 20


def summary_line(notification) -> str:
    """e.g. "firing: FeatureDrift[amount], FeatureDrift[distance_from_home_km]" (for the log; any JSON is accepted)."""
    body = notification if isinstance(notification, dict) else {}
    alerts = [a.get("labels", {}) for a in body.get("alerts", []) if isinstance(a, dict)] if isinstance(body.get("alerts"), list) else []
    names = ", ".join(f"{l.get('alertname')}[{l.get('feature', '')}]" for l in alerts if isinstance(l, dict))
    return f"{body.get('status', '')}: {names}"


def make_handler(out: Path) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()
    received: dict[str, deque[dict]] = {}  # path -> {"received_at", "notification"}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length", 0))
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self._reply(413 if length > MAX_BODY else 400, {"error": f"Content-Length must be 0-{MAX_BODY} bytes"})
                return
            body = self.rfile.read(length)
            try:
                notification = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                self._reply(400, {"error": "body must be JSON"})
                return
            path = self.path.split("?", 1)[0]
            entry = {"received_at": time.time(), "notification": notification}
            with lock:
                received.setdefault(path, deque(maxlen=MAX_KEPT)).append(entry)
                with out.open("a") as f:
                    f.write(json.dumps({"path": path, **entry}) + "\n")
            print(f"{path} {summary_line(notification)}", flush=True)
            self._reply(200, {"ok": True})

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                with lock:
                    entries = list(received.get("/alerts", []))
                self._send(200, "text/html; charset=utf-8", notifications_page.render(entries).encode())
                return
            doc = docs_page.resolve(path)
            if doc is not None:
                self._send(200, *docs_page.page(doc))
                return
            with lock:
                self._reply(200, {"notifications": [e["notification"] for e in received.get(path, [])]})

        def _reply(self, status: int, body: dict) -> None:
            self._send(status, "application/json", json.dumps(body).encode())

        def _send(self, status: int, content_type: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=Ports.from_env().webhook)
    parser.add_argument("--out", type=Path, default=Path(".run/logs/notifications.jsonl"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    serve_forever(args.host, args.port, make_handler(args.out))


if __name__ == "__main__":
    main()
