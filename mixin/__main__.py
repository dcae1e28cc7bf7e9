"""Write the mixin's outputs: prometheus/rules/{alerts,recording}.yml, grafana/dashboards/*.json, .env.example's and
docker-compose.yml's policy blocks, the kustomize base deploy/kubernetes/ (its PrometheusRule and dashboards'
ConfigMaps from the same rules and JSON), docs/metrics.md and docs/configuration.md's tables.

    python -m mixin            # regenerate after editing contracts/policy.py, contracts/metric_names.py, mixin/config.yml, rules.py or dashboards.py
    python -m mixin --check    # exit 1 if a committed output differs from what the sources give
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

from contracts.metric_names import METRICS
from mixin import ROOT, config_doc, dashboards, env_example, kubernetes, metrics_doc, rules


def _yaml(doc: dict) -> str:
    return rules.HEADER + yaml.safe_dump(doc, sort_keys=False, width=10_000, allow_unicode=True)


def outputs() -> dict[Path, str]:
    files = {ROOT / "prometheus" / "rules" / "alerts.yml": _yaml(rules.alerting_rules()),
             ROOT / "prometheus" / "rules" / "recording.yml": _yaml(rules.recording_rules())}
    files.update({dashboards.OUT / name: text for name, text in dashboards.render().items()})
    files[ROOT / ".env.example"] = env_example.render()
    files[env_example.COMPOSE] = env_example.render_compose()
    files.update({kubernetes.OUT / name: text for name, text in kubernetes.render().items()})
    files[metrics_doc.PATH] = metrics_doc.render()
    files[config_doc.PATH] = config_doc.render()
    return files


def unknown_series(files: dict[Path, str]) -> set[str]:
    """The ml_* series the rules and dashboards query that the metric table (contracts/metric_names.py) lacks."""
    text = "".join(body for path, body in files.items() if path.suffix in (".yml", ".yaml", ".json"))
    used = set(re.findall(r"(?<![\w:])(ml_[a-z0-9_]+)(?![\w:])", text))
    return used - {spec.series for spec in METRICS.values()}


def stale() -> list[Path]:
    """Outputs that differ from what the sources give, and files left in deploy/kubernetes/ that no source gives."""
    files = outputs()
    extra = [path for path in sorted(kubernetes.OUT.glob("*")) if path not in files]
    return [path for path, text in files.items() if not path.exists() or path.read_text() != text] + extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    check = parser.parse_args().check
    files = outputs()
    if unknown := unknown_series(files):
        sys.exit(f"the rules or dashboards query series the metric table lacks: {sorted(unknown)} (contracts/metric_names.py)")
    if check:
        paths = stale()
        for path in paths:
            print(f"stale: {path.relative_to(ROOT)} (run python -m mixin)")
        sys.exit(1 if paths else 0)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
