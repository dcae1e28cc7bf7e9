"""`drift-monitor report --engine dask` on a real `distributed.LocalCluster` (2 worker processes, 1 thread each):
the report of a directory of Parquet files equals the single-process report of the same rows."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from drift_report import BadInput
from drift_report.cli import parser, run
from scripts.servers import free_port
from tests.unit.test_report_columns import frame

distributed = pytest.importorskip("distributed")

# Float sums added in another grouping when the rows are counted in partitions (per file, then merged) instead of
# in one pass: the means and standard deviations (sum, sum of squares) and the calibrated score mass behind the
# estimated performance. Everything else (flags, PSI, KS, chi-square, p-values, counts, distributions) is exact.
FLOAT_SUM_FIELDS = {"current_mean", "current_std"}
FLOAT_SUM_SECTIONS = {"estimated_performance", "estimated_performance_interval", "estimated_performance_gap"}


@pytest.fixture(scope="module")
def cluster():
    from drift_report.dask_engine import local_cluster
    with local_cluster(2) as c:  # 2 worker processes, 1 thread each, as the CLI starts them
        assert len(c.workers) == 2
        with distributed.Client(c) as client:
            assert set(client.run(lambda: __import__("dask").config.get("distributed.worker.profile.enabled")).values()) == {False}
        yield c


def write_data(tmp_path: Path, current: pd.DataFrame, parts: int) -> tuple[Path, Path]:
    """The current rows as one file and as a directory of `parts` files (hive-style subdirectory included)."""
    whole, directory = tmp_path / "current.parquet", tmp_path / "current"
    current.to_parquet(whole, row_group_size=50_000)
    for i, chunk in enumerate(np.array_split(np.arange(len(current)), parts)):
        folder = directory / ("day=2" if i >= parts // 2 else "day=1")
        folder.mkdir(parents=True, exist_ok=True)
        current.iloc[chunk].to_parquet(folder / f"part-{i:03d}.parquet", row_group_size=20_000)
    (directory / "_SUCCESS").write_text("")  # a writer's marker file is not a partition
    return whole, directory


def report(tmp_path: Path, reference: Path, current: Path, *extra: str) -> dict:
    out = tmp_path / f"out-{len(list(tmp_path.glob('out-*')))}.json"
    args = parser().parse_args(["report", "--reference", str(reference), "--current", str(current), "--json", str(out),
                                "--quiet", "--no-progress", *extra])
    run(args)
    data = json.loads(out.read_text())
    data.pop("computed_at")
    data.pop("sources")
    return data


def split_float_sums(data: dict) -> tuple[dict, dict]:
    """(the report without the float-sum fields, those fields by path)."""
    data, floats = json.loads(json.dumps(data)), {}
    for section in FLOAT_SUM_SECTIONS:
        floats[section] = data.pop(section, None)
    for name, feature in data["features"].items():
        for key in FLOAT_SUM_FIELDS:
            floats[f"{name}.{key}"] = feature.pop(key)
    return data, floats


def assert_close(a, b, path=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, path


@pytest.mark.parametrize("scored", [True, False])
def test_dask_report_equals_the_single_process_report(tmp_path, cluster, scored):
    reference = tmp_path / "reference.parquet"
    frame(20_000, 0, scored=scored).to_parquet(reference)
    whole, directory = write_data(tmp_path, frame(200_000, 1, shift=0.3, scored=scored), parts=5)
    extra = ["--score-column", "score", "--label-column", "label"] if scored else []

    one_file = report(tmp_path, reference, whole, *extra)
    in_turn = report(tmp_path, reference, directory, *extra)  # the same partitions, counted in this process
    on_dask = report(tmp_path, reference, directory, "--engine", "dask", "--scheduler", cluster.scheduler_address, *extra)

    assert on_dask == in_turn  # same partitions merged in the same order: equal to the last bit, floats included
    assert on_dask["drifted_features"] and on_dask["current_rows"] == 200_000
    exact, floats = split_float_sums(on_dask)
    exact_one, floats_one = split_float_sums(one_file)
    assert exact == exact_one  # flags, PSI, KS, p-values, counts, distributions, performance: identical
    assert_close(floats, floats_one)  # sums of floats added in another grouping
    if scored:
        assert on_dask["performance"] and on_dask["estimated_performance"] and on_dask["prediction_drift"]


def test_partitions_of_text_and_missing_values_take_the_data_frame_path(tmp_path, cluster):
    rng = np.random.default_rng(3)

    def rows(n, shift):
        out = frame(n, 5, shift=shift)
        out["city"] = rng.choice(["paris", "lyon", "nice"] + (["brest"] if shift else []), n)
        return out

    reference = tmp_path / "reference.parquet"
    rows(20_000, 0.0).to_parquet(reference)
    current = rows(90_000, 0.4)
    current.loc[current.index[::97], "ratio"] = np.nan  # a missing value counts for its feature only
    whole, directory = write_data(tmp_path, current, parts=3)
    one_file = report(tmp_path, reference, whole)
    on_dask = report(tmp_path, reference, directory, "--engine", "dask", "--scheduler", cluster.scheduler_address)
    assert "city" in on_dask["drifted_features"]
    assert split_float_sums(on_dask)[0] == split_float_sums(one_file)[0]
    assert_close(split_float_sums(on_dask)[1], split_float_sums(one_file)[1])


def test_a_bad_partition_is_named_from_the_worker(tmp_path, cluster):
    reference = tmp_path / "reference.parquet"
    frame(5_000, 0).to_parquet(reference)
    (tmp_path / "cur").mkdir()
    frame(5_000, 1).to_parquet(tmp_path / "cur" / "a.parquet")
    frame(5_000, 2).drop(columns=["hour"]).to_parquet(tmp_path / "cur" / "b.parquet")
    with pytest.raises(BadInput, match=r"b\.parquet.*'hour'|'hour'.*b\.parquet"):
        report(tmp_path, reference, tmp_path / "cur", "--engine", "dask", "--scheduler", cluster.scheduler_address)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="without Parquet files"):
        report(tmp_path, reference, tmp_path / "empty", "--engine", "dask", "--scheduler", cluster.scheduler_address)
    with pytest.raises(BadInput, match="--scheduler goes with --engine dask"):
        report(tmp_path, reference, tmp_path / "cur", "--scheduler", cluster.scheduler_address)
    address = f"tcp://127.0.0.1:{free_port()}"  # nobody listens there
    with pytest.raises(BadInput, match=f"--scheduler {address}: cannot connect"):
        report(tmp_path, reference, tmp_path / "cur", "--engine", "dask", "--scheduler", address)


def test_the_local_engine_does_not_import_dask(tmp_path):
    frame(3000, 0).to_parquet(tmp_path / "r.parquet")
    (tmp_path / "c").mkdir()
    frame(3000, 1, shift=0.5).to_parquet(tmp_path / "c" / "a.parquet")
    code = ("import sys; from drift_report.cli import main\n"
            f"sys.argv = ['drift-monitor', 'report', '--reference', {str(tmp_path / 'r.parquet')!r}, '--current', "
            f"{str(tmp_path / 'c')!r}, '--quiet']\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    print(exit.code, 'dask' in sys.modules, 'distributed' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["1", "False", "False"], out.stderr


def test_without_a_scheduler_the_cli_starts_its_own_local_cluster(tmp_path):
    reference = tmp_path / "reference.parquet"
    frame(5_000, 0).to_parquet(reference)
    whole, directory = write_data(tmp_path, frame(12_000, 1, shift=0.5), parts=2)
    assert report(tmp_path, reference, directory, "--engine", "dask") == report(tmp_path, reference, directory)
