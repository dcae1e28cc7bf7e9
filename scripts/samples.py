"""Monitoring samples published straight into Redis in the service's format (drift_client.redis_layout), with the
trained model's reference profile and scores: what the tests and the exporter's benchmarks feed an exporter with,
without a service in between."""
from __future__ import annotations

import time

import bentoml
import numpy as np
import redis

from bento_service.model_store import BOOSTER_FILE, PROFILE_FILE, load_booster, model_tag, predict_scores
from drift_client import redis_layout as layout
from drift_client.reference_profile import ReferenceProfile
from transactions import FEATURE_NAMES, LABEL, generate


def trained_model():
    """(booster, reference profile) of the trained fraud model in the model store."""
    model = bentoml.models.get(model_tag())
    with open(model.path_of(PROFILE_FILE)) as f:
        return load_booster(model.path_of(BOOSTER_FILE)), ReferenceProfile.from_json(f.read())


class Publisher:
    """The trained model's reference profile and scores, published under a chosen version name."""

    def __init__(self, client: redis.Redis, version: str) -> None:
        self.booster, self.profile = trained_model()
        self.profile.model_version = version
        self.keys = layout.Keys(self.profile.model_name, version)
        self.client = client
        client.set(self.keys.reference, self.profile.to_json())
        client.sadd(layout.models_key(), self.keys.member)

    def send(self, n: int, *, seed: int, scenario: str = "baseline", label_rate: float = 0.0, batch: int = 500,
             prefix: str = "t") -> dict:
        """Publish `n` predictions (and labels for a share of them); returns what was sent."""
        df = generate(n, seed=seed, scenario=scenario)
        x = df[list(FEATURE_NAMES)].to_numpy(np.float32)
        scores = predict_scores(self.booster, x)
        ids = [f"{prefix}-{seed}-{i}" for i in range(n)]
        for start in range(0, n, batch):
            part = slice(start, start + batch)
            self.client.xadd(self.keys.predictions, layout.encode_predictions(layout.PredictionBatch(
                ids[part], np.full(len(ids[part]), time.time()), x[part], scores[part])))
        labelled = np.random.default_rng(seed).random(n) < label_rate
        lab_ids = [i for i, keep in zip(ids, labelled) if keep]
        lab = df[LABEL].to_numpy()[labelled].astype(np.uint8)
        for start in range(0, len(lab_ids), batch):
            part = slice(start, start + batch)
            self.client.xadd(self.keys.labels, layout.encode_labels(layout.LabelBatch(
                lab_ids[part], np.full(len(lab_ids[part]), time.time()), lab[part])))
        return {"ids": ids, "scores": scores, "labels": df[LABEL].to_numpy(), "labelled": labelled, "frame": df}
