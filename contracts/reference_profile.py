"""What the training data looked like: everything the exporter needs to judge drift without it.

Binning (PSI): per feature, the edges are the distinct 10%, 20%, ..., 90% quantiles
of the training values; a value x falls in bin `searchsorted(edges, x, side="right")`,
so there are len(edges) + 1 bins: (-inf, e0), [e0, e1), ..., [e_last, inf).
Discrete features (flags, hours, counts) simply get fewer distinct edges.
`proportions` are the training shares of those bins (they may be 0; PSI floors them).
The scores of the test split get the same treatment under the name "score".

Performance estimation without labels (transactions/estimation.py) needs two more fields: `score_edges`, the
fine bins of the score the exporter counts predictions in (the threshold is one of them), and `calibrator`, the
map from raw score to fraud probability fitted on the validation split ({"kind": "identity"} or
{"kind": "isotonic", "x": [...], "y": [...]}). Profiles published before these fields existed still load: the
exporter then bins by the reference score sample and takes the raw score as the probability. Unknown fields
(from a newer trainer) are ignored.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

import numpy as np

QUANTILES = tuple(q / 10 for q in range(1, 10))
SCORE = "score"


@dataclass
class Bins:
    edges: list[float]
    proportions: list[float]

    @classmethod
    def from_values(cls, values: np.ndarray) -> "Bins":
        edges = np.unique(np.quantile(values, QUANTILES))
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        return cls(edges.tolist(), (counts / counts.sum()).tolist())

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

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

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
        scores: np.ndarray,
        labels: np.ndarray,
        importance: dict[str, float],
        sample_size: int = 5000,
        seed: int = 0,
    ) -> "ReferenceProfile":
        """Profile of `train` (rows x features) and of the model's `scores` on held-out data."""
        rng = np.random.default_rng(seed)
        pick = rng.choice(len(train), size=min(sample_size, len(train)), replace=False)
        score_pick = rng.choice(len(scores), size=min(sample_size, len(scores)), replace=False)
        columns = {name: train[:, i].astype(np.float32).astype(float) for i, name in enumerate(features)}
        bins = {name: Bins.from_values(col) for name, col in columns.items()}
        bins[SCORE] = Bins.from_values(scores.astype(np.float32).astype(float))
        sample = {name: col[pick].tolist() for name, col in columns.items()}
        sample[SCORE] = scores.astype(np.float32).astype(float)[score_pick].tolist()
        return cls(
            model_name=model_name,
            model_version=model_version,
            trained_at=trained_at,
            features=list(features),
            metrics=metrics,
            positive_rate=float(np.mean(labels)),
            bins=bins,
            sample=sample,
            means={name: float(col.mean()) for name, col in columns.items()},
            stds={name: float(col.std()) for name, col in columns.items()},
            importance=importance,
        )
