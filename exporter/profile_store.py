"""Per-minute profiles in Redis: the exporter writes them from the predictions stream and reads windows back.

Written by the exporter, not by the service's publisher: the exporter already reads and counts every sample, so the
request path stays untouched (no binning, no extra Redis write per flush) and a sample is counted once whatever
happens to the service (docs/design.md, "Per-minute profiles").

`ProfileWriter` reads the stream entries after its cursor (`Keys.profiled`, kept in Redis), counts them into the
minute of their entry id (Redis' clock) and writes, in one Lua script per page (atomic, like a MULTI), every
minute it touched and the new cursor: a crash or a Redis failure between pages loses nothing and counts nothing twice (the keys share the model's
hash tag, so the script works on a Redis Cluster too). A minute's key expires `retention` after the minute.

With exporter replicas (exporter.leases), the writer carries its lease's token: the page's minutes and cursor are
written by one Lua script that first checks the version's lease still holds that token and the cursor is still the
one this writer read (fencing). A replica whose lease expired during a slow refresh writes nothing and raises
`FencedOut`; the replica that took over continues from the cursor in Redis.

`MinuteCache` holds the decoded minutes of the longest judged window (counts in their narrow stored type: about
16 KB a minute), reads what it lacks with MGET, and is told by the writer about the minutes it rewrote.
"""
from __future__ import annotations

import logging
from typing import Iterable

import numpy as np
import redis

from drift_client import redis_layout as layout
from drift.profiles import MINUTE, MinuteProfile, ProfileLayout, minute_of

log = logging.getLogger(__name__)
READ_CHUNK = 500  # stream entries per XRANGE call (and per transaction)
MGET_CHUNK = 1000  # keys per MGET

# KEYS: lease, cursor, minute keys...; ARGV: token ('' = no lease to check), cursor read, new cursor, its EXAT,
# then each minute's blob and EXAT. 0: fenced out (lease lost), -1: the cursor moved (another writer), 1: written.
FENCED_WRITE = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] then return -1 end
for i = 3, #KEYS do redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'EXAT', ARGV[2 * i]) end
redis.call('SET', KEYS[2], ARGV[3], 'EXAT', ARGV[4])
return 1
"""


class FencedOut(RuntimeError):
    """The write was refused: this writer's lease is gone, or another writer moved the cursor."""


class ProfileWriter:
    def __init__(self, keys: layout.Keys, profile_layout: ProfileLayout, retention_seconds: float,
                 backfill_seconds: float, token: str | None = None) -> None:
        self.keys = keys
        self.token = token  # the lease's token (exporter.leases); None: a lone writer, no lease checked
        self.layout = profile_layout
        self.retention = int(retention_seconds)
        self.backfill = backfill_seconds  # with no cursor yet: count what the stream still holds, at most this far back
        self.cursor: str | None = None
        self.open: dict[int, MinuteProfile] = {}  # recent minutes as written (no GET before adding to them)
        self.malformed = 0

    def refresh(self, client: redis.Redis, now: float) -> dict[int, MinuteProfile]:
        """Count the new entries into their minutes and write them; returns the minutes written."""
        if self.cursor is None:
            stored = client.get(self.keys.profiled)
            self.cursor = stored.decode() if stored else None
        written: dict[int, MinuteProfile] = {}
        start = f"({self.cursor}" if self.cursor else layout.stream_id_at(now - self.backfill)
        width = len(self.layout.profile.features)
        while True:
            entries = client.xrange(self.keys.predictions, min=start, max="+", count=READ_CHUNK)
            if not entries:
                break
            written.update(self._count_and_write(client, entries, width))
            start = f"({self._text(entries[-1][0])}"
            if len(entries) < READ_CHUNK:
                break
        current = minute_of(now)
        self.open = {m: p for m, p in self.open.items() if m >= current - 2}
        return written

    def _count_and_write(self, client: redis.Redis, entries: list, width: int) -> dict[int, MinuteProfile]:
        by_minute: dict[int, list[layout.PredictionBatch]] = {}
        for entry_id, fields in entries:
            try:
                batch = layout.decode_predictions(fields, width, self.layout.profile.schema_fingerprint)
            except layout.SchemaMismatch:  # refused: the stream reader counts and logs it by reason
                continue
            except layout.MalformedEntry as exc:
                self.malformed += 1
                log.warning("profiles: skipped malformed entry %s: %s", entry_id, exc)
                continue
            by_minute.setdefault(minute_of(layout.entry_time_seconds(entry_id)), []).append(batch)
        touched = {}
        for minute, batches in by_minute.items():
            counted = self.layout.count(np.concatenate([b.features for b in batches]), np.concatenate([b.scores for b in batches]))
            touched[minute] = self.layout.merge([self._current(client, minute), counted])
        cursor = self._text(entries[-1][0])
        minutes = sorted(touched)
        args = [self.token or "", self.cursor or "", cursor, int(layout.entry_time_seconds(cursor)) + self.retention]
        for minute in minutes:
            args += [self.layout.encode(touched[minute]), (minute + 1) * MINUTE + self.retention]
        keys = [self.keys.lease, self.keys.profiled, *(self.keys.profile(m) for m in minutes)]
        outcome = client.eval(FENCED_WRITE, len(keys), *keys, *args)
        if outcome != 1:
            self.cursor, self.open = None, {}  # read everything afresh from Redis if this writer is ever used again
            raise FencedOut(f"{self.keys.member}: " + ("the lease is no longer this replica's" if outcome == 0
                                                       else "another writer moved the profiles' cursor"))
        self.cursor = cursor
        self.open.update(touched)
        return touched

    def _current(self, client: redis.Redis, minute: int) -> MinuteProfile:
        """What the minute holds so far: from memory, else from Redis (after a restart), else nothing."""
        if minute in self.open:
            return self.open[minute]
        blob = client.get(self.keys.profile(minute))
        if blob is not None:
            try:
                return self.layout.decode(blob)
            except layout.MalformedEntry as exc:
                log.warning("profiles: minute %d unreadable, counted afresh: %s", minute, exc)
        return self.layout.empty()

    @staticmethod
    def _text(entry_id) -> str:
        return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


