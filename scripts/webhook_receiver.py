"""A webhook receiver for Alertmanager that keeps what it gets: the native stack's default notification sink.

    python -m scripts.webhook_receiver --port 5001 --out .run/logs/notifications.jsonl

POST /alerts stores a notification (one JSON line per notification); GET /alerts returns them all.
Any other path works the same way and is kept apart (e.g. /slack, when a test points Alertmanager's
Slack receiver here to see the rendered notification texts); each stored line names its path.
"""
from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from contracts.ports import Ports


def make_handler(out: Path) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()
    received: dict[str, list[dict]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                notification = json.loads(body)
            except json.JSONDecodeError:
                self._reply(400, {"error": "body must be JSON"})
                return
            path = self.path.split("?", 1)[0]
            with lock:
                received.setdefault(path, []).append(notification)
                with out.open("a") as f:
                    f.write(json.dumps({"path": path, "notification": notification}) + "\n")
            body = notification if isinstance(notification, dict) else {}
            alerts = ", ".join(f"{a['labels'].get('alertname')}[{a['labels'].get('feature', '')}]" for a in body.get("alerts", []))
            print(f"{path} {body.get('status', '')}: {alerts}", flush=True)
            self._reply(200, {"ok": True})

        def do_GET(self) -> None:
            with lock:
                self._reply(200, {"notifications": list(received.get(self.path.split("?", 1)[0], []))})

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
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
    ThreadingHTTPServer((args.host, args.port), make_handler(args.out)).serve_forever()


if __name__ == "__main__":
    main()
