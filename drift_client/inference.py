"""A schema inferred from a data frame (`ModelSchema.infer(df)`), by the rule `drift-monitor report` uses.

Column by column (excluding the score and label columns):
- bool, or numbers that are all 0 or 1: `binary`;
- integers (or integral floats) with few distinct values: `discrete` (at most FEW_VALUES of them, or up to
  MAX_VALUE_BINS when there are at least ROWS_PER_VALUE rows per value: ages with ~55 distinct values in 221 rows are
  `numeric`, else their one-bin-per-value PSI judges noise; docs/design.md, "Small and integer-valued data");
- other numbers: `numeric`;
- strings or pandas categories: `categorical`, with at most `max_categories` distinct values (a column with more
  is an identifier, not a feature: refused with a message);
- anything else (dates, mixed objects): refused with a message naming the column.
Ranges are not inferred (None: any finite value is valid); categories are ordered most frequent first.

>>> import pandas as pd
>>> frame = pd.DataFrame({"x": [0.5, 1.5, 2.5], "n": [1, 2, 3], "flag": [0, 1, 0], "c": ["a", "b", "a"]})
>>> [(f.name, f.kind, f.categories) for f in infer_schema(frame).features]
[('x', 'numeric', ()), ('n', 'discrete', ()), ('flag', 'binary', ()), ('c', 'categorical', ('a', 'b'))]
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from drift_client.reference_profile import MAX_VALUE_BINS
from drift_client.schema import FeatureSpec, ModelSchema

MAX_CATEGORIES = 1000  # distinct values a categorical column may have (its bins, and the report's bars)
FEW_VALUES = 10  # an integer column with at most this many distinct values is discrete whatever the rows
ROWS_PER_VALUE = 10  # else discrete only with at least this many rows per distinct value (and <= MAX_VALUE_BINS)


class InferenceError(ValueError):
    """A column whose kind cannot be inferred; the message names it."""


def infer_schema(frame, exclude: Iterable[str] = (), max_categories: int = MAX_CATEGORIES,
                 source: str = "reference") -> ModelSchema:
    """The schema of `frame`'s columns (a pandas DataFrame), except `exclude` (score and label)."""
    skip = set(exclude)
    return ModelSchema(tuple(infer_feature(frame[c], str(c), max_categories, source) for c in frame.columns
                             if c not in skip))


def infer_feature(column, name: str, max_categories: int = MAX_CATEGORIES, source: str = "reference") -> FeatureSpec:
    import pandas as pd
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return FeatureSpec(name, "binary")
    if pd.api.types.is_numeric_dtype(dtype):
        return FeatureSpec(name, numeric_kind(column.to_numpy(dtype=float, na_value=np.nan)))
    if pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype) or dtype == object:
        if dtype == object and not column.map(lambda v: isinstance(v, str) or v is None).all():
            raise InferenceError(f"{source}: column {name!r} mixes text with other values; declare its kind in a schema")
        counts = column.dropna().astype(str).value_counts()
        if len(counts) > max_categories:
            raise InferenceError(f"{source}: column {name!r} has {len(counts):,} distinct values; a categorical column "
                                 f"may have at most {max_categories:,} (an identifier is not a feature: drop it)")
        if len(counts) == 0:
            raise InferenceError(f"{source}: column {name!r} holds no values")
        # most frequent first, so that the codes (and the report's bars) start with the common categories
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return FeatureSpec(name, "categorical", categories=tuple(c for c, _ in ordered))
    raise InferenceError(f"{source}: column {name!r} has type {dtype}, which is neither a number nor text; drop it or "
                         "convert it")


def numeric_kind(values: np.ndarray) -> str:
    """binary (0/1), discrete (integers, few of them for the rows) or numeric: a number column's kind.

    >>> numeric_kind(np.arange(200) % 20.0), numeric_kind(np.arange(200) % 55.0), numeric_kind(np.arange(2000) % 55.0)
    ('discrete', 'numeric', 'discrete')
    """
    values = values[np.isfinite(values)]
    if not np.all(values == np.round(values)):  # fractions: numeric, without sorting the column for its values
        return "numeric"
    distinct = np.unique(values)
    if len(distinct) and set(distinct.tolist()) <= {0.0, 1.0}:
        return "binary"
    few = len(distinct) <= max(FEW_VALUES, len(values) / ROWS_PER_VALUE)
    return "discrete" if few and len(distinct) <= MAX_VALUE_BINS else "numeric"
