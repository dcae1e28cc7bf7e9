"""The HTML report in a real browser (Debian's headless chromium): it renders, and logs no console error; a page
that breaks the rules (a script, a request) does log one, so the check can fail."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from drift_report import DriftReport
from drift_report.browser import CHROMIUM, screenshot

pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason="chromium not installed (apt-get install chromium)")


def report_page(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    ref = pd.DataFrame({"amount": rng.lognormal(3, 1, n), "hour": rng.integers(0, 24, n),
                        "country": rng.choice(["DE", "FR"], n), "score": rng.beta(1, 8, n)})
    cur = ref.assign(amount=ref.amount * 1.3, country=np.where(rng.random(n) < 0.1, "XX", ref.country), score=rng.beta(1.5, 8, n))
    page = tmp_path / "report.html"
    DriftReport.compare(ref, cur, score="score").to_html(page)
    return page


def test_the_report_renders_in_chromium_without_console_errors(tmp_path):
    png = tmp_path / "report.png"
    assert screenshot(report_page(tmp_path), png) == []
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000  # drawn, not blank


def test_the_console_check_catches_a_script_and_a_request(tmp_path):
    page = report_page(tmp_path)
    text = page.read_text()
    page.write_text(text.replace("</body>", "<script>console.error('x')</script><img src=\"http://127.0.0.1:9/x.png\"></body>"))
    assert screenshot(page, tmp_path / "bad.png")
