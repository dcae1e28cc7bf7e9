"""The service's own monitoring metrics, added to BentoML's /metrics (multiprocess-safe)."""
from __future__ import annotations

from functools import cache

import bentoml

from drift_client.publisher import Counters
from contracts import metric_names as names


@cache
def _families() -> tuple:
    """The two metric families, registered once per process (each served model labels its own series)."""
    labels = ["model_name", "model_version"]
    samples = bentoml.metrics.Counter(
        name=names.SERVICE_SAMPLES,
        documentation="Monitoring samples (predictions and labels) sent to Redis or dropped",
        labelnames=[*labels, "outcome"],
    )
    up = bentoml.metrics.Gauge(
        name=names.SERVICE_REDIS_UP,
        documentation="1 if the last contact with Redis (a publish, or a PING each second when idle) succeeded, else 0",
        labelnames=labels,
        multiprocess_mode="livemin",
    )
    return samples, up


class PrometheusCounters(Counters):
    """Publisher outcomes as `ml_monitoring_samples_total{outcome}` and `ml_monitoring_redis_up`."""

    def __init__(self, model_name: str, model_version: str) -> None:
        samples, up = _families()
        self._published = samples.labels(model_name, model_version, "published")
        self._dropped = samples.labels(model_name, model_version, "dropped")
        self._up = up.labels(model_name, model_version)
        self._published.inc(0)
        self._dropped.inc(0)

    def published(self, n: int) -> None:
        self._published.inc(n)

    def dropped(self, n: int) -> None:
        self._dropped.inc(n)

    def redis_up(self, up: bool) -> None:
        self._up.set(1 if up else 0)
