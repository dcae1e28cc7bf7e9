"""The exporter's configuration, read from the environment (DESIGN.md defaults)."""
from __future__ import annotations

import os
from dataclasses import dataclass

from contracts import redis_layout as layout


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Config:
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = layout.DEFAULT_PREFIX
    host: str = "127.0.0.1"  # loopback unless EXPORTER_HOST opens it deliberately
    port: int = 8001
    window_hours: float = 1.0
    interval_seconds: float = 30.0
    psi_threshold: float = 0.25
    psi_warning: float = 0.1
    ks_threshold: float = 0.05
    ks_min_statistic: float = 0.07
    min_window_samples: int = 200
    min_labelled_samples: int = 500
    min_labelled_positives: int = 10
    performance_drop: float = 0.05
    max_report_hours: float = layout.DEFAULT_RETENTION_SECONDS / 3600

    @property
    def window_seconds(self) -> float:
        return self.window_hours * 3600

    @classmethod
    def from_env(cls) -> "Config":
        return cls(
            redis_url=_env("REDIS_URL", cls.redis_url),
            redis_prefix=_env("REDIS_PREFIX", cls.redis_prefix),
            host=_env("EXPORTER_HOST", cls.host),
            port=int(_env("EXPORTER_PORT", str(cls.port))),
            window_hours=float(_env("DRIFT_WINDOW_HOURS", str(cls.window_hours))),
            interval_seconds=float(_env("MONITORING_INTERVAL", str(cls.interval_seconds))),
            psi_threshold=float(_env("PSI_THRESHOLD", str(cls.psi_threshold))),
            psi_warning=float(_env("PSI_WARNING", str(cls.psi_warning))),
            ks_threshold=float(_env("KS_THRESHOLD", str(cls.ks_threshold))),
            ks_min_statistic=float(_env("KS_MIN_STATISTIC", str(cls.ks_min_statistic))),
            min_window_samples=int(_env("MIN_WINDOW_SAMPLES", str(cls.min_window_samples))),
            min_labelled_samples=int(_env("MIN_LABELLED_SAMPLES", str(cls.min_labelled_samples))),
            min_labelled_positives=int(_env("MIN_LABELLED_POSITIVES", str(cls.min_labelled_positives))),
            performance_drop=float(_env("PERFORMANCE_DROP", str(cls.performance_drop))),
            max_report_hours=float(_env("SAMPLE_RETENTION_SECONDS", str(layout.DEFAULT_RETENTION_SECONDS))) / 3600,
        )
