"""The drift-test interface: a test computes only its figures from reference and current counts; the base makes
the decision (Bonferroni correction and effect-size floor for tests with a p-value, a threshold for distances).

Register a test by name with `@register`; the monitoring config assigns tests to features by those names, so a
user's own test needs no change to the exporter (docs/custom-drift-tests.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from contracts.policy import Policy
from drift_client.schema import KINDS
from drift.counts import ColumnCounts, ColumnReference

REGISTRY: dict[str, type["DriftTest"]] = {}
MIN_PVALUE = 5e-324  # p-values are reported at least this (never an exact 0); -log10 p carries the magnitude


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class

    statistic: float
    pvalue: float = math.nan  # nan for distance tests
    effect: float = math.nan  # the effect size compared with the floor (p-value tests)
    log_pvalue: float = math.nan  # natural log of the p-value where the test can give it beyond float's range

    @property
    def has_pvalue(self) -> bool:
        return not math.isnan(self.pvalue)

    @property
    def neg_log10_pvalue(self) -> float:
        """-log10 p, finite even where p underflows to 0 (what log-scale dashboards need)."""
        if not math.isnan(self.log_pvalue):
            return -self.log_pvalue / math.log(10)
        return -math.log10(max(self.pvalue, MIN_PVALUE)) if self.has_pvalue else math.nan


class DriftTest:
    """One statistical test of a column against its reference. Subclasses set `name` and implement `compute`."""

    name: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]] = KINDS  # the feature kinds it makes sense for
    has_pvalue: ClassVar[bool] = False

    def __init__(self, **params: float) -> None:
        self.params = params

    @classmethod
    def defaults(cls, policy: Policy) -> dict[str, float]:
        """Its decision parameters from the policy: `threshold` for distances, `level` and `floor` for p-value tests."""
        return {}

    def compute(self, reference: ColumnReference, counts: ColumnCounts) -> TestResult:
        raise NotImplementedError

    def flags(self, result: TestResult, tests: float) -> bool:
        """The decision: corrected p below the level and the effect at the floor, or the distance at the threshold.

        `tests`: what the level is divided by (the number of tests, over their share of the level if it is shared)."""
        if self.has_pvalue:
            if math.isnan(result.pvalue) or math.isnan(result.effect):
                return False
            return result.pvalue < self.params["level"] / max(tests, 1) and result.effect >= self.params.get("floor", 0.0)
        return not math.isnan(result.statistic) and result.statistic >= self.params["threshold"]


def register(cls: type[DriftTest]) -> type[DriftTest]:
    """Class decorator: make a test available to the monitoring config under `cls.name`."""
    if not getattr(cls, "name", None):
        raise ValueError(f"{cls.__name__} needs a `name`")
    REGISTRY[cls.name] = cls
    return cls


def make(name: str, policy: Policy, overrides: dict[str, float] | None = None) -> DriftTest:
    """A registered test with the policy's parameters, overridden where the monitoring config says so."""
    try:
        cls = REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown drift test {name!r}; registered: {', '.join(sorted(REGISTRY))}") from None
    return cls(**{**cls.defaults(policy), **(overrides or {})})
