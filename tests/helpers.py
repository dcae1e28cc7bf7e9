"""Test helpers, in one place: monitoring samples built by hand, figures compared; HTTP calls, waiting, reading
/metrics (scripts/probes.py) and samples published straight into Redis (scripts/samples.py) are re-exported."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
import redis

from drift_client import redis_layout as layout
from drift_client.reference_profile import ReferenceProfile
# re-exported: the tests import them from here; the benchmarks import them from scripts/ (bench/ imports no test code)
from scripts.probes import http, series, wait_for  # noqa: F401
from scripts.samples import Publisher, trained_model  # noqa: F401
from scripts.servers import store_with_challenger  # noqa: F401


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


def report_cli_on_frames(tmp_path, reference, current) -> int:
    """Run `drift-monitor report` on two data frames written as CSV; its exit status (its text is on stdout)."""
    from drift_report import cli  # lazily: the other helpers serve tests that need no report
    reference.to_csv(tmp_path / "ref.csv", index=False)
    current.to_csv(tmp_path / "cur.csv", index=False)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["report", "--reference", str(tmp_path / "ref.csv"), "--current", str(tmp_path / "cur.csv"),
                  "--no-progress"])
    return exit_.value.code
