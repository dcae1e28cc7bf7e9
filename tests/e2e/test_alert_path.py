"""The whole alert path on the native stack: Locust -> service -> Redis -> exporter -> Prometheus -> Alertmanager -> webhook.

Baseline traffic first (no drift notification may arrive), then covariate drift: a FeatureDrift
notification naming `amount` must reach the webhook receiver. Then every dashboard panel's query
must return data from the live Prometheus.
"""
from __future__ import annotations

import json
import re
import socket
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from bench.report import figure_path, record
from contracts.policy import Policy
from scripts import browser, walkthrough
from scripts.stack import Ports, Settings, Stack
from tests.conftest import http
from transactions.schema import SCHEMA as FRAUD_SCHEMA

pytestmark = pytest.mark.e2e
DASHBOARDS = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"
BASELINE_SECONDS = 75
LOAD = ["--rps", "40", "--label-delay", "2", "--label-rate", "0.8"]
SHIFTED = {"amount", "distance_from_home_km"}
FIRST_NOTIFICATION = "first FeatureDrift notification of the model at the webhook (any feature)"


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
        firing = prom_query(stack, 'ALERTS{alertname=~"FeatureDrift|PredictionDrift", alertstate="firing"}')
        assert not firing, f"stationary traffic raised a drift alert: {firing}"
        time.sleep(2)
    assert prom_query(stack, 'ml_window_samples{kind="predictions"} > 200'), "the exporter saw no traffic"
    assert not drift_alerts(stack), "a drift notification arrived during baseline traffic"
    stack.baseline_flags = prom_query(stack, f"count_over_time((max(ml_drift_detected) == 1)[{BASELINE_SECONDS}s:2s])")

    stack.parts.pop("locust").stop()
    stack.start_load(["--scenario", "covariate", *LOAD])
    started = time.monotonic()
    stack.drift_started_at = time.time()
    stages: dict[str, float] = {}
    probes = {  # each stage of the path, as seen from outside
        "exporter flags it (`ml_drift_detected` in Prometheus)": lambda: prom_query(stack, 'ml_drift_detected{feature="amount"} == 1'),
        "Prometheus alert pending": lambda: prom_query(stack, 'ALERTS{alertname="FeatureDrift", feature="amount"}'),
        "Prometheus alert firing": lambda: prom_query(stack, 'ALERTS{alertname="FeatureDrift", feature="amount", alertstate="firing"}'),
        "Alertmanager has it": lambda: [a for a in http("GET", f"{stack.parts['alertmanager'].url}/api/v2/alerts")[1]
                                        if a["labels"].get("alertname") == "FeatureDrift" and a["labels"].get("feature") == "amount"],
    }
    while time.monotonic() - started < 300:
        for name, probe in probes.items():
            if name not in stages and probe():
                stages[name] = time.monotonic() - started
        if FIRST_NOTIFICATION not in stages and drift_alerts(stack):
            stages[FIRST_NOTIFICATION] = time.monotonic() - started
        alerts = drift_alerts(stack, "amount")
        if alerts:
            stages["FeatureDrift notification for `amount` at the webhook"] = time.monotonic() - started
            return stages, alerts[0]
        time.sleep(1)
    pytest.fail(f"no FeatureDrift notification for amount within 300 s; got {json.dumps(notifications(stack))[:2000]}")


def test_feature_drift_notification_reaches_the_webhook(stack, drift_notification):
    stages, alert = drift_notification
    assert alert["labels"]["feature"] == "amount"
    assert alert["labels"]["model_name"] == "fraud_detector"
    assert "amount" in alert["annotations"]["summary"]
    assert "PSI" in alert["annotations"]["description"] and "KS D" in alert["annotations"]["description"]
    assert alert["annotations"]["runbook_url"].endswith("#featuredrift")
    distance = drift_alerts(stack, "distance_from_home_km")
    s = stack.settings
    rows = [f"| {name} | {seconds:.0f} |" for name, seconds in sorted(stages.items(), key=lambda kv: kv[1])]
    record("alert_path", "Drift to notification, end to end (`tests/e2e/test_alert_path.py`)", "\n".join([
        f"Native stack on loopback: Locust at 40 rps, exporter window {s.window_hours * 3600:.0f} s refreshed every "
        f"{s.interval_seconds:g} s, Prometheus scraping and evaluating every {s.scrape_seconds:g} s "
        "(resend delay 1 s), alert `for: 1m`, Alertmanager `group_wait` 10 s (warning). "
        f"{BASELINE_SECONDS} s of baseline traffic raised no drift alert and no notification "
        f"({baseline_flag_note(stack)}). "
        "Stages polled every second from outside, so each figure is up to about 1 s late.",
        "",
        "| from covariate drift start to | seconds |",
        "|---|---|",
        *rows,
        f"| ... the notifications also name `distance_from_home_km` | {'yes' if distance else 'not yet'} |",
        "",
        "Most of the time is the alert's `for: 1m`; the rest is the window filling with drifted traffic and "
        "Alertmanager's `group_wait` (10 s), counted from the first alert of the model's FeatureDrift group; when "
        "another feature of the model fires first, `amount` joins the group's next notification, up to "
        "`group_interval` (1 m) later. "
        "`make up` (72 s window every 5 s, 5 s scrapes, drift after 60 s), timed by hand on 2026-11-24 and 25: FeatureDrift "
        "for `amount` at Alertmanager 159-184 s after `make up` was typed (172 s on 2026-11-25).",
        "",
        "![PSI and KS D per feature around the drift, as Prometheus recorded them](docs/alert_path.png)",
    ]))


