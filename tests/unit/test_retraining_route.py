"""The retraining route: off in the committed config, on when RETRAIN_WEBHOOK_URL is set (the demo), critical
FeatureDrift only with RETRAIN_ON_FEATURE_DRIFT=1; people are notified as before (continue: true). amtool decides."""
from __future__ import annotations

import subprocess

import pytest

from scripts.render_alertmanager import write


def receivers(config, **labels) -> list[str]:
    args = ["amtool", "config", "routes", "test", f"--config.file={config}", *(f"{k}={v}" for k, v in labels.items())]
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    return result.stdout.strip().split(",")


@pytest.fixture
def rendered(tmp_path):
    def render(**env):
        out = write(tmp_path / "am" / "alertmanager.yml", {"WEBHOOK_URL": "http://127.0.0.1:1/alerts", **env})
        assert subprocess.run(["amtool", "check-config", str(out)], capture_output=True).returncode == 0
        return out
    return render


DEGRADED = {"alertname": "ModelPerformanceDegraded", "severity": "critical", "model_name": "fraud_detector"}
DRIFT_CRITICAL = {"alertname": "FeatureDrift", "severity": "critical", "model_name": "fraud_detector", "feature": "amount"}
DRIFT_WARNING = {**DRIFT_CRITICAL, "severity": "warning"}


def test_off_by_default():
    assert receivers("alertmanager/alertmanager.yml", **DEGRADED) == ["webhook"]


def test_on_when_the_webhook_is_configured(rendered):
    config = rendered(RETRAIN_WEBHOOK_URL="http://127.0.0.1:2/alerts")
    assert receivers(config, **DEGRADED) == ["retrain", "webhook"]
    assert receivers(config, **DRIFT_CRITICAL) == ["webhook"]
    assert receivers(config, **DRIFT_WARNING) == ["webhook"]
    assert receivers(config, alertname="ServiceDown", severity="critical") == ["webhook"]


def test_critical_feature_drift_when_switched_on(rendered):
    config = rendered(RETRAIN_WEBHOOK_URL="http://127.0.0.1:2/alerts", RETRAIN_ON_FEATURE_DRIFT="1")
    assert receivers(config, **DRIFT_CRITICAL) == ["retrain", "webhook"]
    assert receivers(config, **DRIFT_WARNING) == ["webhook"]
    assert receivers(config, **DEGRADED) == ["retrain", "webhook"]
