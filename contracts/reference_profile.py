"""What the training data looked like: everything the exporter needs to judge drift without it.

Binning (PSI, chi-square, Jensen-Shannon): a value x falls in bin `searchsorted(edges, x, side="right")`, so there
are len(edges) + 1 bins: (-inf, e0), [e0, e1), ..., [e_last, inf). The edges depend on the feature's kind
(contracts.schema):
- numeric: the distinct 10%, 20%, ..., 90% quantiles of the training values;
- discrete and binary: one bin per distinct training value (edges halfway between them) while there are at most
  MAX_VALUE_BINS of them, else quantile bins;
- categorical: one bin per training category (its code), then the `__unseen__` bin (code len(categories)).
`proportions` are the training shares of those bins (they may be 0; PSI floors them) and `count` the training rows
they were counted on (the reference's own sampling error, for the tests that account for it). The scores of the test
split get the numeric treatment under the name "score".

Performance estimation without labels (drift/estimation.py) needs two more fields: `score_edges`, the
fine bins of the score the exporter counts predictions in (the threshold is one of them), and `calibrator`, the
map from raw score to fraud probability fitted on the validation and test splits ({"kind": "identity"} or
{"kind": "isotonic", "x": [...], "y": [...]}, either with an optional "error_sd": the calibrator's own error per
metric). Profiles published before these fields existed still load: the exporter then bins by the reference score
sample and takes the raw score as the probability. Unknown fields (from a newer trainer) are ignored.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from contracts.schema import FeatureSpec, ModelSchema
from contracts.tasks import BINARY, MULTICLASS, check_classes, task_of

QUANTILES = tuple(q / 10 for q in range(1, 10))
MAX_VALUE_BINS = 64
SCORE = "score"


@dataclass
class Bins:
    edges: list[float]
    proportions: list[float]
    count: int = 0  # training rows behind the proportions (0 in profiles written before it was kept)

    @classmethod
    def from_values(cls, values: np.ndarray) -> "Bins":
        """Quantile bins (numeric features, the score)."""
        return cls.with_edges(np.unique(np.quantile(values, QUANTILES)), values)

    @classmethod
    def per_value(cls, values: np.ndarray) -> "Bins":
        """One bin per distinct value (discrete and binary features), quantile bins if there are too many."""
        distinct = _distinct(values)
        if len(distinct) > MAX_VALUE_BINS:
            return cls.from_values(values)
        return cls.with_edges((distinct[:-1] + distinct[1:]) / 2, values)

    @classmethod
    def per_category(cls, codes: np.ndarray, categories: int) -> "Bins":
        """One bin per category code 0..categories-1, then the unseen bin."""
        return cls.with_edges(np.arange(categories) + 0.5, codes)

    @classmethod
    def for_feature(cls, values: np.ndarray, spec: FeatureSpec) -> "Bins":
        if spec.kind == "categorical":
            return cls.per_category(values, len(spec.categories))
        if spec.kind in ("discrete", "binary"):
            return cls.per_value(values)
        return cls.from_values(values)

    @classmethod
    def with_edges(cls, edges: np.ndarray, values: np.ndarray) -> "Bins":
        if _ascending(values):  # the values below each edge, counted by one binary search per edge
            counts = np.diff(np.searchsorted(values, edges, side="left"), prepend=0, append=len(values))
        else:
            counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        return cls(np.asarray(edges, float).tolist(), (counts / counts.sum()).tolist(), int(counts.sum()))

    def bin_index(self, values: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.edges), values, side="right")


@dataclass
class ReferenceProfile:
    model_name: str
    model_version: str
    trained_at: str
    features: list[str]
    metrics: dict[str, float]
    positive_rate: float
    bins: dict[str, Bins]
    sample: dict[str, list[float]]
    means: dict[str, float]
    stds: dict[str, float]
    importance: dict[str, float]
    threshold: float = 0.5
    extra: dict = field(default_factory=dict)
    score_edges: list[float] = field(default_factory=list)
    calibrator: dict = field(default_factory=dict)
    schema: list[dict] | None = None  # contracts.schema.ModelSchema.to_list(); None in old profiles: all numeric
    ranges: dict[str, list[float]] = field(default_factory=dict)  # training [min, max] per feature (out-of-range checks)
    missing: dict[str, float] = field(default_factory=dict)  # training share of missing values per feature
    # lower end of the 95% confidence interval of a test-split figure (DeLong for ROC AUC): a retrained version's
    # test split can be a few hundred rows, and the degradation alert must not take its luck for its level
    metric_lower_bounds: dict[str, float] = field(default_factory=dict)
    task: str = BINARY  # contracts.tasks: what the score and the labels mean; profiles without it are binary
    classes: list[str] = field(default_factory=list)  # multiclass: the class names, the score is an index in them

    def __post_init__(self) -> None:
        task_of(self.task)
        check_classes(self.task, self.classes)

    def score_spec(self) -> FeatureSpec:
        """How the score column is judged: a probability (binary), a number (regression) or a class (multiclass)."""
        if self.task == MULTICLASS:
            return FeatureSpec(SCORE, "categorical", categories=tuple(self.classes))
        return FeatureSpec(SCORE, "numeric", (0.0, 1.0) if self.task == BINARY else None)

    def metric_lower_bound(self, metric: str) -> float:
        """The figure's lower bound when training measured one, else the figure itself (older profiles)."""
        return self.metric_lower_bounds.get(metric, self.metrics.get(metric, float("nan")))

    @property
    def model_schema(self) -> ModelSchema:
        if self.schema is None:
            return ModelSchema(tuple(FeatureSpec(f, "numeric") for f in self.features))
        return ModelSchema.from_list(self.schema)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), default=_plain)

    @classmethod
    def from_json(cls, text: str | bytes) -> "ReferenceProfile":
        data = json.loads(text)
        data["bins"] = {k: Bins(**v) for k, v in data["bins"].items()}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def build(
        cls,
        *,
        model_name: str,
        model_version: str,
        trained_at: str,
        features: list[str],
        metrics: dict[str, float],
        train: np.ndarray,
        scores: np.ndarray | None,
        labels: np.ndarray | None,
        importance: dict[str, float],
        schema: ModelSchema | None = None,
        sample_size: int | None = None,
        seed: int = 0,
        arrays: bool = False,
        task: str = BINARY,
        classes: list[str] | None = None,
    ) -> "ReferenceProfile":
        """Profile of `train` (rows x features, categoricals as codes, NaN where a value is missing) and of the
        model's `scores` on held-out data. The KS reference keeps every training value unless `sample_size` caps it:
        a 5,000-row sample had its own sampling error (D about 0.015) that capped the power of large windows.

        Without scores (an offline report of input data only) the profile has no "score" column; without labels
        its positive rate is nan. `arrays` keeps the KS samples as numpy arrays (a profile used in memory, as the
        offline report's: 4 million Python floats for 360,000 x 12 rows cost 0.2 s and 150 MB); `to_json` writes
        lists either way. Each column is sorted once: its quantiles, distinct values and bin counts are read from
        the sorted values (the same figures as from the unsorted ones).

        `task` (contracts.tasks) says what the scores are: a multiclass model's scores are class indices in
        `classes` and get one bin per class; the positive rate exists for binary models only.
        """
        task_of(task)
        check_classes(task, classes or [])
        schema = schema or ModelSchema(tuple(FeatureSpec(f, "numeric") for f in features))
        rng = np.random.default_rng(seed)
        raw = {name: train[:, i].astype(np.float32).astype(float) for i, name in enumerate(features)}
        columns = {name: col[np.isfinite(col)] for name, col in raw.items()}
        bins = {name: Bins.for_feature(np.sort(col), schema[name]) for name, col in columns.items()}
        sample = {name: _kept(_draw(col, sample_size, rng), arrays) for name, col in columns.items()}
        if scores is not None:
            score_values = scores.astype(np.float32).astype(float)
            bins[SCORE] = (Bins.per_category(score_values, len(classes or [])) if task == MULTICLASS
                           else Bins.from_values(np.sort(score_values)))
            sample[SCORE] = _kept(_draw(score_values, sample_size, rng), arrays)
        return cls(
            model_name=model_name,
            model_version=model_version,
            trained_at=trained_at,
            features=list(features),
            metrics=metrics,
            positive_rate=(float(np.mean(labels)) if task == BINARY and labels is not None and len(labels)
                           else float("nan")),
            bins=bins,
            sample=sample,
            means={name: float(col.mean()) for name, col in columns.items()},
            stds={name: float(col.std()) for name, col in columns.items()},
            importance=importance,
            schema=schema.to_list(),
            ranges={name: [float(col.min()), float(col.max())] for name, col in columns.items() if len(col)},
            missing={name: float(1 - len(columns[name]) / max(len(col), 1)) for name, col in raw.items()},
            task=task,
            classes=list(classes or []),
        )


def _ascending(values: np.ndarray) -> bool:
    values = np.asarray(values)
    return values.ndim == 1 and bool(np.all(values[1:] >= values[:-1]))


def _distinct(values: np.ndarray) -> np.ndarray:
    """np.unique(values) of finite values, without sorting them again when they are sorted already."""
    values = np.asarray(values)
    if not _ascending(values):
        return np.unique(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values[:0]


def _kept(values: np.ndarray, arrays: bool) -> np.ndarray | list[float]:
    return values if arrays else values.tolist()


def _plain(value):
    """JSON for numpy arrays and scalars (an in-memory profile's samples)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _draw(values: np.ndarray, size: int | None, rng: np.random.Generator) -> np.ndarray:
    """All the values, or `size` of them drawn without replacement."""
    if size is None or size >= len(values):
        return values
    return values[rng.choice(len(values), size=size, replace=False)]
