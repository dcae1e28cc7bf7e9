"""A small asyncio HTTP/1.1 keep-alive client: open-loop fixed-rate and closed-loop saturation runs."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import numpy as np


@dataclass
class RunResult:
    latencies_ms: np.ndarray
    errors: int
    seconds: float

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.latencies_ms, q)) if len(self.latencies_ms) else float("nan")


def post_request(host: str, port: int, path: str, body: dict) -> bytes:
    payload = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n")
    return head.encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port

    async def __aenter__(self) -> "Connection":
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        self.writer.close()

    async def send(self, request: bytes) -> tuple[int, float]:
        started = time.perf_counter()
        self.writer.write(request)
        status = await _read_response(self.reader)
        return status, (time.perf_counter() - started) * 1000


async def fixed_rate(host: str, port: int, requests: list[bytes], rps: float, seconds: float, connections: int = 8) -> RunResult:
    """Open loop: start a request every 1/rps s (on one of `connections`), latency from its send."""
    free: asyncio.Queue[Connection] = asyncio.Queue()
    conns = [Connection(host, port) for _ in range(connections)]
    for c in conns:
        await c.__aenter__()
        free.put_nowait(c)
    latencies: list[float] = []
    errors = 0

    async def one(request: bytes) -> None:
        nonlocal errors
        conn = await free.get()
        try:
            status, ms = await conn.send(request)
            latencies.append(ms) if status == 200 else None
            errors += status != 200
        finally:
            free.put_nowait(conn)

    tasks = []
    start = time.perf_counter()
    total = int(rps * seconds)
    for i in range(total):
        delay = start + i / rps - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(requests[i % len(requests)])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for c in conns:
        await c.__aexit__()
    return RunResult(np.array(latencies), errors, elapsed)


async def saturate(host: str, port: int, requests: list[bytes], seconds: float, connections: int = 32) -> RunResult:
    """Closed loop: `connections` clients send back to back for `seconds`."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        nonlocal errors
        async with Connection(host, port) as conn:
            i = offset
            while time.perf_counter() < deadline:
                status, ms = await conn.send(requests[i % len(requests)])
                latencies.append(ms) if status == 200 else None
                errors += status != 200
                i += connections

    start = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(connections)))
    return RunResult(np.array(latencies), errors, time.perf_counter() - start)
