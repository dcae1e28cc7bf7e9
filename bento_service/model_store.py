"""Where the trained model lives in the BentoML store, and how it is loaded."""
from __future__ import annotations

import os

import numpy as np
import xgboost as xgb

MODEL_NAME = os.environ.get("MODEL_NAME", "fraud_detector")
BOOSTER_FILE = "model.ubj"
PROFILE_FILE = "reference_profile.json"


def model_tag() -> str:
    """The model the service serves: `MODEL_TAG` if set, else the newest `fraud_detector`."""
    return os.environ.get("MODEL_TAG", f"{MODEL_NAME}:latest")


def load_booster(path: str) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(path)
    booster.set_param({"nthread": 1})
    return booster


def predict_scores(booster: xgb.Booster, rows: np.ndarray) -> np.ndarray:
    """Fraud probabilities for `rows` (n x 12, float32) without building a DMatrix."""
    return booster.inplace_predict(rows, validate_features=False).astype(np.float32)