def prom_range(stack: Stack, expr: str, start: float, end: float, step: float = 2.0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """feature -> (unix times, values) of a range query."""
    url = f"{stack.parts['prometheus'].url}/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": expr, "start": start, "end": end, "step": step})
    status, body = http("GET", url)
    assert status == 200 and body["status"] == "success", (expr, body)
    return {r["metric"]["feature"]: (np.array([float(t) for t, _ in r["values"]]), np.array([float(v) for _, v in r["values"]]))
            for r in body["data"]["result"]}


def test_drift_history_in_prometheus_shows_the_shifted_features_only(stack, drift_notification):
    """What the Drift dashboard's time series show: KS D of amount and distance climbs over 0.07 after the drift
    starts (and was under it while the window held baseline traffic only: a 36 s window's own noise is D ~0.03), and
    no other feature's PSI reaches the 0.1 band; drawn to docs/alert_path.png. KS runs on the numeric features."""
    stages, _ = drift_notification
    start, end = stack.drift_started_at - BASELINE_SECONDS, time.time()
    ks = prom_range(stack, 'ml_drift_ks_statistic{model_name="fraud_detector"}', start, end)
    psi_history = prom_range(stack, 'ml_drift_psi{model_name="fraud_detector"}', start, end)
    assert set(ks) == {f.name for f in FRAUD_SCHEMA.features if f.kind == "numeric"}  # KS judges numeric features
    assert len(psi_history) == 12
    settled = stack.drift_started_at + 45  # the 36 s window holds drifted traffic only
    for feature in SHIFTED:
        times, values = ks[feature]
        assert values[times >= settled].min() >= 0.07, (feature, values[times >= settled])
        full_baseline_window = (times < stack.drift_started_at) & (times >= stack.drift_started_at - 30)
        assert values[full_baseline_window].max() < 0.07, (feature, values[full_baseline_window])
    for feature, (times, values) in psi_history.items():
        if feature not in SHIFTED:
            full_window = times >= stack.drift_started_at - 30
            assert values[full_window].max() < 0.1, (feature, values[full_window].max())
    draw_alert_path(ks, psi_history, stack.drift_started_at, stages)


