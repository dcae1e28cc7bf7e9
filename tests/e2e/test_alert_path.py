"""The whole alert path on the native stack: Locust -> service -> Redis -> exporter -> Prometheus -> Alertmanager -> webhook.

Baseline traffic first (no drift notification may arrive), then covariate drift: a FeatureDrift
notification naming `amount` must reach the webhook receiver. Then every dashboard panel's query
must return data from the live Prometheus.
"""
from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path

import pytest

from bench.report import write_section
from scripts.stack import Ports, Settings, Stack
from tests.conftest import http

pytestmark = pytest.mark.e2e
DASHBOARDS = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"
BASELINE_SECONDS = 75
LOAD = ["--rps", "40", "--label-delay", "2", "--label-rate", "0.8"]


def notifications(stack: Stack) -> list[dict]:
    return http("GET", f"{stack.parts['webhook'].url}/alerts")[1]["notifications"]


def drift_alerts(stack: Stack, feature: str | None = None) -> list[dict]:
    return [a for n in notifications(stack) for a in n["alerts"]
            if a["labels"]["alertname"] == "FeatureDrift" and a["status"] == "firing"
            and (feature is None or a["labels"].get("feature") == feature)]


def prom_query(stack: Stack, expr: str) -> list[dict]:
    url = f"{stack.parts['prometheus'].url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, body = http("GET", url)
    assert status == 200 and body["status"] == "success", (expr, body)
    return body["data"]["result"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    settings = Settings(window_hours=0.01, interval_seconds=2, scrape_seconds=2)
    running = Stack(Ports.free(), tmp_path_factory.mktemp("stack"), settings).start(with_load=False)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def drift_notification(stack):
    """Run baseline, then covariate drift; return (seconds from drift start to notification, the alert)."""
    stack.start_load(["--scenario", "baseline", *LOAD])
    deadline = time.monotonic() + BASELINE_SECONDS
    while time.monotonic() < deadline:
        flagged = prom_query(stack, "ml_drift_detected == 1")
        assert not flagged, f"stationary traffic flagged drift: {flagged}"
        time.sleep(5)
    assert prom_query(stack, 'ml_window_samples{kind="predictions"} > 200'), "the exporter saw no traffic"
    assert not drift_alerts(stack), "a drift notification arrived during baseline traffic"

    stack.parts.pop("locust").stop()
    stack.start_load(["--scenario", "covariate", *LOAD])
    started = time.monotonic()
    while time.monotonic() - started < 300:
        alerts = drift_alerts(stack, "amount")
        if alerts:
            return time.monotonic() - started, alerts[0]
        time.sleep(2)
    pytest.fail(f"no FeatureDrift notification for amount within 300 s; got {json.dumps(notifications(stack))[:2000]}")


def test_feature_drift_notification_reaches_the_webhook(stack, drift_notification):
    seconds, alert = drift_notification
    assert alert["labels"]["feature"] == "amount"
    assert alert["labels"]["model_name"] == "fraud_detector"
    assert "amount" in alert["annotations"]["summary"]
    assert alert["annotations"]["runbook_url"].endswith("#featuredrift")
    distance = drift_alerts(stack, "distance_from_home_km")
    s = stack.settings
    write_section("alert_path", "Drift to notification, end to end (`tests/e2e/test_alert_path.py`)", "\n".join([
        f"Native stack on loopback: Locust at 40 rps, exporter window {s.window_hours * 3600:.0f} s refreshed every "
        f"{s.interval_seconds:g} s, Prometheus scraping and evaluating every {s.scrape_seconds:g} s, alert `for: 1m`, "
        "Alertmanager `group_wait` 10 s. "
        f"{BASELINE_SECONDS} s of baseline traffic raised no drift flag and no notification.",
        "",
        "| from covariate drift start to | seconds |",
        "|---|---|",
        f"| FeatureDrift notification for `amount` at the webhook | {seconds:.0f} |",
        f"| ... also naming `distance_from_home_km` | {'yes' if distance else 'not yet'} |",
    ]))


def dashboard_queries() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                found.append((board["uid"], panel["title"], target["expr"]))
    return found


def substitute(expr: str, variables: dict[str, str]) -> str:
    for name, value in variables.items():
        expr = expr.replace(f"${{{name}}}", value).replace(f"${name}", value)
    return expr.replace("$__rate_interval", "1m").replace("$__interval", "15s").replace("$__range", "5m")


def test_every_dashboard_panel_returns_data(stack, drift_notification):
    assert dashboard_queries(), "no dashboards found"
    [info] = prom_query(stack, "ml_model_info")
    variables = {"model_name": info["metric"]["model_name"], "model_version": info["metric"]["model_version"]}
    empty = [(uid, title, substitute(expr, variables)) for uid, title, expr in dashboard_queries()
             if not prom_query(stack, substitute(expr, variables))]
    assert not empty, f"panels without data: {empty}"
