"""Where the trained model lives in the BentoML store, and how it is loaded."""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import xgboost as xgb

MODEL_NAME = os.environ.get("MODEL_NAME", "fraud_detector")
BOOSTER_FILE = "model.ubj"
PROFILE_FILE = "reference_profile.json"


def model_tag(name: str = MODEL_NAME) -> str:
    """The version of model `name` the service serves: the newest, unless the environment names one
    (`MODEL_TAG` for the fraud model, `<NAME>_MODEL_TAG` for another, e.g. `LOGIN_RISK_MODEL_TAG`)."""
    variable = "MODEL_TAG" if name == MODEL_NAME else f"{name.upper()}_MODEL_TAG"
    return os.environ.get(variable, f"{name}:latest")


def import_xgboost_without_sklearn() -> None:
    """Import xgboost in a serving process without its scikit-learn estimators.

    When scikit-learn is installed (the dev environment has it; the Bento, bentofile.yaml, does not), `import xgboost`
    imports it for XGBClassifier & co., and with it pandas and pyarrow: ~125 MB per worker for classes serving never
    uses (issue 24). Hiding scikit-learn during xgboost's import gives the Booster alone, as in the Bento. Only the
    service's workers call this (ModelService.__init__): a process that trains needs the estimators and imports
    xgboost first. Nothing is hidden after the import; a process that already imported xgboost is left as it is.
    """
    if "xgboost" in sys.modules:
        return
    hide = "sklearn" not in sys.modules
    if hide:
        sys.modules["sklearn"] = None  # `import sklearn` raises ImportError: xgboost sets SKLEARN_INSTALLED = False
    try:
        import xgboost  # noqa: F401
    finally:
        if hide:
            del sys.modules["sklearn"]


def load_booster(path: str) -> "xgb.Booster":
    # imported here: xgboost brings scikit-learn, pandas and scipy (~160 MB); `bentoml serve`'s supervisor imports
    # the service module to read its definition and must not pay for what only the worker loads (issue 24)
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(path)
    booster.set_param({"nthread": 1})
    return booster


def predict_scores(booster: "xgb.Booster", rows: np.ndarray) -> np.ndarray:
    """Scores for `rows` (n x the model's features, float32; categoricals as codes) without building a DMatrix."""
    return booster.inplace_predict(rows, validate_features=False).astype(np.float32)
