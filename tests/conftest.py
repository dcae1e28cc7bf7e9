"""Shared fixtures: real servers on free loopback ports, stopped by PID at the end."""
from __future__ import annotations

from pathlib import Path

import pytest

from scripts import servers
from tests.helpers import http  # noqa: F401  (re-exported for the tests that import it from here)


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
