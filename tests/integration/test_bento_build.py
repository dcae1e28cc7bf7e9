"""`bentoml build` packs the service described by bentofile.yaml together with its model."""
import os
import subprocess

import pytest
import yaml

from scripts import servers

pytestmark = pytest.mark.integration


def test_bentofile_builds_a_bento_with_the_model(tmp_path):
    home = servers.private_bentoml_home(tmp_path / "home")
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"}
    result = subprocess.run([str(servers.BIN / "bentoml"), "build"], cwd=servers.ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    [bento] = [p for p in (home / "bentos" / "fraud_detector_service").iterdir() if (p / "bento.yaml").exists()]
    manifest = yaml.safe_load((bento / "bento.yaml").read_text())
    assert manifest["service"] == "bento_service.service:FraudDetector"
    assert [m["tag"].split(":")[0] for m in manifest["models"]] == ["fraud_detector"]
    for module in ("bento_service/service.py", "contracts/redis_layout.py", "transactions/schema.py"):
        assert (bento / "src" / module).exists(), module
    assert manifest["services"][0]["config"]["http"]["port"] == 8000
