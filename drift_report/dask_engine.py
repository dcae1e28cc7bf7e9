"""`drift-monitor report --engine dask`: the partitions of a current data set counted on Dask workers.

Each worker runs `drift_report.partitions.count_file` (the single-process code, a batch at a time) on one Parquet file and
sends back its `TallyCounts`; the client merges them in the files' order, so the merged counts are those the
single-process engine makes of the same directory (docs/design.md, "Offline reports on Dask"). The reference
profile is built once on the client and broadcast to the workers. Only this module imports dask: the
single-process report never loads it.
"""
from __future__ import annotations

import warnings
from collections import deque
from pathlib import Path

from drift_client.reference_profile import ReferenceProfile
from drift.tally import Tally
from drift_report.errors import BadInput
from drift_report.partitions import count_file, partition_progress, rows_of

CONNECT_SECONDS = 10
IN_FLIGHT_PER_WORKER = 2  # one counting, one queued: no worker idles while the client merges


def count_on_dask(files: list[Path], profile: ReferenceProfile, *, score: str | None, label: str | None,
                  scheduler: str | None = None, progress: bool | None = None) -> Tally:
    """Every partition counted on the cluster at `scheduler` (a LocalCluster of this machine's cores when None)."""
    try:
        from distributed import Client
    except ImportError:
        raise BadInput("--engine dask needs dask and distributed: pip install 'ml-drift-monitor[dask]'") from None
    rows_per_file = rows_of(files)
    cluster = None
    try:
        if scheduler is None:
            cluster = local_cluster()
        client = Client(scheduler or cluster, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise BadInput(f"--scheduler {scheduler}: cannot connect: {' '.join(str(exc).split())[:200]}") from None
    try:
        return _count(client, files, rows_per_file, profile, score, label, progress)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def local_cluster(n_workers: int | None = None):
    """A LocalCluster for counting: single-threaded worker processes (one per core by default; counting holds the
    GIL between numpy calls), no dashboard, and no statistical profiler: its 10 ms stack samples took the GIL from
    the counting (about 1.7x the CPU per partition on a loaded 2-core machine, with it on)."""
    import dask
    from distributed import LocalCluster
    with dask.config.set({"distributed.worker.profile.enabled": False}), warnings.catch_warnings():  # the nannies
        # pass the config to their workers; the scheduler's HTTP server takes another port when 8787 is taken: no news
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)


def _count(client, files: list[Path], rows_per_file: list[int], profile: ReferenceProfile, score: str | None,
           label: str | None, progress: bool | None) -> Tally:
    shared = client.scatter(profile, broadcast=True)  # once per worker, not once per partition
    # a bounded number of partitions in flight: finished counts (up to twice the reference's distinct values per
    # column) wait on the workers until merged, so the workers' memory does not grow with the number of files
    ahead = IN_FLIGHT_PER_WORKER * max(len(client.scheduler_info().get("workers", {})), 1)
    pending: deque = deque()
    todo = iter(files)

    def submit_next() -> None:
        path = next(todo, None)
        if path is not None:  # absolute paths: a worker's working directory is not ours
            pending.append(client.submit(count_file, str(path.resolve()), shared, score, label, pure=False))

    for _ in range(ahead):
        submit_next()
    tally = Tally(profile)
    with partition_progress(files, rows_per_file, progress) as advance:
        for rows in rows_per_file:  # in the files' order: the same sums as counted in turn
            future = pending.popleft()
            submit_next()
            tally.merge(future.result())
            future.release()  # the worker drops this partition's counts
            advance(rows)
    return tally
