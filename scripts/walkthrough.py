"""docs/walkthrough.md's demo walkthrough as a person follows it natively: each page it names, and what on it shows the drift.

Used by the e2e test (tests/e2e/test_alert_path.py: the pages in headless Chromium during the alert-path run)
and by bench/walkthrough.py (a fresh `make up`, timed until every page shows the drift; screenshots to docs/).
The checks read a page's visible text (scripts.browser: innerText), so a row hidden in a collapsed section
does not count.
"""
from __future__ import annotations

import re

from scripts.browser import PROMETHEUS_ALERTS_PREPARE, View

FEATURE = "amount"


def views(ports) -> dict[str, View]:
    """The walkthrough's browser pages for a stack on `ports` (a scripts.stack.Ports)."""
    prom = f"http://127.0.0.1:{ports.prometheus}"
    return {
        "locust": View("Locust", f"http://127.0.0.1:{ports.locust}/"),
        "prometheus_graph": View("Prometheus graph", f"{prom}/classic/graph?g0.expr=ml_drift_detected%20%3D%3D%201&g0.tab=1"),
        "prometheus_alerts": View("Prometheus alerts", f"{prom}/classic/alerts", PROMETHEUS_ALERTS_PREPARE, (1400, 1000)),
        "notifications": View("notifications", f"http://127.0.0.1:{ports.webhook}/", size=(1500, 700)),
    }


def locust_shows_drifted_traffic(text: str) -> bool:
    return "predict [spec_drift]" in text or "predict [covariate]" in text


def graph_shows_flag(text: str, feature: str = FEATURE) -> bool:
    """The classic graph's table: an `ml_drift_detected{... feature="amount" ...}` row with value 1."""
    return any(f'feature="{feature}"' in line and line.rstrip().endswith("1") for line in text.splitlines())


def prometheus_alert_row(text: str, feature: str = FEATURE) -> str | None:
    """The firing FeatureDrift row for `feature` and its description's figures, as the alerts page shows them."""
    row = next((line for line in text.splitlines() if 'alertname="FeatureDrift"' in line and f'feature="{feature}"' in line
                and "FIRING" in line), None)
    figures = next((line for line in text.splitlines() if re.match(rf"{feature}: PSI [0-9.]+ .*KS D [0-9.]+", line)), None)
    return f"{row}\n{figures}" if row and figures else None


def notification_row(text: str, feature: str = FEATURE) -> str | None:
    """The notifications page's row (tab-separated cells) of a firing FeatureDrift for `feature`, with its figures."""
    return next((line for line in text.splitlines() if "\tFeatureDrift\t" in line and f"\t{feature}\t" in line
                 and "firing" in line and re.search(rf"{feature}: PSI [0-9.]+ .*KS D [0-9.]+", line)), None)


def amtool_row(output: str, feature: str = FEATURE) -> str | None:
    """`make alerts`' line for the feature's FeatureDrift."""
    return next((line for line in output.splitlines() if line.startswith("FeatureDrift") and f"Feature {feature} " in line), None)
