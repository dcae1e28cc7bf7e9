"""The native stack runner's rendering: prometheus.yml with loopback targets, Alertmanager with the webhook URL, ports."""
from __future__ import annotations

import subprocess

import pytest
import yaml

from scripts.render_alertmanager import write
from scripts.stack import ROOT, Ports, Settings, Stack, prometheus_config


def test_ports_default_to_design_and_move_with_the_environment(monkeypatch):
    assert vars(Ports()) == {"redis": 6379, "service": 8000, "exporter": 8001, "locust": 8089, "prometheus": 9090,
                             "alertmanager": 9093, "webhook": 5001, "grafana": 3000,
                             "retrain": 5002}
    monkeypatch.setenv("PROMETHEUS_PORT", "19090")
    monkeypatch.setenv("WEBHOOK_PORT", "15001")
    ports = Ports.from_env()
    assert (ports.prometheus, ports.webhook, ports.service) == (19090, 15001, 8000)


def test_demo_settings_are_short_and_overridable(monkeypatch):
    demo = Settings.demo()
    assert demo.window_hours * 3600 <= 120 and demo.interval_seconds <= 10
    assert demo.load[:2] == ["--scenario", "demo"]
    monkeypatch.setenv("DEMO_RPS", "5")
    monkeypatch.setenv("DEMO_MODEL", "fraud_detector")
    load = Settings.demo().load
    assert load[load.index("--rps") + 1] == "5" and load[load.index("--model") + 1] == "fraud_detector"
    assert "both" in Settings().load  # make up drives both models, so neither sits idle (DriftNotJudged)


