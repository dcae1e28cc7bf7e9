"""The CLI's path for Parquet files whose columns are all numbers (floats or integers): each column goes from pyarrow
straight into numpy (DLPack, zero-copy), without pandas, whose import alone was about a fifth of a report's time on
360,000 x 12 rows (pyarrow's own `to_numpy` and `read_table` import it).

Everything but the reading is the data-frame path's own: the inference rule
(`drift_report.inference.numeric_kind`), the column checks (`check_names`), the profile
(`drift_report.core.profile_of_arrays`) and the counting (`add_rows`, a `Tally`), so the figures are the same
(tests/unit/test_report.py compares the two). Other inputs (CSV, text or boolean columns, missing values, a schema
with categorical features) take the data-frame path.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from drift_client.reference_profile import ReferenceProfile
from drift_client.schema import FeatureSpec, ModelSchema
from drift_report.core import OFFLINE_MODEL, add_rows, profile_of_arrays
from drift_report.errors import BadInput
from drift_report.inference import check_names, numeric_kind
from drift_report.io import BATCH_ROWS, LARGE_BYTES, Progress, file_format
from drift.tally import Tally

READ_ERRORS = (pa.ArrowException, OSError, UnicodeDecodeError, ValueError)


def applies(reference: Path, current: Path, schema: ModelSchema | None) -> bool:
    """Both files are Parquet with number columns only, and the schema (if any) has no categorical feature."""
    if schema is not None and any(f.is_categorical for f in schema.features):
        return False
    return _numeric_parquet(reference) and _numeric_parquet(current)


def _numeric_parquet(path: Path) -> bool:
    try:
        if not path.is_file() or path.stat().st_size == 0 or file_format(path) != "parquet":
            return False
        file = pq.ParquetFile(path)
        schema, meta = file.schema_arrow, file.metadata
        no_nulls = all(_no_nulls(meta.row_group(g).column(c).statistics)
                       for g in range(meta.num_row_groups) for c in range(meta.num_columns))
    except READ_ERRORS:
        return False  # the data-frame path says what is wrong with it
    types = [t for name, t in zip(schema.names, schema.types) if name not in _index_columns(schema)]
    return no_nulls and bool(types) and all(pa.types.is_floating(t) or pa.types.is_integer(t) for t in types)


def _no_nulls(statistics) -> bool:
    """The column chunk says it has no missing value (files written without statistics take the other path)."""
    return statistics is not None and statistics.has_null_count and statistics.null_count == 0


def _index_columns(schema: pa.Schema) -> set[str]:
    """A pandas index stored as a column (pandas makes it the frame's index, not a column)."""
    try:
        meta = json.loads((schema.metadata or {}).get(b"pandas", b"{}"))
    except ValueError:
        return set()
    return {c for c in meta.get("index_columns", []) if isinstance(c, str)}


def profile(path: Path, schema: ModelSchema | None, *, score: str | None, label: str | None, threshold: float,
            model_name: str = OFFLINE_MODEL, progress: bool | None = None,
            source: str = "reference", task: str | None = None,
            classes: list[str] | None = None) -> tuple[ReferenceProfile, int]:
    """(the reference profile, its rows), as `drift_report.core.profile_of` makes them of the same file read by pandas."""
    columns = _read(path, source, progress)
    rows = len(next(iter(columns.values())))
    if rows == 0:
        raise BadInput(f"{source} {path}: has no rows")
    if label is not None and score is None:
        raise BadInput("a label column needs a score column as well (performance compares labels with scores)")
    extra = [c for c in (score, label) if c]
    schema = schema or ModelSchema(tuple(FeatureSpec(n, numeric_kind(v.astype(float))) for n, v in columns.items()
                                         if n not in extra))
    if not schema.features:
        raise BadInput(f"{source}: no feature columns")
    check_names(list(columns), schema, source, required=extra)
    train = _encode(columns, schema, rows)
    scores = columns[score].astype(float) if score else None
    labels = columns[label].astype(float) if label else None
    built = profile_of_arrays(train, schema, scores, labels, threshold=threshold, model_name=model_name, source=source,
                              task=task, classes=classes, label=label)
    return built, rows


def count(path: Path, profile: ReferenceProfile, *, score: str | None, label: str | None,
          progress: bool | None = None, source: str = "current", into: Tally | None = None) -> Tally:
    """The current file counted a batch at a time over the profile's bins (only the counts are kept), added to
    `into` when given."""
    schema = profile.model_schema
    tally = into if into is not None else Tally(profile)
    try:
        file = pq.ParquetFile(path)
        index = _index_columns(file.schema_arrow)
        bar = Progress(f"reading {path.name}", file.metadata.num_rows, "rows", _show(path, progress))
        for batch in file.iter_batches(batch_size=BATCH_ROWS):
            columns = {n: batch.column(i) for i, n in enumerate(batch.schema.names) if n not in index}
            check_names(list(columns), schema, source, extra_allowed=[c for c in (score, label) if c],
                        required=[score] if score else [])
            bar.advance(batch.num_rows)
            if batch.num_rows == 0:
                continue
            values = {n: _numpy(c) for n, c in columns.items()}
            add_rows(tally, _encode(values, schema, batch.num_rows),
                     values[score].astype(float) if score else None,
                     values[label].astype(float) if label and label in values else None, label=label, source=source)
        if file.metadata.num_rows == 0:  # no batch at all: still check the columns
            check_names([n for n in file.schema_arrow.names if n not in index], schema, source,
                        extra_allowed=[c for c in (score, label) if c], required=[score] if score else [])
        bar.close()
    except READ_ERRORS as exc:
        raise BadInput(f"{source} {path}: cannot be read: {' '.join(str(exc).split())[:300]}") from None
    return tally


def _read(path: Path, source: str, progress: bool | None) -> dict[str, np.ndarray]:
    """Every column of the file (a pandas index stored as a column left out), as numpy arrays."""
    try:
        file = pq.ParquetFile(path)
        bar = Progress(f"reading {path.name}", file.metadata.num_rows, "rows", _show(path, progress))
        table = file.read()
        bar.advance(table.num_rows)
        bar.close()
    except READ_ERRORS as exc:
        raise BadInput(f"{source} {path}: cannot be read: {' '.join(str(exc).split())[:300]}") from None
    index = _index_columns(table.schema)
    return {n: _numpy(table.column(n)) for n in table.column_names if n not in index}


def _numpy(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A number column without missing values as a numpy array (read-only views of the Arrow buffers)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [np.from_dlpack(c) for c in chunks if len(c)]
    if not parts:
        return np.zeros(0)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _encode(columns: dict[str, np.ndarray], schema: ModelSchema, rows: int) -> np.ndarray:
    """The float32 matrix of the schema's features (`ModelSchema.encode_frame` of the same numbers), column-major:
    the profile and the tally read it a column at a time."""
    out = np.empty((rows, schema.width), np.float32, order="F")
    for j, f in enumerate(schema.features):
        out[:, j] = columns[f.name]
    return out


def _show(path: Path, progress: bool | None) -> bool:
    return path.stat().st_size >= LARGE_BYTES if progress is None else progress
