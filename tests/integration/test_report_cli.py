"""`drift-monitor report` as a user runs it (the installed console script): exit status 0 / 1 / 2 and one-line
messages for every kind of bad input, never a traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scripts.servers import free_port

CLI = str(Path(sys.executable).parent / "drift-monitor")


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "report", *args], capture_output=True, text=True, timeout=timeout)


def frame(n: int = 2000, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"amount": rng.lognormal(3 + shift, 1, n), "hour": rng.integers(0, 24, n),
                         "country": rng.choice(["DE", "FR", "IT"], n)})


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    out = {"ref": d / "ref.parquet", "same": d / "same.csv", "shifted": d / "shifted.parquet", "dir": d}
    frame(seed=0).to_parquet(out["ref"])
    frame(seed=1).to_csv(out["same"], index=False)
    frame(seed=2, shift=0.4).to_parquet(out["shifted"])
    return out


def bad(result: subprocess.CompletedProcess, message: str) -> None:
    """Exit status 2, one line on stderr naming the problem, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0], lines[0]


def test_no_drift_exits_0_and_writes_json_and_html(files):
    out = files["dir"]
    r = run("--reference", str(files["ref"]), "--current", str(files["same"]), "--json", str(out / "r.json"),
            "--html", str(out / "r.html"), "--save-schema", str(out / "schema.yml"))
    assert r.returncode == 0, r.stderr
    assert "no drift" in r.stdout and (out / "r.json").stat().st_size and "<svg" in (out / "r.html").read_text()
    assert "kind: categorical" in (out / "schema.yml").read_text()


def test_drift_exits_1_and_an_edited_schema_is_used(files):
    schema = files["dir"] / "edited.yml"
    schema.write_text("features:\n- {name: amount, kind: numeric}\n- {name: hour, kind: numeric}\n"
                      "- {name: country, kind: categorical, categories: [DE, FR, IT]}\n")
    r = run("--reference", str(files["ref"]), "--current", str(files["shifted"]), "--schema", str(schema), "--json", "-")
    assert r.returncode == 1, r.stderr
    assert '"drifted_features": [\n    "amount"\n  ]' in r.stdout and '"kind": "numeric"' in r.stdout


def test_missing_column(files, tmp_path):
    frame(seed=1).drop(columns="hour").to_csv(tmp_path / "c.csv", index=False)
    bad(run("--reference", str(files["ref"]), "--current", str(tmp_path / "c.csv")), "current: missing column 'hour'")


def test_extra_column(files, tmp_path):
    frame(seed=1).assign(user="x").to_csv(tmp_path / "c.csv", index=False)
    bad(run("--reference", str(files["ref"]), "--current", str(tmp_path / "c.csv")), "current: unexpected column 'user'")


def test_wrong_type(files, tmp_path):
    f = frame(seed=1).astype({"amount": object})
    f.loc[7, "amount"] = "lots"
    f.to_csv(tmp_path / "c.csv", index=False)
    bad(run("--reference", str(files["ref"]), "--current", str(tmp_path / "c.csv")),
        "current: column 'amount' should hold numbers (numeric feature) but holds str values (e.g. 'lots')")


def test_empty_files(files, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    bad(run("--reference", str(files["ref"]), "--current", str(tmp_path / "empty.csv")), "is empty")
    frame(seed=1).iloc[:0].to_csv(tmp_path / "header.csv", index=False)
    bad(run("--reference", str(tmp_path / "header.csv"), "--current", str(files["same"])), "reference")
    bad(run("--reference", str(files["ref"]), "--current", str(tmp_path / "header.csv")), "current: has no rows")


def test_a_categorical_with_a_million_distinct_values(tmp_path):
    n = 1_000_000
    pd.DataFrame({"amount": np.arange(n, dtype=float), "session": [f"s{i:07d}" for i in range(n)]}).to_parquet(tmp_path / "r.parquet")
    r = run("--reference", str(tmp_path / "r.parquet"), "--current", str(tmp_path / "r.parquet"))
    bad(r, "reference: column 'session' has 1,000,000 distinct values; a categorical column may have at most 1,000")


def test_unreadable_files(files, tmp_path):
    bad(run("--reference", str(tmp_path / "nope.csv"), "--current", str(files["same"])), "nope.csv: no such file")
    (tmp_path / "junk.parquet").write_bytes(b"\x00\x01 not parquet at all" * 10)
    bad(run("--reference", str(files["ref"]), "--current", str(tmp_path / "junk.parquet")), "cannot be read")
    bad(run("--reference", str(files["dir"]), "--current", str(files["same"])), "is a directory")
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 20)
    bad(run("--reference", str(files["ref"]), "--current", str(tmp_path / "bin.csv")), "current")
    (tmp_path / "schema.yml").write_text("features: [{name: amount, kind: continuous}]")
    bad(run("--reference", str(files["ref"]), "--current", str(files["same"]), "--schema", str(tmp_path / "schema.yml")),
        "kind must be one of")


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_a_large_unreadable_csv_exits_2_every_time(files, tmp_path, suffix):
    """pyarrow reads a CSV ahead on its own threads: a parse error in the first block once left those threads calling
    into a Python file object while the interpreter shut down (SIGABRT, 'terminate called without an active
    exception', 7 runs in 10 on a 48 MB file; or a hang). Each run must exit 2 with its one line."""
    noise = np.random.default_rng(0).bytes(48 << 20)
    path = tmp_path / f"noise{suffix}"
    if suffix == ".csv.gz":
        import gzip
        noise = gzip.compress(noise, compresslevel=1)
    path.write_bytes(noise)
    for _ in range(5):
        r = run("--reference", str(files["ref"]), "--current", str(path), timeout=60)
        assert r.returncode == 2 and "Traceback" not in r.stderr and "terminate" not in r.stderr, (r.returncode, r.stderr)
        # a 48 MB input gets a progress bar: the error starts a line of its own
        assert r.stderr.splitlines()[-1].startswith(f"drift-monitor: error: current {path}: "), r.stderr
        assert r.stderr.splitlines()[-1].isprintable(), "the file's bytes reach the terminal as they are"


def test_usage_errors_exit_2():
    bad(subprocess.run([CLI], capture_output=True, text=True), "error")
    bad(run("--reference", "a.csv"), "give --reference and --current")
    bad(run("--from-redis", "--hours", "1", "--redis-url", "redis://127.0.0.1:1/0"), "--from-redis needs --model")
    bad(run("--from-redis", "--model", "m", "--hours", "100", "--redis-url", "redis://127.0.0.1:1/0"), "--hours must be at most 2")
    bad(run("--from-redis", "--model", "m", "--start", "yesterday", "--redis-url", "redis://127.0.0.1:1/0"), "--start must be ISO 8601")


def test_redis_unreachable_is_one_line():
    bad(run("--from-redis", "--model", "m", "--hours", "1", "--redis-url", f"redis://127.0.0.1:{free_port()}/0"), "Redis at redis://")


def test_progress_bar_on_stderr_for_large_inputs(files):
    r = run("--reference", str(files["ref"]), "--current", str(files["same"]), "--progress")
    assert r.returncode == 0 and "reading same.csv [" in r.stderr and "100%" in r.stderr
