"""The webhook receiver's HTML page: the notifications Alertmanager sent, newest first, one row per alert.

Pure functions (no I/O): `render(entries)` takes what the receiver stored, [{"received_at": unix seconds,
"notification": Alertmanager's webhook body}], and returns the page. Every value is HTML-escaped; only
http(s) URLs become links, so a label or annotation cannot inject markup or a javascript: link.
"""
from __future__ import annotations

import datetime as dt
import html
import urllib.parse
from collections.abc import Iterable

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.45em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; }
tr.firing td.status { color: #b00020; font-weight: bold; }
tr.resolved td.status { color: #1b7f3b; font-weight: bold; }
td.severity-critical { color: #b00020; font-weight: bold; }
td.severity-warning { color: #a15c00; font-weight: bold; }
td.figures { font-family: ui-monospace, monospace; font-size: 0.9em; max-width: 38em; }
td.time, td.model { white-space: nowrap; }
a { margin-right: 0.6em; }
"""


def when(unix_seconds: float) -> str:
    return dt.datetime.fromtimestamp(unix_seconds, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def safe_link(url: str | None, text: str) -> str:
    """An <a> for an absolute http(s) URL; anything else is shown as text, marked as not a link."""
    if not url:
        return ""
    if urllib.parse.urlsplit(url).scheme in ("http", "https"):
        return f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener">{html.escape(text)}</a>'
    return f'<span class="not-a-link">{html.escape(text)}: {html.escape(url)} (not an absolute link)</span>'


def dashboard_url(alert: dict) -> str | None:
    """The dashboard annotation with the alert's model preselected (Grafana's var-... parameters)."""
    base = mapping(alert.get("annotations")).get("dashboard")
    if not base:
        return None
    labels = mapping(alert.get("labels"))
    params = {f"var-{k}": labels[k] for k in ("model_name", "model_version") if k in labels}
    return f"{base}{'&' if '?' in base else '?'}{urllib.parse.urlencode(params)}" if params else base


def mapping(value) -> dict[str, str]:
    """A dict of strings from whatever a sender put there (a notification is any JSON the receiver accepted)."""
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def alert_row(received_at: float, alert: dict) -> str:
    labels, notes = mapping(alert.get("labels")), mapping(alert.get("annotations"))
    status = str(alert.get("status", ""))
    severity = labels.get("severity", "")
    model = " ".join(v for v in (labels.get("model_name", ""), labels.get("model_version", "")) if v)
    links = " ".join(filter(None, (safe_link(notes.get("runbook_url"), "runbook"),
                                   safe_link(dashboard_url(alert), "dashboard"),
                                   safe_link(str(alert.get("generatorURL") or ""), "Prometheus"))))
    e = html.escape
    cells = [f'<td class="time">{e(when(received_at))}</td>', f'<td class="status">{e(status)}</td>',
             f'<td class="alertname">{e(labels.get("alertname", ""))}</td>', f'<td class="model">{e(model)}</td>',
             f'<td class="feature">{e(labels.get("feature", ""))}</td>',
             f'<td class="severity severity-{e(severity, quote=True)}">{e(severity)}</td>',
             f'<td class="summary">{e(notes.get("summary", ""))}</td>', f'<td class="figures">{e(notes.get("description", ""))}</td>',
             f'<td class="links">{links}</td>']
    attrs = f'class="alert {e(status, quote=True)}" data-alertname="{e(labels.get("alertname", ""), quote=True)}" ' \
            f'data-feature="{e(labels.get("feature", ""), quote=True)}"'
    return f"<tr {attrs}>{''.join(cells)}</tr>"


def rows(entries: Iterable[dict]) -> list[str]:
    """One row per alert, newest notification first (Alertmanager's order within a notification)."""
    out = []
    for entry in sorted(entries, key=lambda e: e["received_at"], reverse=True):
        body = entry["notification"] if isinstance(entry["notification"], dict) else {}
        alerts = body.get("alerts") if isinstance(body.get("alerts"), list) else []
        out.extend(alert_row(entry["received_at"], alert) for alert in alerts if isinstance(alert, dict))
    return out


def render(entries: list[dict], json_path: str = "/alerts", refresh_seconds: int = 5) -> str:
    body_rows = rows(entries)
    header = "".join(f"<th>{h}</th>" for h in ("Received", "Status", "Alert", "Model and version", "Feature", "Severity",
                                               "Summary", "Figures", "Links"))
    table = (f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(body_rows)}</tbody></table>" if body_rows else
             '<p class="empty">No notification yet. In the demo (<code>make up</code>) the first FeatureDrift arrives '
             "about 3 minutes after start.</p>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="{refresh_seconds}"><title>Drift notifications</title>'
            f"<style>{STYLE}</style></head><body><h1>Notifications from Alertmanager</h1>"
            f'<p class="meta">{len(entries)} notification(s), {len(body_rows)} alert(s), newest first; this page refreshes '
            f'every {refresh_seconds} s. Raw JSON: <a href="{html.escape(json_path)}">{html.escape(json_path)}</a>.</p>'
            f"{table}</body></html>")