def draw_alert_path(ks: dict, psi_history: dict, drift_start: float, stages: dict[str, float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 3.6), sharex=True)
    for ax, series, title, floor in ((axes[0], psi_history, "PSI per feature", 0.25), (axes[1], ks, "KS D per feature", 0.07)):
        for feature, (times, values) in sorted(series.items()):
            shifted = feature in SHIFTED
            ax.plot(times - drift_start, values, lw=2 if shifted else 0.8, alpha=1 if shifted else 0.5,
                    label=feature if shifted else None, color=None if shifted else "grey")
        ax.axhline(floor, color="red", ls=":", lw=1)
        for name, seconds in stages.items():
            if "firing" in name or "webhook" in name:
                ax.axvline(seconds, color="black", ls="--", lw=0.8)
                ax.text(seconds, ax.get_ylim()[1] * 0.95, " firing" if "firing" in name else " webhook", fontsize=8, va="top")
        ax.axvline(0, color="orange", lw=1)
        ax.set_title(title + " (grey: untouched features)")
        ax.set_xlabel("seconds from covariate drift start (orange)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(figure_path("alert_path.png"), dpi=80)


def baseline_flag_note(stack: Stack) -> str:
    """How many 2 s steps of the baseline had a feature flagged (transient flags of a small window; `for: 1m` holds them)."""
    flags = stack.baseline_flags
    steps = int(float(flags[0]["value"][1])) if flags else 0
    return (f"the exporter flagged a feature in {steps} of {BASELINE_SECONDS // 2} two-second steps, "
            "none for the alert's full minute" if steps else "no feature was ever flagged")


def dashboard_queries() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        if board["uid"] == "ml-comparison":  # data only while a challenger serves: test_retrain_loop.py checks it
            continue
        if board["uid"] in ("ml-regression", "ml-multiclass"):  # such models only: tests/integration/test_tasks.py
            continue
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
    [info] = prom_query(stack, 'ml_model_info{model_name="fraud_detector"}')  # the model with traffic
    variables = {"model_name": info["metric"]["model_name"], "model_version": info["metric"]["model_version"]}
    spans = prom_query(stack, 'ml_drift_span_samples{model_name="fraud_detector"}')  # the $span dropdown's values
    assert spans, "no judged window (span) series"
    variables["span"] = min((s["metric"]["span"] for s in spans), key=len)
    empty = [(uid, title, substitute(expr, variables)) for uid, title, expr in dashboard_queries()
             if not prom_query(stack, substitute(expr, variables))]
    assert not empty, f"panels without data: {empty}"


def test_dashboard_variables_resolve(stack, drift_notification):
    """Every `label_values(metric{...}, label)` variable lists the running model (what Grafana's dropdowns show)."""
    [info] = prom_query(stack, 'ml_model_info{model_name="fraud_detector"}')  # the model with traffic
    variables = {"model_name": info["metric"]["model_name"], "model_version": info["metric"]["model_version"]}
    spans = prom_query(stack, 'ml_drift_span_samples{model_name="fraud_detector"}')  # the $span dropdown's values
    variables["span"] = min((s["metric"]["span"] for s in spans), key=len) if spans else ""
    for path in sorted(DASHBOARDS.glob("*.json")):
        if path.stem in ("ml-regression", "ml-multiclass"):  # they list such models only: tests/integration/test_tasks.py
            continue
        for var in json.loads(path.read_text())["templating"]["list"]:
            match = re.fullmatch(r"label_values\((.+), (\w+)\)", var["query"]["query"])
            assert match, var
            selector, label = substitute(match.group(1), variables), match.group(2)
            url = f"{stack.parts['prometheus'].url}/api/v1/label/{label}/values?" + urllib.parse.urlencode({"match[]": selector})
            values = http("GET", url)[1]["data"]
            if var["name"] == "span":  # the judged windows: every configured one appears
                assert set(Policy().span_seconds) <= set(values), (path.name, values)
                continue
            assert variables[var["name"]] in values, (path.name, var["name"], values)


def test_a_person_sees_the_drift_on_the_notifications_and_prometheus_alerts_pages(stack, drift_notification, tmp_path):
    """Headless Chromium, visible text only: the FeatureDrift row for amount with its PSI and KS D on both pages."""
    pages = walkthrough.views(stack.ports)
    seen = {}
    for key, check in (("notifications", walkthrough.notification_row), ("prometheus_alerts", walkthrough.prometheus_alert_row)):
        text = browser.look(pages[key], tmp_path / f"{key}.png")
        seen[key] = check(text)
        assert seen[key], f"{key}: no FeatureDrift row for amount with its figures in what the page shows:\n{text[:3000]}"
        assert (tmp_path / f"{key}.png").stat().st_size > 10_000
    assert "warning" in seen["notifications"] and "fraud_detector" in seen["notifications"]


def links_in(value, key: str = "") -> list[tuple[str, str]]:
    """(key, value) of every string in a notification that is, or is meant as, a link."""
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in links_in(v, k)]
    if isinstance(value, list):
        return [found for v in value for found in links_in(v, key)]
    is_link = isinstance(value, str) and (key.lower().endswith("url") or key == "dashboard" or "://" in value or value.startswith("/"))
    return [(key, value)] if is_link else []


def test_no_notification_has_a_relative_or_hostname_bound_link(stack, drift_notification):
    received = notifications(stack)
    links = [found for n in received for found in links_in(n)]
    keys = {k for k, _ in links}
    assert {"externalURL", "generatorURL", "runbook_url", "dashboard"} <= keys, keys
    hostnames = {socket.gethostname(), socket.getfqdn()}
    for key, url in links:
        parts = urllib.parse.urlsplit(url)
        assert parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.hostname not in hostnames, (key, url)
    ours = {"generatorURL", "externalURL", "runbook_url"}  # Grafana is not part of the native test stack
    for key, url in {(k, u) for k, u in links if k in ours}:
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200, (key, url)
            if key == "runbook_url":
                assert f'id="{parts_fragment(url)}"' in r.read().decode(), url


def parts_fragment(url: str) -> str:
    return urllib.parse.urlsplit(url).fragment
