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
from scripts import servers
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


def paced_rounds(services: dict[str, int], requests: list[bytes], rps: float, seconds: float, rounds: int = 6) -> dict[str, RunResult]:
    """Alternate the setups in short rounds (ABBA order) so that both see the same machine; pool each setup's rounds."""
    pooled: dict[str, list[RunResult]] = {name: [] for name in services}
    for r in range(rounds):
        order = list(services.items())
        for name, port in order if r % 2 == 0 else order[::-1]:
            result = asyncio.run(fixed_rate("127.0.0.1", port, requests, rps, seconds / rounds))
            pooled[name].append(result)
            print(f"    round {r + 1}/{rounds} {name}: p50 {result.quantile(.5):.2f} ms  p99 {result.quantile(.99):.2f} ms", flush=True)
    return {
        name: RunResult(np.concatenate([x.latencies_ms for x in runs]), sum(x.errors for x in runs), sum(x.seconds for x in runs))
        for name, runs in pooled.items()
    }


def saturation(port: int, requests: list[bytes], seconds: float) -> RunResult:
    result = asyncio.run(saturate("127.0.0.1", port, requests, seconds))
    print(f"    saturation: {result.throughput:.0f} rps  p99 {result.quantile(.99):.1f} ms", flush=True)
    return result


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

    print("[1/4] bare in-process model call", flush=True)
    bare = bare_model(rows, 5)
    with tempfile.TemporaryDirectory() as tmp, servers.start_redis(Path(tmp)) as redis_srv:
        log_dir, url = Path(tmp), redis_srv.extra["url"]
        with servers.start_service(log_dir, "", env={**QUIET, "REDIS_URL": ""}) as off_svc, \
                servers.start_service(log_dir, url, env=QUIET) as on_svc:
            for svc in (off_svc, on_svc):
                asyncio.run(saturate("127.0.0.1", svc.port, requests, 3))
            print(f"[2/4] {args.rps:.0f} rps, publishing off and on, alternating rounds", flush=True)
            paced = paced_rounds({"off": off_svc.port, "on": on_svc.port}, requests, args.rps, args.seconds)
            print("[3/4] saturation, 1 worker, publishing off then on", flush=True)
            off = (paced["off"], saturation(off_svc.port, requests, 10))
            on = (paced["on"], saturation(on_svc.port, requests, 10))
        print("[4/4] saturation, 2 workers, publishing on", flush=True)
        with servers.start_service(log_dir, url, env={**QUIET, "SERVICE_WORKERS": "2"}) as two:
            asyncio.run(saturate("127.0.0.1", two.port, requests, 3))
            on2 = (asyncio.run(fixed_rate("127.0.0.1", two.port, requests, args.rps, 10)), saturation(two.port, requests, 10))

    overhead = on[0].quantile(.5) / off[0].quantile(.5) - 1
    table = "\n".join([
        f"Paced: {args.rps:.0f} requests/s for {args.seconds:.0f} s per setup (open loop, 8 keep-alive connections), "
        "(b) and (c) alternating in 6 rounds (ABBA order) so both see the same machine. Saturation: 32 connections back to back for 10 s. "
        "Access log off; the load client (`bench/loadclient.py`, asyncio) runs on the same 2 cores as the service.",
        "",
        f"| setup | p50 ms | p95 ms | p99 ms | max ms | errors | max throughput rps | p99 at saturation ms | p50 vs publishing off |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| (a) bare in-process `inplace_predict` | {bare.quantile(.5):.3f} | {bare.quantile(.95):.3f} | {bare.quantile(.99):.3f} | "
        f"{bare.latencies_ms.max():.2f} | 0 | {bare.throughput:,.0f} | - | - |",
        row("(b) service, publishing off", *off),
        row("(c) service, publishing on", *on, base_p50=off[0].quantile(.5)),
        row("(d) service, publishing on, 2 workers (paced 10 s)", *on2, base_p50=off[0].quantile(.5)),
        "",
        f"Publishing adds **{overhead:+.1%}** to p50 at {args.rps:.0f} rps (target < 10%); "
        f"p95 with publishing {on[0].quantile(.95):.2f} ms (target < 15 ms); max throughput with publishing "
        f"{on[1].throughput:,.0f} rps with 1 worker, {on2[1].throughput:,.0f} rps with 2 (target >= 500).",
    ])
    write_section("serving", "Serving latency and throughput (`bench/serving.py`)", table)
    print(table)


if __name__ == "__main__":
    main()
