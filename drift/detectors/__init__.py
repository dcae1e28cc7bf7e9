"""Detectors: reference and current counts -> each test's figures -> verdicts (one code path for the exporter,
`bench/detection.py`, the offline report and the tests).

Each feature is judged by the tests the monitoring config gives it (by kind by default: PSI + KS + quantile shift
for numeric, PSI + chi-square for discrete, binary and categorical); it drifts when any of them flags. Every test with a p-value,
the data-quality checks included, shares one family-wise level `family_wise_level` per refresh (weighted Bonferroni: the
quality checks get `quality_level_share` of it, the drift tests the rest, each divided by its number of tests and
windows) and needs its effect size at a floor, so that large windows do not flag shifts nobody cares about.
PSI is always computed (severity and attribution use it), over pooled bins (detectors/psi.py), and flags only where
it is one of the feature's tests. Where a feature (or the score) also has p-value tests, PSI counts (its flag, and
its warning and critical bands in the health) only when one of them is significant after correction: on small
windows PSI alone is noise (docs/design.md, "Small and integer-valued data").
The score is judged alone (one family) by PSI and KS. Why these rules: docs/design.md, "The drift rule".
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from contracts.metric_names import CRITICAL, HEALTHY, WARNING
from contracts.policy import Policy
from drift_client.schema import ModelSchema
from drift.detectors import chi_square, jensen_shannon, ks, psi, quality, quantile_shift, wasserstein  # noqa: F401  (register the built-in tests)
from drift.detectors.quality import QualityCheck
from drift.detectors.base import REGISTRY, DriftTest, TestResult, make, register
from drift.monitoring_config import ConfigError, MonitoringConfig
from drift.detectors.psi import pooled_psi
from drift.counts import ColumnCounts, ColumnReference

__all__ = ["REGISTRY", "DriftTest", "TestResult", "register", "ModelDetectors", "FeatureVerdict", "health_status",
           "performance_dropped"]
SCORE_TESTS = ("psi", "ks")
CLASS_SCORE_TESTS = ("psi", "chi2")  # a multiclass model's predicted classes (drift_client.tasks)


@dataclass
class FeatureVerdict:
    """One column's figures and verdict: its drift tests, and its data-quality checks."""

    psi: float
    results: dict[str, TestResult] = field(default_factory=dict)
    flagged_by: list[str] = field(default_factory=list)
    significant_by: list[str] = field(default_factory=list)  # p-value tests significant after correction, floor aside
    quality: dict[str, QualityCheck] = field(default_factory=dict)
    all_missing: bool = False  # every value of the window was missing
    tested: bool = False  # the feature has a p-value test (then PSI counts only where one is significant)

    @property
    def psi_counts(self) -> bool:
        """Whether this PSI may flag and set the health's bands: always without p-value tests, else only with a
        significant one."""
        return not self.tested or bool(self.significant_by)

    @property
    def drifted(self) -> bool:
        return bool(self.flagged_by)

    @property
    def quality_flagged(self) -> bool:
        return self.all_missing or any(c.flagged for c in self.quality.values())