def test_rendered_configs_are_valid_and_point_at_the_chosen_ports(tmp_path):
    ports = Ports(redis=1, service=2, exporter=3, locust=4, prometheus=5, alertmanager=6, webhook=7, grafana=8, retrain=9)
    out = prometheus_config(ports, Settings(scrape_seconds=2), tmp_path / "prometheus" / "prometheus.yml")
    config = yaml.safe_load(out.read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets == {"fraud-service": ["127.0.0.1:2"], "drift-exporter": ["127.0.0.1:3"], "alertmanager": ["127.0.0.1:6"],
                       "prometheus": ["127.0.0.1:5"]}
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["127.0.0.1:6"]
    assert config["global"]["scrape_interval"] == "2s"
    result = subprocess.run(["promtool", "check", "config", str(out)], capture_output=True, text=True)
    assert result.returncode == 0 and "SUCCESS: 2 rule files found" in result.stdout, result.stdout + result.stderr

    am = write(tmp_path / "am" / "alertmanager.yml", {"WEBHOOK_URL": "http://127.0.0.1:7/alerts"})
    assert yaml.safe_load(am.read_text())["receivers"][0]["webhook_configs"][0]["url"] == "http://127.0.0.1:7/alerts"
    assert (am.parent / "templates" / "drift.tmpl").exists()
    result = subprocess.run(["amtool", "check-config", str(am)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_retraining_loop_is_scraped_only_when_on(tmp_path):
    ports = Ports(retrain=9)
    off = yaml.safe_load(prometheus_config(ports, Settings(), tmp_path / "off.yml").read_text())
    on = yaml.safe_load(prometheus_config(ports, Settings(retrain=True), tmp_path / "on.yml").read_text())
    assert "retrain-webhook" not in {job["job_name"] for job in off["scrape_configs"]}
    assert {job["job_name"]: job["static_configs"][0]["targets"] for job in on["scrape_configs"]}["retrain-webhook"] == ["127.0.0.1:9"]


def test_demo_retrain_switch(monkeypatch):
    assert not Settings.demo().retrain
    monkeypatch.setenv("DEMO_RETRAIN", "1")
    assert Settings.demo().retrain


def test_the_retraining_loop_routes_alerts_to_its_webhook_only_when_on(tmp_path):
    """DEMO_RETRAIN=1 must reach Alertmanager: before the fix the stack never set RETRAIN_WEBHOOK_URL (nor started the
    webhook), so ModelPerformanceDegraded went to people only and nothing retrained."""
    ports = Ports(alertmanager=6, webhook=7, retrain=9)
    off = Stack(ports, tmp_path / "off", Settings()).alertmanager_env()
    on = Stack(ports, tmp_path / "on", Settings(retrain=True)).alertmanager_env()
    assert "RETRAIN_WEBHOOK_URL" not in off and on["WEBHOOK_URL"] == "http://127.0.0.1:7/alerts"
    assert on["RETRAIN_WEBHOOK_URL"] == "http://127.0.0.1:9/alerts"
    config = yaml.safe_load(write(tmp_path / "am" / "alertmanager.yml", on).read_text())
    first = config["route"]["routes"][0]
    assert first["receiver"] == "retrain" and first["matchers"] == ['alertname="ModelPerformanceDegraded"']
    assert {"name": "retrain", "webhook_configs": [{"url": "http://127.0.0.1:9/alerts", "send_resolved": False}]} in config["receivers"]


def test_the_retraining_webhook_gets_the_loop_settings(tmp_path):
    settings = Settings(retrain=True, window_hours=0.015, interval_seconds=2, retrain_cooldown_seconds=900,
                        promotion_env={"PROMOTION_MIN_LABELLED": "1000"}, model_store=tmp_path / "store")
    env = Stack(Ports(alertmanager=6), tmp_path, settings).retrain_env()
    assert env["ALERTMANAGER_URL"] == "http://127.0.0.1:6" and env["DRIFT_WINDOW_HOURS"] == "0.015"
    assert float(env["RETRAIN_COOLDOWN_SECONDS"]) == 900 and env["PROMOTE_INTERVAL"] == "2"
    assert env["PROMOTION_MIN_LABELLED"] == "1000" and env["BENTOML_HOME"] == str(tmp_path / "store")


def test_alert_for_overrides_change_only_the_named_rules_duration(tmp_path):
    config = yaml.safe_load(prometheus_config(Ports(), Settings(alert_for={"ModelPerformanceDegraded": "30s"}),
                                              tmp_path / "p" / "prometheus.yml").read_text())
    committed = {r["alert"]: r for g in yaml.safe_load((ROOT / "prometheus" / "rules" / "alerts.yml").read_text())["groups"]
                 for r in g["rules"] if "alert" in r}
    written = {r["alert"]: r for path in config["rule_files"] for g in yaml.safe_load(open(path))["groups"]
               for r in g["rules"] if "alert" in r}
    assert written["ModelPerformanceDegraded"]["for"] == "30s" and committed["ModelPerformanceDegraded"]["for"] == "5m"
    assert written["ModelPerformanceDegraded"]["expr"] == committed["ModelPerformanceDegraded"]["expr"]
    assert {k: v["for"] for k, v in written.items() if k != "ModelPerformanceDegraded"} == \
           {k: v["for"] for k, v in committed.items() if k != "ModelPerformanceDegraded"}
    with pytest.raises(ValueError, match="NoSuchAlert"):
        prometheus_config(Ports(), Settings(alert_for={"NoSuchAlert": "1m"}), tmp_path / "q" / "prometheus.yml")


def test_demo_retrain_runs_the_concept_scenario_with_a_shorter_performance_for(monkeypatch):
    assert Settings.demo().alert_for == {}
    monkeypatch.setenv("DEMO_RETRAIN", "1")
    demo = Settings.demo()
    assert demo.load[:2] == ["--scenario", "demo_concept"] and demo.alert_for == {"ModelPerformanceDegraded": "1m"}
    assert demo.load[demo.load.index("--rps") + 1] == "40"  # enough labelled traffic for retraining's 2,000 rows
    assert demo.promotion_env == {"PROMOTION_MIN_LABELLED": "1000", "PROMOTION_MIN_POSITIVES": "30"}
    monkeypatch.setenv("PROMOTION_MIN_LABELLED", "1500")
    assert Settings.demo().promotion_env["PROMOTION_MIN_LABELLED"] == "1500"
    monkeypatch.setenv("DEMO_ALERT_FOR", "ModelPerformanceDegraded=2m,FeatureDrift=30s")
    monkeypatch.setenv("DEMO_SCENARIO", "concept")
    demo = Settings.demo()
    assert demo.alert_for == {"ModelPerformanceDegraded": "2m", "FeatureDrift": "30s"} and demo.load[1] == "concept"
