"""Rewrite grafana/dashboards/*.json; the dashboards are defined in mixin/dashboards.py (tunables: mixin/config.yml).

    python -m grafana.build_dashboards
"""
from mixin.dashboards import build, main, render  # noqa: F401

if __name__ == "__main__":
    main()
