"""The service's own monitoring metrics, added to BentoML's /metrics (multiprocess-safe)."""
from __future__ import annotations

from functools import cache

import bentoml

from bento_service.scored_by_store import LabelRouteCounters
from bento_service.versions import ShadowCounters
from drift_client.publisher import Counters
from contracts import metric_names as names


def _declared(name: str) -> dict:
    """A metric's name, help and labels as the metric table (contracts/metric_names.py) declares them."""
    spec = names.spec(name)
    return {"name": spec.family, "documentation": spec.help, "labelnames": list(spec.labels), "unit": spec.unit}


@cache
def _families() -> tuple:
    """The two metric families, registered once per process (each served model labels its own series)."""
    samples = bentoml.metrics.Counter(**_declared(names.SERVICE_SAMPLES))
    up = bentoml.metrics.Gauge(**_declared(names.SERVICE_REDIS_UP), multiprocess_mode="livemin")
    invalid = bentoml.metrics.Counter(**_declared(names.SERVICE_INVALID_SAMPLES))
    return samples, up, invalid


class PrometheusCounters(Counters):
    """Publisher outcomes as `ml_monitoring_samples_total{outcome}` and `ml_monitoring_redis_up`."""

    def __init__(self, model_name: str, model_version: str) -> None:
        super().__init__()
        samples, up, self._invalid = _families()
        self._labels = (model_name, model_version)
        self._published = samples.labels(model_name, model_version, "published")
        self._dropped = samples.labels(model_name, model_version, "dropped")
        self._up = up.labels(model_name, model_version)
        self._published.inc(0)
        self._dropped.inc(0)

    def published(self, n: int) -> None:
        super().published(n)
        self._published.inc(n)

    def dropped(self, n: int) -> None:
        super().dropped(n)
        self._dropped.inc(n)

    def invalid(self, reason: str, n: int) -> None:
        super().invalid(reason, n)
        self._invalid.labels(*self._labels, reason).inc(n)

    def redis_up(self, up: bool) -> None:
        super().redis_up(up)
        self._up.set(1 if up else 0)


@cache
def _version_families() -> tuple:
    """The shadow queue's outcomes and the versions document's readability (registered once per process)."""
    shadow = bentoml.metrics.Counter(**_declared(names.SERVICE_SHADOW_PREDICTIONS))
    document_up = bentoml.metrics.Gauge(**_declared(names.SERVICE_VERSIONS_DOCUMENT_UP), multiprocess_mode="livemin")
    return shadow, document_up


class PrometheusShadowCounters(ShadowCounters):
    """ShadowScorer outcomes as `ml_monitoring_shadow_predictions_total{outcome}`."""

    def __init__(self) -> None:
        self._family = _version_families()[0]

    def scored(self, model_name: str, version: str, n: int) -> None:
        self._family.labels(model_name, version, "scored").inc(n)

    def dropped(self, model_name: str, version: str, n: int) -> None:
        self._family.labels(model_name, version, "dropped").inc(n)

    def failed(self, model_name: str, version: str, n: int) -> None:
        self._family.labels(model_name, version, "failed").inc(n)


@cache
def _label_families() -> tuple:
    """Where labels' versions came from, and the writes of the shared scored-by memory (registered once)."""
    routes = bentoml.metrics.Counter(**_declared(names.SERVICE_LABEL_ROUTES))
    writes = bentoml.metrics.Counter(**_declared(names.SERVICE_SCORED_BY_WRITES))
    return routes, writes


class PrometheusLabelRouteCounters(LabelRouteCounters):
    """SharedScoredBy outcomes as `ml_monitoring_label_routes_total` and `ml_monitoring_scored_by_writes_total`."""

    def route(self, model_name: str, source: str) -> None:
        _label_families()[0].labels(model_name, source).inc()

    def writes(self, model_name: str, outcome: str, n: int) -> None:
        _label_families()[1].labels(model_name, outcome).inc(n)


def set_versions_document_up(up: bool) -> None:
    _version_families()[1].set(1 if up else 0)
