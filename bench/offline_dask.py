"""`drift-monitor report` on a directory of Parquet files: the single-process engine vs `--engine dask` on a
`distributed.LocalCluster` of 2 single-threaded worker processes, at two sizes (default 2 M and 10 M current rows),
with each process's peak resident memory. Writes the "offline-dask" section of BENCHMARKS.md.

The data (transactions.generate, the spec's drift; files of 500,000 rows) is generated once into .cache/offline-dask
(gitignored), with progress on stderr; the smaller size's directory links the larger one's first files. Each report
is the CLI as a user runs it (interpreter start, imports and the 360,000-row reference profile included); its peak
memory is the process's maximum resident set (os.wait4), a worker's is its VmHWM (/proc) read before the cluster
(started afresh for each size, outside the timing) closes. `OFFLINE_DASK_ROWS=2000000,4000000` sets the sizes.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from bench.offline_report import CLI, compile_ours, timed
from bench.report import ROOT, write_section

CACHE = ROOT / ".cache" / "offline-dask"
FILE_ROWS = 500_000
REFERENCE_ROWS = 360_000
SIZES = [int(n) for n in os.environ.get("OFFLINE_DASK_ROWS", "2000000,10000000").split(",")]
WORKERS = 2


def data(sizes: list[int]) -> tuple[Path, dict[int, Path]]:
    """The reference file and one directory per size (generated once; later runs reuse them)."""
    from transactions import generate
    CACHE.mkdir(parents=True, exist_ok=True)
    reference = CACHE / "reference.parquet"
    if not reference.exists():
        generate(REFERENCE_ROWS, seed=1).drop(columns="is_fraud").to_parquet(reference.with_suffix(".tmp"))
        reference.with_suffix(".tmp").rename(reference)
    files = CACHE / "files"
    files.mkdir(exist_ok=True)
    needed = -(-max(sizes) // FILE_ROWS)
    started = time.monotonic()
    for i in range(needed):
        path = files / f"part-{i:04d}.parquet"
        if not path.exists():  # written under another name first: an interrupted run leaves no half file
            generate(FILE_ROWS, seed=100 + i, scenario="spec_drift").drop(columns="is_fraud").to_parquet(
                path.with_suffix(".tmp"), row_group_size=100_000)
            path.with_suffix(".tmp").rename(path)
        print(f"\rgenerating {CACHE}: {(i + 1) * FILE_ROWS:,}/{needed * FILE_ROWS:,} rows "
              f"({time.monotonic() - started:.0f} s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    directories = {}
    for size in sizes:
        folder = CACHE / f"rows-{size}"
        folder.mkdir(exist_ok=True)
        for i in range(-(-size // FILE_ROWS)):
            link = folder / f"part-{i:04d}.parquet"
            if not link.exists():
                link.symlink_to(files / link.name)
        directories[size] = folder
    return reference, directories


def report(reference: Path, current: Path, out: Path, *extra: str) -> tuple[float, float, dict]:
    """(wall seconds, peak RSS MB of the CLI process, the JSON report)."""
    wall, mb, _, status = timed([CLI, "report", "--reference", str(reference), "--current", str(current),
                                 "--json", str(out), "--quiet", "--no-progress", *extra], timeout=3600)
    assert status in (0, 1), f"drift-monitor exited {status}"
    return wall, mb, json.loads(out.read_text())


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def on_dask(reference: Path, current: Path, out: Path) -> tuple[float, float, list[float], float, dict]:
    """(wall, client peak MB, each worker's peak MB, cluster start seconds, report) on a fresh LocalCluster."""
    from distributed import Client

    from drift_report.dask_engine import local_cluster
    started = time.perf_counter()
    with local_cluster(WORKERS) as cluster, Client(cluster) as client:
        start_seconds = time.perf_counter() - started
        pids = client.run(os.getpid)
        wall, mb, result = report(reference, current, out, "--engine", "dask", "--scheduler", cluster.scheduler_address)
        workers = [peak_mb(pid) for pid in pids.values()]
    return wall, mb, workers, start_seconds, result


def comparable(result: dict) -> dict:
    out = {k: v for k, v in result.items() if k not in ("computed_at", "sources")}
    out["features"] = {f: {k: v for k, v in d.items() if k not in ("current_mean", "current_std")}
                       for f, d in out["features"].items()}
    return out


def main() -> None:
    compile_ours()
    reference, directories = data(SIZES)
    out = CACHE / "out"
    out.mkdir(exist_ok=True)
    rows = []
    for size, folder in sorted(directories.items()):
        print(f"{size:,} rows: single process ...", file=sys.stderr, flush=True)
        local_wall, local_mb, local = report(reference, folder, out / "local.json")
        print(f"{size:,} rows: dask, {WORKERS} workers ...", file=sys.stderr, flush=True)
        dask_wall, client_mb, worker_mb, start, dask = on_dask(reference, folder, out / "dask.json")
        assert dask["current_rows"] == local["current_rows"] == size
        same = comparable(dask) == comparable(local)
        rows.append((size, local_wall, local_mb, dask_wall, client_mb, worker_mb, start, same, local["drifted_features"]))
        print(f"  local {local_wall:.1f} s {local_mb:.0f} MB; dask {dask_wall:.1f} s client {client_mb:.0f} MB "
              f"workers {', '.join(f'{w:.0f}' for w in worker_mb)} MB; same report: {same}", file=sys.stderr)
    write_section("offline-dask", "Offline report on Dask: one process vs 2 workers (`bench/offline_dask.py`)", body(rows))


def body(rows: list) -> str:
    table = ["| current rows | single process | rows/s | `--engine dask`, 2 workers | rows/s | speed-up | "
             "peak memory: single process | dask client | each worker | same report |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for size, lw, lmb, dw, cmb, wmb, _, same, _ in rows:
        table.append(f"| {size:,} | {lw:.1f} s | {size / lw:,.0f} | {dw:.1f} s | {size / dw:,.0f} | **{lw / dw:.2f}x** | "
                     f"{lmb:.0f} MB | {cmb:.0f} MB | {' / '.join(f'{w:.0f}' for w in wmb)} MB | "
                     f"{'yes' if same else 'NO'} |")
    starts = ", ".join(f"{r[6]:.1f} s" for r in rows)
    flagged = ", ".join(rows[-1][8]) or "none"
    return f"""Reference: {REFERENCE_ROWS:,} rows x 12 features (`transactions.generate`, seed 1), one Parquet file. Current: a directory of
Parquet files of {FILE_ROWS:,} rows (the spec's drift, one seed per file). Each run is the CLI as a user runs it:
interpreter start, imports and the reference profile included (rows/s = current rows / wall time). Single process:
`drift-monitor report --current DIR` (the files counted in turn). Dask: `--engine dask --scheduler ADDRESS` on a
`distributed.LocalCluster(n_workers={WORKERS}, threads_per_worker=1)` as the CLI starts one (`drift_report.dask_engine.local_cluster`:
worker processes, no profiler) started before the run (its start, not timed: {starts}). A worker's first partition also
pays its imports and the reference's column references, once. The machine's 2 cores are shared with other work: one run per cell, so a cell can move by a factor of several with the others' load (compare sizes within one run, not across runs); at the smaller size the fixed costs (imports, the reference profile, the workers' first partition) dominate. Peak memory is each process's maximum
resident set; the Dask scheduler (in the benchmark's process) is not counted. "Same report": flags and every figure
equal except the features' current mean and standard deviation (float sums added per partition). Flagged at the largest
size: {flagged}.

{chr(10).join(table)}
"""


if __name__ == "__main__":
    main()
