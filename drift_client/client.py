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
import numbers
import time
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np

from drift_client import redis_layout as layout
from drift_client.reference_profile import ReferenceProfile, score_edges
from drift_client.schema import FeatureSpec, ModelSchema
from drift_client.metrics import classification_metrics, multiclass_metrics, regression_metrics
from drift_client.tasks import BINARY, MULTICLASS, REGRESSION, task_of
from drift_client.publisher import Counters, PublisherConfig, SamplePublisher
from drift_client.validation import Problems, encode_frame, encode_rows, valid_scores

log = logging.getLogger(__name__)
LOG_INTERVAL_SECONDS = 60  # one line per kind of problem per minute: a flood of bad rows must not flood the log


class DriftClient:
    """Publishes one model version's predictions, labels and reference profile to Redis for the drift exporter.

    `redis_url` None (or empty) turns publishing off (one INFO line says so): every call then only checks its rows.
    `reference_profile_json` is `ReferenceProfile.to_json()` of this model version (see `profile_from_training`);
    the exporter judges the live samples against it, and the client refuses to start (ValueError) when `schema`
    is not the profile's own. Its `task` (drift_client.tasks) says what a score and a label are: binary (a
    probability and 0/1), regression (the predicted and the true value) or multiclass (a class: its name or index in
    the profile's `classes`, or a row of class probabilities). Bad rows never raise into the caller (they are
    counted by reason in `counters.invalid_counts` and logged once per reason per minute) unless `strict=True`.
    """

    def __init__(self, redis_url: Optional[str], model_name: str, model_version: str, schema: ModelSchema,
                 reference_profile_json: str, *, counters: Optional[Counters] = None,
                 config: Optional[PublisherConfig] = None, strict: bool = False) -> None:
        self.model_name = model_name
        self.model_version = model_version
        self.schema = schema
        self.strict = strict
        check_schema(schema, reference_profile_json)
        check_identity(model_name, model_version, reference_profile_json)
        config = config or PublisherConfig(redis_url=redis_url or None)
        if config.redis_url != (redis_url or None):
            config = PublisherConfig(**{**config.__dict__, "redis_url": redis_url or None})
        self.keys = layout.Keys(model_name, model_version, config.prefix)
        declared = _declared(reference_profile_json)
        self.task = task_of(declared.get("task", BINARY)).name
        self.classes = [str(c) for c in declared.get("classes", [])]
        self.counters = counters or Counters()
        self.publisher = SamplePublisher(config, self.keys, reference_profile_json, self.counters,
                                         schema.fingerprint(), float_labels=self.task != BINARY)
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

    def log_prediction(self, prediction_id: str, features: Mapping[str, Any], score: Any) -> None:
        """One prediction: its id (labels join on it), its features by name, and what the model answered: the score
        in [0, 1] (binary), the predicted value (regression), the class or its probabilities (multiclass)."""
        self.log_predictions([prediction_id], [features], [score])

    def log_predictions(self, ids: Sequence[str], rows: Any, scores: Any) -> None:
        """Many predictions: `rows` is a sequence of feature mappings, a pandas DataFrame with the schema's
        columns, or an already encoded float matrix (n x schema width, in schema order, categoricals as codes)."""
        problems = Problems(self.strict)
        try:
            matrix = self._encode(rows, problems)
            if matrix is None:
                return
            probabilities = class_probabilities(self.task, self.classes, scores)
            scores = encode_scores(self.task, self.classes, scores)
            if not len(ids) == len(matrix) == len(scores):
                problems.add("length", "ids", f"{len(ids)} ids, {len(matrix)} rows and {len(scores)} scores: "
                             "they must match")
                return
            keep = valid_scores(scores, problems, *score_range(self.task, self.classes))
            if not keep.all():
                ids, matrix, scores = [i for i, k in zip(ids, keep) if k], matrix[keep], scores[keep]
                probabilities = None if probabilities is None else probabilities[keep]
            if len(ids):
                self.publisher.add_predictions(list(ids), matrix, scores, probabilities)
        except (TypeError, ValueError) as exc:  # e.g. scores that are not numbers, an unknown class
            if self.strict:
                raise
            problems.add("shape", "scores", f"{type(exc).__name__}: {exc}")
        finally:
            self._record(problems)

    def log_label(self, prediction_id: str, label: Any) -> None:
        """The ground truth of an earlier prediction, when it arrives: 0 or 1 (binary), the true value (regression),
        the class's name or index (multiclass)."""
        problems = Problems(self.strict)
        try:
            try:
                value = encode_label(self.task, self.classes, label)
            except ValueError as exc:
                problems.add("label", "label", str(exc))
                return
            self.publisher.add_label(prediction_id, value)
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


