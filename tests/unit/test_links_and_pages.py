"""Links in alerts are absolute and re-based in one place; the notifications and runbook pages render what people read."""
from __future__ import annotations

import urllib.parse
from pathlib import Path

import yaml

from scripts import docs_page, notifications_page
from scripts.links import Links, committed, relink_rules, with_origin
from scripts.stack import Ports, Settings, prometheus_config

ROOT = Path(__file__).resolve().parents[2]
ALERTS = yaml.safe_load((ROOT / "prometheus/rules/alerts.yml").read_text())


def annotations():
    return [r["annotations"] for g in ALERTS["groups"] for r in g["rules"]]


def test_committed_alert_links_are_absolute_loopback_urls():
    for notes in annotations():
        for key in ("runbook_url", "dashboard"):
            if key in notes:
                url = urllib.parse.urlsplit(notes[key])
                assert url.scheme == "http" and url.hostname == "127.0.0.1", notes[key]
        assert notes["runbook_url"].startswith(committed()["runbook_base_url"] + "#")


def test_links_default_to_the_stack_ports_and_env_overrides_each():
    ports = Ports(webhook=5999, grafana=3999, prometheus=9999, alertmanager=9998)
    links = Links.for_ports(ports, env={})
    assert links == Links("http://127.0.0.1:9999", "http://127.0.0.1:9998", "http://127.0.0.1:3999",
                          with_origin(committed()["runbook_base_url"], "http://127.0.0.1:5999"))
    assert links.runbook.startswith("http://127.0.0.1:5999/")
    moved = Links.for_ports(ports, env={"GRAFANA_URL": "https://grafana.example.org/", "RUNBOOK_BASE_URL": "https://git.example.org/r/README.md"})
    assert moved.grafana == "https://grafana.example.org" and moved.runbook == "https://git.example.org/r/README.md"
    assert moved.prometheus == "http://127.0.0.1:9999"


def test_relink_rules_swaps_only_the_bases():
    links = Links("http://p", "http://a", "https://grafana.example.org", "https://git.example.org/r/docs/runbook.md")
    relinked = relink_rules(ALERTS, links)
    rules = [r for g in relinked["groups"] for r in g["rules"]]
    drift = next(r for r in rules if r["alert"] == "FeatureDrift")
    assert drift["annotations"]["runbook_url"] == "https://git.example.org/r/docs/runbook.md#featuredrift"
    assert drift["annotations"]["dashboard"] == "https://grafana.example.org/d/ml-drift"
    assert drift["annotations"]["summary"] == next(r for g in ALERTS["groups"] for r in g["rules"] if r["alert"] == "FeatureDrift")["annotations"]["summary"]
    assert annotations()[0]["runbook_url"].startswith("http://127.0.0.1:5001/")  # the input is not modified


def test_stack_prometheus_config_loads_relinked_rules(tmp_path):
    ports = Ports(webhook=5999, grafana=3999)
    config = yaml.safe_load(prometheus_config(ports, Settings(), tmp_path / "prometheus.yml", Links.for_ports(ports, env={})).read_text())
    files = [Path(f) for f in config["rule_files"]]
    assert {f.name for f in files} == {"alerts.yml", "recording.yml"} and all(f.parent == tmp_path / "rules" for f in files)
    text = (tmp_path / "rules" / "alerts.yml").read_text()
    assert "http://127.0.0.1:5999/" in text and "http://127.0.0.1:3999/d/ml-drift" in text and ":5001/" not in text


def alert(feature="amount", status="firing", **notes):
    return {"status": status, "labels": {"alertname": "FeatureDrift", "severity": "warning", "model_name": "fraud_detector",
                                         "model_version": "v7", "feature": feature},
            "annotations": {"summary": f"Feature {feature} drifted.", "description": f"{feature}: PSI 0.071, KS D 0.123",
                            "runbook_url": "http://127.0.0.1:5001/docs/runbook.md#featuredrift",
                            "dashboard": "http://127.0.0.1:3000/d/ml-drift", **notes},
            "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=x"}


def test_notifications_page_newest_first_with_figures_and_links():
    entries = [{"received_at": 1_700_000_000, "notification": {"status": "firing", "alerts": [alert("distance_from_home_km")]}},
               {"received_at": 1_700_000_060, "notification": {"status": "resolved", "alerts": [alert("amount", "resolved")]}}]
    page = notifications_page.render(entries)
    assert page.index('data-feature="amount"') < page.index('data-feature="distance_from_home_km"')
    assert '<meta http-equiv="refresh"' in page and "2023-11-14 22:14:20 UTC" in page
    assert "PSI 0.071, KS D 0.123" in page and "fraud_detector v7" in page and '<tr class="alert resolved"' in page
    assert 'href="http://127.0.0.1:5001/docs/runbook.md#featuredrift"' in page
    assert 'href="http://127.0.0.1:3000/d/ml-drift?var-model_name=fraud_detector&amp;var-model_version=v7"' in page
    assert 'href="http://127.0.0.1:9090/graph?g0.expr=x"' in page


def test_notifications_page_escapes_and_refuses_non_http_links():
    evil = alert(summary="<script>alert(1)</script>", runbook_url="javascript:alert(1)", dashboard="/d/ml-drift")
    page = notifications_page.render([{"received_at": 0, "notification": {"alerts": [evil, "not an alert"]}},
                                      {"received_at": 1, "notification": ["not", "a", "notification"]},
                                      {"received_at": 2, "notification": {"alerts": [{"labels": 3, "annotations": [1]}]}},
                                      {"received_at": 3, "notification": {"alerts": "x"}}])
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'href="javascript' not in page and "(not an absolute link)" in page and 'href="/d/' not in page
    assert "No notification yet" in notifications_page.render([])


def test_docs_page_anchors_match_github_and_serves_only_docs(tmp_path):
    assert docs_page.slug("FeatureDrift") == "featuredrift"
    assert docs_page.slug("Prometheus, Alertmanager, Grafana (`mixin/`)") == "prometheus-alertmanager-grafana-mixin"
    html = docs_page.render_markdown("# T\n\n#### FeatureDrift\n<b>raw</b>\n\n| a |\n|---|\n| 1 |\n", "t")
    assert '<h4 id="featuredrift">' in html and "<b>" not in html and "<table>" in html
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "runbook.md").write_text("# R\n")
    (tmp_path / "README.md").write_text("# x\n")
    (tmp_path / "secret.md").write_text("no\n")
    assert docs_page.resolve("/docs/runbook.md", tmp_path) == (tmp_path / "docs" / "runbook.md").resolve()
    assert docs_page.resolve("/README.md#featuredrift", tmp_path) == (tmp_path / "README.md").resolve()
    for path in ("/secret.md", "/docs/../secret.md", "/docs/missing.md", "/", "/etc/passwd", "/docs"):
        assert docs_page.resolve(path, tmp_path) is None, path
