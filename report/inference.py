"""A schema inferred from a reference frame, and the checks that a frame matches a schema.

Inference, column by column (excluding the score and label columns):
- bool, or numbers that are all 0 or 1: `binary`;
- integers (or integral floats) with few distinct values: `discrete` (at most FEW_VALUES of them, or up to
  MAX_VALUE_BINS when there are at least ROWS_PER_VALUE rows per value: ages with ~55 distinct values in 221 rows are
  `numeric`, else their one-bin-per-value PSI judges noise; docs/design.md, "Small and integer-valued data");
- other numbers: `numeric`;
- strings or pandas categories: `categorical`, with at most `max_categories` distinct values (a column with more
  is an identifier, not a feature: refused with a message);
- anything else (dates, mixed objects): refused with a message naming the column.

>>> import pandas as pd
>>> frame = pd.DataFrame({"x": [0.5, 1.5, 2.5], "n": [1, 2, 3], "flag": [0, 1, 0], "c": ["a", "b", "a"]})
>>> [(f.name, f.kind, f.categories) for f in infer_schema(frame).features]
[('x', 'numeric', ()), ('n', 'discrete', ()), ('flag', 'binary', ()), ('c', 'categorical', ('a', 'b'))]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import numpy as np

from contracts.reference_profile import MAX_VALUE_BINS
from contracts.schema import FeatureSpec, ModelSchema
from report.errors import BadInput

if TYPE_CHECKING:  # imported where a data frame is handled (report.core)
    import pandas as pd

MAX_CATEGORIES = 1000  # distinct values a categorical column may have (its bins, and the report's bars)
FEW_VALUES = 10  # an integer column with at most this many distinct values is discrete whatever the rows
ROWS_PER_VALUE = 10  # else discrete only with at least this many rows per distinct value (and <= MAX_VALUE_BINS)


def infer_schema(frame: pd.DataFrame, exclude: Iterable[str] = (), max_categories: int = MAX_CATEGORIES,
                 source: str = "reference") -> ModelSchema:
    """The schema of `frame`'s columns, except `exclude` (score and label)."""
    skip = set(exclude)
    return ModelSchema(tuple(infer_feature(frame[c], str(c), max_categories, source) for c in frame.columns
                             if c not in skip))


def infer_feature(column: pd.Series, name: str, max_categories: int = MAX_CATEGORIES, source: str = "reference") -> FeatureSpec:
    import pandas as pd
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return FeatureSpec(name, "binary")
    if pd.api.types.is_numeric_dtype(dtype):
        return FeatureSpec(name, numeric_kind(column.to_numpy(dtype=float, na_value=np.nan)))
    if pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype) or dtype == object:
        if dtype == object and not column.map(lambda v: isinstance(v, str) or v is None).all():
            raise BadInput(f"{source}: column {name!r} mixes text with other values; declare its kind in a schema file")
        counts = column.dropna().astype(str).value_counts()
        if len(counts) > max_categories:
            raise BadInput(f"{source}: column {name!r} has {len(counts):,} distinct values; a categorical column may "
                           f"have at most {max_categories:,} (an identifier is not a feature: drop it)")
        if len(counts) == 0:
            raise BadInput(f"{source}: column {name!r} holds no values")
        # most frequent first, so that the codes (and the report's bars) start with the common categories
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return FeatureSpec(name, "categorical", categories=tuple(c for c, _ in ordered))
    raise BadInput(f"{source}: column {name!r} has type {dtype}, which is neither a number nor text; drop it or convert it")


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


def check_columns(frame: pd.DataFrame, schema: ModelSchema, source: str, extra_allowed: Iterable[str] = (),
                  required: Iterable[str] = (), types: bool = True) -> None:
    """A clear error for a missing or extra column, or a column of the wrong type."""
    check_names([str(c) for c in frame.columns], schema, source, extra_allowed, required)
    for spec in schema.features:
        if types and not spec.is_categorical:
            check_numeric(frame[spec.name], spec, source)


def check_names(names: list[str], schema: ModelSchema, source: str, extra_allowed: Iterable[str] = (),
                required: Iterable[str] = ()) -> None:
    """A clear error for a missing or extra column."""
    required = list(required)
    missing = [f for f in [*schema.names, *required] if f not in names]
    if missing:
        raise BadInput(f"{source}: missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}")
    allowed = {*schema.names, *extra_allowed, *required}
    extra = [c for c in names if c not in allowed]
    if extra:
        raise BadInput(f"{source}: unexpected column{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))} "
                       f"(not in the {'schema' if schema else 'reference'}; drop it or add it to the schema)")


def check_numeric(column: pd.Series, spec: FeatureSpec, source: str) -> None:
    import pandas as pd
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return
    as_numbers = pd.to_numeric(column, errors="coerce")
    bad = column[as_numbers.isna() & column.notna()]
    example = f" (e.g. {bad.iloc[0]!r})" if len(bad) else ""
    raise BadInput(f"{source}: column {spec.name!r} should hold numbers ({spec.kind} feature) but holds "
                   f"{column.dtype} values{example}")
