"""Issue 22, finding 5: the client installed alone (`pip install ./drift_client` into a fresh virtualenv: no pandas,
BentoML or XGBoost, nothing of this repository but its own package) publishes to a real Redis, and a real exporter
(`python -m exporter` from the project's virtualenv) judges what it published.

The virtualenv is made with Python 3.9 where one is installed and its wheels can be had (the oldest Python the client
supports), else with /usr/bin/python3. The package is copied first: building in place would leave build/ and
*.egg-info in the repository."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scripts import servers
from tests.helpers import http, series, wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
N = 800

PUBLISH = textwrap.dedent('''
    import importlib.util, json, sys
    absent = [m for m in ("pandas", "bentoml", "xgboost", "contracts", "exporter", "transactions")
              if importlib.util.find_spec(m) is not None]
    import numpy as np
    from drift_client import DriftClient, FeatureSpec, ModelSchema, PublisherConfig, profile_from_training
    url, n = sys.argv[1], int(sys.argv[2])
    schema = ModelSchema((FeatureSpec("tenure_months", "discrete", (0, 600)), FeatureSpec("spend", "numeric", (0, 1e6)),
                          FeatureSpec("plan", "categorical", categories=("basic", "plus", "pro"))))
    rng = np.random.default_rng(0)
    def rows(k, seed):
        r = np.random.default_rng(seed)
        return [{"tenure_months": int(t), "spend": float(s), "plan": str(p)} for t, s, p in
                zip(r.integers(0, 120, k), r.lognormal(4, 0.6, k), r.choice(["basic", "plus", "pro"], k, p=[0.5, 0.3, 0.2]))]
    train = schema.encode_rows(rows(4000, 1))  # no pandas: the encoded matrix
    scores = 1 / (1 + np.exp(-(train[:, 1] / 60 - 1)))
    labels = (rng.random(4000) < scores).astype(int)
    profile = profile_from_training(train, scores, labels, schema, model_name="churn", model_version="alone",
                                    threshold=0.5)
    client = DriftClient(url, "churn", "alone", schema, profile.to_json(),
                         config=PublisherConfig(url, flush_interval=0.05)).start()
    live = rows(n, 2)
    live_scores = 1 / (1 + np.exp(-(schema.encode_rows(live)[:, 1] / 60 - 1)))
    for i in range(0, n, 100):
        client.log_predictions([f"p{j}" for j in range(i, i + 100)], live[i:i + 100], live_scores[i:i + 100])
    client.log_prediction("bad", {"tenure_months": "12", "spend": 3.0, "plan": "High"}, 0.5)  # counted, not raised
    client.stop()
    print(json.dumps({"absent": absent, "version": sys.version_info[:2], "counters": client.counters.as_dict()}))
''')


def python_for_venv() -> list[str]:
    """Python 3.9 when present, then the system's Python 3."""
    found = [str(p) for p in sorted((Path.home() / ".pyenv" / "versions").glob("3.9*/bin/python3.9"))]
    return [*found, *(p for p in ("/usr/bin/python3.9", "/usr/bin/python3") if Path(p).exists())]


def install_alone(tmp: Path) -> Path:
    source = tmp / "drift_client"
    shutil.copytree(ROOT / "drift_client", source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    errors = []
    for python in python_for_venv():
        venv = tmp / f"venv-{Path(python).name}"
        subprocess.run([python, "-m", "venv", str(venv)], check=True, timeout=120)
        done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(source)], capture_output=True,
                              text=True, timeout=600)
        if done.returncode == 0:
            return venv
        errors.append(f"{python}: {done.stderr[-500:]}")  # e.g. no wheel of numpy for this Python here
    raise AssertionError("the client could not be installed:\n" + "\n".join(errors))


def test_the_client_alone_publishes_what_a_real_exporter_judges(log_dir, tmp_path):
    venv = install_alone(tmp_path)
    listed = subprocess.run([str(venv / "bin" / "pip"), "list", "--format=json"], capture_output=True, text=True,
                            check=True).stdout
    installed = {p["name"].lower() for p in json.loads(listed)}
    assert {"drift-monitor-client", "numpy", "redis"} <= installed
    assert not installed & {"pandas", "bentoml", "xgboost", "scikit-learn", "scipy"}
    with servers.start_redis(log_dir) as redis_srv, \
            servers.start_exporter(log_dir, redis_srv.extra["url"], env={"MONITORING_INTERVAL": "0.5"}) as exporter:
        script = tmp_path / "publish.py"
        script.write_text(PUBLISH)
        # run outside the repository, with no PYTHONPATH: only what the virtualenv installed can be imported
        done = subprocess.run([str(venv / "bin" / "python"), str(script), redis_srv.extra["url"], str(N)],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout.strip().splitlines()[-1])
        assert out["absent"] == []
        assert out["counters"]["published"] == N + 1 and out["counters"]["dropped"] == 0
        assert out["counters"]["invalid"] == {"wrong_type": 1, "unknown_category": 1}
        assert "invalid sample" in done.stderr  # one line per reason

        def judged():
            status, body = http("GET", f"{exporter.url}/api/v1/monitoring/drift/latest?hours=1")
            found = [m for m in body["models"] if m["model_version"] == "alone"] if status == 200 else []
            return found and found[0]["predictions"] == N + 1 and found[0]
        snap = wait_for(judged, timeout=30)
        assert snap["judged"] and snap["health_status"] == 0, snap
        assert not any(f["drifted"] for f in snap["features"].values())
        text = http("GET", f"{exporter.url}/metrics")[1]
        assert series(text, "ml_model_health_status", model_name="churn", model_version="alone") == 0.0
        assert series(text, "ml_exporter_schema_mismatch_total", model_name="churn", model_version="alone", reason="fingerprint") == 0
    print(f"client installed with Python {out['version']}", file=sys.stderr)
