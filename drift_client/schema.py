"""A model's declared input schema: each feature's name and kind, carried by its reference profile.

Kinds and what the monitoring does with each (defaults; the monitoring config can change the tests):

- `numeric`: continuous, with a finite valid range; PSI over training-quantile bins and exact KS.
- `discrete`: integers with few distinct values (counts, hours), with a range; one bin per training value, PSI and
  chi-square on the counts (KS p-values are not valid with so many ties).
- `binary`: 0 or 1; two bins, PSI and chi-square.
- `categorical`: strings from training; one bin per category plus `__unseen__` for any value never seen in training
  (accepted, counted, visible). In samples a category travels as its code: its index in `categories`, and
  `len(categories)` for an unseen value.

>>> schema = ModelSchema((FeatureSpec("amount", "numeric", (0.0, 1e6)), FeatureSpec("country", "categorical", categories=("DE", "FR"))))
>>> schema.encode_rows([{"amount": 12.5, "country": "FR"}, {"amount": 1.0, "country": "XX"}]).tolist()
[[12.5, 1.0], [1.0, 2.0]]
>>> schema.features[1].category_of(2.0)
'__unseen__'
"""
from __future__ import annotations

import hashlib
import json
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

KINDS = ("numeric", "discrete", "binary", "categorical")
MAX_CATEGORY_LENGTH = 128
UNSEEN = "__unseen__"
MAX_VALUE_BINS = 64  # a discrete feature's one-bin-per-value limit (quantile bins beyond; reference_profile.py)


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    kind: str
    range: tuple[float, float] | None = None  # numeric and discrete: the valid [low, high]
    categories: tuple[str, ...] = ()  # categorical: the categories seen in training
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"feature {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind == "categorical" and not self.categories:
            raise ValueError(f"feature {self.name!r}: a categorical feature needs its training categories")
        if self.kind == "binary" and self.range is None:
            object.__setattr__(self, "range", (0.0, 1.0))

    @property
    def is_categorical(self) -> bool:
        return self.kind == "categorical"

    @property
    def unseen_code(self) -> int:
        return len(self.categories)

    def code(self, value: Any) -> float:
        """The float a sample carries for this value (a categorical's code; numbers as they are)."""
        if self.is_categorical:
            return float(self._codes().get(value, self.unseen_code))
        return float(value)

    def category_of(self, code: float) -> str:
        return self.categories[int(code)] if 0 <= code < len(self.categories) else UNSEEN

    def labels(self) -> list[str]:
        """Names of this categorical feature's bins, in bin order (the training categories, then UNSEEN)."""
        return [*self.categories, UNSEEN]

    def check(self, value: Any) -> str | None:
        """Why `value` is not valid for this feature, or None (request validation is generated from this)."""
        if self.is_categorical:
            ok = isinstance(value, str) and 0 < len(value) <= MAX_CATEGORY_LENGTH
            return None if ok else f"must be a string of 1 to {MAX_CATEGORY_LENGTH} characters"
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            return "must be a number"
        if not math.isfinite(value):
            return "must be a finite number"
        if self.kind in ("discrete", "binary") and value != int(value):
            return "must be an integer"
        if self.kind == "binary" and value not in (0, 1):
            return "must be 0 or 1"
        low, high = self.range or (-math.inf, math.inf)
        if value < low:
            return f"must be >= {low:g}"
        if value > high:
            return f"must be <= {high:g}"
        return None

    def to_dict(self) -> dict:
        out: dict = {"name": self.name, "kind": self.kind}
        if self.range is not None:
            out["range"] = list(self.range)
        if self.categories:
            out["categories"] = list(self.categories)
        if self.description:
            out["description"] = self.description
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "FeatureSpec":
        rng = data.get("range")
        return cls(data["name"], data["kind"], tuple(rng) if rng is not None else None,
                   tuple(data.get("categories", ())), data.get("description", ""))

    def _codes(self) -> dict[str, int]:
        cached = self.__dict__.get("_code_map")
        if cached is None:
            cached = {c: i for i, c in enumerate(self.categories)}
            object.__setattr__(self, "_code_map", cached)
        return cached


