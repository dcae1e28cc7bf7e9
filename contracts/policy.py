"""The monitoring policy: every threshold, window and minimum the drift decision depends on, decided here once.

The exporter's defaults, `.env.example` and the generated alert rules and dashboards (`python -m mixin`) read
this module; an environment variable named in each field's `env` overrides it at run time. Why each value
was chosen is in docs/design.md ("The drift rule"); the figures that decided it are in BENCHMARKS.md.

>>> Policy().psi_threshold
0.25
>>> Policy.from_env({"PSI_THRESHOLD": "0.3"}).psi_threshold
0.3
"""
from __future__ import annotations

import os
import warnings
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Mapping

from drift_client.redis_layout import DEFAULT_RETENTION_SECONDS  # the publisher's default is the policy's


def setting(default: Any, env: str, doc: str, deprecated_env: str | None = None) -> Any:
    """A policy field: its default, the environment variable that overrides it and what it means; `deprecated_env`
    is the variable's former name, still read (with a warning) when the new one is unset."""
    return field(default=default, metadata={"env": env, "doc": doc, "deprecated_env": deprecated_env})


@dataclass(frozen=True)
class Policy:
    psi_warning: float = setting(0.1, "PSI_WARNING", "PSI from which a feature is in the moderate band (health: warning)")
    psi_threshold: float = setting(0.25, "PSI_THRESHOLD", "PSI from which a feature has drifted significantly (critical)")
    family_wise_level: float = setting(0.005, "FAMILY_WISE_LEVEL", "family-wise level of every p-value test (KS, quantile shift, chi-square, quality checks), Bonferroni-divided",
                                       deprecated_env="KS_THRESHOLD")
    ks_min_statistic: float = setting(0.04, "KS_MIN_STATISTIC", "floor on KS D: smaller shifts are never flagged")
    quantile_shift_min: float = setting(0.055, "QUANTILE_SHIFT_MIN", "floor on a numeric feature's quantile shift (mean log ratio of its 20th-80th percentiles, or their shift over the IQR)")
    chi2_min_effect: float = setting(0.03, "CHI2_MIN_EFFECT", "floor on the share moved (total variation) for chi-square")
    js_threshold: float = setting(0.1, "JS_THRESHOLD", "Jensen-Shannon distance (base 2) that flags, when that test is on")
    wasserstein_threshold: float = setting(0.1, "WASSERSTEIN_THRESHOLD", "Wasserstein distance / reference std that flags, when on")
    quality_min_share: float = setting(0.01, "QUALITY_MIN_SHARE", "excess share of missing or out-of-range values that flags")
    quality_level_share: float = setting(0.05, "QUALITY_LEVEL_SHARE", "share of the family-wise level spent on the missing and out-of-range checks")
    performance_drop: float = setting(0.05, "PERFORMANCE_DROP", "drop of ROC AUC (binary), R² (regression), accuracy or macro F1 (multiclass) below the test split that is critical")
    performance_error_rise: float = setting(0.2, "PERFORMANCE_ERROR_RISE", "relative rise of MAE or RMSE (regression) or log loss (multiclass) over the test split that is critical")
    window_hours: float = setting(1.0, "DRIFT_WINDOW_HOURS", "window judged at every refresh (fractions allowed)")
    interval_seconds: float = setting(30.0, "MONITORING_INTERVAL", "seconds between refreshes")
    lease_ttl_seconds: float = setting(0.0, "EXPORTER_LEASE_TTL_SECONDS",
                                       "an exporter replica's lease on a model version without renewal (0: 3 x MONITORING_INTERVAL, at least 30 s; set: at least 2 x the interval)")
    min_window_samples: int = setting(200, "MIN_WINDOW_SAMPLES", "below this many predictions a window is not judged")
    min_labelled_samples: int = setting(500, "MIN_LABELLED_SAMPLES", "labels needed before performance is computed")
    min_labelled_positives: int = setting(10, "MIN_LABELLED_POSITIVES", "positive labels needed as well")
    label_grace_seconds: float = setting(60.0, "LABEL_GRACE_SECONDS", "how long a label waits for its prediction")
    sample_retention_seconds: float = setting(DEFAULT_RETENTION_SECONDS, "SAMPLE_RETENTION_SECONDS", "how long Redis keeps raw samples")
    profile_retention_seconds: float = setting(604800.0, "PROFILE_RETENTION_SECONDS",
                                               "how long Redis keeps the per-minute profiles (drift history, reports)")
    spans: str = setting("5m,1h,24h", "DRIFT_SPANS", "windows judged together at every refresh (minutes: m, hours: h)")

    @property
    def window_seconds(self) -> float:
        return self.window_hours * 3600

    @property
    def lease_seconds(self) -> float:
        """The exporter replicas' lease TTL: renewed every refresh, so it must outlast two of them (a dead replica's
        versions are taken over within TTL + a refresh or two, under two TTLs). The default's 30 s floor keeps a short
        interval's cycles (which can outlast the interval on a busy machine) from losing their leases.

        >>> Policy(interval_seconds=30).lease_seconds, Policy(interval_seconds=0.5).lease_seconds
        (90.0, 30.0)
        >>> Policy(interval_seconds=1, lease_ttl_seconds=2.5).lease_seconds
        2.5
        """
        ttl = self.lease_ttl_seconds or max(3 * self.interval_seconds, 30.0)
        if ttl < 2 * self.interval_seconds:
            raise ValueError(f"EXPORTER_LEASE_TTL_SECONDS ({ttl:g}) must be at least twice MONITORING_INTERVAL "
                             f"({self.interval_seconds:g}): a lease renewed every refresh would lapse between two")
        return float(ttl)

    @property
    def max_report_hours(self) -> float:
        """Reports are merged from per-minute profiles, kept profile_retention_seconds."""
        return self.profile_retention_seconds / 3600

    @property
    def span_seconds(self) -> dict[str, int]:
        """The judged windows by name ("5m" -> 300), in the order given.

        >>> Policy(spans="5m,1h,24h").span_seconds
        {'5m': 300, '1h': 3600, '24h': 86400}
        """
        spans = {}
        for name in (s.strip() for s in self.spans.split(",") if s.strip()):
            unit = {"m": 60, "h": 3600}.get(name[-1:])
            if unit is None or not name[:-1].isdigit() or int(name[:-1]) == 0:
                raise ValueError(f"DRIFT_SPANS: {name!r} is not a whole number of minutes (5m) or hours (1h)")
            spans[name] = int(name[:-1]) * unit
        if not spans:
            raise ValueError("DRIFT_SPANS names no window")
        return spans

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Policy":
        """Defaults overridden by the environment (an empty variable counts as unset, as docker compose passes it).

        >>> with warnings.catch_warnings(record=True):  # the former name, deprecated
        ...     Policy.from_env({"KS_THRESHOLD": "0.01"}).family_wise_level
        0.01
        """
        values = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"], "")
            old = f.metadata["deprecated_env"]
            if not raw.strip() and old and environ.get(old, "").strip():
                raw = environ[old]
                warnings.warn(f"{old} is deprecated: set {f.metadata['env']} (the same setting)", DeprecationWarning, stacklevel=2)
            if raw.strip():
                kind = type(f.default)
                values[f.name] = kind(float(raw)) if kind is int else kind(raw)
        return cls(**values)


# The drift tests of each feature kind, unless the monitoring config (MONITORING_CONFIG) says otherwise.
TESTS_BY_KIND: dict[str, tuple[str, ...]] = {
    "numeric": ("psi", "ks", "quantile_shift"),
    "discrete": ("psi", "chi2"),
    "binary": ("psi", "chi2"),
    "categorical": ("psi", "chi2"),
}


def settings() -> list[tuple[str, Any, str]]:
    """(environment variable, default, meaning) of every policy field, in declaration order."""
    return [(f.metadata["env"], f.default, f.metadata["doc"]) for f in fields(Policy) if f.default is not MISSING]


def deprecated_names() -> dict[str, str]:
    """Former environment variable -> the one that replaced it (still read, with a warning)."""
    return {f.metadata["deprecated_env"]: f.metadata["env"] for f in fields(Policy) if f.metadata["deprecated_env"]}


DEFAULT = Policy()
