"""A current data set given as a directory of Parquet files, counted one file (a partition) at a time.

Each partition is counted by the single-file code (`drift_report.columns.count` for numbers-only Parquet, else
`drift_report.io.batches` + `drift_report.core.add_frame`), a batch at a time, into a `drift.tally.TallyCounts`; the
parts are merged in the files' order (`Tally.merge`). `count_in_turn` does it in this process; `drift_report.dask_engine` does the
same counting on Dask workers. Only the counts stay in memory: a partition's rows never do.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import pyarrow.parquet as pq

from drift_client.reference_profile import ReferenceProfile
from drift.tally import Tally, TallyCounts
from drift_report import columns
from drift_report.core import add_frame
from drift_report.errors import BadInput
from drift_report.io import LARGE_BYTES, Progress, batches

SUFFIXES = (".parquet", ".pq")


def parquet_files(directory: Path, source: str = "current") -> list[Path]:
    """The Parquet files under `directory` (hive-style subdirectories included), in name order: the merge order."""
    if not directory.exists():
        raise BadInput(f"{source} {directory}: no such file or directory")
    if not directory.is_dir():
        return [directory]  # one file: one partition
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                   and not any(part.startswith((".", "_")) for part in p.relative_to(directory).parts))
    if not files:
        raise BadInput(f"{source} {directory}: a directory without Parquet files (*.parquet)")
    return files


def rows_of(files: Iterable[Path], source: str = "current") -> list[int]:
    """Each file's rows, from its footer (the progress bar's total)."""
    out = []
    for path in files:
        try:
            out.append(pq.ParquetFile(path).metadata.num_rows)
        except columns.READ_ERRORS as exc:
            raise BadInput(f"{source} {path}: cannot be read as Parquet: {' '.join(str(exc).split())[:300]}") from None
    return out


def count_file(path: Path, profile: ReferenceProfile, score: str | None = None, label: str | None = None,
               source: str = "current") -> TallyCounts:
    """One partition's counts, read a batch at a time by the single-file report's own readers."""
    path = Path(path)
    tally = Tally(profile, _references(profile))
    numbers_only = not any(f.is_categorical for f in profile.model_schema.features) and columns.applies(path, path, None)
    if numbers_only:
        return columns.count(path, profile, score=score, label=label, progress=False, source=source, into=tally).counted()
    categorical = tuple(f.name for f in profile.model_schema.features if f.is_categorical)
    for frame in batches(path, source, False, categorical):
        add_frame(tally, frame, score=score, label=label, source=f"{source} {path.name}")
    return tally.counted()


_built: tuple[ReferenceProfile, list] | None = None


def _references(profile: ReferenceProfile) -> list:
    """The profile's column references, built once per process for the profile object every partition shares (a
    Dask worker keeps one copy of the broadcast profile)."""
    global _built
    if _built is None or _built[0] is not profile:
        _built = (profile, Tally(profile).references)
    return _built[1]


def count_in_turn(files: list[Path], profile: ReferenceProfile, *, score: str | None, label: str | None,
                  progress: bool | None = None) -> Tally:
    """Every partition counted in this process, one after the other (the single-process engine)."""
    tally, rows_per_file = Tally(profile, _references(profile)), rows_of(files)
    with partition_progress(files, rows_per_file, progress) as advance:
        for path, rows in zip(files, rows_per_file):
            tally.merge(count_file(path, profile, score, label))
            advance(rows)
    return tally


class partition_progress:
    """A progress bar over the partitions' rows, advanced as each partition is counted."""

    def __init__(self, files: list[Path], rows: list[int], progress: bool | None) -> None:
        total = sum(rows)
        size = sum(p.stat().st_size for p in files)
        self.bar = Progress(f"counting {len(files)} partitions", total, "rows",
                            size >= LARGE_BYTES if progress is None else progress)

    def __enter__(self) -> Callable[[int], None]:
        return self.bar.advance

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.bar.close()
        elif self.bar.enabled and self.bar.done:  # the error goes on a line of its own
            self.bar.stream.write("\n")
