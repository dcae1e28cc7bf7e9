"""`DriftClient`: what any Python service calls to have its model monitored, and `profile_from_training`.

The client encodes each prediction's features with the model's declared schema (categoricals as their codes,
drift_client.schema) and hands them to a `SamplePublisher` (drift_client/publisher.py): an in-memory buffer that a
background thread flushes to Redis (drift_client.redis_layout), off the request path, with bounded memory and every
sample counted once as published or dropped. If Redis is down, logging costs nothing and drops are counted.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np

from drift_client import redis_layout as layout
from drift_client.reference_profile import ReferenceProfile, score_edges
from drift_client.schema import FeatureSpec, ModelSchema
from drift_client.publisher import Counters, PublisherConfig, SamplePublisher
from drift_client.validation import Problems, encode_frame, encode_rows, valid_scores

log = logging.getLogger(__name__)
LOG_INTERVAL_SECONDS = 60  # one line per kind of problem per minute: a flood of bad rows must not flood the log


class DriftClient:
    """Publishes one model version's predictions, labels and reference profile to Redis for the drift exporter.

    `redis_url` None (or empty) turns publishing off (one INFO line says so): every call then only checks its rows.
    `reference_profile_json` is `ReferenceProfile.to_json()` of this model version (see `profile_from_training`);
    the exporter judges the live samples against it, and the client refuses to start (ValueError) when `schema`
    is not the profile's own. Bad rows never raise into the caller (they are counted by reason in
    `counters.invalid_counts` and logged once per reason per minute) unless `strict=True`.
    """

    def __init__(self, redis_url: Optional[str], model_name: str, model_version: str, schema: ModelSchema,
                 reference_profile_json: str, *, counters: Optional[Counters] = None,
                 config: Optional[PublisherConfig] = None, strict: bool = False) -> None:
        self.model_name = model_name
        self.model_version = model_version
        self.schema = schema
        self.strict = strict
        check_schema(schema, reference_profile_json)
        config = config or PublisherConfig(redis_url=redis_url or None)
        if config.redis_url != (redis_url or None):
            config = PublisherConfig(**{**config.__dict__, "redis_url": redis_url or None})
        self.keys = layout.Keys(model_name, model_version, config.prefix)
        self.counters = counters or Counters()
        self.publisher = SamplePublisher(config, self.keys, reference_profile_json, self.counters, schema.fingerprint())
        self._logged: dict = {}  # reason -> time.monotonic() of its last log line
        if not self.publisher.enabled:
            log.info("drift client %s/%s: publishing is off (no Redis URL: set REDIS_URL or pass redis_url); rows "
                     "are checked, nothing is sent", model_name, model_version)

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

    def log_predictions(self, ids: Sequence[str], rows: Any, scores: Any) -> None:
        """Many predictions: `rows` is a sequence of feature mappings, a pandas DataFrame with the schema's
        columns, or an already encoded float matrix (n x schema width, in schema order, categoricals as codes)."""
        problems = Problems(self.strict)
        try:
            matrix = self._encode(rows, problems)
            scores = np.asarray(scores, np.float32).reshape(-1) if matrix is not None else None
            if matrix is None or not len(ids) == len(matrix) == len(scores):
                if matrix is not None:
                    problems.add("length", "ids", f"{len(ids)} ids, {len(matrix)} rows and {len(scores)} scores: "
                                 "they must match")
                return
            keep = valid_scores(scores, problems)
            if not keep.all():
                ids, matrix, scores = [i for i, k in zip(ids, keep) if k], matrix[keep], scores[keep]
            if len(ids):
                self.publisher.add_predictions(list(ids), matrix, scores)
        except (TypeError, ValueError) as exc:  # e.g. scores that are not numbers
            if self.strict:
                raise
            problems.add("shape", "scores", f"{type(exc).__name__}: {exc}")
        finally:
            self._record(problems)

    def log_label(self, prediction_id: str, label: int) -> None:
        """The ground truth (0 or 1) of an earlier prediction, when it arrives."""
        problems = Problems(self.strict)
        try:
            if label not in (0, 1):  # True and False are 1 and 0 (JSON booleans from a feedback form)
                problems.add("label", "label", f"must be 0 or 1, got {label!r}")
                return
            self.publisher.add_label(prediction_id, int(label))
        finally:
            self._record(problems)

    def encode(self, rows: Any) -> np.ndarray:
        """Rows -> the float32 matrix samples carry (each value checked; problems counted, or raised if strict)."""
        problems = Problems(self.strict)
        try:
            matrix = self._encode(rows, problems)
        finally:
            self._record(problems)
        return matrix if matrix is not None else np.empty((0, self.schema.width), np.float32)

    def _encode(self, rows: Any, problems: Problems) -> Optional[np.ndarray]:
        if isinstance(rows, np.ndarray):
            matrix = np.asarray(rows, np.float32)
            if matrix.ndim != 2 or matrix.shape[1] != self.schema.width:
                problems.add("shape", "rows", f"an encoded matrix must be n x {self.schema.width}, got {matrix.shape}")
                return None
            return matrix
        if hasattr(rows, "columns"):  # a pandas DataFrame
            return encode_frame(self.schema, rows, problems)
        return encode_rows(self.schema, rows, problems)

    def _record(self, problems: Problems) -> None:
        """Count the problems; one WARNING per reason per LOG_INTERVAL_SECONDS."""
        now = time.monotonic()
        for reason, n in problems.counts.items():
            self.counters.invalid(reason, n)
            if now - self._logged.get(reason, -math.inf) >= LOG_INTERVAL_SECONDS:
                self._logged[reason] = now
                field, detail = problems.examples[reason]
                log.warning("drift client %s/%s: invalid sample (%s) in %r: %s; counted in invalid[%s] (%d so far; "
                            "the next such line in %d s at the earliest)", self.model_name, self.model_version, reason,
                            field, detail, reason, self.counters.invalid_counts.get(reason, 0), LOG_INTERVAL_SECONDS)


def check_schema(schema: ModelSchema, reference_profile_json: str) -> None:
    """A clear ValueError when `schema` is not the one the reference profile was built with: the exporter would read
    every sample's columns with the profile's meaning (two features swapped look like drift on both)."""
    try:
        data = json.loads(reference_profile_json)
        theirs = ModelSchema.from_list(data["schema"]) if data.get("schema") is not None else \
            ModelSchema(tuple(FeatureSpec(f, "numeric") for f in data["features"]))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"reference_profile_json is not a reference profile (ReferenceProfile.to_json()): "
                         f"{type(exc).__name__}: {exc}") from None
    if schema.fingerprint() != data.get("schema_fingerprint", theirs.fingerprint()):
        raise ValueError(f"the client's schema differs from the reference profile's ({data.get('model_name')} "
                         f"{data.get('model_version')}): {'; '.join(schema.differences(theirs))}")


def profile_from_training(train_df, scores: Iterable[float] | np.ndarray | None, labels: Iterable[int] | np.ndarray | None,
                          schema: ModelSchema, *, model_name: str, model_version: str, metrics: dict | None = None,
                          importance: Mapping[str, float] | None = None, threshold: float = 0.5,
                          trained_at: str | None = None, calibrator: Mapping | None = None,
                          seed: int = 0, metric_lower_bounds: Mapping[str, float] | None = None) -> ReferenceProfile:
    """The reference profile of a model version from its training frame (the schema's columns; categoricals as
    strings) or its encoded matrix (`ModelSchema.encode_rows`), its scores on held-out data and the training labels.

    `importance` (feature -> weight, e.g. mean |SHAP|) weighs drift attribution; equal weights without it.
    `threshold` is the model's decision threshold; `calibrator` a `Calibrator.to_dict()` (drift/estimation.py)
    (identity without it) for performance estimation before labels arrive. `metric_lower_bounds` (e.g.
    `{"roc_auc": lower end of the test split's ROC AUC 95% interval}`) is what ModelPerformanceDegraded
    compares with; the figure itself without it.
    """
    names = list(schema.names)
    if hasattr(train_df, "columns"):  # a pandas DataFrame (categoricals as strings)
        missing = [n for n in names if n not in train_df.columns]
        if missing:
            raise ValueError(f"the training frame lacks the schema's columns: {', '.join(missing)}")
        train = schema.encode_frame(train_df)
    else:  # an encoded matrix (n x schema width, categoricals as codes): no pandas needed
        train = np.asarray(train_df, np.float32)
        if train.ndim != 2 or train.shape[1] != schema.width:
            raise ValueError(f"an encoded training matrix must be n x {schema.width}, got {train.shape}")
    score_values = None if scores is None else np.asarray(scores, np.float32).reshape(-1)
    weights = dict(importance) if importance is not None else {n: 1.0 / len(names) for n in names}
    profile = ReferenceProfile.build(
        model_name=model_name, model_version=model_version,
        trained_at=trained_at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        features=names, metrics=dict(metrics or {}), train=train, scores=score_values,
        labels=None if labels is None else np.asarray(labels), importance=weights, schema=schema, seed=seed,
    )
    profile.threshold = float(threshold)
    if score_values is not None and len(score_values):
        profile.score_edges = score_edges(score_values, threshold).tolist()
    profile.calibrator = dict(calibrator) if calibrator else {"kind": "identity", "x": [], "y": []}
    profile.metric_lower_bounds = {k: float(v) for k, v in (metric_lower_bounds or {}).items()}
    return profile
