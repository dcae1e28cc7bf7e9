"""Serving latency and throughput, side by side in one run: bare model call vs the service without and with publishing;
then two versions served at once: the champion's latency with mode off vs mode shadow (alternating rounds on one
service), and the A/B split over 10,000 requests.

    python -m bench.serving [--seconds 30] [--rps 100] [--only all|publishing|versions]
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import secrets
import tempfile
import time
import urllib.request
from pathlib import Path

import bentoml
import numpy as np

from bench.loadclient import RunResult, fixed_rate, post_request, saturate
from bench.report import write_section
from bento_service.model_store import BOOSTER_FILE, MODEL_NAME as FRAUD_MODEL, load_booster, model_tag, predict_scores
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


def put_versions(port: int, token: str, change: dict) -> dict:
    """PUT the versions API (bench: a failure stops the run)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("PUT", f"/api/v1/models/{FRAUD_MODEL}/versions", json.dumps(change),
                 {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    body = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(f"PUT versions {change}: {response.status} {body}")
    return body


def mode_rounds(port: int, token: str, challenger: str, requests: list[bytes], rps: float, seconds: float,
                rounds: int) -> dict[str, RunResult]:
    """Mode off and mode shadow on the same service in alternating rounds (ABBA), switched through the versions API."""
    modes = {"off": {"challenger": None}, "shadow": {"challenger": challenger, "mode": "shadow"}}
    pooled: dict[str, list[RunResult]] = {name: [] for name in modes}
    for r in range(rounds):
        for name in (list(modes) if r % 2 == 0 else list(modes)[::-1]):
            put_versions(port, token, modes[name])
            result = asyncio.run(fixed_rate("127.0.0.1", port, requests, rps, seconds / rounds))
            pooled[name].append(result)
            print(f"    round {r + 1}/{rounds} {name}: p50 {result.quantile(.5):.2f} ms  p99 {result.quantile(.99):.2f} ms", flush=True)
    return {name: RunResult(np.concatenate([x.latencies_ms for x in runs]), sum(x.errors for x in runs),
                            sum(x.seconds for x in runs)) for name, runs in pooled.items()}


def ab_split(port: int, data: list[dict], n: int) -> tuple[dict[str, int], int]:
    """n single predictions with distinct transaction ids, then the first 1,000 again: answers per version, and how
    many repeats a different version answered."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    first: dict[str, str] = {}

    def answer(tid: str, i: int) -> str:
        conn.request("POST", "/api/v1/predict", json.dumps({"transaction_id": tid, "features": data[i % len(data)]["features"]}),
                     {"Content-Type": "application/json"})
        response = conn.getresponse()
        body = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"predict: {response.status} {body}")
        return body["model_version"]

    for i in range(n):
        first[f"ab-{i}"] = answer(f"ab-{i}", i)
    moved = sum(answer(f"ab-{i}", i) != first[f"ab-{i}"] for i in range(min(n, 1000)))
    counts: dict[str, int] = {}
    for version in first.values():
        counts[version] = counts.get(version, 0) + 1
    return counts, moved


def published_ids(redis_url: str, version: str) -> set[str]:
    from drift_client import redis_layout as layout
    from drift_client.redis_client import connect

    client = connect(redis_url)
    key = layout.Keys(FRAUD_MODEL, version).predictions
    return {tid for _, fields in client.xrange(key) for tid in layout.decode_predictions(fields).ids}


def shadow_counts(port: int, challenger: str) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    counts = {}
    for outcome in ("scored", "dropped", "failed"):
        label = f'ml_monitoring_shadow_predictions_total{{model_name="{FRAUD_MODEL}",model_version="{challenger}",outcome="{outcome}"}}'
        counts[outcome] = next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(label)), 0.0)
    return counts


def versions_bench(requests: list[bytes], data: list[dict], rps: float, seconds: float, rounds: int, ab_requests: int,
                   ab_share: float) -> str:
    """Shadow mode's cost on the champion's latency and the A/B split, on one service with two fraud versions."""
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("[versions 1/3] training a second fraud_detector version (the challenger)", flush=True)
        champion, challenger = servers.store_with_challenger(tmp / "home")
        env = {**QUIET, "BENTOML_HOME": str(tmp / "home"), "MODEL_TAG": f"{FRAUD_MODEL}:{champion}", "VERSIONS_API_TOKEN": token}
        with servers.start_redis(tmp) as redis_srv, servers.start_service(tmp, redis_srv.extra["url"], env=env) as svc:
            put_versions(svc.port, token, {"challenger": challenger, "mode": "shadow"})
            asyncio.run(saturate("127.0.0.1", svc.port, requests, 3))
            print(f"[versions 2/3] {rps:.0f} rps, mode off and shadow, alternating {rounds} rounds", flush=True)
            paced = mode_rounds(svc.port, token, challenger, requests, rps, seconds, rounds)
            time.sleep(1)
            shadow = shadow_counts(svc.port, challenger)
            print(f"[versions 3/3] A/B split over {ab_requests:,} requests at ab_share {ab_share}", flush=True)
            put_versions(svc.port, token, {"challenger": challenger, "mode": "ab", "ab_share": ab_share})
            counts, moved = ab_split(svc.port, data, ab_requests)
            time.sleep(1)  # the publisher flushes every 0.2 s
            ab_ids = {f"ab-{i}" for i in range(ab_requests)}
            by_version = {v: published_ids(redis_srv.extra["url"], v) & ab_ids for v in (champion, challenger)}
    off, on = paced["off"], paced["shadow"]
    share = counts.get(challenger, 0) / ab_requests
    both = len(by_version[champion] & by_version[challenger])
    lines = [
        f"One service (1 worker, access log off) serving two `fraud_detector` versions; the champion's latency at "
        f"{rps:.0f} requests/s (open loop, 8 keep-alive connections), {seconds:.0f} s per mode in {rounds} alternating "
        "rounds (ABBA), switched between rounds through `PUT /api/v1/models/fraud_detector/versions`. In shadow mode "
        "the challenger scores every request on the service's background thread and publishes its own samples.",
        "",
        "| mode | requests | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "|---|---|---|---|---|---|---|",
        *(f"| {name} | {len(r.latencies_ms):,} | {r.quantile(.5):.2f} | {r.quantile(.95):.2f} | {r.quantile(.99):.2f} | "
          f"{r.latencies_ms.max():.2f} | {r.errors} |" for name, r in (("off (champion alone)", off), ("shadow", on))),
        "",
        f"Shadow mode costs the champion **{on.quantile(.99) / off.quantile(.99) - 1:+.1%} on p99** "
        f"({on.quantile(.5) / off.quantile(.5) - 1:+.1%} on p50; target: p99 under +10%). The challenger scored "
        f"{shadow['scored']:,.0f} predictions off the request path, dropped {shadow['dropped']:,.0f} (queue full), "
        f"failed {shadow['failed']:,.0f}.",
        "",
        f"A/B split: {ab_requests:,} single predictions with distinct transaction ids at `ab_share` {ab_share}: the "
        f"challenger answered **{share:.2%}** ({100 * (share - ab_share):+.2f} points from the setting; target within 1 point); "
        f"{moved} of {min(ab_requests, 1000):,} repeated ids were answered by another version than the first time (sticky: 0). "
        f"Published samples: champion {len(by_version[champion]):,}, challenger {len(by_version[challenger]):,}, "
        f"{both} under both (each arm publishes only its own).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rps", type=float, default=100.0)
    parser.add_argument("--only", choices=("all", "publishing", "versions"), default="all")
    parser.add_argument("--version-seconds", type=float, default=60.0, help="per mode, shadow against off")
    parser.add_argument("--version-rounds", type=int, default=8)
    parser.add_argument("--ab-requests", type=int, default=10_000)
    parser.add_argument("--ab-share", type=float, default=0.3)
    args = parser.parse_args(argv)
    data = bodies()
    requests = [post_request("127.0.0.1", 0, "/api/v1/predict", b) for b in data]
    if args.only in ("all", "versions"):
        table = versions_bench(requests, data, args.rps, args.version_seconds, args.version_rounds, args.ab_requests,
                               args.ab_share)
        write_section("serving_versions", "Two versions served at once: shadow cost and A/B split (`bench/serving.py`)", table)
        print(table)
    if args.only == "versions":
        return
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
