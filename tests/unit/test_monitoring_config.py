"""Prometheus, Alertmanager, Grafana and docker-compose configuration: valid, tested, consistent with the contracts (contracts/policy.py, contracts/ports.py, contracts/metric_names.py)."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

import contracts.ports
import mixin
from contracts.policy import settings
from mixin.__main__ import stale
from mixin.dashboards import build
from scripts.render_alertmanager import load_dotenv, render, write

ROOT = Path(__file__).resolve().parents[2]
PORTS = contracts.ports.DEFAULT
COMPOSE_PORTS = {"service": PORTS.service, "exporter": PORTS.exporter, "loadgen": PORTS.locust, "prometheus": PORTS.prometheus,
                 "alertmanager": PORTS.alertmanager, "grafana": PORTS.grafana, "redis": PORTS.redis, "webhook": PORTS.webhook}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_promtool_checks_the_config_and_rules():
    result = run("promtool", "check", "config", "prometheus/prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    result = run("promtool", "check", "rules", *map(str, sorted((ROOT / "prometheus" / "rules").glob("*.yml"))))
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_promtool_rule_unit_tests_pass():
    result = run("promtool", "test", "rules", *map(str, sorted((ROOT / "prometheus" / "tests").glob("*.yml"))))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_promtool_test_and_a_runbook():
    alerts = {r["alert"] for g in yaml.safe_load((ROOT / "prometheus/rules/alerts.yml").read_text())["groups"] for r in g["rules"]}
    assert alerts == {"FeatureDrift", "PredictionDrift", "ModelPerformanceDegraded", "PredictionLatencyHigh",
                      "ServiceDown", "ExporterDown", "RedisDown", "MonitoringDataStale", "ModelPerformanceEstimatedDrop",
                      "ModelPerformanceEstimatedDropForecast", "FeatureDriftForecast", "DriftNotJudged",
                      "MonitoringSamplesDropped", "PredictionErrorsHigh", "FeatureMissing", "FeatureOutOfRange",
                      "FeatureDriftMultiWindow", "ShadowPredictionsDropped", "ModelErrorRose", "ModelScoreDropped",
                      "ModelVersionUnjudged", "ModelVersionJudgedTwice"}
    tested = {t["alertname"] for f in (ROOT / "prometheus/tests").glob("*.yml")
              for case in yaml.safe_load(f.read_text())["tests"] for t in case.get("alert_rule_test", [])}
    assert alerts <= tested
    runbook = (ROOT / "docs" / "runbook.md").read_text().lower()
    for name in alerts:
        assert re.search(rf"^#+ {name.lower()}$", runbook, re.M), f"no runbook section for {name}"


def test_amtool_accepts_the_committed_and_the_rendered_config(tmp_path):
    assert run("amtool", "check-config", "alertmanager/alertmanager.yml").returncode == 0
    (tmp_path / "slack").write_text("https://hooks.slack.invalid/x")
    (tmp_path / "pd").write_text("pd-secret-123")
    out = write(tmp_path / "am" / "alertmanager.yml", {"SLACK_API_URL_FILE": str(tmp_path / "slack"),
                                                       "PAGERDUTY_ROUTING_KEY_FILE": str(tmp_path / "pd"),
                                                       "WEBHOOK_URL": "http://127.0.0.1:5999/alerts"})
    result = run("amtool", "check-config", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    routes = {sev: run("amtool", "config", "routes", "test", f"--config.file={out}", f"severity={sev}", "alertname=FeatureDrift").stdout.strip()
              for sev in ("critical", "warning")}
    assert routes == {"critical": "webhook-slack-pagerduty", "warning": "webhook-slack"}
    assert "pd-secret-123" not in out.read_text() and "hooks.slack" not in out.read_text()  # secrets stay in their files


def test_default_routing_groups_by_model_and_inhibits_warnings():
    config = render({})
    assert {"alertname", "model_name", "model_version"} <= set(config["route"]["group_by"])
    assert [r["name"] for r in config["receivers"]] == ["webhook"]
    inhibit = config["inhibit_rules"][0]
    assert inhibit["source_matchers"][0] == 'severity="critical"' and inhibit["target_matchers"] == ['severity="warning"']
    assert {"model_name", "model_version", "feature"} == set(inhibit["equal"])
    for severity in ("critical", "warning"):
        result = run("amtool", "config", "routes", "test", "--config.file=alertmanager/alertmanager.yml",
                     f"severity={severity}", "alertname=FeatureDrift", "model_name=fraud_detector", "feature=amount")
        assert result.stdout.strip() == "webhook", result.stdout + result.stderr


def test_mixin_outputs_are_up_to_date_and_use_the_config():
    assert not stale(), "run python -m mixin"
    c = mixin.config()
    alerts = {r["alert"]: r for g in yaml.safe_load((ROOT / "prometheus/rules/alerts.yml").read_text())["groups"] for r in g["rules"]}
    assert set(c["for"]) == set(alerts)
    for name, rule in alerts.items():
        assert rule["for"] == c["for"][name]
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"]), name
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert "{{ $value" in rule["annotations"]["description"], name
    assert f'>= {mixin.policy().psi_threshold:g}' in yaml.safe_dump(alerts["FeatureDrift"])
    feature_drift = [r for g in yaml.safe_load((ROOT / "prometheus/rules/alerts.yml").read_text())["groups"] for r in g["rules"]
                     if r["alert"] == "FeatureDrift"]
    assert {r["labels"]["severity"] for r in feature_drift} == {"warning", "critical"}
    assert all("ml_drift_detected == 1" in r["expr"] and "ml_drift_ks_statistic" in r["annotations"]["description"]
               for r in feature_drift)


def test_alertmanager_templates_parse():
    for text in ('{{ template "drift.title" . }}', '{{ template "drift.text" . }}', '{{ template "grafana.url" }}'):
        result = run("amtool", "template", "render", "--template.glob=alertmanager/templates/*.tmpl", f"--template.text={text}")
        assert result.returncode == 0, result.stdout + result.stderr


def test_compose_render_points_secrets_inside_the_container(tmp_path):
    env = {"SLACK_API_URL_FILE": "secrets/slack_api_url", "PAGERDUTY_ROUTING_KEY_FILE": "secrets/pd",
           "GRAFANA_URL": "https://grafana.example.org/"}
    out = write(tmp_path / "local" / "alertmanager.yml", env, Path("/etc/alertmanager"))
    text = out.read_text()
    assert "/etc/alertmanager/secrets/slack_api_url" in text and "/etc/alertmanager/secrets/pd" in text
    assert 'define "grafana.url" }}https://grafana.example.org{{ end' in (out.parent / "templates" / "links.tmpl").read_text()
    native = render(env)
    assert native["receivers"][1]["slack_configs"][0]["api_url_file"] == str(ROOT / "alertmanager" / "secrets" / "slack_api_url")
    dotenv = tmp_path / ".env"
    dotenv.write_text("# c\nA=1\nB=            # note\nC='x y'\n")
    assert load_dotenv(dotenv) == {"A": "1", "C": "x y"}


def test_dashboards_are_built_from_code_and_valid():
    built = build()
    assert set(built) == {"ml-overview", "ml-drift", "ml-performance", "ml-comparison", "ml-regression", "ml-multiclass"}
    datasource_uid = yaml.safe_load((ROOT / "grafana/provisioning/datasources/prometheus.yml").read_text())["datasources"][0]["uid"]
    for uid, board in built.items():
        committed = json.loads((ROOT / "grafana" / "dashboards" / f"{uid}.json").read_text())
        assert committed == board, f"{uid}.json is stale: run python -m mixin"
        assert {v["name"] for v in board["templating"]["list"]} == {"model_name", "model_version", "span"}
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == datasource_uid
            assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
            for t in panel["targets"]:
                if re.search(r"\bml_(drift|feature|model)_", t["expr"]) and "ml_model_info" not in t["expr"]:
                    assert "$model_name" in t["expr"], (panel["title"], t["expr"])
        assert board["schemaVersion"] == mixin.config()["dashboards"]["schema_version"]
        for panel in board["panels"]:
            if panel["title"].startswith(("PSI per feature", "Current PSI")):
                values = [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]
                assert values == [None, mixin.policy().psi_warning, mixin.policy().psi_threshold] and panel["fieldConfig"]["defaults"]["color"]["mode"] == "thresholds"
    health = next(p for p in built["ml-overview"]["panels"] if p["title"] == "Health status")
    texts = {k: v["text"] for k, v in health["fieldConfig"]["defaults"]["mappings"][0]["options"].items()}
    assert texts == {"0": "Healthy", "1": "Warning", "2": "Critical"}
    assert any("ALERTS" in t["expr"] for p in built["ml-overview"]["panels"] for t in p["targets"])
    latency = [t["expr"] for p in built["ml-performance"]["panels"] for t in p["targets"] if "histogram_quantile" in t["expr"]]
    assert latency and all(e.startswith("job_endpoint_quantile:") for e in latency)  # from the recording rules
    provider = yaml.safe_load((ROOT / "grafana/provisioning/dashboards/ml-drift.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_compose_matches_the_native_stack_and_the_contracts():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(COMPOSE_PORTS) <= set(services)
    for name, port in COMPOSE_PORTS.items():
        assert f"127.0.0.1:{port}:{port}" in services[name]["ports"], name
    for name in ("redis", "service", "exporter", "prometheus", "alertmanager", "grafana"):
        assert "healthcheck" in services[name], name
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in compose["volumes"], source
            else:
                assert (ROOT / source).exists(), source
    assert "--storage.tsdb.retention.time=7d" in services["prometheus"]["command"]
    assert "GF_SECURITY_ADMIN_PASSWORD__FILE" in services["grafana"]["environment"]  # no default password: a secret file
    prom = yaml.safe_load((ROOT / "prometheus/prometheus.yml").read_text())
    for job in prom["scrape_configs"]:
        host, port = job["static_configs"][0]["targets"][0].split(":")
        assert host == "localhost" or f"127.0.0.1:{port}:{port}" in services[host]["ports"], job["job_name"]
    assert yaml.safe_load((ROOT / "alertmanager/alertmanager.yml").read_text())["receivers"][0]["webhook_configs"][0]["url"].startswith("http://webhook:5001")
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    assert {j["job_name"] for j in prom["scrape_configs"]} == {"fraud-service", "drift-exporter", "alertmanager", "prometheus"}
    datasource = yaml.safe_load((ROOT / "grafana/provisioning/datasources/prometheus.yml").read_text())["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in services["grafana"]["volumes"]
    assert "./grafana/dashboards:/var/lib/grafana/dashboards:ro" in services["grafana"]["volumes"]
    assert services["exporter"]["environment"]["EXPORTER_PORT"] == str(PORTS.exporter)
    app_env = compose["x-app"]["environment"]
    for env, _, _ in settings():  # every policy setting reaches the containers, its default left to contracts/policy.py
        assert app_env[env] == f"${{{env}:-}}", env
    assert services["service"]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert "bentoml" in services["service"]["command"] and "serve" in services["service"]["command"]
    assert "--scenario" in services["loadgen"]["command"]
    assert (ROOT / "Dockerfile").exists() and ".env" in (ROOT / ".gitignore").read_text().split()


def test_compose_is_safe_by_default():
    """Issue 14: loopback-only ports, no Prometheus lifecycle API, restart policies, pinned images, durable Redis
    with a password from a Docker secret, Grafana's password from a file, a non-root image without a model."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    one_shot = {"secrets-init", "train"}
    for name, svc in compose["services"].items():
        assert all(str(p).startswith("127.0.0.1:") for p in svc.get("ports", [])), name
        assert svc.get("restart") == ("no" if name in one_shot else "unless-stopped"), name
        image = svc.get("image", "")
        assert ":" in image and not image.endswith((":latest", "-alpine")) or image.startswith("ml-drift-monitor") \
            or re.search(r":\d+\.\d+\.\d+", image), (name, image)
    assert not any("lifecycle" in str(a) for a in compose["services"]["prometheus"]["command"])
    redis_svc = compose["services"]["redis"]
    redis_cmd = " ".join(redis_svc["command"])
    for setting in ("--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction", "requirepass",
                    "/run/secrets/redis_password", "exec docker-entrypoint.sh redis-server /tmp/redis.conf"):
        assert setting in redis_cmd, setting
    assert redis_svc["secrets"] == ["redis_password"] and "REDISCLI_AUTH" in redis_svc["healthcheck"]["test"][1]
    assert set(compose["secrets"]) == {"redis_password", "versions_api_token", "grafana_admin_password"}
    assert compose["services"]["service"]["environment"]["VERSIONS_API_TOKEN_FILE"] == "/run/app-secrets/versions_api_token"
    assert "versions_api_token" in compose["services"]["secrets-init"]["secrets"]
    for name in ("service", "exporter"):
        svc = compose["services"][name]
        assert svc["environment"]["REDIS_PASSWORD_FILE"] == "/run/app-secrets/redis_password", name
        assert "app-secrets:/run/app-secrets:ro" in svc["volumes"], name
        assert svc["depends_on"]["secrets-init"] == {"condition": "service_completed_successfully"}, name
    assert "@" not in compose["x-app"]["environment"]["REDIS_URL"], "no password in the URL"
    assert compose["services"]["service"]["depends_on"]["train"] == {"condition": "service_completed_successfully"}
    grafana_env = compose["services"]["grafana"]["environment"]
    assert "GF_SECURITY_ADMIN_PASSWORD" not in grafana_env
    assert grafana_env["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/grafana-secrets/admin_password"
    assert (ROOT / ".dockerignore").exists() and "secrets" in (ROOT / ".dockerignore").read_text().split()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '"--host", "127.0.0.1"' in dockerfile
    assert re.search(r"^USER 10001", dockerfile, re.M), "the image runs as an unprivileged user"
    assert not re.search(r"^RUN .*bento_service\.train", dockerfile, re.M), "no training at build time"


def test_compose_secrets_are_private_and_kept(tmp_path):
    from scripts.compose_secrets import write_secrets
    written = write_secrets(tmp_path / "secrets", {"GRAFANA_ADMIN_PASSWORD": "chosen"})
    assert written["grafana_admin_password"].read_text() == "chosen"
    assert (tmp_path / "secrets").stat().st_mode & 0o777 == 0o700
    for path in written.values():
        assert path.stat().st_mode & 0o777 == 0o600, path
    redis_password = written["redis_password"].read_text()
    assert len(redis_password.strip()) >= 32
    again = write_secrets(tmp_path / "secrets", {"GRAFANA_ADMIN_PASSWORD": "other"})
    assert again["redis_password"].read_text() == redis_password and again["grafana_admin_password"].read_text() == "chosen"
