"""Reads one model version's streams from Redis incrementally: the only part of the window that talks to Redis.

Each refresh asks only for the entries added since the last one (XRANGE from the last id, a page at a time),
decodes them (drift_client.redis_layout), hands them to the pure `drift.live_window.Window` about CHUNK_ROWS samples
at a time (a cold start never holds the whole window twice) and moves its read position only past entries that
were counted, so Redis failing in the middle of a multi-page read loses nothing. A malformed entry is skipped
and counted. A batch published with another schema (another width, or another schema fingerprint than the
profile's) is refused: counted by reason, logged once per reason, and the version is not judged while such a batch
is in its window (`refused_within`; docs/design.md, "Not judged").
"""
from __future__ import annotations

import logging
from typing import Callable, Iterator

import redis

from drift_client import redis_layout as layout
from drift.live_window import LiveWindow

log = logging.getLogger(__name__)
READ_CHUNK = 500  # stream entries per XRANGE call
CHUNK_ROWS = 100_000  # samples handed to the window at a time


class StreamReader:
    def __init__(self, keys: layout.Keys) -> None:
        self.keys = keys
        self.positions: dict[str, str] = {}  # stream key -> id of the last entry counted
        self.malformed = 0
        self.refused: dict[str, int] = {}  # reason ("width", "fingerprint") -> prediction batches refused
        self.last_refused = -float("inf")  # entry time (Unix s) of the last refused batch

    def refresh(self, client: redis.Redis, window: LiveWindow, now: float) -> int:
        """Feed the window what is new in Redis and expire what left it; returns the new predictions."""
        new = 0
        start = now - window.window_seconds
        width, fingerprint = len(window.profile.features), window.profile.schema_fingerprint
        decode = lambda fields: layout.decode_predictions(fields, width, fingerprint)  # noqa: E731
        for chunk in self._chunks(client, self.keys.predictions, start, decode):
            new += window.add_predictions(chunk)
        for chunk in self._chunks(client, self.keys.labels, start - window.label_grace_seconds, layout.decode_labels):
            window.add_labels(chunk)
        window.expire(now)
        return new

    def _chunks(self, client: redis.Redis, key: str, window_start: float, decode: Callable) -> Iterator[list[tuple]]:
        """[(batch, entry time), ...] of about CHUNK_ROWS samples; the position moves once the caller has counted them."""
        chunk, size, last_id = [], 0, None
        for entry_id, fields in self._entries(client, key, layout.stream_id_at(window_start)):
            batch = self._decode(decode, key, entry_id, fields)
            last_id = entry_id
            if batch is not None:
                chunk.append((batch, layout.entry_time_seconds(entry_id)))
                size += len(batch)
            if size >= CHUNK_ROWS:
                yield chunk
                self.positions[key] = last_id
                chunk, size = [], 0
        if last_id is not None:
            yield chunk
            self.positions[key] = last_id

    def refused_within(self, window_seconds: float, now: float) -> bool:
        """Whether a batch was refused for its schema within the last `window_seconds`."""
        return self.last_refused >= now - window_seconds

    def _decode(self, decode: Callable, key: str, entry_id: str, fields: dict):
        try:
            return decode(fields)
        except layout.SchemaMismatch as exc:
            if exc.reason not in self.refused:  # one line per reason; the counter has the rest
                log.error("refused prediction batches of %s/%s: %s (the publisher's schema is not the reference "
                          "profile's; the version is not judged while they arrive)", self.keys.model_name,
                          self.keys.model_version, exc)
            self.refused[exc.reason] = self.refused.get(exc.reason, 0) + 1
            self.last_refused = max(self.last_refused, layout.entry_time_seconds(entry_id))
            return None
        except layout.MalformedEntry as exc:
            self.malformed += 1
            log.warning("skipped malformed entry %s of %s: %s", entry_id, key, exc)
            return None

    def _entries(self, client: redis.Redis, key: str, window_start: str) -> Iterator[tuple[str, dict]]:
        """Entries after the read position (or from the window start when that is later), a page at a time."""
        last_id = self.positions.get(key)
        lower = window_start if last_id is None or _id_tuple(last_id) < _id_tuple(window_start) else f"({last_id}"
        while True:
            entries = client.xrange(key, min=lower, max="+", count=READ_CHUNK)
            for entry_id, fields in entries:
                yield _text(entry_id), fields
            if len(entries) < READ_CHUNK:
                return
            lower = f"({_text(entries[-1][0])}"


def _text(entry_id: bytes | str) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


def _id_tuple(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
