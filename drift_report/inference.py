"""The checks that a frame matches a schema, and the schema inferred from a reference frame: the client's own
inference (`drift_client/schema.py`, `ModelSchema.infer`), its errors as the report's BadInput.

>>> import pandas as pd
>>> frame = pd.DataFrame({"x": [0.5, 1.5, 2.5], "n": [1, 2, 3], "flag": [0, 1, 0], "c": ["a", "b", "a"]})
>>> [(f.name, f.kind, f.categories) for f in infer_schema(frame).features]
[('x', 'numeric', ()), ('n', 'discrete', ()), ('flag', 'binary', ()), ('c', 'categorical', ('a', 'b'))]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from drift_client import schema as inference
from drift_client.schema import MAX_CATEGORIES, FeatureSpec, ModelSchema, numeric_kind  # noqa: F401  (the Parquet path infers with it)
from drift_report.errors import BadInput

if TYPE_CHECKING:  # imported where a data frame is handled (drift_report.core)
    import pandas as pd


def infer_schema(frame: pd.DataFrame, exclude: Iterable[str] = (), max_categories: int = MAX_CATEGORIES,
                 source: str = "reference") -> ModelSchema:
    """The schema of `frame`'s columns, except `exclude` (score and label)."""
    try:
        return inference.infer_schema(frame, exclude, max_categories, source)
    except inference.InferenceError as exc:
        raise BadInput(str(exc)) from None


def infer_feature(column: pd.Series, name: str, max_categories: int = MAX_CATEGORIES, source: str = "reference") -> FeatureSpec:
    try:
        return inference.infer_feature(column, name, max_categories, source)
    except inference.InferenceError as exc:
        raise BadInput(str(exc)) from None


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
