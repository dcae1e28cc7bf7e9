"""At most one retraining per model at a time, and at most one started by alerts per cooldown: both in Redis, so
they hold across processes (the webhook, `make retrain` by hand) and restarts.

- the **lock** `{prefix}:{model}:retrain:lock` is held by the running job (SET NX with an expiry longer than any
  training, released only by its holder's token): a second job refuses to start;
- the **cooldown** `{prefix}:{model}:retrain:cooldown` is set by the alert webhook when it starts a job (SET NX EX):
  an alert storm, or the same alert repeated every `repeat_interval`, starts nothing more until it expires.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import redis

from drift_client.redis_layout import DEFAULT_PREFIX

LOCK_SECONDS = 3600  # far longer than a retraining (seconds to minutes); frees the lock if the job dies hard

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
"""


def lock_key(model_name: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}:{model_name}:retrain:lock"


def cooldown_key(model_name: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}:{model_name}:retrain:cooldown"


@dataclass
class Lock:
    client: redis.Redis
    model_name: str
    prefix: str = DEFAULT_PREFIX
    token: str = ""

    def acquire(self, seconds: int = LOCK_SECONDS) -> bool:
        self.token = secrets.token_hex(8)
        return bool(self.client.set(lock_key(self.model_name, self.prefix), self.token, nx=True, ex=seconds))

    def release(self) -> None:
        self.client.eval(RELEASE, 1, lock_key(self.model_name, self.prefix), self.token)


def decide(client: redis.Redis, model_name: str, cooldown_seconds: float, prefix: str = DEFAULT_PREFIX) -> str:
    """What an alert for `model_name` does now: "running" (a job holds the lock), "cooldown" (one was started less
    than `cooldown_seconds` ago) or "start" (and the cooldown begins, atomically: of concurrent callers one wins)."""
    if client.exists(lock_key(model_name, prefix)):
        return "running"
    started = client.set(cooldown_key(model_name, prefix), "1", nx=True, px=max(1, int(cooldown_seconds * 1000)))
    return "start" if started else "cooldown"
