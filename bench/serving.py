"""Serving latency and throughput, side by side in one run: bare model call vs the service without and with publishing.

    python -m bench.serving [--seconds 30] [--rps 100]
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from pathlib import Path

import bentoml
import numpy as np

from bench.loadclient import RunResult, fixed_rate, post_request, saturate
from bench.report import write_section
from bento_service.model_store import BOOSTER_FILE, load_booster, model_tag, predict_scores
from tests import servers
from transactions import FEATURE_NAMES, generate

QUIET = {"SERVICE_ACCESS_LOG": "false"}


def bodies(n: int = 2000) -> list[dict]:
    df = generate(n, seed=2024)
    return [{"transaction_id": f"bench-{i}", "features": {k: float(df[k].iloc[i]) for k in FEATURE_NAMES}} for i in range(n)]


def bare_model(rows: np.ndarray, seconds: float) -> RunResult:
    """The floor: the same booster called in-process, one row at a time, as the service does."""
    booster = load_booster(bentoml.models.get(model_tag()).path_of(BOOSTER_FILE))
    gc.collect()
    gc.freeze()
    latencies = []
    start = time.perf_counter()
    i = 0
    while time.perf_counter() - start < seconds:
        row = rows[i % len(rows)][None, :]
        t = time.perf_counter()
        predict_scores(booster, row)
        latencies.append((time.perf_counter() - t) * 1000)
        i += 1
    return RunResult(np.array(latencies), 0, time.perf_counter() - start)


def measure_service(log_dir: Path, redis_url: str | None, requests: list[bytes], rps: float, seconds: float) -> tuple[RunResult, RunResult]:
    env = {**QUIET, "REDIS_URL": redis_url or ""}
    svc = servers.start_service(log_dir, redis_url or "", env=env)
    try:
        asyncio.run(saturate("127.0.0.1", svc.port, requests, 3))
        paced = asyncio.run(fixed_rate("127.0.0.1", svc.port, requests, rps, seconds))
        print(f"    {rps:.0f} rps for {seconds:.0f}s: p50 {paced.quantile(.5):.2f} ms  p99 {paced.quantile(.99):.2f} ms", flush=True)
        flat_out = asyncio.run(saturate("127.0.0.1", svc.port, requests, max(10.0, seconds / 3)))
        print(f"    saturation: {flat_out.throughput:.0f} rps  p50 {flat_out.quantile(.5):.2f} ms", flush=True)
        return paced, flat_out
    finally:
        svc.stop()


def row(name: str, paced: RunResult, flat_out: RunResult, base_p50: float | None = None) -> str:
    extra = f"{paced.quantile(.5) / base_p50:.2f}x" if base_p50 else "-"
    return (f"| {name} | {paced.quantile(.5):.2f} | {paced.quantile(.95):.2f} | {paced.quantile(.99):.2f} | "
            f"{paced.latencies_ms.max():.2f} | {paced.errors} | {flat_out.throughput:,.0f} | {flat_out.quantile(.99):.2f} | {extra} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rps", type=float, default=100.0)
    args = parser.parse_args(argv)
    data = bodies()
    requests = [post_request("127.0.0.1", 0, "/api/v1/predict", b) for b in data]
    rows = np.array([[b["features"][k] for k in FEATURE_NAMES] for b in data], dtype=np.float32)

    print("[1/3] bare in-process model call", flush=True)
    bare = bare_model(rows, 5)
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = Path(tmp)
        print("[2/3] service, publishing off (no REDIS_URL)", flush=True)
        off = measure_service(log_dir, None, requests, args.rps, args.seconds)
        print("[3/3] service, publishing on (real redis-server)", flush=True)
        with servers.start_redis(log_dir) as redis_srv:
            on = measure_service(log_dir, redis_srv.extra["url"], requests, args.rps, args.seconds)

    overhead = on[0].quantile(.5) / off[0].quantile(.5) - 1
    table = "\n".join([
        f"Paced: {args.rps:.0f} requests/s for {args.seconds:.0f} s (open loop, 8 keep-alive connections). "
        "Saturation: 32 connections back to back. Service: 1 worker, access log off; the load client runs on the same 2 cores.",
        "",
        f"| setup | p50 ms | p95 ms | p99 ms | max ms | errors | max throughput rps | p99 at saturation ms | p50 vs publishing off |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| (a) bare in-process `inplace_predict` | {bare.quantile(.5):.3f} | {bare.quantile(.95):.3f} | {bare.quantile(.99):.3f} | "
        f"{bare.latencies_ms.max():.2f} | 0 | {bare.throughput:,.0f} | - | - |",
        row("(b) service, publishing off", *off),
        row("(c) service, publishing on", *on, base_p50=off[0].quantile(.5)),
        "",
        f"Publishing adds **{overhead:+.1%}** to p50 at {args.rps:.0f} rps (target < 10%); "
        f"p95 with publishing {on[0].quantile(.95):.2f} ms (target < 15 ms); max throughput with publishing "
        f"{on[1].throughput:,.0f} rps (target >= 500).",
    ])
    write_section("serving", "Serving latency and throughput (`bench/serving.py`)", table)
    print(table)


if __name__ == "__main__":
    main()
