"""Which versions of a model serve: the champion, an optional challenger, the mode and the A/B share.

One JSON document per model in Redis, `{prefix}:{name}:versions`, written by the service's versions API
(`PUT /api/v1/models/{name}/versions`), by `python -m retrain` (a new challenger in shadow) and by
`python -m retrain promote|rollback`; read by the service (polled, so a change is answered within a second, no
restart) and the exporter. It lives in Redis, not in a process, so it survives a restart of any of them.

    {"champion": "v1", "challenger": "v2" | null, "mode": "off" | "shadow" | "ab", "ab_share": 0.0-1.0,
     "available": ["v1", "v2", ...], "previous_champion": "v0" | null, "revision": 7}

`available` is what can be named: the versions in the model store (the service and retraining add to it).
`previous_champion` is kept by a promotion so that a rollback is one command. `revision` grows with every write.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

from drift_client.redis_layout import DEFAULT_PREFIX

MODES = ("off", "shadow", "ab")
# The versions API's PUT is authorised by `Authorization: Bearer <token>`; the service reads the token from the file
# named by VERSIONS_API_TOKEN_FILE (`make up` generates .run/secrets/versions_api_token, mode 0600), else from
# VERSIONS_API_TOKEN. Neither set: PUT is refused (a safe default).
TOKEN_FILE_ENV = "VERSIONS_API_TOKEN_FILE"
TOKEN_ENV = "VERSIONS_API_TOKEN"
WRITABLE = ("champion", "challenger", "mode", "ab_share")  # what a PUT may change


class InvalidVersions(ValueError):
    """A versions document or change that cannot be applied; `field` names the culprit (the 4xx says it)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


class ConflictingVersions(InvalidVersions):
    """Each value fits but together they do not (a mode without a challenger, a challenger equal to the champion):
    the versions API answers 409 rather than 400."""


@dataclass(frozen=True)
class VersionsState:
    champion: str
    challenger: str | None = None
    mode: str = "off"
    ab_share: float = 0.0
    available: tuple[str, ...] = field(default_factory=tuple)
    previous_champion: str | None = None
    revision: int = 0

    def validate(self) -> "VersionsState":
        """Raise InvalidVersions naming the first field that does not fit; return self otherwise."""
        if self.champion not in self.available:
            raise InvalidVersions("champion", f"unknown version {self.champion!r}; available: {list(self.available)}")
        if self.challenger is not None:
            if self.challenger not in self.available:
                raise InvalidVersions("challenger", f"unknown version {self.challenger!r}; available: {list(self.available)}")
            if self.challenger == self.champion:
                raise ConflictingVersions("challenger", "must differ from the champion")
        if self.mode not in MODES:
            raise InvalidVersions("mode", f"must be one of {list(MODES)}")
        if self.mode != "off" and self.challenger is None:
            raise ConflictingVersions("mode", f"{self.mode!r} needs a challenger")
        if not (0.0 <= self.ab_share <= 1.0):
            raise InvalidVersions("ab_share", "must be within [0, 1]")
        return self

    def apply(self, changes: object) -> "VersionsState":
        """A new state with `changes` (a PUT body: a JSON object of writable fields), validated."""
        if not isinstance(changes, dict):
            raise InvalidVersions("body", "must be a JSON object")
        unknown = sorted(set(changes) - set(WRITABLE))
        if unknown:
            raise InvalidVersions(unknown[0], f"cannot be set; writable fields: {list(WRITABLE)}")
        checked: dict = {}
        for name, value in changes.items():
            checked[name] = _checked(name, value)
        new = replace(self, **checked, revision=self.revision + 1)
        if "challenger" in checked and checked["challenger"] is None and "mode" not in checked:
            new = replace(new, mode="off")  # removing the challenger turns shadow/A-B off rather than failing
        return new.validate()

    def with_available(self, *versions: str) -> "VersionsState":
        return replace(self, available=tuple(dict.fromkeys((*self.available, *versions))), revision=self.revision + 1)

    def promote(self) -> "VersionsState":
        """The challenger becomes the champion; the old champion is kept for a rollback; shadow and A/B stop."""
        if self.challenger is None:
            raise InvalidVersions("challenger", "there is no challenger to promote")
        return replace(self, champion=self.challenger, challenger=None, mode="off", ab_share=0.0,
                       previous_champion=self.champion, revision=self.revision + 1).validate()

    def rollback(self) -> "VersionsState":
        """Back to the champion before the last promotion; the demoted version stays available."""
        if self.previous_champion is None:
            raise InvalidVersions("previous_champion", "no promotion to roll back")
        return replace(self, champion=self.previous_champion, challenger=None, mode="off", ab_share=0.0,
                       previous_champion=None, revision=self.revision + 1).validate()

    def to_api(self) -> dict:
        """The GET answer (the contract's fields)."""
        return {"champion": self.champion, "challenger": self.challenger, "mode": self.mode,
                "ab_share": self.ab_share, "available": list(self.available)}

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "available": list(self.available)})

    @classmethod
    def from_json(cls, text: str | bytes) -> "VersionsState":
        raw = json.loads(text)
        return cls(champion=raw["champion"], challenger=raw.get("challenger"), mode=raw.get("mode", "off"),
                   ab_share=float(raw.get("ab_share", 0.0)), available=tuple(raw.get("available", ())),
                   previous_champion=raw.get("previous_champion"), revision=int(raw.get("revision", 0)))


def _checked(name: str, value: object) -> object:
    if name in ("champion", "challenger"):
        if value is None and name == "challenger":
            return None
        if not isinstance(value, str) or not value:
            raise InvalidVersions(name, "must be a version string" + (" or null" if name == "challenger" else ""))
        return value
    if name == "mode":
        if value not in MODES:
            raise InvalidVersions("mode", f"must be one of {list(MODES)}")
        return value
    # ab_share: a number (not a boolean), finite, in [0, 1]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidVersions("ab_share", "must be a number within [0, 1]")
    if not 0.0 <= value <= 1.0:
        raise InvalidVersions("ab_share", "must be within [0, 1]")
    return float(value)


def versions_key(model_name: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}:{model_name}:versions"


def answers_challenger(transaction_id: str, ab_share: float) -> bool:
    """A/B assignment, sticky by transaction id: the id's hash as a uniform number in [0, 1) below the share."""
    if ab_share <= 0.0:
        return False
    digest = hashlib.blake2b(transaction_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64 < ab_share


def load(client, model_name: str, prefix: str = DEFAULT_PREFIX) -> VersionsState | None:
    raw = client.get(versions_key(model_name, prefix))
    return None if raw is None else VersionsState.from_json(raw)


def save(client, model_name: str, state: VersionsState, prefix: str = DEFAULT_PREFIX) -> None:
    client.set(versions_key(model_name, prefix), state.validate().to_json())


def update(client, model_name: str, change: Callable[[VersionsState | None], VersionsState],
           prefix: str = DEFAULT_PREFIX, attempts: int = 20) -> VersionsState:
    """Read, change and write the document atomically (WATCH/MULTI: a concurrent writer makes us retry)."""
    import redis  # only the adapters need the client library

    key = versions_key(model_name, prefix)
    for _ in range(attempts):
        with client.pipeline(transaction=True) as pipe:  # explicit: a RedisCluster pipeline WATCHes only then
            try:
                pipe.watch(key)
                raw = pipe.get(key)
                new = change(None if raw is None else VersionsState.from_json(raw)).validate()
                pipe.multi()
                pipe.set(key, new.to_json())
                pipe.execute()
                return new
            except redis.WatchError:
                continue
    raise RuntimeError(f"{key} kept changing under {attempts} attempts")
