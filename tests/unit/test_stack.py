"""The native stack runner's rendering: prometheus.yml with loopback targets, Alertmanager with the webhook URL, ports."""
from __future__ import annotations

import subprocess

import yaml

from scripts.render_alertmanager import write
from scripts.stack import Ports, Settings, prometheus_config


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
