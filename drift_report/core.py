"""`DriftReport`: a reference and a current data set (or a reference profile and a data set, or a live window)
judged by the exporter's own code: `ReferenceProfile.build` for the reference, `ColumnReference.counts` for the
current data (drift.tally), `ModelDetectors` for the verdicts and `drift.snapshot.compute` for every figure.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> ref = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(["a", "b"], 2000)})
>>> cur = pd.DataFrame({"x": rng.normal(1.0, 1.0, 2000), "c": rng.choice(["a", "b", "z"], 2000)})
>>> report = DriftReport.compare(ref, cur)
>>> report.drifted_features(), report.drift_found
(['c', 'x'], True)
"""
from __future__ import annotations

import html as html_lib
import json
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import numpy as np

from contracts.policy import Policy
from drift_client.reference_profile import SCORE, ReferenceProfile
from drift_client.schema import ModelSchema
from drift_client.tasks import BINARY, MULTICLASS, REGRESSION, TASKS
from drift.detectors import ModelDetectors
from drift.monitoring_config import ConfigError, MonitoringConfig
from drift.snapshot import ModelSnapshot, compute
from drift.counts import ColumnCounts, ColumnReference
from drift.performance import multiclass_metrics, regression_metrics
from drift_report.errors import BadInput
from drift_report.html import Distribution, render_fragment, render_page
from drift_report.inference import MAX_CATEGORIES, check_columns, infer_schema
from drift.estimation import fit_calibrator, score_edges
from drift.performance import classification_metrics
from drift.tally import Tally

if TYPE_CHECKING:  # pandas is imported where a data frame is handled: the CLI's Parquet path does without it
    import pandas as pd

OFFLINE_MODEL = "offline"


@dataclass
class DriftReport:
    snapshot: ModelSnapshot
    schema: ModelSchema
    distributions: dict[str, Distribution]
    reference_rows: int
    current_rows: int
    policy: Policy
    sources: dict[str, str] = field(default_factory=dict)  # what was compared: file names, Redis window

    # ---- building ----------------------------------------------------------------------------------------------
    @classmethod
    def compare(cls, reference: pd.DataFrame, current: pd.DataFrame, schema: ModelSchema | None = None, *,
                score: str | None = None, label: str | None = None, threshold: float = 0.5,
                policy: Policy | None = None, config: MonitoringConfig | None = None, model_name: str = OFFLINE_MODEL,
                importance: dict[str, float] | None = None, max_categories: int = MAX_CATEGORIES,
                task: str | None = None, classes: list[str] | None = None) -> "DriftReport":
        """Judge `current` against `reference` (schema inferred when None; prediction drift with a `score` column,
        performance with a `label` column as well; `task` as `resolve_task` says)."""
        profile = profile_of(reference, schema, score=score, label=label, threshold=threshold, model_name=model_name,
                             importance=importance, max_categories=max_categories, task=task, classes=classes)
        return cls.from_profile(profile, current, score=score, label=label, policy=policy, config=config,
                                reference_rows=len(reference))

    @classmethod
    def from_profile(cls, profile: ReferenceProfile, current: pd.DataFrame | Iterable[pd.DataFrame], *,
                     score: str | None = None, label: str | None = None, policy: Policy | None = None,
                     config: MonitoringConfig | None = None, reference_rows: int | None = None,
                     sources: dict[str, str] | None = None) -> "DriftReport":
        """Judge `current` (a frame, or frames read a batch at a time) against a reference profile."""
        policy = policy or Policy()
        if score is None and SCORE in profile.bins and "score" in _columns(current):
            score = "score"  # a model's profile: its scores are judged when the frame has them
        tally = Tally(profile if score else _without_score(profile))
        for frame in [current] if _is_frame(current) else current:
            add_frame(tally, frame, score=score, label=label)
        return cls.from_tally(tally, policy, config=config, reference_rows=reference_rows, sources=sources)

    @classmethod
    def from_tally(cls, tally: Tally, policy: Policy, *, config: MonitoringConfig | None = None,
                   reference_rows: int | None = None, sources: dict[str, str] | None = None) -> "DriftReport":
        """The report of a counted data set (refused when it had no rows at all)."""
        if tally.predictions == 0 and tally.skipped_rows == 0:
            raise BadInput("current: has no rows")
        return cls.from_window(tally, policy, config=config, reference_rows=reference_rows, sources=sources)

    @classmethod
    def from_window(cls, window, policy: Policy, *, config: MonitoringConfig | None = None,
                    detectors: ModelDetectors | None = None, malformed_entries: int = 0, reference_rows: int | None = None,
                    sources: dict[str, str] | None = None) -> "DriftReport":
        """The report of counted data: a Tally, or the exporter's own Window read from Redis."""
        profile = window.profile
        try:
            detectors = detectors or ModelDetectors(profile.model_name, profile.model_schema, policy, config)
        except (ValueError, ConfigError) as exc:
            raise BadInput(f"monitoring config: {exc}") from None
        snap = compute(window, policy, malformed_entries=malformed_entries, detectors=detectors)
        distributions = {c: distribution(*window.column(c)) for c in window.columns}
        rows = reference_rows if reference_rows is not None else max((b.count for b in profile.bins.values()), default=0)
        return cls(snap, profile.model_schema, distributions, rows, window.predictions + window.skipped_rows, policy,
                   dict(sources or {}))

    # ---- reading -----------------------------------------------------------------------------------------------
    @property
    def drift_found(self) -> bool:
        """A feature or the scores drifted (the CLI's exit status 1)."""
        return bool(self.drifted_features()) or bool(self.snapshot.prediction_drift.get("drifted"))

    @property
    def judged(self) -> bool:
        """Enough current rows to judge (the policy's min_window_samples)."""
        return self.snapshot.enough_samples

    def drifted_features(self) -> list[str]:
        return sorted(f for f, v in self.snapshot.features.items() if v.drifted)

    def to_dict(self) -> dict:
        out = self.snapshot.as_dict()
        out.update(reference_rows=self.reference_rows, current_rows=self.current_rows, drift_found=self.drift_found,
                   drifted_features=self.drifted_features(), sources=self.sources, schema=self.schema.to_list(),
                   distributions={c: d.__dict__ for c, d in self.distributions.items()})
        return _finite(out)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_html(self, path: str | os.PathLike | None = None) -> str:
        """The self-contained HTML page (written to `path` when given)."""
        page = render_page(self)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(page)
        return page

    def _repr_html_(self) -> str:
        return render_fragment(self)

    def __repr__(self) -> str:
        return (f"<DriftReport {html_lib.escape(self.snapshot.model_name)}: {self.current_rows:,} rows vs "
                f"{self.reference_rows:,}, drifted: {', '.join(self.drifted_features()) or 'none'}>")


