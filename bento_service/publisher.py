"""Publish predictions, labels and the reference profile to Redis off the request path.

Requests only append to an in-memory buffer; a daemon thread flushes it every
`flush_interval` seconds (or sooner when `flush_size` samples wait) as one
pipelined XADD per stream (format: contracts.redis_layout). If Redis is down or
slow, the batch is dropped and counted, serving never waits, and the next flush
simply tries again: publishing resumes by itself when Redis returns.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
import redis

from contracts import redis_layout as layout

log = logging.getLogger(__name__)


@dataclass
class PublisherConfig:
    redis_url: str | None
    prefix: str = layout.DEFAULT_PREFIX
    retention_seconds: float = layout.DEFAULT_RETENTION_SECONDS
    max_stream_entries: int = layout.DEFAULT_MAX_STREAM_ENTRIES
    flush_interval: float = 0.2
    flush_size: int = 512
    max_buffered: int = 50_000
    socket_timeout: float = 0.5
    reference_check_interval: float = 30.0


class Counters:
    """Hooks that the service points at its Prometheus metrics (no-ops by default)."""

    def published(self, n: int) -> None: ...
    def dropped(self, n: int) -> None: ...
    def redis_up(self, up: bool) -> None: ...


class SamplePublisher:
    def __init__(self, config: PublisherConfig, keys: layout.Keys, reference_json: str, counters: Counters | None = None):
        self.config = config
        self.keys = keys
        self.reference_json = reference_json
        self.counters = counters or Counters()
        self._predictions: deque[tuple[str, float, np.ndarray, float]] = deque()
        self._labels: deque[tuple[str, float, int]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._reference_ok = False
        self._next_reference_check = 0.0
        self._client = (
            redis.Redis.from_url(
                config.redis_url, socket_timeout=config.socket_timeout,
                socket_connect_timeout=config.socket_timeout, health_check_interval=0,
            )
            if config.redis_url
            else None
        )
        self._thread = threading.Thread(target=self._run, name="sample-publisher", daemon=True)

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def start(self) -> "SamplePublisher":
        if self.enabled:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def add_predictions(self, ids: list[str], rows: np.ndarray, scores: np.ndarray) -> None:
        """Queue predictions for publishing; O(n) appends, never blocks on Redis."""
        if not self.enabled:
            return
        if len(self._predictions) + len(ids) > self.config.max_buffered:
            self.counters.dropped(len(ids))
            return
        now = time.time()
        for i, tid in enumerate(ids):
            self._predictions.append((tid, now, rows[i], float(scores[i])))
        if len(self._predictions) >= self.config.flush_size:
            self._wake.set()

    def add_label(self, transaction_id: str, label: int) -> None:
        if not self.enabled:
            return
        if len(self._labels) >= self.config.max_buffered:
            self.counters.dropped(1)
            return
        self._labels.append((transaction_id, time.time(), label))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.config.flush_interval)
            self._wake.clear()
            self.flush()
        self.flush()

    def _drain(self, queue: deque) -> list:
        items = []
        for _ in range(len(queue)):
            items.append(queue.popleft())
        return items

    def flush(self) -> None:
        """Send what is buffered in one pipeline; on any Redis error drop it and count it."""
        predictions = self._drain(self._predictions)
        labels = self._drain(self._labels)
        try:
            self._ensure_reference()
            if predictions or labels:
                self._send(predictions, labels)
                self.counters.published(len(predictions) + len(labels))
            self.counters.redis_up(True)
        except redis.RedisError as exc:
            self._reference_ok = False
            self.counters.redis_up(False)
            if predictions or labels:
                self.counters.dropped(len(predictions) + len(labels))
            log.warning("monitoring samples dropped (%d): Redis unavailable: %s", len(predictions) + len(labels), exc)

    def _send(self, predictions: list, labels: list) -> None:
        cfg = self.config
        minid = layout.stream_id_at(time.time() - cfg.retention_seconds)
        pipe = self._client.pipeline(transaction=False)
        if predictions:
            ids, times, rows, scores = zip(*predictions)
            batch = layout.PredictionBatch(list(ids), np.array(times), np.stack(rows), np.array(scores, dtype=np.float32))
            pipe.xadd(self.keys.predictions, layout.encode_predictions(batch), maxlen=cfg.max_stream_entries, approximate=True)
            pipe.xtrim(self.keys.predictions, minid=minid, approximate=True)
        if labels:
            ids, times, values = zip(*labels)
            batch = layout.LabelBatch(list(ids), np.array(times), np.array(values, dtype=np.uint8))
            pipe.xadd(self.keys.labels, layout.encode_labels(batch), maxlen=cfg.max_stream_entries, approximate=True)
            pipe.xtrim(self.keys.labels, minid=minid, approximate=True)
        pipe.execute()

    def _ensure_reference(self) -> None:
        """(Re)publish the reference profile after startup or a Redis restart; refresh its TTL."""
        now = time.monotonic()
        if self._reference_ok and now < self._next_reference_check:
            return
        still_there = self._reference_ok and self._client.expire(self.keys.reference, layout.REFERENCE_TTL_SECONDS)
        pipe = self._client.pipeline(transaction=False)
        if not still_there:
            pipe.set(self.keys.reference, self.reference_json, ex=layout.REFERENCE_TTL_SECONDS)
        pipe.sadd(layout.models_key(self.keys.prefix), self.keys.member)
        pipe.execute()
        self._reference_ok = True
        self._next_reference_check = now + self.config.reference_check_interval