class ModelDetectors:
    """The drift tests of every feature of one model, and their joint decision."""

    def __init__(self, model_name: str, schema: ModelSchema, policy: Policy, config: MonitoringConfig | None = None,
                 windows: int = 1) -> None:
        """`windows`: how many windows are judged together at each refresh; the Bonferroni correction counts them
        as well as the tests (exporter.spans)."""
        config = config or MonitoringConfig()
        self.tests: dict[str, list[DriftTest]] = {}
        for spec in schema.features:
            chosen = config.tests_for(model_name, spec)
            for name in chosen:
                if name in REGISTRY and spec.kind not in REGISTRY[name].kinds:
                    raise ConfigError(f"test {name!r} does not apply to {spec.kind} feature {spec.name!r} of {model_name}")
            self.tests[spec.name] = [make(name, policy, params) for name, params in chosen.items()]
        self.windows = max(windows, 1)
        self.family = sum(t.has_pvalue for tests in self.tests.values() for t in tests) * self.windows
        # categoricals have no out-of-range check (an unseen category is its own figure)
        self.checks = sum(len(quality.CHECKS) - spec.is_categorical for spec in schema.features) * self.windows
        share = policy.quality_level_share
        if not 0 <= share < 1:
            raise ValueError(f"QUALITY_LEVEL_SHARE must be at least 0 and under 1, not {share:g}")
        # the divisors of the level: tests / their share of it (weighted Bonferroni, so the shares add up to the level)
        self.drift_divisor = self.family / (1 - share) if self.family else 1.0
        self.quality_divisor = self.checks / share if share > 0 else math.inf
        self.score_tests = [make(name, policy) for name in SCORE_TESTS]
        self.class_score_tests = [make(name, policy) for name in CLASS_SCORE_TESTS]
        self.policy = policy

    def judge(self, columns: dict[str, tuple[ColumnReference, ColumnCounts]]) -> dict[str, FeatureVerdict]:
        """Verdict of every feature (columns: feature -> (reference, window counts))."""
        verdicts = {name: _verdict(self.tests[name], *columns[name], family=self.drift_divisor) for name in self.tests}
        for name, verdict in verdicts.items():
            reference, counts = columns[name]
            args = dict(level=self.policy.family_wise_level, floor=self.policy.quality_min_share, family=self.quality_divisor)
            verdict.quality = {"missing": quality.missing(reference, counts, **args)}
            if not reference.spec.is_categorical:  # an unseen category is counted as unseen, not out of range
                verdict.quality["out_of_range"] = quality.out_of_range(reference, counts, **args)
            verdict.all_missing = counts.seen > 0 and counts.n == 0
        return verdicts

    def judge_score(self, reference: ColumnReference, counts: ColumnCounts) -> FeatureVerdict:
        tests = self.class_score_tests if reference.spec.is_categorical else self.score_tests
        return _verdict(tests, reference, counts, family=self.windows)


def _verdict(tests: list[DriftTest], reference: ColumnReference, counts: ColumnCounts, family: float) -> FeatureVerdict:
    verdict = FeatureVerdict(pooled_psi(reference, counts.bins))
    for test in tests:
        result = test.compute(reference, counts)
        verdict.results[test.name] = result
        verdict.tested = verdict.tested or test.has_pvalue
        if test.flags(result, family):
            verdict.flagged_by.append(test.name)
        if test.has_pvalue and result.pvalue < test.params["level"] / max(family, 1):
            verdict.significant_by.append(test.name)
    if not verdict.psi_counts:  # PSI beside p-value tests flags only with a significant one
        verdict.flagged_by = [t for t in verdict.flagged_by if t != "psi"]
    return verdict


def performance_dropped(current: dict[str, float], reference: dict[str, float], policy: Policy) -> bool:
    """ROC AUC more than performance_drop below `reference`: the test-split figure's 95% lower bound where training
    measured one (F1 at 2% fraud is too noisy to alarm on)."""
    auc = current.get("roc_auc", math.nan)
    return not math.isnan(auc) and auc < reference.get("roc_auc", math.nan) - policy.performance_drop


def health_status(feature_psi: dict[str, float], feature_drifted: dict[str, bool], prediction_drifted: bool,
                  performance_degraded: bool, policy: Policy, quality_flagged: dict[str, bool] | None = None,
                  all_missing: dict[str, bool] | None = None) -> int:
    """HEALTHY; WARNING when a feature drifted, a PSI is in the moderate band or a data-quality check flags; CRITICAL
    when a PSI reaches psi_threshold, the scores drift, performance dropped, or a feature arrives with no value at all."""
    if (performance_degraded or prediction_drifted or any(v >= policy.psi_threshold for v in feature_psi.values())
            or any((all_missing or {}).values())):
        return CRITICAL
    if (any(feature_drifted.values()) or any(v >= policy.psi_warning for v in feature_psi.values())
            or any((quality_flagged or {}).values())):
        return WARNING
    return HEALTHY
