"""Render the effective alertmanager.yml: the committed one plus what .env switches on.

    python -m scripts.render_alertmanager --compose   # -> alertmanager/local/alertmanager.yml for docker compose
    (`make up` renders its own into .run/alertmanager/ with the same function)

One source (alertmanager/alertmanager.yml and templates/), adjusted from the environment:
  WEBHOOK_URL                  the default webhook receiver's URL (the native stack: http://127.0.0.1:<WEBHOOK_PORT>/alerts)
  SLACK_API_URL_FILE           file holding the Slack incoming-webhook URL: Slack gets every alert
  SLACK_CHANNEL                default #ml-alerts
  PAGERDUTY_ROUTING_KEY_FILE   file holding the PagerDuty Events v2 routing key: PagerDuty gets the critical alerts
  RETRAIN_WEBHOOK_URL          the retraining webhook (scripts/retrain_webhook.py): ModelPerformanceDegraded also goes
                               there (off when unset; `make up` sets it with DEMO_RETRAIN=1)
  RETRAIN_ON_FEATURE_DRIFT     "1": critical FeatureDrift also starts a retraining
  GRAFANA_URL                  base of Slack's title link (default http://127.0.0.1:3000); the alerts' own runbook and
                               dashboard links are absolute in their annotations (scripts/links.py)
A relative *_FILE path is relative to alertmanager/ (e.g. secrets/slack_api_url, gitignored): the native stack
resolves it on this machine, --compose to /etc/alertmanager/ inside the container, where alertmanager/ is mounted.
Secrets stay in their files; the rendered config only names them. The templates are copied next to the
rendered config so that its relative `templates/*.tmpl` still holds.
"""
from __future__ import annotations

import argparse
import copy
import os
import shutil
from pathlib import Path

import yaml

SOURCE = Path(__file__).resolve().parents[1] / "alertmanager" / "alertmanager.yml"
TITLE, TEXT = '{{ template "drift.title" . }}', '{{ template "drift.text" . }}'


def _file(env: dict[str, str], name: str, files_root: Path) -> str:
    path = Path(env[name])
    return str(path if path.is_absolute() else files_root / path)


def render(env: dict[str, str], base: dict | None = None, files_root: Path = SOURCE.parent) -> dict:
    config = copy.deepcopy(base or yaml.safe_load(SOURCE.read_text()))
    receivers = {r["name"]: r for r in config["receivers"]}
    if env.get("WEBHOOK_URL"):
        receivers["webhook"]["webhook_configs"][0]["url"] = env["WEBHOOK_URL"]
    routes = config["route"]["routes"]
    if env.get("SLACK_API_URL_FILE"):
        slack = {"api_url_file": _file(env, "SLACK_API_URL_FILE", files_root), "channel": env.get("SLACK_CHANNEL", "#ml-alerts"),
                 "send_resolved": True, "title": TITLE, "text": TEXT,
                 "title_link": '{{ template "grafana.url" }}/d/ml-overview'}
        for route in [config["route"], *routes]:
            receiver = receivers[route["receiver"]]
            name = f"{receiver['name']}-slack"
            if name not in receivers:
                receivers[name] = {**copy.deepcopy(receiver), "name": name, "slack_configs": [slack]}
            route["receiver"] = name
    if env.get("PAGERDUTY_ROUTING_KEY_FILE"):
        critical = next(r for r in routes if r["matchers"] == ['severity="critical"'])
        receiver = copy.deepcopy(receivers[critical["receiver"]])
        receiver["name"] = f"{receiver['name']}-pagerduty"
        receiver["pagerduty_configs"] = [{"routing_key_file": _file(env, "PAGERDUTY_ROUTING_KEY_FILE", files_root), "description": TITLE,
                                          "details": {"alerts": TEXT}, "send_resolved": True}]
        receivers[receiver["name"]] = receiver
        critical["receiver"] = receiver["name"]
    if env.get("RETRAIN_WEBHOOK_URL"):
        add_retraining_route(config, receivers, env["RETRAIN_WEBHOOK_URL"], env.get("RETRAIN_ON_FEATURE_DRIFT") == "1")
    config["receivers"] = list(receivers.values())
    return config


def add_retraining_route(config: dict, receivers: dict, url: str, on_feature_drift: bool) -> None:
    """First routes, with `continue: true`: the alert still notifies people as before; the webhook only starts a job
    (its own lock and cooldown make a storm start one). Resolved notifications are not sent: nothing to do then."""
    receivers["retrain"] = {"name": "retrain", "webhook_configs": [{"url": url, "send_resolved": False}]}
    matchers = [['alertname="ModelPerformanceDegraded"']]
    if on_feature_drift:
        matchers.append(['alertname="FeatureDrift"', 'severity="critical"'])
    routes = [{"matchers": m, "receiver": "retrain", "group_by": ["alertname", "model_name"], "group_wait": "0s",
               "group_interval": "1m", "repeat_interval": "1h", "continue": True} for m in matchers]
    config["route"]["routes"] = routes + config["route"]["routes"]


def links_template(env: dict[str, str]) -> str | None:
    """templates/links.tmpl for GRAFANA_URL, or None to keep the committed one."""
    if not env.get("GRAFANA_URL"):
        return None
    return ("{{/* Rendered by scripts/render_alertmanager.py from GRAFANA_URL. */}}\n"
            f'{{{{ define "grafana.url" }}}}{env["GRAFANA_URL"].rstrip("/")}{{{{ end }}}}\n')


def write(out: Path, env: dict[str, str], files_root: Path = SOURCE.parent) -> Path:
    """The rendered config next to a copy of the templates, so that relative paths still hold."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.parent.resolve() != SOURCE.parent.resolve():
        shutil.copytree(SOURCE.parent / "templates", out.parent / "templates", dirs_exist_ok=True)
        links = links_template(env)
        if links:
            (out.parent / "templates" / "links.tmpl").write_text(links)
    out.write_text(yaml.safe_dump(render(env, files_root=files_root), sort_keys=False))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compose", action="store_true", help="for docker compose: secrets under /etc/alertmanager/")
    parser.add_argument("--out", type=Path, help="default alertmanager/local/alertmanager.yml with --compose, "
                                                   "else .run/alertmanager/alertmanager.yml")
    args = parser.parse_args()
    env = {**load_dotenv(SOURCE.parents[1] / ".env"), **os.environ}
    if args.compose:
        print(write(args.out or SOURCE.parent / "local" / "alertmanager.yml", env, Path("/etc/alertmanager")))
    else:
        print(write(args.out or SOURCE.parents[1] / ".run" / "alertmanager" / "alertmanager.yml", env))


def load_dotenv(path: Path) -> dict[str, str]:
    """KEY=value lines of a .env file (comments and blank lines skipped; no interpolation)."""
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                if value.strip():
                    values[key.strip()] = value.strip().strip("'\"")
    return values


if __name__ == "__main__":
    main()
