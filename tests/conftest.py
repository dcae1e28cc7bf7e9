"""Shared fixtures: real servers on free loopback ports, stopped by PID at the end."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from scripts import servers


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="module")
def redis_server(log_dir):
    with servers.start_redis(log_dir) as server:
        yield server


@pytest.fixture(scope="module")
def service(log_dir, redis_server):
    with servers.start_service(log_dir, redis_server.extra["url"]) as server:
        yield server


def http(method: str, url: str, body=None, raw: bytes | None = None, headers: dict | None = None) -> tuple[int, dict | str]:
    """One HTTP call; returns (status, parsed JSON or text) for 2xx and 4xx/5xx alike."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read().decode()
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text
