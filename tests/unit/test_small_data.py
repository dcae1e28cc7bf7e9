"""Issue 22, finding 3: no false alarms on small or integer-valued real data (scikit-learn's bundled data sets).

Random halves of the same data set are stationary: nothing may be flagged, and the health stays healthy."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from contracts.metric_names import HEALTHY
from contracts.policy import Policy
from drift_report import cli
from drift_report.core import DriftReport
from drift_report.inference import infer_schema
from tests.helpers import report_cli_on_frames


def frame(name: str) -> pd.DataFrame:
    loader = {"diabetes": lambda: load_diabetes(scaled=False, as_frame=True), "breast_cancer": load_breast_cancer,
              "wine": load_wine}[name]
    data = loader() if name == "diabetes" else loader(as_frame=True)
    return data.frame.drop(columns=["target"])


def halves(df: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(df))
    half = len(df) // 2
    return df.iloc[order[:half]].reset_index(drop=True), df.iloc[order[half:]].reset_index(drop=True)


def test_an_integer_column_with_many_values_is_not_discrete_on_small_data():
    reference, _ = halves(frame("diabetes"), 0)
    kinds = {f.name: f.kind for f in infer_schema(reference).features}
    assert kinds["age"] == "numeric" and kinds["s6"] == "numeric"  # ~55 distinct integers in 221 rows
    assert kinds["sex"] == "discrete"  # two values


def test_few_integer_values_on_large_data_stay_discrete():
    rng = np.random.default_rng(0)
    column = pd.DataFrame({"hour": rng.integers(0, 24, 5000), "count": rng.poisson(8, 5000)})
    assert [f.kind for f in infer_schema(column).features] == ["discrete", "discrete"]


@pytest.mark.parametrize("name", ["diabetes", "breast_cancer", "wine"])
def test_random_halves_of_real_data_flag_nothing(name):
    df = frame(name)
    policy = Policy(min_window_samples=1)  # wine's halves are 89 rows
    for seed in range(10):
        reference, current = halves(df, seed)
        report = DriftReport.compare(reference, current, policy=policy)
        assert report.drifted_features() == [], (seed, report.drifted_features())
        assert report.snapshot.health_status == HEALTHY, (seed, {f: round(v.psi, 3) for f, v in report.snapshot.features.items()})


def test_cli_exits_0_on_random_halves_of_diabetes(tmp_path, capsys):
    reference, current = halves(frame("diabetes"), 3)
    code = report_cli_on_frames(tmp_path, reference, current)
    out = capsys.readouterr().out
    assert code == cli.NO_DRIFT, out
    assert "no drift" in out
