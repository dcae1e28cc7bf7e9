"""A webhook receiver for Alertmanager that keeps what it gets: the native stack's default notification sink.

    python -m scripts.webhook_receiver --port 5001 --out .run/logs/notifications.jsonl

POST /alerts stores a notification (one JSON line per notification); GET /alerts returns them as JSON and
GET / shows them as a page a person reads (newest first, refreshing itself: scripts/notifications_page.py).
Any other path works the same way and is kept apart (e.g. /slack, when a test points Alertmanager's
Slack receiver here to see the rendered notification texts); each stored line names its path.
GET /README.md (and docs/...) renders the repository's documentation, where the alerts' runbook_url points
natively (scripts/docs_page.py). The last MAX_KEPT notifications per path are kept; bodies over scripts/http_server.MAX_BODY are refused.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from pathlib import Path

from contracts.ports import Ports
from scripts import docs_page, notifications_page
from scripts.http_server import NO_BODY, JsonHandler, serve_forever

MAX_KEPT = 1000


def summary_line(notification) -> str:
    """e.g. "firing: FeatureDrift[amount], FeatureDrift[distance_from_home_km]" (for the log; any JSON is accepted)."""
    body = notification if isinstance(notification, dict) else {}
    alerts = [a.get("labels", {}) for a in body.get("alerts", []) if isinstance(a, dict)] if isinstance(body.get("alerts"), list) else []
    names = ", ".join(f"{l.get('alertname')}[{l.get('feature', '')}]" for l in alerts if isinstance(l, dict))
    return f"{body.get('status', '')}: {names}"


def make_handler(out: Path) -> type[JsonHandler]:
    lock = threading.Lock()
    received: dict[str, deque[dict]] = {}  # path -> {"received_at", "notification"}

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            notification = self.read_json()
            if notification is NO_BODY:
                return
            path = self.path.split("?", 1)[0]
            entry = {"received_at": time.time(), "notification": notification}
            with lock:
                received.setdefault(path, deque(maxlen=MAX_KEPT)).append(entry)
                with out.open("a") as f:
                    f.write(json.dumps({"path": path, **entry}) + "\n")
            print(f"{path} {summary_line(notification)}", flush=True)
            self.reply(200, {"ok": True})

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                with lock:
                    entries = list(received.get("/alerts", []))
                self.send(200, "text/html; charset=utf-8", notifications_page.render(entries).encode())
                return
            doc = docs_page.resolve(path)
            if doc is not None:
                self.send(200, *docs_page.page(doc))
                return
            with lock:
                self.reply(200, {"notifications": [e["notification"] for e in received.get(path, [])]})

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
