"""Reading CSV and Parquet files a batch at a time, with a progress bar on stderr for large inputs.

Every failure becomes a one-line `BadInput` naming the file: it does not exist, is not CSV/Parquet, is empty, or a
value cannot be read as its column's type.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from drift_report.errors import BadInput

if TYPE_CHECKING:  # imported where frames are made: the numeric Parquet path (drift_report.columns) does without
    import pandas as pd

BATCH_ROWS = 65_536
CSV_BLOCK_BYTES = 8 << 20
LARGE_BYTES = 16 << 20  # inputs from this size get a progress bar


class Progress:
    """A one-line progress bar on stderr (redrawn at most 10 times a second); silent for small inputs."""

    def __init__(self, label: str, total: int, unit: str, enabled: bool, stream: IO[str] = sys.stderr) -> None:
        self.label, self.total, self.unit, self.enabled, self.stream = label, max(total, 1), unit, enabled, stream
        self.done, self._drawn = 0, 0.0

    def advance(self, amount: int) -> None:
        self.done += amount
        if self.enabled and (time.monotonic() - self._drawn > 0.1 or self.done >= self.total):
            self._draw()

    def advance_to(self, done: int) -> None:
        self.advance(done - self.done)

    def stop(self) -> None:
        """End the bar's line where it stands (an error follows on a line of its own)."""
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.done = self.total
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * 30)
        self.stream.write(f"\r{self.label} [{bar:<30}] {share:4.0%} {_size(self.done, self.unit)}/{_size(self.total, self.unit)}")
        self.stream.flush()
        self._drawn = time.monotonic()


def _size(n: int, unit: str) -> str:
    return f"{n / 2**20:.0f} MB" if unit == "bytes" else f"{n:,} rows"


def file_format(path: Path) -> str:
    """'parquet' or 'csv', by extension, else by Parquet's magic bytes."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return "parquet"
    if suffixes and (suffixes[-1] in (".csv", ".tsv", ".txt") or suffixes[-2:] == [".csv", ".gz"]):
        return "csv"
    with open(path, "rb") as f:
        return "parquet" if f.read(4) == b"PAR1" else "csv"


def batches(path: str | os.PathLike, source: str, progress: bool | None = None,
            text_columns: tuple[str, ...] = ()) -> Iterator[pd.DataFrame]:
    """The file's rows as data frames of about BATCH_ROWS rows (`text_columns` are read as strings)."""
    path = Path(path)
    _check_readable(path, source)
    size = path.stat().st_size
    show = size >= LARGE_BYTES if progress is None else progress
    try:
        if file_format(path) == "parquet":
            yield from _parquet(path, source, show, text_columns)
        else:
            yield from _csv(path, source, show, size, text_columns)
    except BadInput:
        raise
    except (pa.ArrowException, OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"{source} {path}: cannot be read: {_one_line(exc)}") from None


def read_frame(path: str | os.PathLike, source: str, progress: bool | None = None,
               text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """The whole file as one data frame (the reference: its quantiles need every row)."""
    path = Path(path)
    _check_readable(path, source)
    if file_format(path) == "parquet":  # one read, decoded column by column on pyarrow's threads: no concatenation
        try:
            frame = _parquet_frame(path, progress)
        except (pa.ArrowException, OSError, UnicodeDecodeError, ValueError) as exc:
            raise BadInput(f"{source} {path}: cannot be read: {_one_line(exc)}") from None
        if len(frame) == 0:
            raise BadInput(f"{source} {path}: has no rows")
        return frame
    import pandas as pd
    parts = list(batches(path, source, progress, text_columns))
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if len(frame) == 0:
        raise BadInput(f"{source} {path}: has no rows")
    return frame


def _check_readable(path: Path, source: str) -> None:
    if not path.exists():
        raise BadInput(f"{source} {path}: no such file")
    if path.is_dir():
        raise BadInput(f"{source} {path}: is a directory, not a CSV or Parquet file")
    if not os.access(path, os.R_OK):
        raise BadInput(f"{source} {path}: permission denied")
    if path.stat().st_size == 0:
        raise BadInput(f"{source} {path}: is empty")


def _parquet(path: Path, source: str, show: bool, text_columns: tuple[str, ...]) -> Iterator[pd.DataFrame]:
    file = pq.ParquetFile(path)
    bar = Progress(f"reading {path.name}", file.metadata.num_rows, "rows", show)
    yielded = False
    for batch in file.iter_batches(batch_size=BATCH_ROWS):
        bar.advance(batch.num_rows)
        yielded = True
        yield batch.to_pandas()
    if not yielded:  # no rows: still say which columns there are
        yield file.schema_arrow.empty_table().to_pandas()
    bar.close()


def _parquet_frame(path: Path, progress: bool | None) -> pd.DataFrame:
    rows = pq.ParquetFile(path).metadata.num_rows
    bar = Progress(f"reading {path.name}", rows, "rows", path.stat().st_size >= LARGE_BYTES if progress is None else progress)
    frame = pq.read_table(path).to_pandas()
    bar.advance(rows)
    bar.close()
    return frame


def _csv(path: Path, source: str, show: bool, size: int, text_columns: tuple[str, ...]) -> Iterator[pd.DataFrame]:
    bar = Progress(f"reading {path.name}", size, "bytes", show)
    try:
        yield from _csv_batches(path, source, bar, text_columns)
    except Exception:
        bar.stop()
        raise
    bar.close()


def _csv_batches(path: Path, source: str, bar: Progress, text_columns: tuple[str, ...]) -> Iterator[pd.DataFrame]:
    convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in text_columns}, strings_can_be_null=True)
    # Arrow's own file, never a Python file object: pyarrow reads ahead on its own threads, and one of them calling
    # into Python while the interpreter exits (after a parse error ends the run) aborted the process or hung it.
    with pa.OSFile(str(path)) as raw:
        stream = pa.CompressedInputStream(raw, "gzip") if path.suffix.lower() == ".gz" else raw
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        try:
            reader = pacsv.open_csv(stream, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                                    parse_options=pacsv.ParseOptions(delimiter=delimiter), convert_options=convert)
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                raise BadInput(f"{source} {path}: is empty (no header line)") from None
            raise
        yielded = False
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise BadInput(f"{source} {path}: {_csv_error(exc, reader.schema)}") from None
            bar.advance_to(raw.tell())  # bytes read from disk: a little ahead of the rows parsed
            yielded = True
            yield batch.to_pandas()
        if not yielded:
            yield reader.schema.empty_table().to_pandas()


def _csv_error(exc: Exception, schema: pa.Schema) -> str:
    """pyarrow's CSV conversion error with the column's name instead of its number."""
    text = _one_line(exc)
    if "column #" in text:
        number = text.split("column #", 1)[1].split(":", 1)[0]
        if number.isdigit() and int(number) < len(schema):
            name = schema.names[int(number)]
            detail = text.split(":", 1)[1].strip() if ":" in text else text
            return f"column {name!r} ({schema.types[int(number)]} from its first rows): {detail}"
    return text


def _one_line(exc: Exception) -> str:
    """The error on one line of at most 300 printable characters (a binary file's bytes are quoted in it)."""
    text = " ".join(str(exc).split())[:300]
    return "".join(c if c.isprintable() else "?" for c in text)
