"""What a user reads must not be wrong (issue 22, finding 6): no mean of a categorical's codes, an unseen category is
not also "out of range", and the CLI's text and exit status say when a data-quality check fails."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from contracts.policy import Policy
from drift_report import cli
from drift_report.core import DriftReport
from tests.helpers import report_cli_on_frames


def frames(n: int = 2000, seed: int = 0):
    rng = np.random.default_rng(seed)
    def one(k, unseen=0.0):
        plan = rng.choice(["basic", "pro"], k).astype(object)
        plan[rng.random(k) < unseen] = "enterprise"
        return pd.DataFrame({"x": rng.normal(size=k), "plan": plan})
    return one(n), one(n), one(n, unseen=0.2)


def test_a_categorical_has_no_mean_of_its_codes():
    reference, current, _ = frames()
    feature = DriftReport.compare(reference, current).snapshot.features["plan"]
    assert math.isnan(feature.current_mean) and math.isnan(feature.reference_mean)
    assert math.isnan(feature.current_std) and math.isnan(feature.reference_std)
    assert not math.isnan(DriftReport.compare(reference, current).snapshot.features["x"].current_mean)


def test_an_unseen_category_is_unseen_not_out_of_range():
    reference, _, unseen = frames()
    feature = DriftReport.compare(reference, unseen).snapshot.features["plan"]
    assert feature.unseen_ratio == pytest.approx(0.2, abs=0.03) and feature.drifted
    assert "out_of_range" not in feature.quality
    assert math.isnan(feature.above_range_ratio) and math.isnan(feature.below_range_ratio)


def test_a_failed_quality_check_is_neither_ok_nor_exit_0(tmp_path, capsys):
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(size=3000), "y": rng.normal(size=3000)})
    current = pd.DataFrame({"x": rng.normal(size=3000), "y": rng.normal(size=3000)})
    current.loc[rng.random(3000) < 0.3, "x"] = np.nan  # 30% missing where training had none
    code = report_cli_on_frames(tmp_path, reference, current)
    out = capsys.readouterr().out
    assert code == cli.QUALITY == 3, out
    line = next(l for l in out.splitlines() if l.split()[1:2] == ["x"])
    assert "QUALITY" in line and "missing" in line and not line.strip().startswith("ok")
    assert out.strip().splitlines()[-1] == "no drift; data quality failed: x (missing)"