# ---- the pieces ------------------------------------------------------------------------------------------------
def profile_of(reference: pd.DataFrame, schema: ModelSchema | None = None, *, score: str | None = None,
               label: str | None = None, threshold: float = 0.5, model_name: str = OFFLINE_MODEL,
               importance: dict[str, float] | None = None, max_categories: int = MAX_CATEGORIES,
               source: str = "reference", task: str | None = None, classes: list[str] | None = None) -> ReferenceProfile:
    """The reference profile of a data frame, built by `ReferenceProfile.build` as training builds a model's
    (`task`: see `resolve_task`)."""
    if label is not None and score is None:
        raise BadInput("a label column needs a score column as well (performance compares labels with scores)")
    if len(reference) == 0:
        raise BadInput(f"{source}: has no rows")
    extra = [c for c in (score, label) if c]
    schema = schema or infer_schema(reference, exclude=extra, max_categories=max_categories, source=source)
    if not schema.features:
        raise BadInput(f"{source}: no feature columns")
    for spec in schema.features:
        if spec.is_categorical and len(spec.categories) > max_categories:
            raise BadInput(f"schema: categorical {spec.name!r} has {len(spec.categories):,} categories; at most "
                           f"{max_categories:,} are allowed")
    check_columns(reference, schema, source, required=extra)
    train = schema.encode_frame(reference)
    scores = _numbers(reference, score, source) if score else None
    labels = _numbers(reference, label, source) if label else None
    return profile_of_arrays(train, schema, scores, labels, threshold=threshold, model_name=model_name,
                             importance=importance, source=source, task=task, classes=classes, label=label)


