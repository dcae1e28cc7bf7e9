"""Where the trained model lives in the BentoML store, and how it is loaded."""
from __future__ import annotations

import os

import numpy as np
import xgboost as xgb

MODEL_NAME = os.environ.get("MODEL_NAME", "fraud_detector")
BOOSTER_FILE = "model.ubj"
PROFILE_FILE = "reference_profile.json"


def model_tag(name: str = MODEL_NAME) -> str:
    """The version of model `name` the service serves: the newest, unless the environment names one
    (`MODEL_TAG` for the fraud model, `<NAME>_MODEL_TAG` for another, e.g. `LOGIN_RISK_MODEL_TAG`)."""
    variable = "MODEL_TAG" if name == MODEL_NAME else f"{name.upper()}_MODEL_TAG"
    return os.environ.get(variable, f"{name}:latest")


def load_booster(path: str) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(path)
    booster.set_param({"nthread": 1})
    return booster


def predict_scores(booster: xgb.Booster, rows: np.ndarray) -> np.ndarray:
    """Scores for `rows` (n x the model's features, float32; categoricals as codes) without building a DMatrix."""
    return booster.inplace_predict(rows, validate_features=False).astype(np.float32)