def check_identity(model_name: str, model_version: str, reference_profile_json: str) -> None:
    """A clear ValueError when the reference profile was built for another model or version than the one published:
    its test-split figures and scores are another model's, and the version's series would be mislabelled."""
    data = json.loads(reference_profile_json)
    for field, ours in (("model_name", model_name), ("model_version", model_version)):
        theirs = data.get(field)
        if theirs is not None and str(theirs) != str(ours):
            raise ValueError(f"{field}: the reference profile was built for {theirs!r}, the client publishes as "
                             f"{ours!r}; build the profile for this version (profile_from_training(..., "
                             f"{field}={ours!r}))")


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
                          seed: int = 0, metric_lower_bounds: Mapping[str, float] | None = None,
                          task: str = BINARY, classes: Sequence[str] | None = None,
                          test_labels: Iterable | np.ndarray | None = None) -> ReferenceProfile:
    """The reference profile of a model version from its training frame (the schema's columns; categoricals as
    strings) or its encoded matrix (`ModelSchema.encode_rows`), its scores on held-out data and the training labels.

    `task` (drift_client.tasks) is what the model predicts: "binary" (scores in [0, 1], labels 0 or 1), "regression"
    (scores are predicted values, labels true values) or "multiclass" (`classes` names the classes; scores are the
    predicted classes, by name or index, or class probabilities n x classes; labels are classes). Labels or scores
    the task cannot have are a ValueError naming them. `test_labels`, the true labels of the held-out rows that
    `scores` were computed on, give the profile its reference performance (the task's metrics) when `metrics` is
    not given.

    `importance` (feature -> weight, e.g. mean |SHAP|) weighs drift attribution; equal weights without it.
    `threshold` is the model's decision threshold; `calibrator` a `Calibrator.to_dict()` (drift/estimation.py)
    (identity without it) for performance estimation before labels arrive. `metric_lower_bounds` (e.g.
    `{"roc_auc": lower end of the test split's ROC AUC 95% interval}`) is what ModelPerformanceDegraded
    compares with; the figure itself without it.
    """
    task_of(task)
    classes = [str(c) for c in classes or []]
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
    probabilities = class_probabilities(task, classes, scores)
    score_values = None if scores is None else encode_scores(task, classes, scores)
    label_values = None if labels is None else _task_labels(task, classes, labels, "labels")
    if score_values is not None:
        _check_scores(task, score_values)
    if metrics is None and test_labels is not None and score_values is not None:
        metrics = _reference_metrics(task, classes, test_labels, score_values, probabilities, threshold)
    weights = dict(importance) if importance is not None else {n: 1.0 / len(names) for n in names}
    profile = ReferenceProfile.build(
        model_name=model_name, model_version=model_version,
        trained_at=trained_at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        features=names, metrics=dict(metrics or {}), train=train, scores=score_values,
        labels=label_values, importance=weights, schema=schema, seed=seed, task=task, classes=classes,
    )
    profile.threshold = float(threshold)
    if task == BINARY and score_values is not None and len(score_values):
        profile.score_edges = score_edges(score_values, threshold).tolist()
    profile.calibrator = dict(calibrator) if calibrator else {"kind": "identity", "x": [], "y": []}
    profile.metric_lower_bounds = {k: float(v) for k, v in (metric_lower_bounds or {}).items()}
    return profile


def _task_labels(task: str, classes: Sequence[str], labels: Any, field: str) -> np.ndarray:
    """Labels checked against the task: 0/1 (binary), finite numbers (regression), classes (multiclass)."""
    if task == MULTICLASS:
        return np.array([class_index(classes, v, field) for v in np.asarray(labels, dtype=object).reshape(-1).tolist()])
    try:
        values = np.asarray(labels, float).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{field}: must be numbers") from None
    if not np.isfinite(values).all():
        raise ValueError(f"{field}: must be finite numbers (no NaN)")
    if task == BINARY and not np.isin(values, (0, 1)).all():
        odd = values[~np.isin(values, (0, 1))]
        raise ValueError(f"{field}: a binary model's labels are 0 or 1, got {odd[0]:g} ({len(odd)} such values); for "
                         "a regression or multiclass model pass task='regression' or task='multiclass'")
    return values


def _check_scores(task: str, scores: np.ndarray) -> None:
    if not np.isfinite(scores).all():
        raise ValueError("scores: must be finite numbers (no NaN)")
    if task == BINARY and len(scores) and (scores.min() < 0 or scores.max() > 1):
        raise ValueError(f"scores: a binary model's scores are probabilities in [0, 1], got values from "
                         f"{scores.min():g} to {scores.max():g}; for a regression model pass task='regression'")


