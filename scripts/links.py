"""Where every link in alerts and notifications points: one place for the native stack.

    PROMETHEUS_URL     Prometheus's --web.external-url: the alerts' generatorURL (default http://127.0.0.1:<PROMETHEUS_PORT>)
    ALERTMANAGER_URL   Alertmanager's --web.external-url: a notification's externalURL (default http://127.0.0.1:<ALERTMANAGER_PORT>)
    GRAFANA_URL        base of the `dashboard` annotations and Slack's title link (default http://127.0.0.1:<GRAFANA_PORT>)
    RUNBOOK_BASE_URL   the runbook page; runbook_url = <this>#<alertname lowercased>
                       (default: mixin/config.yml's runbook_base_url, served by this stack's webhook receiver)

The committed rules (prometheus/rules/alerts.yml) carry mixin/config.yml's absolute loopback defaults;
`make up` and the tests write a copy with these bases swapped in (`relink_rules`), so that a stack on other
ports, or behind a real host name, still sends links that open.
"""
from __future__ import annotations

import copy
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from mixin import config as mixin_config


@dataclass(frozen=True)
class Links:
    prometheus: str
    alertmanager: str
    grafana: str
    runbook: str

    @classmethod
    def for_ports(cls, ports, env: Mapping[str, str] = os.environ) -> "Links":
        """Loopback defaults for `ports` (a scripts.stack.Ports), each overridden by its variable in `env`."""
        def pick(name: str, default: str) -> str:
            return (env.get(name) or default).rstrip("/")
        return cls(prometheus=pick("PROMETHEUS_URL", f"http://127.0.0.1:{ports.prometheus}"),
                   alertmanager=pick("ALERTMANAGER_URL", f"http://127.0.0.1:{ports.alertmanager}"),
                   grafana=pick("GRAFANA_URL", f"http://127.0.0.1:{ports.grafana}"),
                   runbook=pick("RUNBOOK_BASE_URL", with_origin(committed()["runbook_base_url"], f"http://127.0.0.1:{ports.webhook}")))


def committed() -> dict[str, str]:
    """The bases the committed rules were generated with (mixin/config.yml's `links`)."""
    links = mixin_config()["links"]
    return {"runbook_base_url": links["runbook_base_url"], "grafana_url": links["grafana_url"]}


def with_origin(url: str, origin: str) -> str:
    """`url` with its scheme and host:port replaced by `origin`'s (the path and fragment kept)."""
    parts, new = urllib.parse.urlsplit(url), urllib.parse.urlsplit(origin)
    return urllib.parse.urlunsplit((new.scheme, new.netloc, parts.path, parts.query, parts.fragment))


def relink_rules(rules: dict, links: Links) -> dict:
    """A copy of an alerting-rules document whose runbook_url and dashboard annotations use `links`' bases."""
    old = committed()
    swaps = {"runbook_url": (old["runbook_base_url"], links.runbook), "dashboard": (old["grafana_url"], links.grafana)}
    out = copy.deepcopy(rules)
    for group in out["groups"]:
        for rule in group["rules"]:
            annotations = rule.get("annotations", {})
            for key, (before, after) in swaps.items():
                if key in annotations and annotations[key].startswith(before):
                    annotations[key] = after + annotations[key][len(before):]
    return out