@dataclass(frozen=True)
class ModelSchema:
    features: tuple[FeatureSpec, ...]
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(f.name for f in self.features))
        if len(set(self.names)) != len(self.names):
            raise ValueError("feature names must be unique")

    @property
    def width(self) -> int:
        return len(self.features)

    def __getitem__(self, name: str) -> FeatureSpec:
        return self.features[self.names.index(name)]

    def encode_rows(self, rows: Iterable[Mapping[str, Any]]) -> np.ndarray:
        """Rows of feature values -> the float32 matrix samples carry (categoricals as codes)."""
        rows = list(rows)
        out = np.empty((len(rows), self.width), np.float32)
        for j, f in enumerate(self.features):
            out[:, j] = [f.code(r[f.name]) for r in rows]
        return out

    def encode_frame(self, frame) -> np.ndarray:
        """A pandas DataFrame -> the float32 matrix (vectorised; categoricals through their codes)."""
        out = np.empty((len(frame), self.width), np.float32)
        for j, f in enumerate(self.features):
            column = frame[f.name]
            if f.is_categorical:
                codes = {c: i for i, c in enumerate(f.categories)}
                out[:, j] = column.astype(str).map(codes).fillna(f.unseen_code).to_numpy(np.float32)
            else:
                out[:, j] = column.to_numpy(np.float32)
        return out

    def to_list(self) -> list[dict]:
        return [f.to_dict() for f in self.features]

    @classmethod
    def infer(cls, frame, exclude: Iterable[str] = ()) -> "ModelSchema":
        """The schema of a pandas DataFrame's columns (except `exclude`, e.g. the label), by the rule
        `drift-monitor report` uses (`infer_schema` below); a ValueError names a column it cannot infer."""
        return infer_schema(frame, exclude)

    def fingerprint(self) -> str:
        """A hash of what gives a sample's columns their meaning: each feature's name, kind, range and categories, in
        order (descriptions aside). The reference profile carries it, the client checks it at start and every
        prediction batch carries it, so that a publisher with another schema is refused, not judged.

        >>> ModelSchema((FeatureSpec("a", "numeric"), FeatureSpec("b", "binary"))).fingerprint()
        'bd36671f8cea6f2b'
        """
        canonical = [[f.name, f.kind, None if f.range is None else [float(v) for v in f.range], list(f.categories)]
                     for f in self.features]
        return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()[:16]

    def differences(self, other: "ModelSchema") -> list[str]:
        """What differs from `other` (the profile's schema), feature by feature, in words; [] when they match."""
        if self.fingerprint() == other.fingerprint():
            return []
        found = []
        missing = [n for n in other.names if n not in self.names]
        extra = [n for n in self.names if n not in other.names]
        if missing:
            found.append(f"missing feature{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        if extra:
            found.append(f"feature{'s' if len(extra) > 1 else ''} {', '.join(extra)} not in the profile")
        common = [n for n in self.names if n in other.names]
        if not missing and not extra and list(self.names) != list(other.names):
            found.append(f"feature order {', '.join(self.names)} where the profile has {', '.join(other.names)}")
        for name in common:
            mine, theirs = self[name].to_dict(), other[name].to_dict()
            for key in ("kind", "range", "categories"):
                if mine.get(key) != theirs.get(key):
                    found.append(f"{name}: {key} {mine.get(key)!r} where the profile has {theirs.get(key)!r}")
        return found or ["the schemas' fingerprints differ"]

    @classmethod
    def from_list(cls, items: Iterable[Mapping]) -> "ModelSchema":
        return cls(tuple(FeatureSpec.from_dict(d) for d in items))


# ---- inference: the kinds of a data frame's columns (ModelSchema.infer, and `drift-monitor report` without a schema)
# Column by column (excluding the score and label columns):
# - bool, or numbers that are all 0 or 1: `binary`;
# - integers (or integral floats) with few distinct values: `discrete` (at most FEW_VALUES of them, or up to
#   MAX_VALUE_BINS when there are at least ROWS_PER_VALUE rows per value: ages with ~55 distinct values in 221 rows
#   are `numeric`, else their one-bin-per-value PSI judges noise; docs/design.md, "Small and integer-valued data");
# - other numbers: `numeric`;
# - strings or pandas categories: `categorical`, at most `max_categories` distinct values (more is an identifier);
# - anything else (dates, mixed objects): refused with a message naming the column.
# Ranges are not inferred (None: any finite value is valid); categories are ordered most frequent first.

MAX_CATEGORIES = 1000  # distinct values a categorical column may have (its bins, and the report's bars)
FEW_VALUES = 10  # an integer column with at most this many distinct values is discrete whatever the rows
ROWS_PER_VALUE = 10  # else discrete only with at least this many rows per distinct value (and <= MAX_VALUE_BINS)


class InferenceError(ValueError):
    """A column whose kind cannot be inferred; the message names it."""


def infer_schema(frame, exclude: Iterable[str] = (), max_categories: int = MAX_CATEGORIES,
                 source: str = "reference") -> ModelSchema:
    """The schema of `frame`'s columns (a pandas DataFrame), except `exclude` (score and label).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"x": [0.5, 1.5, 2.5], "n": [1, 2, 3], "flag": [0, 1, 0], "c": ["a", "b", "a"]})
    >>> [(f.name, f.kind, f.categories) for f in infer_schema(frame).features]
    [('x', 'numeric', ()), ('n', 'discrete', ()), ('flag', 'binary', ()), ('c', 'categorical', ('a', 'b'))]
    """
    skip = set(exclude)
    return ModelSchema(tuple(infer_feature(frame[c], str(c), max_categories, source) for c in frame.columns
                             if c not in skip))


def infer_feature(column, name: str, max_categories: int = MAX_CATEGORIES, source: str = "reference") -> FeatureSpec:
    """One pandas column's kind, read from its dtype (numpy's kind codes: pandas itself is not imported here)."""
    dtype = column.dtype
    kind = getattr(dtype, "kind", "")
    if kind == "b":
        return FeatureSpec(name, "binary")
    if kind in "iuf" and kind:
        return FeatureSpec(name, numeric_kind(column.to_numpy(dtype=float, na_value=np.nan)))
    if kind == "O" or str(dtype) in ("category", "string") or str(dtype).startswith("string"):
        if kind == "O" and not column.map(lambda v: isinstance(v, str) or v is None).all():
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
