"""`bentoml build` packs the service described by bentofile.yaml together with every registered model."""
import os
import subprocess

import pytest
import yaml

from bento_service.registry import MODELS
from scripts import servers

pytestmark = pytest.mark.integration


def test_bentofile_builds_a_bento_with_the_model(tmp_path):
    home = servers.private_bentoml_home(tmp_path / "home")
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"}
    result = subprocess.run([str(servers.BIN / "bentoml"), "build"], cwd=servers.ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    [bento] = [p for p in (home / "bentos" / "model_service").iterdir() if (p / "bento.yaml").exists()]
    manifest = yaml.safe_load((bento / "bento.yaml").read_text())
    assert manifest["service"] == "bento_service.service:ModelService"
    # the service's models (what `bentoml containerize` and `bentoml export` pack): every registered one, found on the
    # service class (bentofile.yaml lists none: the registry is the one place a model is added)
    [service] = manifest["services"]
    assert sorted(m["tag"].split(":")[0] for m in service["models"]) == sorted(MODELS) == ["fraud_detector", "login_risk"]
    for module in ("bento_service/service.py", "drift_client/redis_layout.py", "transactions/schema.py",
                   "logins/schema.py", "drift_client/publisher.py", "drift_client/client.py", "drift/estimation.py"):
        assert (bento / "src" / module).exists(), module
    assert manifest["services"][0]["config"]["http"]["port"] == 8000


def test_bento_pins_the_same_versions_as_the_project():
    import tomllib
    project = tomllib.loads((servers.ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    bento = yaml.safe_load((servers.ROOT / "bentofile.yaml").read_text())["python"]["packages"]
    assert set(bento) <= set(project), set(bento) - set(project)
    runtime = {"bentoml", "xgboost-cpu", "numpy", "pydantic", "redis", "hiredis", "prometheus-client", "uvloop", "httptools"}
    assert runtime <= {pin.split("==")[0] for pin in bento}
