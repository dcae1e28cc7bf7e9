"""Notifications of the retraining loop (ModelRetrained, ModelRetrainingFailed, ModelPromoted, ModelRolledBack):
posted to Alertmanager's API as short-lived alerts, so they reach the same receivers as every other alert
(webhook, Slack) with the same grouping. ALERTMANAGER_URL names it; without it they are only logged."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import urllib.request

log = logging.getLogger(__name__)
LIFETIME = dt.timedelta(minutes=5)  # an event, not a condition: it resolves by itself


def event(alertname: str, model_name: str, summary: str, description: str = "", *, severity: str = "info",
          alertmanager_url: str | None = None, **labels: str) -> bool:
    """Post one event; True when Alertmanager accepted it. Never raises: a notification must not fail a job."""
    url = alertmanager_url if alertmanager_url is not None else os.environ.get("ALERTMANAGER_URL", "")
    log.info("%s %s: %s %s", alertname, model_name, summary, description)
    if not url:
        return False
    now = dt.datetime.now(dt.timezone.utc)
    alert = {"labels": {"alertname": alertname, "severity": severity, "model_name": model_name, **labels},
             "annotations": {"summary": summary, "description": description},
             "startsAt": now.isoformat(), "endsAt": (now + LIFETIME).isoformat()}
    request = urllib.request.Request(f"{url.rstrip('/')}/api/v2/alerts", data=json.dumps([alert]).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except OSError as exc:
        log.warning("could not notify Alertmanager at %s: %s", url, exc)
        return False
