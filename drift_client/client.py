"""`DriftClient`: what any Python service calls to have its model monitored, and `profile_from_training`.

The client encodes each prediction's features with the model's declared schema (categoricals as their codes,
contracts.schema) and hands them to a `SamplePublisher` (drift_client/publisher.py): an in-memory buffer that a
background thread flushes to Redis (contracts.redis_layout), off the request path, with bounded memory and every
sample counted once as published or dropped. If Redis is down, logging costs nothing and drops are counted.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from contracts import redis_layout as layout
from contracts.reference_profile import ReferenceProfile
from contracts.schema import ModelSchema
from drift_client.publisher import Counters, PublisherConfig, SamplePublisher


class DriftClient:
    """Publishes one model version's predictions, labels and reference profile to Redis for the drift exporter.

    `redis_url` None (or empty) turns publishing off: every call is then a no-op. `reference_profile_json` is
    `ReferenceProfile.to_json()` of this model version (see `profile_from_training`); the exporter judges the
    live samples against it.
    """

    def __init__(self, redis_url: str | None, model_name: str, model_version: str, schema: ModelSchema,
                 reference_profile_json: str, *, counters: Counters | None = None,
                 config: PublisherConfig | None = None) -> None:
        self.model_name = model_name
        self.model_version = model_version
        self.schema = schema
        config = config or PublisherConfig(redis_url=redis_url or None)
        if config.redis_url != (redis_url or None):
            config = PublisherConfig(**{**config.__dict__, "redis_url": redis_url or None})
        self.keys = layout.Keys(model_name, model_version, config.prefix)
        self.publisher = SamplePublisher(config, self.keys, reference_profile_json, counters)

    @property
    def enabled(self) -> bool:
        return self.publisher.enabled

    def start(self) -> "DriftClient":
        """Start the background flusher (returns self, so `client = DriftClient(...).start()` works)."""
        self.publisher.start()
        return self

    def stop(self) -> None:
        """Flush what is buffered and stop the background thread."""
        self.publisher.stop()

    def log_prediction(self, prediction_id: str, features: Mapping[str, Any], score: float) -> None:
        """One prediction: its id (labels join on it), its features by name, the model's score in [0, 1]."""
        self.log_predictions([prediction_id], [features], [score])

    def log_predictions(self, ids: Sequence[str], rows: Any, scores: Sequence[float] | np.ndarray) -> None:
        """Many predictions: `rows` is a sequence of feature mappings, a pandas DataFrame with the schema's
        columns, or an already encoded float matrix (n x schema width, in schema order, categoricals as codes)."""
        matrix = self.encode(rows)
        scores = np.asarray(scores, np.float32).reshape(-1)
        if not len(ids) == len(matrix) == len(scores):
            raise ValueError(f"{len(ids)} ids, {len(matrix)} rows and {len(scores)} scores: they must match")
        self.publisher.add_predictions(list(ids), matrix, scores)

    def log_label(self, prediction_id: str, label: int) -> None:
        """The ground truth (0 or 1) of an earlier prediction, when it arrives."""
        if label not in (0, 1):
            raise ValueError(f"label must be 0 or 1, got {label!r}")
        self.publisher.add_label(prediction_id, int(label))

    def encode(self, rows: Any) -> np.ndarray:
        """Rows -> the float32 matrix samples carry."""
        if isinstance(rows, np.ndarray):
            matrix = np.asarray(rows, np.float32)
            if matrix.ndim != 2 or matrix.shape[1] != self.schema.width:
                raise ValueError(f"an encoded matrix must be n x {self.schema.width}, got {matrix.shape}")
            return matrix
        if hasattr(rows, "columns"):  # a pandas DataFrame
            return self.schema.encode_frame(rows)
        return self.schema.encode_rows(rows)


def profile_from_training(train_df, scores: Iterable[float] | np.ndarray | None, labels: Iterable[int] | np.ndarray | None,
                          schema: ModelSchema, *, model_name: str, model_version: str, metrics: dict | None = None,
                          importance: Mapping[str, float] | None = None, threshold: float = 0.5,
                          trained_at: str | None = None, calibrator: Mapping | None = None,
                          seed: int = 0, metric_lower_bounds: Mapping[str, float] | None = None) -> ReferenceProfile:
    """The reference profile of a model version from its training frame (the schema's columns; categoricals as
    strings), its scores on held-out data and the training labels.

    `importance` (feature -> weight, e.g. mean |SHAP|) weighs drift attribution; equal weights without it.
    `threshold` is the model's decision threshold; `calibrator` a `drift.estimation.Calibrator.to_dict()`
    (identity without it) for performance estimation before labels arrive. `metric_lower_bounds` (e.g.
    `{"roc_auc": drift.comparison.roc_auc_interval(y_test, scores_test)[0]}`) is what ModelPerformanceDegraded
    compares with; the figure itself without it.
    """
    from drift.estimation import score_edges  # the estimator's score bins (maths only)

    names = list(schema.names)
    missing = [n for n in names if n not in train_df.columns]
    if missing:
        raise ValueError(f"the training frame lacks the schema's columns: {', '.join(missing)}")
    score_values = None if scores is None else np.asarray(scores, np.float32).reshape(-1)
    weights = dict(importance) if importance is not None else {n: 1.0 / len(names) for n in names}
    profile = ReferenceProfile.build(
        model_name=model_name, model_version=model_version,
        trained_at=trained_at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        features=names, metrics=dict(metrics or {}), train=schema.encode_frame(train_df), scores=score_values,
        labels=None if labels is None else np.asarray(labels), importance=weights, schema=schema, seed=seed,
    )
    profile.threshold = float(threshold)
    if score_values is not None and len(score_values):
        profile.score_edges = score_edges(score_values, threshold).tolist()
    profile.calibrator = dict(calibrator) if calibrator else {"kind": "identity", "x": [], "y": []}
    profile.metric_lower_bounds = {k: float(v) for k, v in (metric_lower_bounds or {}).items()}
    return profile
