"""docs/own-model.md's code block, run as written (a scikit-learn model published through the client to a real
Redis), then judged by a real exporter: every prediction and label arrives, the version is judged and healthy."""
from __future__ import annotations

import ast
import os
import re
import subprocess
from pathlib import Path

import pytest

from scripts import servers
from tests.helpers import http, series, wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "own-model.md"
ROWS = 285  # the test split of load_breast_cancer (569 rows, half held out)


def page_block(first_line: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    return next(b for b in blocks if b.startswith(first_line))


def test_the_page_starts_from_installing_the_client_and_a_scikit_learn_model():
    text = PAGE.read_text()
    assert text.index("pip install ./drift_client") < text.index("```python")
    assert "sklearn" in page_block("# own_model.py") and text.index("sklearn") < text.lower().index("xgboost")


def test_the_own_model_page_runs_and_is_judged(log_dir, tmp_path):
    (tmp_path / "own_model.py").write_text(page_block("# own_model.py"))
    with servers.start_redis(log_dir) as redis_srv, \
            servers.start_exporter(log_dir, redis_srv.extra["url"], env={"MONITORING_INTERVAL": "0.5"}) as exporter:
        env = {**os.environ, "REDIS_URL": redis_srv.extra["url"], "PYTHONPATH": str(ROOT)}
        done = subprocess.run([servers.PYTHON, "own_model.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        counters = ast.literal_eval(done.stdout.strip().splitlines()[-1])
        assert counters == {"published": 2 * ROWS, "dropped": 0, "invalid": {}, "redis_up": True}

        def judged():
            status, body = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest?hours=1")
            found = [m for m in body["models"] if m["model_name"] == "breast_cancer"] if status == 200 else []
            return found and found[0]["predictions"] == ROWS and found[0]["labels"] == ROWS and found[0]
        snap = wait_for(judged, timeout=60)
        assert snap["judged"] and snap["health_status"] == 0, snap
        assert not any(f["drifted"] for f in snap["features"].values()) and not snap["prediction_drift"]["drifted"]
        text = http("GET", f"{exporter.url}/metrics")[1]
        assert series(text, "ml_model_health_status", model_name="breast_cancer", model_version="1") == 0.0
