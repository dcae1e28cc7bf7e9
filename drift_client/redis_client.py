"""How every part reaches Redis: `REDIS_URL`, plus `REDIS_PASSWORD_FILE` when the password is kept in a file.

The service's publisher, the exporter and `drift-monitor report --from-redis` all build their client here, so a
password is given the same way to all of them: inside the URL (`redis://:PASSWORD@127.0.0.1:6379/0`) or, better
(it then appears in no environment listing or process table), as a file of its own, mode 0600, named by
`REDIS_PASSWORD_FILE` (a Docker secret, or `.run/secrets/redis_password` that `make up` generates).
A password in the URL wins over the file. `redis+cluster://host:port` (any node) reaches a Redis Cluster through
redis-py's RedisCluster; every key of a model version shares a hash tag, so one model stays in one slot.

>>> redact("redis://:s3cret@127.0.0.1:6379/0")
'redis://:***@127.0.0.1:6379/0'
>>> redact("redis://127.0.0.1:6379/0")
'redis://127.0.0.1:6379/0'
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

PASSWORD_FILE_ENV = "REDIS_PASSWORD_FILE"
CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")


def is_cluster_url(url: str) -> bool:
    """
    >>> is_cluster_url("redis+cluster://127.0.0.1:7000"), is_cluster_url("redis://127.0.0.1:6379/0")
    (True, False)
    """
    return url.startswith(CLUSTER_SCHEMES)


class RedisPasswordFileError(ValueError):
    """REDIS_PASSWORD_FILE names a file that cannot be read or is empty."""


def read_password_file(path: str | os.PathLike) -> str:
    """The password in `path`, without its trailing newline; a clear error naming the file otherwise."""
    try:
        password = Path(path).read_text().rstrip("\r\n")
    except OSError as exc:
        raise RedisPasswordFileError(f"{PASSWORD_FILE_ENV} {path}: {exc.strerror or exc}") from None
    if not password:
        raise RedisPasswordFileError(f"{PASSWORD_FILE_ENV} {path}: the file is empty")
    return password


def password_from_env(environ: Mapping[str, str] = os.environ) -> str | None:
    """The password named by REDIS_PASSWORD_FILE, or None when it is unset or empty."""
    path = environ.get(PASSWORD_FILE_ENV)
    return read_password_file(path) if path else None


def connect(url: str, password_file: str | os.PathLike | None = None,
            environ: Mapping[str, str] = os.environ, **kwargs: Any):
    """A redis-py client for `url`, authenticated with `password_file` (default: $REDIS_PASSWORD_FILE) if any.

    `kwargs` go to `redis.Redis.from_url` (time-outs and the like)."""
    import redis  # here, so that importing this module needs no Redis client

    password = read_password_file(password_file) if password_file else password_from_env(environ)
    if password is not None:
        kwargs.setdefault("password", password)  # from_url lets a password inside the URL win
    if is_cluster_url(url):
        from redis.cluster import RedisCluster

        return RedisCluster.from_url(url.replace("+cluster", "", 1), **kwargs)
    return redis.Redis.from_url(url, **kwargs)


def redact(url: str) -> str:
    """`url` with its password (if any) replaced by ***, for messages and logs."""
    return re.sub(r"^(\w+://[^:@/]*:)[^@/]*@", r"\1***@", url)