def resolve_task(task: str | None, scores: np.ndarray | None, source: str = "reference") -> str:
    """The task of an offline report: the one given (--task); else, with a score column, binary when every reference
    score is a probability in [0, 1] and regression otherwise (a multiclass model's class indices look like
    numbers: it must be named); binary without scores (no figure depends on it then)."""
    if task is not None:
        if task not in TASKS:
            raise BadInput(f"--task must be one of {', '.join(TASKS)}, got {task!r}")
        return task
    if scores is None:
        return BINARY
    finite = scores[np.isfinite(scores)]
    return BINARY if len(finite) and finite.min() >= 0 and finite.max() <= 1 else REGRESSION


def profile_of_arrays(train: np.ndarray, schema: ModelSchema, scores: np.ndarray | None = None,
                      labels: np.ndarray | None = None, *, threshold: float = 0.5, model_name: str = OFFLINE_MODEL,
                      importance: dict[str, float] | None = None, source: str = "reference", task: str | None = None,
                      classes: list[str] | None = None, label: str | None = None) -> ReferenceProfile:
    """The profile of encoded rows (`schema.encode_frame`'s float32 matrix) with their scores and labels."""
    task = resolve_task(task, scores, source)
    if task == BINARY and scores is not None and np.any((scores < 0) | (scores > 1)):
        raise BadInput(f"{source}: a binary model's scores are probabilities in [0, 1] (--task regression for a "
                       "regressor's predictions)")
    if task == MULTICLASS:
        classes = _classes(classes, scores, labels, source)
    # a missing feature value counts for its feature only (the profile keeps each feature's missing share)
    finite = np.isfinite(scores) if scores is not None else np.ones(len(train), bool)
    if not finite.any() or not np.isfinite(train).any(axis=0).all():
        raise BadInput(f"{source}: a column has no value at all, or every row's score is missing")
    if not finite.all():
        train = train[finite]
        scores = scores[finite] if scores is not None else None
    metrics: dict[str, float] = {}
    if labels is not None:
        labels = labels[finite]
        known = np.isfinite(labels)
        check_labels(task, labels[known], label, source, len(classes or []))
        if known.any():
            metrics = task_metrics(task, labels[known], scores[known], threshold)
        labels, labelled_scores = labels[known], scores[known]
    weights = importance or {f: 1.0 / schema.width for f in schema.names}
    profile = ReferenceProfile.build(model_name=model_name, model_version="reference", trained_at="",
                                     features=list(schema.names), metrics=metrics, train=train, scores=scores,
                                     labels=labels, importance=weights, schema=schema, arrays=True, task=task,
                                     classes=classes)
    profile.threshold = threshold
    if scores is not None and task == BINARY:  # estimation without labels is for binary models (drift_client.tasks)
        # the estimator's score bins, and its calibrator fitted on the reference's labelled scores (NannyML's CBPE
        # does the same): without one, the raw score was taken as the probability (issue 25: ROC AUC off by 0.013)
        profile.score_edges = score_edges(scores, threshold).tolist()
        if labels is not None and len(np.unique(labels)) == 2:
            profile.calibrator = fit_calibrator(labelled_scores, labels, threshold).to_dict()
    return profile


def add_frame(tally: Tally, frame: pd.DataFrame, *, score: str | None = None, label: str | None = None,
              source: str = "current") -> None:
    """Check one batch of the current data against the schema and count it."""
    schema = tally.profile.model_schema
    check_columns(frame, schema, source, extra_allowed=[c for c in (score, label) if c],
                  required=[score] if score else [], types=len(frame) > 0)  # an empty file's columns have no type
    if len(frame) == 0:
        return
    scores = _numbers(frame, score, source) if score else None
    labels = _numbers(frame, label, source) if label and label in frame.columns else None
    add_rows(tally, schema.encode_frame(frame), scores, labels, label=label, source=source)


def add_rows(tally: Tally, features: np.ndarray, scores: np.ndarray | None = None, labels: np.ndarray | None = None,
             *, label: str | None = None, source: str = "current") -> None:
    """Count encoded rows (`schema.encode_frame`'s matrix) with their scores and labels (the task's, or NaN)."""
    profile = tally.profile
    if labels is not None:
        check_labels(profile.task, labels[np.isfinite(labels)], label, source, len(profile.classes))
    if scores is not None and profile.task == MULTICLASS:
        check_labels(MULTICLASS, scores[np.isfinite(scores)], "score", source, len(profile.classes))
    tally.add(features, scores, labels)


