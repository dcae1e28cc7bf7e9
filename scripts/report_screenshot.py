"""docs/report.png: the HTML report of the spec's drift (transactions, 20,000 rows each) as chromium draws it.

Run by hand or by `make bench` (`python -m scripts.report_screenshot`); tests never write it.
"""
from __future__ import annotations

from pathlib import Path

from drift_report import DriftReport
from drift_report.browser import screenshot
from transactions import generate

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    reference = generate(20_000, seed=1).drop(columns="is_fraud")
    current = generate(20_000, seed=2, scenario="spec_drift").drop(columns="is_fraud")
    report = DriftReport.compare(reference, current, model_name="transactions")
    report.sources = {"reference": "reference.parquet", "current": "current.parquet"}
    page = ROOT / ".run" / "report.html"
    page.parent.mkdir(exist_ok=True)
    report.to_html(page)
    errors = screenshot(page, ROOT / "docs" / "report.png", height=1300)
    if errors:
        raise SystemExit("console errors:\n" + "\n".join(errors))
    print(f"wrote {ROOT / 'docs' / 'report.png'}")


if __name__ == "__main__":
    main()
