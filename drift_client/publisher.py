"""Publish predictions, labels and the reference profile to Redis off the request path.

Requests only append to an in-memory buffer; a daemon thread flushes it every
`flush_interval` seconds (or sooner when `flush_size` samples wait) as one
atomic script (an XADD per stream, trimmed by time: format contracts.redis_layout).
If Redis is down or slow, the batch is dropped and counted, serving never waits,
and the next flush simply tries again: publishing resumes by itself when Redis returns.

Every sample is counted exactly once, as published or dropped. A PING before each
send finds a dead or frozen Redis before anything is sent (those batches are surely
dropped). A batch whose send timed out may still be written when a frozen Redis
resumes, so it is not counted yet: each batch carries a token that the script sets
(SET NX) before writing, and on the next contact the publisher fences the token with
its own SET NX: if that succeeds the batch was not written and never will be
(dropped); if the token is already there, the batch was written (published).
When idle, a PING every `heartbeat_interval` keeps `redis_up` current.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass

import numpy as np

from contracts import redis_layout as layout
from contracts.redis_client import connect
from drift_client.worker import PeriodicWorker

log = logging.getLogger(__name__)


@dataclass
class PublisherConfig:
    redis_url: str | None
    prefix: str = layout.DEFAULT_PREFIX
    retention_seconds: float = layout.DEFAULT_RETENTION_SECONDS
    flush_interval: float = 0.2
    heartbeat_interval: float = 1.0
    flush_size: int = 512
    max_buffered: int = 50_000
    socket_timeout: float = 0.5
    reference_check_interval: float = 30.0
    token_ttl_seconds: int = 600
    max_unresolved: int = 1000


# Writes a batch once: the token is set first (NX); a batch whose token exists was already written.
PUBLISH_ONCE = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local n = tonumber(ARGV[3])
if n > 0 then
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4, 3 + n))
  redis.call('XTRIM', KEYS[2], 'MINID', '~', ARGV[2])
end
if #ARGV > 3 + n then
  redis.call('XADD', KEYS[3], '*', unpack(ARGV, 4 + n, #ARGV))
  redis.call('XTRIM', KEYS[3], 'MINID', '~', ARGV[2])
end
return 1
"""


class Counters:
    """Hooks that the service points at its Prometheus metrics (no-ops by default)."""

    def published(self, n: int) -> None: ...
    def dropped(self, n: int) -> None: ...
    def redis_up(self, up: bool) -> None: ...


