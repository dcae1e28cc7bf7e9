"""What the service's processes import (issue 24): `bentoml serve`'s supervisor imports bento_service.service only to
read the service's definition, so that module must not import what only a worker needs; the worker's xgboost comes
without scikit-learn's estimators (and their pandas and pyarrow). Each check runs in a fresh interpreter."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scripts.servers import ROOT

WORKER_ONLY = ("xgboost", "sklearn", "pandas", "pyarrow", "scipy", "redis")


def imported_after(code: str) -> dict:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "BENTOML_DO_NOT_TRACK": "True", "PATH": "/usr/bin:/bin",
                               "HOME": str(Path.home())})
    assert done.returncode == 0, done.stderr[-3000:]
    return {"modules": set(json.loads(done.stdout.splitlines()[-1])), "stdout": done.stdout}


def test_the_service_definition_imports_nothing_only_the_worker_needs():
    modules = imported_after("import bento_service.service")["modules"]
    assert "bentoml" in modules and "bento_service" in modules
    assert not modules & set(WORKER_ONLY), sorted(modules & set(WORKER_ONLY))


def test_the_workers_xgboost_scores_without_scikit_learn_which_stays_importable():
    code = """
import numpy as np
from bento_service.model_store import import_xgboost_without_sklearn
import_xgboost_without_sklearn()
import xgboost
assert 'sklearn' not in sys.modules and 'pandas' not in sys.modules, sorted(sys.modules)
rng = np.random.default_rng(0)
x = rng.normal(size=(200, 3)).astype(np.float32)
booster = xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(x, label=(x[:, 0] > 0)), 5)
scores = booster.inplace_predict(x)
assert ((scores > 0.5) == (x[:, 0] > 0)).mean() > 0.9
contribs = booster.predict(xgboost.DMatrix(x[:1]), pred_contribs=True)
assert contribs.shape == (1, 4)
print("WORKER", sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'pandas'}))
import sklearn
"""
    out = imported_after(code)
    assert "WORKER []" in out["stdout"], out["stdout"]
    assert "sklearn" in out["modules"], "scikit-learn is hidden during xgboost's import only"
