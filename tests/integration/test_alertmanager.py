"""A real Alertmanager with our rendered config: grouping, inhibition and the notification texts.

Alerts are posted to Alertmanager's API as Prometheus would send them. The webhook receiver stands in for
both the default webhook and Slack (the Slack URL file points at its /slack path), so the test sees the
rendered Slack text: which feature drifted, by how much, and the dashboard link.
"""
from __future__ import annotations

import datetime as dt
import time

import pytest

from scripts import servers
from scripts.render_alertmanager import write
from tests.conftest import http

pytestmark = pytest.mark.integration


def feature_alert(feature: str, severity: str, psi: float) -> dict:
    now = dt.datetime.now(dt.timezone.utc)
    return {
        "labels": {"alertname": "FeatureDrift", "severity": severity, "model_name": "fraud_detector", "model_version": "v7",
                   "feature": feature, "job": "drift-exporter"},
        "annotations": {"summary": f"Feature {feature} of fraud_detector v7 has drifted from its training distribution.",
                        "description": f"{feature}: PSI {psi:.3f} (under 0.25; flagged by the drift rule), KS D 0.110 (p 1e-12); "
                                       "mean 120.3 in training, 156.4 now.",
                        "runbook_url": "http://runbook.test/README.md#featuredrift", "dashboard": "http://grafana.test:3000/d/ml-drift"},
        "startsAt": now.isoformat(), "endsAt": (now + dt.timedelta(minutes=5)).isoformat(),
        "generatorURL": "http://127.0.0.1:9090/graph",
    }


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory):
    logs = tmp_path_factory.mktemp("alertmanager")
    with servers.start_webhook_receiver(logs) as hook:
        (logs / "slack_url").write_text(f"{hook.url}/slack\n")
        config = write(logs / "am" / "alertmanager.yml", {"WEBHOOK_URL": f"{hook.url}/alerts", "SLACK_API_URL_FILE": str(logs / "slack_url"),
                                                           "GRAFANA_URL": "http://grafana.test:3000"})
        with servers.start_alertmanager(logs, config) as am:
            yield am, hook


def wait_for(url: str, count: int, timeout: float = 40) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = http("GET", url)[1]["notifications"]
        if len(got) >= count:
            return got
        time.sleep(0.5)
    return http("GET", url)[1]["notifications"]


def test_critical_drift_inhibits_the_warning_of_the_same_feature_only(alertmanager):
    am, hook = alertmanager
    status, _ = http("POST", f"{am.url}/api/v2/alerts", [
        feature_alert("distance_from_home_km", "critical", 0.41),
        feature_alert("distance_from_home_km", "warning", 0.41),   # inhibited by the critical one
        feature_alert("amount", "warning", 0.07),                  # another feature: not inhibited
    ])
    assert status == 200
    webhook = wait_for(f"{hook.url}/alerts", 2)
    time.sleep(3)  # anything else would have arrived with the same group_wait
    webhook = http("GET", f"{hook.url}/alerts")[1]["notifications"]
    delivered = sorted((a["labels"]["severity"], a["labels"]["feature"]) for n in webhook for a in n["alerts"] if a["status"] == "firing")
    assert delivered == [("critical", "distance_from_home_km"), ("warning", "amount")], webhook
    assert {n["groupLabels"]["model_name"] for n in webhook} == {"fraud_detector"}

    _, silenced = http("GET", f"{am.url}/api/v2/alerts?inhibited=true&active=false&silenced=false")
    assert [(a["labels"]["severity"], a["labels"]["feature"]) for a in silenced] == [("warning", "distance_from_home_km")]

    slack = wait_for(f"{hook.url}/slack", 2)
    texts = {a["title"]: a["text"] for n in slack for a in n["attachments"]}
    warning = next(text for title, text in texts.items() if "WARNING" in text)
    title = next(title for title, text in texts.items() if "WARNING" in text)
    assert title == "[FIRING:1] FeatureDrift fraud_detector v7: amount"
    assert "Feature: `amount`" in warning and "PSI 0.070" in warning and "KS D 0.110" in warning
    assert "Dashboard: http://grafana.test:3000/d/ml-drift?var-model_name=fraud_detector&var-model_version=v7" in warning
    assert "Runbook: http://runbook.test/README.md#featuredrift" in warning
    assert all(a["title_link"] == "http://grafana.test:3000/d/ml-overview" for n in slack for a in n["attachments"])
