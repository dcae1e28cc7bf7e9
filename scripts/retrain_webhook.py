"""Alertmanager's retraining receiver: an alert that the model's quality fell starts `python -m retrain` for that
model, at most one at a time and one per cooldown (retrain/admission.py), whatever the alert storm.

    python -m scripts.retrain_webhook --port 5002 [--cooldown 3600] [--alerts ModelPerformanceDegraded,FeatureDrift]

POST /alerts    an Alertmanager webhook notification; each firing alert whose name is in --alerts and that carries
                a model_name is a request to retrain that model; the answer says what was decided per model
GET  /metrics   ml_retraining_triggers_total{model_name, decision=start|cooldown|running},
                ml_retraining_runs_total{model_name, outcome=succeeded|not_enough_data|locked|failed},
                ml_retraining_in_progress{model_name}, ml_retraining_last_duration_seconds{model_name}
GET  /status    the same as JSON, with the last runs' log tails
With --auto-promote (RETRAIN_AUTO_PROMOTE=1) it also checks every --promote-interval seconds whether a challenger
beats its champion on the live window (retrain/promotion.py) and promotes it; otherwise `python -m retrain promote`.
The job's command is RETRAIN_COMMAND (default: this Python's `-m retrain train --model <name>`) plus RETRAIN_ARGS; its
output goes to --log-dir. Environment: REDIS_URL (the lock and the cooldown), ALERTMANAGER_URL (notifications).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from contracts import metric_names as names
from contracts.policy import DEFAULT as POLICY
from drift_client.redis_client import connect
from drift.comparison import PromotionRule
from retrain import admission, notify, promotion
from scripts.http_server import NO_BODY, JsonHandler, serve_forever

log = logging.getLogger("retrain_webhook")
EXIT_OUTCOMES = {0: "succeeded", 3: "not_enough_data", 4: "locked"}  # python -m retrain's exit statuses


def _declared(name: str) -> dict:
    """Name, help, labels and unit of one of our metrics, as the metric table (contracts/metric_names.py) declares them."""
    spec = names.spec(name)
    return {"name": spec.family, "documentation": spec.help, "labelnames": list(spec.labels), "unit": spec.unit}


class Retrainer:
    """Decides per alert (admission.decide) and runs the job in a thread; counts everything."""

    def __init__(self, client: redis.Redis, cooldown: float, alerts: set[str], command: list[str],
                 log_dir: Path, critical_only: set[str] = frozenset()) -> None:
        self.client, self.cooldown, self.alerts, self.command = client, cooldown, alerts, command
        self.critical_only = critical_only  # alert names that count only when severity="critical"
        self.log_dir = log_dir
        self.registry = CollectorRegistry()
        self.triggers = Counter(**_declared(names.RETRAIN_TRIGGERS), registry=self.registry)
        self.runs = Counter(**_declared(names.RETRAIN_RUNS), registry=self.registry)
        self.in_progress = Gauge(**_declared(names.RETRAIN_IN_PROGRESS), registry=self.registry)
        self.duration = Gauge(**_declared(names.RETRAIN_LAST_DURATION), registry=self.registry)
        self.history: list[dict] = []
        self.threads: list[threading.Thread] = []

    def models_to_retrain(self, notification: dict) -> list[str]:
        """The model names of the firing alerts that ask for a retraining."""
        wanted = []
        for alert in notification.get("alerts", []) if isinstance(notification.get("alerts"), list) else []:
            labels = alert.get("labels", {}) if isinstance(alert, dict) else {}
            name, model = labels.get("alertname"), labels.get("model_name")
            if alert.get("status", "firing") != "firing" or name not in self.alerts or not isinstance(model, str) or not model:
                continue
            if name in self.critical_only and labels.get("severity") != "critical":
                continue
            if model not in wanted:
                wanted.append(model)
        return wanted

    def handle(self, notification: dict) -> dict[str, str]:
        decisions = {}
        for model in self.models_to_retrain(notification):
            decision = admission.decide(self.client, model, self.cooldown)
            self.triggers.labels(model, decision).inc()
            log.info("retraining request for %s: %s", model, decision)
            if decision == "start":
                thread = threading.Thread(target=self.run, args=(model,), daemon=True)
                self.threads.append(thread)
                thread.start()
            decisions[model] = decision
        return decisions

    def run(self, model: str) -> None:
        started = time.monotonic()
        self.in_progress.labels(model).set(1)
        out = self.log_dir / f"retrain-{model}-{int(time.time())}.log"
        notify.event("ModelRetrainingStarted", model, f"Retraining of {model} started by an alert",
                     f"log: {out}")
        try:
            with out.open("wb") as f:
                status = subprocess.run([*self.command, "--model", model], stdout=f, stderr=subprocess.STDOUT).returncode
        except OSError as exc:
            log.error("could not start the retraining of %s: %s", model, exc)
            status = -1
        outcome = EXIT_OUTCOMES.get(status, "failed")
        elapsed = time.monotonic() - started
        self.runs.labels(model, outcome).inc()
        self.duration.labels(model).set(elapsed)
        self.in_progress.labels(model).set(0)
        tail = out.read_text(errors="replace")[-2000:] if out.exists() else ""
        self.history.append({"model_name": model, "outcome": outcome, "exit_status": status,
                             "seconds": round(elapsed, 3), "log": str(out), "log_tail": tail})
        log.info("retraining of %s: %s (exit %s) in %.1f s; log %s", model, outcome, status, elapsed, out)
        if outcome == "failed":  # success and refusal notify from the job itself (it knows the figures)
            notify.event("ModelRetrainingFailed", model, f"Retraining of {model} failed (exit {status})",
                         tail[-500:], severity="warning")

    def status(self) -> dict:
        return {"alerts": sorted(self.alerts), "cooldown_seconds": self.cooldown, "runs": self.history[-20:]}


def make_handler(retrainer: Retrainer) -> type[JsonHandler]:
    class Handler(JsonHandler):
        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != "/alerts":
                self.reply(404, {"error": "POST /alerts"})
                return
            body = self.read_json()
            if body is NO_BODY:
                return
            if not isinstance(body, dict):
                self.reply(400, {"error": "body must be a JSON object (an Alertmanager notification)"})
                return
            try:
                self.reply(200, {"decisions": retrainer.handle(body)})
            except redis.RedisError as exc:  # no lock, no retraining: Alertmanager retries the notification
                log.warning("Redis unavailable: %s", exc)
                self.reply(503, {"error": "Redis unavailable: the lock and cooldown cannot be checked"})

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self.send(200, CONTENT_TYPE_LATEST, generate_latest(retrainer.registry))
            elif path in ("/status", "/health"):
                self.reply(200, retrainer.status())
            else:
                self.reply(404, {"error": "GET /metrics or /status"})

    return Handler


def default_command() -> list[str]:
    command = shlex.split(os.environ.get("RETRAIN_COMMAND", "")) or [sys.executable, "-m", "retrain", "train"]
    return command + shlex.split(os.environ.get("RETRAIN_ARGS", ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("RETRAIN_PORT", 5002)))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--cooldown", type=float, default=float(os.environ.get("RETRAIN_COOLDOWN_SECONDS", 3600)))
    parser.add_argument("--alerts", default=os.environ.get("RETRAIN_ALERTS", "ModelPerformanceDegraded"),
                        help="comma-separated alert names that start a retraining; FeatureDrift counts when critical only")
    parser.add_argument("--auto-promote", action="store_true", default=os.environ.get("RETRAIN_AUTO_PROMOTE") == "1")
    parser.add_argument("--promote-interval", type=float, default=float(os.environ.get("PROMOTE_INTERVAL", 30)))
    parser.add_argument("--promote-hold", type=float, default=float(os.environ.get("PROMOTION_HOLD_SECONDS", 0)),
                        help="seconds the challenger must keep winning before it is promoted automatically")
    parser.add_argument("--log-dir", type=Path, default=Path(os.environ.get("RETRAIN_LOG_DIR", ".run/logs")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args.log_dir.mkdir(parents=True, exist_ok=True)
    # REDIS_URL + REDIS_PASSWORD_FILE, as every other client (make up's Redis requires a password)
    client = connect(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), socket_timeout=2)
    alerts = {a.strip() for a in args.alerts.split(",") if a.strip()}
    retrainer = Retrainer(client, args.cooldown, alerts, default_command(), args.log_dir, critical_only={"FeatureDrift"})
    if args.auto_promote:
        hours = float(os.environ.get("DRIFT_WINDOW_HOURS", POLICY.window_hours))
        threading.Thread(target=promotion.auto_promote_forever, daemon=True,
                         args=(client, hours, PromotionRule.from_env(), args.promote_interval, threading.Event()),
                         kwargs={"hold_seconds": args.promote_hold}).start()
        log.info("automatic promotion every %g s on a %g h window, once the challenger has won for %g s",
                 args.promote_interval, hours, args.promote_hold)
    log.info("retraining webhook on %s:%d for %s (cooldown %g s)", args.host, args.port, sorted(alerts), args.cooldown)
    serve_forever(args.host, args.port, make_handler(retrainer))


if __name__ == "__main__":
    main()
