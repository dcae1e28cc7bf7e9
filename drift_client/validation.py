"""Rows checked against the model's schema on their way to the float32 matrix samples carry, without ever raising
into the caller's request handler (unless the client is strict): each problem is counted by reason, and the value
is published as missing, or as it is where the exporter judges it itself.

Reasons (docs/design.md, "The publishing client"):
- `missing_key`: a feature absent from the row (published as missing, NaN);
- `null`: None / JSON null in a row (missing; in a data frame, pandas' own missing values are not counted);
- `wrong_type`: a string or a boolean for a number, a number for a categorical (missing);
- `not_integer`: a fraction for a discrete or binary feature (missing);
- `out_of_range`: a number outside the schema's declared range (published as it is: the exporter's range check sees it);
- `unknown_category`: a categorical value not in the schema (published as the unseen code, so it is counted in the
  feature's `__unseen__` bin as well);
- `score`: a score that is not a finite probability in [0, 1] (the row is not published);
- `length`, `shape`, `label`: ids, rows and scores of different lengths, an encoded matrix of another width, a label
  other than 0 or 1 (nothing of the call is published).

>>> from drift_client.schema import FeatureSpec, ModelSchema
>>> schema = ModelSchema((FeatureSpec("amount", "numeric", (0.0, 1e6)), FeatureSpec("plan", "categorical", categories=("a", "b"))))
>>> found = Problems()
>>> encode_rows(schema, [{"amount": "12.5", "plan": "z"}, {"plan": "a"}], found).tolist()
[[nan, 2.0], [nan, 0.0]]
>>> sorted(found.counts.items())
[('missing_key', 1), ('unknown_category', 1), ('wrong_type', 1)]
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Mapping, Optional, Tuple

import numpy as np

from drift_client.schema import FeatureSpec, ModelSchema

SCORE_RANGE = (0.0, 1.0)  # a binary classifier's probability
_ABSENT = object()


class InvalidSample(ValueError):
    """A problem found in strict mode: the message names the field and the reason."""


class Problems:
    """Problems found in one call: counts by reason, and the first example of each (feature, detail)."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.counts: dict[str, int] = {}
        self.examples: dict[str, Tuple[str, str]] = {}

    def add(self, reason: str, field: str, detail: str, n: int = 1) -> None:
        if n <= 0:
            return
        if self.strict:
            raise InvalidSample(f"{field}: {detail} ({reason})")
        self.counts[reason] = self.counts.get(reason, 0) + int(n)
        self.examples.setdefault(reason, (field, detail))


def value_code(spec: FeatureSpec, value: Any) -> Tuple[float, Optional[str], str]:
    """(the float a sample carries, the problem's reason or None, what was wrong)."""
    if value is _ABSENT:
        return math.nan, "missing_key", "missing from the row"
    if value is None:
        return math.nan, "null", "null"
    if spec.is_categorical:
        if not isinstance(value, str):
            return math.nan, "wrong_type", f"must be a string, got {type(value).__name__}"
        code = spec._codes().get(value)
        if code is None:
            return float(spec.unseen_code), "unknown_category", "a category not in the schema"
        return float(code), None, ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return math.nan, "wrong_type", f"must be a number, got {type(value).__name__}"
    number = float(value)
    if not math.isfinite(number):
        return number, None, ""  # NaN and infinities are missing values by convention
    if spec.kind in ("discrete", "binary") and number != int(number):
        return math.nan, "not_integer", "must be an integer"
    if spec.range is not None and not spec.range[0] <= number <= spec.range[1]:
        return number, "out_of_range", f"outside [{spec.range[0]:g}, {spec.range[1]:g}]"
    return number, None, ""


def encode_rows(schema: ModelSchema, rows: Iterable[Mapping[str, Any]], problems: Problems) -> np.ndarray:
    """Rows of feature values -> the float32 matrix (categoricals as codes), each value checked."""
    rows = [row if isinstance(row, Mapping) else {} for row in rows]
    out = np.empty((len(rows), schema.width), np.float32)
    for j, spec in enumerate(schema.features):
        column = out[:, j]
        for i, row in enumerate(rows):
            code, reason, detail = value_code(spec, row.get(spec.name, _ABSENT))
            if reason is not None:
                problems.add(reason, spec.name, detail)
            column[i] = code
    return out


def encode_frame(schema: ModelSchema, frame, problems: Problems) -> np.ndarray:
    """A pandas DataFrame -> the float32 matrix, vectorised per column, with the checks of `encode_rows`."""
    import pandas as pd

    n = len(frame)
    out = np.full((n, schema.width), np.nan, np.float32)
    for j, spec in enumerate(schema.features):
        if spec.name not in frame.columns:
            problems.add("missing_key", spec.name, "a column missing from the frame", n)
            continue
        column = frame[spec.name]
        if spec.is_categorical:
            values = column.astype(object)
            present = ~column.isna().to_numpy()
            is_text = values.map(lambda v: isinstance(v, str)).to_numpy(bool)
            codes = values.map(spec._codes()).to_numpy(dtype=float, na_value=np.nan).copy()
            unknown = is_text & np.isnan(codes)
            problems.add("wrong_type", spec.name, "must be a string", int((present & ~is_text).sum()))
            problems.add("unknown_category", spec.name, "a category not in the schema", int(unknown.sum()))
            codes[unknown] = spec.unseen_code
            codes[~is_text] = np.nan
            out[:, j] = codes
            continue
        numeric = pd.api.types.is_numeric_dtype(column.dtype)
        boolean = pd.api.types.is_bool_dtype(column.dtype)
        if (boolean and spec.kind != "binary") or not numeric:
            for i, value in enumerate(column.tolist()):  # mixed or text values: one at a time, as rows
                if value is None or isinstance(value, float) and math.isnan(value):
                    continue  # pandas' missing value
                code, reason, detail = value_code(spec, value)
                if reason is not None:
                    problems.add(reason, spec.name, detail)
                out[i, j] = code
            continue
        values = column.to_numpy(dtype=float, na_value=np.nan).copy()
        finite = np.isfinite(values)
        if spec.kind in ("discrete", "binary"):
            fraction = finite & (values != np.round(values))
            problems.add("not_integer", spec.name, "must be an integer", int(fraction.sum()))
            values = np.where(fraction, np.nan, values)
            finite &= ~fraction
        if spec.range is not None:
            outside = finite & ((values < spec.range[0]) | (values > spec.range[1]))
            problems.add("out_of_range", spec.name, f"outside [{spec.range[0]:g}, {spec.range[1]:g}]", int(outside.sum()))
        out[:, j] = values
    return out


def valid_scores(scores: np.ndarray, problems: Problems, low: float = SCORE_RANGE[0], high: float = SCORE_RANGE[1]) -> np.ndarray:
    """Which scores are finite and within [low, high] (the others' rows are not published)."""
    ok = np.isfinite(scores) & (scores >= low) & (scores <= high)
    problems.add("score", "score", f"must be a finite number in [{low:g}, {high:g}]", int((~ok).sum()))
    return ok
