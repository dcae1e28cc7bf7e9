"""Test helpers, in one place: HTTP calls, waiting, reading /metrics, and monitoring samples built by hand or
published straight into Redis in the service's format (contracts.redis_layout)."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Callable

import bentoml
import numpy as np
import redis

from bento_service.model_store import BOOSTER_FILE, PROFILE_FILE, load_booster, model_tag, predict_scores
from contracts import redis_layout as layout
from contracts.reference_profile import ReferenceProfile
from scripts.servers import store_with_challenger  # noqa: F401  (re-exported: the tests import it from here)
from transactions import FEATURE_NAMES, LABEL, generate


def http(method: str, url: str, body=None, raw: bytes | None = None, headers: dict | None = None) -> tuple[int, dict | str]:
    """One HTTP call; returns (status, parsed JSON or text) for 2xx and 4xx/5xx alike."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read().decode()
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


def wait_for(condition: Callable, timeout: float = 20.0, interval: float = 0.2):
    """Poll `condition` until it returns something truthy (returned), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def series(text: str, name: str, **labels) -> float | None:
    """The value of the first sample of `name` with these labels in a Prometheus text exposition."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def tiny_profile(features: tuple[str, ...] = ("x", "y"), n: int = 2000, seed: int = 0) -> ReferenceProfile:
    """A reference profile of standard normal features and uniform scores, built without a trained model."""
    rng = np.random.default_rng(seed)
    return ReferenceProfile.build(model_name="m", model_version="1", trained_at="2026-01-01T00:00:00Z",
                                  features=list(features), metrics={"roc_auc": 0.9}, train=rng.normal(size=(n, len(features))),
                                  scores=rng.uniform(size=n), labels=(rng.uniform(size=n) < 0.1).astype(int),
                                  importance={f: 1.0 for f in features})


def prediction_batch(ids: list[str], features: np.ndarray, scores, at: float = 0.0) -> layout.PredictionBatch:
    """A decoded predictions entry, as the reader hands it to the window."""
    return layout.PredictionBatch(list(ids), np.full(len(ids), at), np.asarray(features, np.float32),
                                  np.asarray(scores, np.float32).reshape(len(ids)))


def label_batch(ids: list[str], labels: list[int], at: float = 0.0) -> layout.LabelBatch:
    return layout.LabelBatch(list(ids), np.full(len(ids), at), np.asarray(labels, np.uint8))


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


FIGURES = ("predictions", "labels", "enough_samples", "features", "prediction_drift", "performance",
           "reference_performance", "estimated_performance", "estimated_performance_interval",
           "estimated_performance_gap", "prediction_positive_ratio", "label_positive_ratio", "health_status",
           "skipped_rows")


def same_figures(got: dict, expected: dict, rel: float = 1e-9) -> bool:
    """Two snapshot dicts hold the same figures: flags and counts exactly, floats to `rel` (running sums are added
    in another order), every key of FIGURES."""
    def same(a, b) -> bool:
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, float) and isinstance(b, float):
            return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-15
        return a == b

    return all(same(got.get(k), expected.get(k)) for k in FIGURES)


def stream_ids(client: redis.Redis, key: str, decode: Callable) -> list[str]:
    """Every transaction id in a predictions or labels stream (decode: layout.decode_predictions / decode_labels)."""
    return [tid for _, fields in client.xrange(key) for tid in decode(fields).ids]