def class_probabilities(task: str, classes: Sequence[str], scores: Any) -> np.ndarray | None:
    """A multiclass model's class probabilities (n x classes, float32, rows summing to 1) when its answers are given
    as such; None for classes given by name or index (log loss then has no figure)."""
    if task != MULTICLASS or scores is None:
        return None
    try:
        array = np.asarray(scores, float)
    except (TypeError, ValueError):
        return None
    if array.ndim != 2:
        return None
    if array.shape[1] != len(classes):
        raise ValueError(f"scores: class probabilities must have {len(classes)} columns (the classes), got {array.shape[1]}")
    if not np.isfinite(array).all() or (array < 0).any() or (array.sum(axis=1) <= 0).any():
        raise ValueError("scores: class probabilities must be finite, non-negative and not all 0 in a row")
    return (array / array.sum(axis=1, keepdims=True)).astype(np.float32)


def _reference_metrics(task: str, classes: Sequence[str], test_labels: Any, scores: np.ndarray,
                       probabilities: np.ndarray | None, threshold: float) -> dict[str, float]:
    """The task's performance on the test split (the reference the performance alerts compare with)."""

    truth = _task_labels(task, classes, test_labels, "test_labels")
    if len(truth) != len(scores):
        raise ValueError(f"test_labels: {len(truth)} labels for {len(scores)} scores: they must be the same rows")
    if task == REGRESSION:
        return regression_metrics(truth, scores)
    if task == MULTICLASS:
        return multiclass_metrics(truth, scores, probabilities)
    return classification_metrics(truth, scores, threshold)

def _declared(reference_profile_json: str) -> dict:
    """The task and classes the profile declares ({} when it is not a profile's JSON: a binary model)."""
    try:
        data = json.loads(reference_profile_json)
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def class_index(classes: Sequence[str], value: Any, field: str = "label") -> int:
    """A class given by its name or its index -> its index (a ValueError naming the field otherwise)."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_)):
        if 0 <= int(value) < len(classes):
            return int(value)
        raise ValueError(f"{field}: class index must be 0 to {len(classes) - 1}, got {value!r}")
    if str(value) in classes:
        return list(classes).index(str(value))
    raise ValueError(f"{field}: {value!r} is not one of the classes {', '.join(classes)}")


def score_range(task: str, classes: Sequence[str]) -> tuple:
    """The scores a task's model may publish: a probability, any finite number, or a class index."""
    if task == BINARY:
        return (0.0, 1.0)
    if task == MULTICLASS:
        return (0.0, float(len(classes) - 1))
    return (-math.inf, math.inf)


def encode_label(task: str, classes: Sequence[str], label: Any) -> float:
    """A label as it travels (drift_client.redis_layout): 0/1, a finite float, or a class index."""
    if task == MULTICLASS:
        return float(class_index(classes, label))
    if task == BINARY and isinstance(label, (bool, np.bool_)):  # True/False are a binary model's 1/0
        return int(label)
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, numbers.Real):
        raise ValueError(f"label must be a number, got {label!r}")
    if task == REGRESSION:
        if not math.isfinite(label):
            raise ValueError(f"label must be a finite number, got {label!r}")
        return float(label)
    if label not in (0, 1):
        raise ValueError(f"label must be 0 or 1 (a binary model; declare task='regression' or 'multiclass' in "
                         f"profile_from_training for another), got {label!r}")
    return int(label)


def encode_scores(task: str, classes: Sequence[str], scores: Any) -> np.ndarray:
    """Scores as they travel: float32 (n,). A multiclass model's answer may be its classes (names or indices) or
    its class probabilities (n x classes): the predicted class is the most probable one."""
    if task != MULTICLASS:
        return np.asarray(scores, np.float32).reshape(-1)
    array = np.asarray(scores, dtype=object if not isinstance(scores, np.ndarray) else None)
    if array.ndim == 2 or (array.ndim == 1 and len(array) and np.ndim(array[0]) == 1):
        probabilities = np.asarray(np.stack(list(array)) if array.dtype == object else array, float)
        if probabilities.shape[1] != len(classes):
            raise ValueError(f"scores: class probabilities must have {len(classes)} columns (the classes), "
                             f"got {probabilities.shape[1]}")
        return np.argmax(probabilities, axis=1).astype(np.float32)
    return np.array([class_index(classes, v, "scores") for v in array.reshape(-1).tolist()], np.float32)
