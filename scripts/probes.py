"""Probing running servers, shared by the tests and the benchmarks: one HTTP call, waiting for a condition, reading
one sample of a Prometheus text exposition."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Callable


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


def wait_for(condition: Callable, timeout: float = 20.0, interval: float = 0.2):
    """Poll `condition` until it returns something truthy (returned), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def series(text: str, name: str, **labels) -> float | None:
    """The value of the first sample of `name` with these labels in a Prometheus text exposition."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None
