"""Render the effective alertmanager.yml: the committed one plus what .env switches on.

    python -m scripts.render_alertmanager --out .run/alertmanager.yml

Environment: WEBHOOK_URL (default receiver), SLACK_API_URL_FILE and SLACK_CHANNEL (Slack for every
alert), PAGERDUTY_ROUTING_KEY_FILE (PagerDuty for critical alerts). Secrets stay in those files;
the rendered config only names them.
"""
from __future__ import annotations

import argparse
import copy
import os
import shutil
from pathlib import Path

import yaml

SOURCE = Path(__file__).resolve().parents[1] / "alertmanager" / "alertmanager.yml"


def render(env: dict[str, str], base: dict | None = None) -> dict:
    config = copy.deepcopy(base or yaml.safe_load(SOURCE.read_text()))
    receivers = {r["name"]: r for r in config["receivers"]}
    if env.get("WEBHOOK_URL"):
        receivers["webhook"]["webhook_configs"][0]["url"] = env["WEBHOOK_URL"]
    routes = config["route"]["routes"]
    if env.get("SLACK_API_URL_FILE"):
        slack = {"api_url_file": env["SLACK_API_URL_FILE"], "channel": env.get("SLACK_CHANNEL", "#ml-alerts"),
                 "send_resolved": True, "title": '{{ template "drift.title" . }}', "text": '{{ template "drift.text" . }}'}
        for route in routes:
            receiver = receivers[route["receiver"]]
            name = f"{receiver['name']}-slack"
            if name not in receivers:
                receivers[name] = {**copy.deepcopy(receiver), "name": name, "slack_configs": [slack]}
            route["receiver"] = name
    if env.get("PAGERDUTY_ROUTING_KEY_FILE"):
        critical = next(r for r in routes if r["matchers"] == ['severity="critical"'])
        receiver = copy.deepcopy(receivers[critical["receiver"]])
        receiver["name"] = f"{receiver['name']}-pagerduty"
        receiver["pagerduty_configs"] = [{"routing_key_file": env["PAGERDUTY_ROUTING_KEY_FILE"],
                                          "description": '{{ template "drift.title" . }}', "send_resolved": True}]
        receivers[receiver["name"]] = receiver
        critical["receiver"] = receiver["name"]
    config["receivers"] = list(receivers.values())
    return config


def write(out: Path, env: dict[str, str]) -> Path:
    """The rendered config next to a copy of the templates, so that relative paths still hold."""
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SOURCE.parent / "templates", out.parent / "templates", dirs_exist_ok=True)
    out.write_text(yaml.safe_dump(render(env), sort_keys=False))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(".run/alertmanager/alertmanager.yml"))
    print(write(parser.parse_args().out, dict(os.environ)))


if __name__ == "__main__":
    main()