class SamplePublisher:
    def __init__(self, config: PublisherConfig, keys: layout.Keys, reference_json: str, counters: Counters | None = None,
                 float_labels: bool = False):
        self.config = config
        self.label_dtype = np.float32 if float_labels else np.uint8  # regression and multiclass labels (contracts.tasks)
        self.keys = keys
        self.reference_json = reference_json
        self.counters = counters or Counters()
        self._predictions: deque[tuple[str, float, np.ndarray, float, np.ndarray | None]] = deque()
        self._labels: deque[tuple[str, float, float]] = deque()
        self._reference_ok = False
        self._next_reference_check = 0.0
        self._next_heartbeat = 0.0
        self._unresolved: deque[tuple[str, int]] = deque()  # (token, samples) of sends with unknown outcome
        self._client = (
            connect(  # REDIS_URL + REDIS_PASSWORD_FILE, as every client
                config.redis_url, socket_timeout=config.socket_timeout,
                socket_connect_timeout=config.socket_timeout, health_check_interval=0,
            )
            if config.redis_url
            else None
        )
        self._publish_once = self._client.register_script(PUBLISH_ONCE) if self._client else None
        self._worker = PeriodicWorker("sample-publisher", config.flush_interval, self.flush)

    @property
    def enabled(self) -> bool:
        return self._client is not None

    def start(self) -> "SamplePublisher":
        if self.enabled:
            self._worker.start()
        return self

    def stop(self) -> None:
        self._worker.stop()

    def add_predictions(self, ids: list[str], rows: np.ndarray, scores: np.ndarray,
                        probabilities: np.ndarray | None = None) -> None:
        """Queue predictions for publishing (a multiclass model's class probabilities too, n x classes); O(n)
        appends, never blocks on Redis."""
        if not self.enabled:
            return
        if len(self._predictions) + len(ids) > self.config.max_buffered:
            self.counters.dropped(len(ids))
            return
        now = time.time()
        for i, tid in enumerate(ids):
            self._predictions.append((tid, now, rows[i], float(scores[i]),
                                      None if probabilities is None else probabilities[i]))
        if len(self._predictions) >= self.config.flush_size:
            self._worker.wake()

    def add_label(self, transaction_id: str, label: float) -> None:
        if not self.enabled:
            return
        if len(self._labels) >= self.config.max_buffered:
            self.counters.dropped(1)
            return
        self._labels.append((transaction_id, time.time(), label))

    def _drain(self, queue: deque) -> list:
        items = []
        for _ in range(len(queue)):
            items.append(queue.popleft())
        return items

    def flush(self) -> None:
        """Send what is buffered in one script call; count every sample once, as published or dropped."""
        import redis  # here (cached after the first flush): the service's supervisor imports this module, not the client

        predictions = self._drain(self._predictions)
        labels = self._drain(self._labels)
        n = len(predictions) + len(labels)
        token, sent = uuid.uuid4().hex, False
        try:
            self._resolve_unresolved()
            now = time.monotonic()
            if n or now >= self._next_heartbeat:
                self._client.ping()  # a dead or frozen Redis fails here, before the batch is sent
                self._next_heartbeat = now + self.config.heartbeat_interval
            self._ensure_reference()
            if n:
                sent = True
                self._send(token, predictions, labels)
                self.counters.published(n)
            self.counters.redis_up(True)
        except redis.RedisError as exc:
            self._reference_ok = False
            self.counters.redis_up(False)
            if n and sent and isinstance(exc, (redis.TimeoutError, redis.ConnectionError)):
                self._hold_unresolved(token, n)
            elif n:
                self.counters.dropped(n)
            log.warning("monitoring samples not published (%d): Redis unavailable: %s", n, exc)

    def _hold_unresolved(self, token: str, n: int) -> None:
        """Keep a batch whose send timed out for resolution at the next contact (bounded: beyond, drop it)."""
        if len(self._unresolved) >= self.config.max_unresolved:
            _, oldest = self._unresolved.popleft()
            self.counters.dropped(oldest)
        self._unresolved.append((token, n))

    def _resolve_unresolved(self) -> None:
        """Fence each unresolved token: SET NX succeeds only if its batch was never written (and then never will be)."""
        if not self._unresolved:
            return
        held = list(self._unresolved)
        pipe = self._client.pipeline(transaction=False)
        for token, _ in held:
            pipe.set(self._token_key(token), "fenced", nx=True, ex=self.config.token_ttl_seconds)
        results = pipe.execute()
        self._unresolved.clear()
        for (_, n), fenced in zip(held, results):
            (self.counters.dropped if fenced else self.counters.published)(n)

    def _token_key(self, token: str) -> str:
        return self.keys.publish_token(token)  # in the model version's slot, beside its streams (Redis Cluster)

    def _send(self, token: str, predictions: list, labels: list) -> None:
        """One atomic, idempotent write of the batch; streams trimmed by time (retention), not by count."""
        args: list = [self.config.token_ttl_seconds, layout.stream_id_at(time.time() - self.config.retention_seconds)]
        prediction_fields: list = []
        if predictions:
            ids, times, rows, scores, probabilities = zip(*predictions)
            batch = layout.PredictionBatch(list(ids), np.array(times), np.stack(rows), np.array(scores, dtype=np.float32),
                                           _stacked(probabilities))
            prediction_fields = [x for kv in layout.encode_predictions(batch).items() for x in kv]
        args += [len(prediction_fields), *prediction_fields]
        if labels:
            ids, times, values = zip(*labels)
            batch = layout.LabelBatch(list(ids), np.array(times), np.array(values, dtype=self.label_dtype))
            args += [x for kv in layout.encode_labels(batch).items() for x in kv]
        self._publish_once(keys=[self._token_key(token), self.keys.predictions, self.keys.labels], args=args)

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


def _stacked(probabilities: tuple) -> np.ndarray | None:
    """Class probabilities of a batch (NaN rows for predictions logged without them), None when none has them."""
    known = [p for p in probabilities if p is not None]
    if not known:
        return None
    width = len(known[0])
    return np.stack([p if p is not None else np.full(width, np.nan, np.float32) for p in probabilities]).astype(np.float32)