def check_labels(task: str, labels: np.ndarray, column: str | None, source: str, n_classes: int = 0) -> None:
    """Labels the task can have: 0 or 1 (binary), class indices (multiclass), any number (regression)."""
    if task == BINARY and not np.isin(labels, (0, 1)).all():
        raise BadInput(f"{source}: column {column!r} (labels) must hold 0 or 1 for a binary model "
                       "(--task regression or --task multiclass for another)")
    if task == MULTICLASS and not (np.all(labels == np.round(labels)) and np.all((labels >= 0) & (labels < n_classes))):
        raise BadInput(f"{source}: column {column!r} must hold class indices 0 to {n_classes - 1} (multiclass)")


def task_metrics(task: str, labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    if task == REGRESSION:
        return regression_metrics(labels, scores)
    if task == MULTICLASS:
        return multiclass_metrics(labels, scores)
    return classification_metrics(labels, scores, threshold)


def _classes(classes: list[str] | None, scores: np.ndarray | None, labels: np.ndarray | None, source: str) -> list[str]:
    """A multiclass report's class names: given (--classes), else the indices seen in the reference's scores and labels."""
    if classes:
        return list(classes)
    seen = np.concatenate([v[np.isfinite(v)] for v in (scores, labels) if v is not None] or [np.zeros(0)])
    if not len(seen) or not np.all(seen == np.round(seen)) or seen.min() < 0:
        raise BadInput(f"{source}: a multiclass score column holds class indices 0, 1, ... (or give --classes)")
    return [str(i) for i in range(int(seen.max()) + 1)]


def distribution(reference: ColumnReference, counts: ColumnCounts) -> Distribution:
    current = (counts.bins / counts.n).tolist() if counts.n else [math.nan] * reference.n_bins
    return Distribution(bin_labels(reference), reference.proportions.tolist(), current)


def bin_labels(reference: ColumnReference) -> list[str]:
    """Readable names of a column's bins: categories, integer values, or value ranges."""
    spec, edges = reference.spec, reference.bins.edges
    if spec.is_categorical:
        return spec.labels()
    if spec.kind in ("discrete", "binary") and all(abs(e - round(e) - 0.5) < 1e-9 or abs(e - round(e) + 0.5) < 1e-9 for e in edges):
        return _integer_labels(edges)
    if not edges:
        return ["all"]
    g = lambda v: f"{v:.3g}"  # noqa: E731
    return [f"< {g(edges[0])}", *(f"{g(a)} – {g(b)}" for a, b in zip(edges, edges[1:])), f"≥ {g(edges[-1])}"]


def _integer_labels(edges: list[float]) -> list[str]:
    """Bins cut halfway between integers: each holds the integers from ceil(left) to ceil(right) - 1."""
    if not edges:
        return ["all"]
    lows = [math.ceil(e) for e in edges]
    out = [f"≤ {lows[0] - 1}" if lows[0] - 1 != 0 else "0"]
    for a, b in zip(lows, lows[1:]):
        out.append(str(a) if b - a == 1 else f"{a}–{b - 1}")
    out.append(f"≥ {lows[-1]}" if len(edges) > 1 or lows[-1] != 1 else "1")
    return out


def _numbers(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    if column not in frame.columns:
        raise BadInput(f"{source}: missing column {column!r}")
    values = frame[column]
    import pandas as pd
    if not (pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)):
        raise BadInput(f"{source}: column {column!r} should hold numbers but holds {values.dtype} values")
    return values.to_numpy(dtype=float, na_value=np.nan)


def _without_score(profile: ReferenceProfile) -> ReferenceProfile:
    """The profile judged on input data alone (the frame has no scores)."""
    if SCORE not in profile.bins:
        return profile
    data = {**profile.__dict__, "bins": {k: v for k, v in profile.bins.items() if k != SCORE},
            "sample": {k: v for k, v in profile.sample.items() if k != SCORE}}
    return ReferenceProfile(**data)


def _columns(current) -> list[str]:
    return [str(c) for c in current.columns] if _is_frame(current) else []


def _is_frame(value) -> bool:
    import pandas as pd
    return isinstance(value, pd.DataFrame)


def _finite(value):
    """NaN and infinities become None (JSON has neither), numpy scalars Python ones."""
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
