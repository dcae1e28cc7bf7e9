"""The documented decision rule: when a feature has drifted, and the model's health status.

A feature (or the score) has drifted when

    PSI >= PSI_THRESHOLD                                  (a large shift in any case), or
    KS p-value < KS_THRESHOLD / 12  and  KS D >= KS_MIN_STATISTIC

The p-value is Bonferroni-corrected for testing 12 features at once (family-wise error
KS_THRESHOLD per window); the floor on D keeps huge windows from flagging harmless shifts
that are "significant" only because n is large. Windows with fewer than MIN_WINDOW_SAMPLES
predictions are not judged at all.
"""
from __future__ import annotations

import math

from contracts.metric_names import CRITICAL, HEALTHY, WARNING
from exporter.config import Config
from transactions.schema import N_FEATURES


def drifted(psi: float, ks_statistic: float, ks_pvalue: float, config: Config, tests: int = N_FEATURES) -> bool:
    if any(math.isnan(v) for v in (psi, ks_statistic, ks_pvalue)):
        return False
    if psi >= config.psi_threshold:
        return True
    return ks_pvalue < config.ks_threshold / tests and ks_statistic >= config.ks_min_statistic


def performance_dropped(current: dict[str, float], reference: dict[str, float], config: Config) -> bool:
    """ROC AUC more than PERFORMANCE_DROP below the test-split figure (F1 at 2% fraud is too noisy to alarm on)."""
    auc = current.get("roc_auc", math.nan)
    return not math.isnan(auc) and auc < reference.get("roc_auc", math.nan) - config.performance_drop


def health_status(feature_psi: dict[str, float], feature_drifted: dict[str, bool], prediction_drifted: bool,
                  performance_degraded: bool, config: Config) -> int:
    """0 healthy; 1 warning (a feature drifted, or PSI in the 0.1-0.25 band); 2 critical
    (PSI >= PSI_THRESHOLD on a feature, prediction drift, or a performance drop)."""
    if performance_degraded or prediction_drifted or any(v >= config.psi_threshold for v in feature_psi.values()):
        return CRITICAL
    if any(feature_drifted.values()) or any(v >= config.psi_warning for v in feature_psi.values()):
        return WARNING
    return HEALTHY