class MinuteCache:
    """Decoded minutes of one model version, kept for the longest judged window."""

    def __init__(self, keys: layout.Keys, profile_layout: ProfileLayout, keep_minutes: int) -> None:
        self.keys = keys
        self.layout = profile_layout
        self.keep = keep_minutes
        self.minutes: dict[int, MinuteProfile | None] = {}  # None: nothing was written for that minute
        self.malformed = 0

    def update(self, written: dict[int, MinuteProfile]) -> None:
        for minute, profile in written.items():
            self.minutes[minute] = _narrow(profile)

    def load(self, client: redis.Redis, first: int, last: int) -> None:
        """Read the minutes in [first, last] not held yet; forget those older than the longest window."""
        self.minutes = {m: p for m, p in self.minutes.items() if m >= last - self.keep}
        missing = [m for m in range(first, last + 1) if m not in self.minutes]
        for minute, profile in read_minutes(client, self.keys, self.layout, missing, self._skip).items():
            if minute >= last - self.keep:
                self.minutes[minute] = profile

    def merged(self, first: int, last: int) -> MinuteProfile:
        return self.layout.merge([p for m in range(first, last + 1) if (p := self.minutes.get(m)) is not None])

    def _skip(self, minute: int, exc: Exception) -> None:
        self.malformed += 1
        log.warning("profiles: minute %d of %s skipped: %s", minute, self.keys.member, exc)


def read_minutes(client: redis.Redis, keys: layout.Keys, profile_layout: ProfileLayout, minutes: Iterable[int],
                 on_malformed=None) -> dict[int, MinuteProfile | None]:
    """The stored profiles of these minutes (None where none was written), MGET a thousand at a time."""
    minutes = list(minutes)
    found: dict[int, MinuteProfile | None] = {}
    for i in range(0, len(minutes), MGET_CHUNK):
        chunk = minutes[i: i + MGET_CHUNK]
        for minute, blob in zip(chunk, client.mget([keys.profile(m) for m in chunk])):
            found[minute] = None
            if blob is not None:
                try:
                    found[minute] = _narrow(profile_layout.decode(blob))
                except layout.MalformedEntry as exc:
                    if on_malformed:
                        on_malformed(minute, exc)
    return found


def _narrow(profile: MinuteProfile) -> MinuteProfile:
    """The same counts in the narrowest unsigned type (a day of minutes in memory: about 23 MB, not 90)."""
    top = int(profile.counts.max(initial=0))
    dtype = np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.uint32 if top < 2**32 else np.int64
    return MinuteProfile(profile.counts.astype(dtype), profile.floats)


def minute_range(now: float, seconds: float) -> tuple[int, int]:
    """The minutes of a window of `seconds` ending now: the newest one still filling."""
    last = minute_of(now)
    return last - max(int(round(seconds / MINUTE)), 1) + 1, last


def period_minutes(start: float, end: float) -> tuple[int, int]:
    """The minutes that overlap [start, end)."""
    return minute_of(start), minute_of(max(end - 1e-6, start))
