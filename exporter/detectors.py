"""Detectors: turn a column's reference and current counts into figures, and figures into verdicts.

One code path for the exporter (`exporter.snapshot`), `bench/detection.py` and the tests. The decision
(contracts.policy) is: a column has drifted when

    PSI >= psi_threshold                                    (a large shift in any case), or
    KS p < ks_threshold / tests  and  KS D >= ks_min_statistic

The KS level is Bonferroni-corrected for the `tests` columns judged together (family-wise error ks_threshold
per window); the floor on D keeps large windows from flagging harmless shifts that are "significant" only
because n is large. Why these rules and values: docs/design.md, "The drift rule".

>>> import numpy as np
>>> from contracts.reference_profile import Bins
>>> from exporter.window import ColumnReference
>>> reference = ColumnReference(Bins([0.5], [0.5, 0.5]), sample=[0.0, 1.0])
>>> figures = column_drift(reference, reference.counts(np.array([1.0, 1.0, 1.0, 1.0, 0.0])))
>>> round(figures.psi, 4), round(figures.ks_statistic, 4)
(0.4159, 0.3)
>>> drifted(figures, Policy(), tests=1)
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from contracts.metric_names import CRITICAL, HEALTHY, WARNING
from contracts.policy import Policy
from exporter.stats import psi
from exporter.window import ColumnCounts, ColumnReference


@dataclass(frozen=True)
class ColumnDrift:
    """The drift figures of one column against its reference."""

    psi: float
    ks_statistic: float
    ks_pvalue: float


def column_drift(reference: ColumnReference, counts: ColumnCounts) -> ColumnDrift:
    d, p = reference.ks.test(counts.slots)
    return ColumnDrift(psi(reference.proportions, counts.bins), d, p)


def drifted(figures: ColumnDrift, policy: Policy, tests: int) -> bool:
    """The drift rule above, for one of `tests` columns judged together."""
    if any(math.isnan(v) for v in (figures.psi, figures.ks_statistic, figures.ks_pvalue)):
        return False
    if figures.psi >= policy.psi_threshold:
        return True
    return figures.ks_pvalue < policy.ks_level(tests) and figures.ks_statistic >= policy.ks_min_statistic


def drifted_features(figures: dict[str, ColumnDrift], policy: Policy) -> dict[str, bool]:
    """Verdict of each feature, the correction counting every feature judged together."""
    return {name: drifted(f, policy, tests=len(figures)) for name, f in figures.items()}


def performance_dropped(current: dict[str, float], reference: dict[str, float], policy: Policy) -> bool:
    """ROC AUC more than performance_drop below the test-split figure (F1 at 2% fraud is too noisy to alarm on)."""
    auc = current.get("roc_auc", math.nan)
    return not math.isnan(auc) and auc < reference.get("roc_auc", math.nan) - policy.performance_drop


def health_status(feature_psi: dict[str, float], feature_drifted: dict[str, bool], prediction_drifted: bool,
                  performance_degraded: bool, policy: Policy) -> int:
    """HEALTHY; WARNING when a feature drifted or a PSI is in the moderate band; CRITICAL when a PSI reaches
    psi_threshold, the scores drift, or performance dropped."""
    if performance_degraded or prediction_drifted or any(v >= policy.psi_threshold for v in feature_psi.values()):
        return CRITICAL
    if any(feature_drifted.values()) or any(v >= policy.psi_warning for v in feature_psi.values()):
        return WARNING
    return HEALTHY
