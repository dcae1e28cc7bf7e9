"""The CLI's pandas-free path for Parquet files of numbers (drift_report.columns) gives the data-frame path's figures, and
leaves every other input to it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contracts.policy import Policy
from drift_client.schema import FeatureSpec, ModelSchema
from drift_report import BadInput, DriftReport
from drift_report import columns
from drift_report.core import profile_of
from drift_report.io import batches, read_frame

CLI = str(Path(sys.executable).parent / "drift-monitor")


def frame(n: int, seed: int, shift: float = 0.0, scored: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = pd.DataFrame({
        "amount": rng.lognormal(3 + shift, 1, n).round(2),  # float64 with ties
        "ratio": rng.normal(0, 1, n).astype(np.float32),  # float32
        "hour": rng.integers(0, 24, n),  # int64: discrete
        "visits": rng.integers(0, 5000, n).astype(np.int32),  # many integers: numeric
        "online": (rng.random(n) < 0.3 + shift / 10).astype(np.int8),  # 0/1: binary
        "count": rng.poisson(2 + shift, n).astype(float),  # integral floats: discrete
    })
    if scored:
        out["score"] = rng.beta(1, 8 - shift, n)
        out["label"] = (rng.random(n) < out["score"]).astype(np.int64)
    return out


def comparable(report: DriftReport) -> dict:
    out = report.to_dict()
    out.pop("computed_at", None)
    out.pop("sources", None)
    return out


@pytest.mark.parametrize("scored", [False, True])
def test_numbers_only_parquet_gives_the_data_frame_paths_figures(tmp_path, scored):
    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    reference, current = frame(20_000, 0, scored=scored), frame(150_000, 1, shift=0.3, scored=scored)
    reference.to_parquet(ref, row_group_size=7_000)  # several row groups and chunks
    current.to_parquet(cur, row_group_size=40_000)
    assert columns.applies(ref, cur, None)
    score, label = ("score", "label") if scored else (None, None)
    profile, rows = columns.profile(ref, None, score=score, label=label, threshold=0.3, model_name="ref")
    fast = DriftReport.from_tally(columns.count(cur, profile, score=score, label=label), Policy(), reference_rows=rows)
    # the data-frame path as the CLI takes it for other files: pandas frames, the current a batch at a time
    slow_profile = profile_of(read_frame(ref, "reference"), score=score, label=label, threshold=0.3, model_name="ref")
    slow = DriftReport.from_profile(slow_profile, batches(cur, "current"), score=score, label=label, policy=Policy(),
                                    reference_rows=len(reference))
    assert [(f.name, f.kind) for f in fast.schema.features] == [(f.name, f.kind) for f in slow.schema.features]
    assert [f.kind for f in fast.schema.features] == ["numeric", "numeric", "discrete", "numeric", "binary", "discrete"]
    assert comparable(fast) == comparable(slow)
    assert fast.drifted_features() and (not scored or fast.snapshot.prediction_drift)


def test_other_inputs_take_the_data_frame_path(tmp_path):
    numbers = frame(100, 0)
    cases = {
        "nulls": numbers.assign(amount=numbers["amount"].where(numbers.index % 7 > 0)),
        "text": numbers.assign(country="DE"),
        "bool": numbers.assign(flag=numbers["online"].astype(bool)),
    }
    plain = tmp_path / "plain.parquet"
    numbers.to_parquet(plain)
    for name, f in cases.items():
        f.to_parquet(tmp_path / f"{name}.parquet")
        assert not columns.applies(plain, tmp_path / f"{name}.parquet", None), name
    numbers.to_csv(tmp_path / "plain.csv", index=False)
    assert not columns.applies(plain, tmp_path / "plain.csv", None)
    categorical = ModelSchema((FeatureSpec("hour", "categorical", categories=("1", "2")),))
    assert not columns.applies(plain, plain, categorical) and columns.applies(plain, plain, None)


def test_a_stored_pandas_index_is_not_a_column(tmp_path):
    f = frame(3000, 0).set_index("hour")  # pandas stores a named index as a column of the file
    f.to_parquet(tmp_path / "r.parquet")
    profile, rows = columns.profile(tmp_path / "r.parquet", None, score=None, label=None, threshold=0.5)
    assert "hour" not in profile.features and rows == 3000


def test_bad_inputs_name_the_column(tmp_path):
    frame(2000, 0).to_parquet(tmp_path / "r.parquet")
    frame(2000, 1).drop(columns="hour").to_parquet(tmp_path / "missing.parquet")
    frame(2000, 1).assign(user=1).to_parquet(tmp_path / "extra.parquet")
    frame(2000, 1).iloc[:0].to_parquet(tmp_path / "empty.parquet")
    profile, _ = columns.profile(tmp_path / "r.parquet", None, score=None, label=None, threshold=0.5)
    with pytest.raises(BadInput, match="current: missing column 'hour'"):
        columns.count(tmp_path / "missing.parquet", profile, score=None, label=None)
    with pytest.raises(BadInput, match="current: unexpected column 'user'"):
        columns.count(tmp_path / "extra.parquet", profile, score=None, label=None)
    with pytest.raises(BadInput, match="current: has no rows"):
        DriftReport.from_tally(columns.count(tmp_path / "empty.parquet", profile, score=None, label=None), Policy())
    with pytest.raises(BadInput, match="has no rows"):
        columns.profile(tmp_path / "empty.parquet", None, score=None, label=None, threshold=0.5)
    with pytest.raises(BadInput, match="a label column needs a score column"):
        columns.profile(tmp_path / "r.parquet", None, score=None, label="online", threshold=0.5)


def test_the_cli_does_not_import_pandas_for_numbers_only_parquet(tmp_path):
    frame(3000, 0).to_parquet(tmp_path / "r.parquet")
    frame(3000, 1, shift=0.5).to_parquet(tmp_path / "c.parquet")
    code = ("import sys; from drift_report.cli import main\n"
            f"sys.argv = ['drift-monitor', 'report', '--reference', {str(tmp_path / 'r.parquet')!r}, '--current', "
            f"{str(tmp_path / 'c.parquet')!r}, '--json', {str(tmp_path / 'o.json')!r}, '--quiet']\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    print(exit.code, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["1", "False"], out.stderr
