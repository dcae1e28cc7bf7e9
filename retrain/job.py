"""One retraining: recent labelled traffic from Redis -> a new version trained by `bento_service/train.py`'s own
`fit_and_save` (same parameters, early stopping, threshold, calibration, reference profile from its training rows)
-> registered as the challenger in shadow mode. Holds the model's retraining lock throughout (retrain/admission.py).
"""
from __future__ import annotations

import logging
import time

import bentoml
import numpy as np
import pandas as pd
import redis

from bento_service.model_store import BOOSTER_FILE, load_booster, model_tag, predict_scores
from bento_service.registry import MODELS, ModelSpec
from contracts import model_versions as versions
from exporter.labelled_traffic import LabelledTraffic, read_labelled_traffic
from retrain import admission, notify
from retrain.selection import SelectionPolicy, Splits, split_by_time
from drift.performance import roc_auc

log = logging.getLogger(__name__)


class Locked(RuntimeError):
    """Another retraining of the model holds the lock."""


def traffic_frame(spec: ModelSpec, traffic: LabelledTraffic) -> pd.DataFrame:
    """Rows as the training code takes them: the schema's columns (categorical codes back to their categories) and the label."""
    columns = {}
    for j, feature in enumerate(spec.schema.features):
        values = traffic.features[:, j]
        columns[feature.name] = ([feature.category_of(v) for v in values] if feature.is_categorical else values)
    frame = pd.DataFrame(columns)
    frame[spec.label] = traffic.labels.astype(int)
    return frame


def training_frame(spec: ModelSpec, splits: Splits, policy: SelectionPolicy) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Train, validation and test rows in one frame with their index ranges; reference rows (the original training
    distribution) go to the training part only, when asked for."""
    parts = [traffic_frame(spec, splits.train)]
    if policy.reference_rows:
        parts.append(spec.generate(policy.reference_rows, seed=policy.seed)[[*spec.feature_names, spec.label]])
    train = pd.concat(parts, ignore_index=True)
    frame = pd.concat([train, traffic_frame(spec, splits.validation), traffic_frame(spec, splits.test)], ignore_index=True)
    a, b = len(train), len(train) + len(splits.validation)
    return frame, np.arange(a), np.arange(a, b), np.arange(b, len(frame))


def champion_version(client: redis.Redis, model_name: str) -> str:
    """The version serving now: the versions document's champion, else the model the service loads by default."""
    state = versions.load(client, model_name)
    return state.champion if state else bentoml.models.get(model_tag(model_name)).tag.version


def champion_auc_on(model_name: str, version: str, spec: ModelSpec, rows: LabelledTraffic) -> float:
    """The champion's ROC AUC on the held-out newest slice, for the comparison in the log and the notification."""
    try:
        booster = load_booster(bentoml.models.get(f"{model_name}:{version}").path_of(BOOSTER_FILE))
    except bentoml.exceptions.NotFound:
        return float("nan")
    return roc_auc(rows.labels, predict_scores(booster, rows.features))


def register_challenger(client: redis.Redis, model_name: str, champion: str, challenger: str) -> versions.VersionsState:
    def change(state: versions.VersionsState | None) -> versions.VersionsState:
        base = state or versions.VersionsState(champion=champion, available=(champion,))
        return base.with_available(challenger).apply({"challenger": challenger, "mode": "shadow"})
    return versions.update(client, model_name, change)


def run(client: redis.Redis, model_name: str, policy: SelectionPolicy, now: float | None = None) -> versions.VersionsState:
    """Train and register a challenger; raises Locked, NotEnoughData (nothing is saved then)."""
    spec = MODELS[model_name]
    lock = admission.Lock(client, model_name)
    if not lock.acquire():
        raise Locked(f"another retraining of {model_name} is running")
    try:
        now = time.time() if now is None else now
        traffic, malformed = read_labelled_traffic(client, model_name, policy.hours, now, spec.schema.width)
        log.info("%d labelled predictions (%d frauds) of %s in the last %g h; %d malformed entries skipped",
                 len(traffic), traffic.positives, model_name, policy.hours, malformed)
        splits = split_by_time(traffic, policy)
        champion = champion_version(client, model_name)
        frame, tr, va, te = training_frame(spec, splits, policy)
        bentoml_model = _fit(spec, frame, tr, va, te, policy, splits, now)
        model = bentoml_model.tag.version
        state = register_challenger(client, model_name, champion, model)
        new_auc = bentoml_model.info.metadata["metrics"]["roc_auc"]
        old_auc = champion_auc_on(model_name, champion, spec, splits.test)
        summary = (f"{model_name} {model} trained on {len(splits.train)} recent labelled rows; ROC AUC on the newest "
                   f"{len(splits.test)} rows {new_auc:.4f} (champion {champion}: {old_auc:.4f}); now the challenger in shadow")
        print(summary, flush=True)
        notify.event("ModelRetrained", model_name, summary, f"versions: {state.to_api()}", model_version=model)
        return state
    finally:
        lock.release()


def _fit(spec, frame, tr, va, te, policy: SelectionPolicy, splits: Splits, now: float) -> bentoml.Model:
    from bento_service.train import fit_and_save  # imported here: it pulls in the training stack

    metadata = {
        "source": "retraining", "window_hours": policy.hours, "labelled_rows": len(frame),
        "trained_until": float(splits.train.times.max()), "validated_until": float(splits.validation.times.max()),
        "tested_until": float(splits.test.times.max()), "reference_rows": policy.reference_rows,
        "negatives_per_positive": policy.negatives_per_positive, "retrained_at": now}
    # BentoML's metadata takes no None
    return fit_and_save(spec, frame, tr, va, te, seed=policy.seed,
                        metadata={k: v for k, v in metadata.items() if v is not None})
